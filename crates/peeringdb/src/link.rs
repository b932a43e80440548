//! Local objects re-attached to the cache after a sync (spec §4.2 step 4):
//! connections to the NetworkIXLan holding both their addresses, IXPs to the
//! IXLan their linked connections share, hidden peers to the ids they kept.

use std::collections::HashMap;
use std::net::IpAddr;

use pm_db::{AppResult, Db};
use sea_orm::{ConnectionTrait, Statement};
use sea_query::{Expr, ExprTrait, Query};

/// `2001:db8::1/64` or `2001:DB8::1` → the address, for comparison.
fn host(s: Option<String>) -> Option<IpAddr> {
    s.and_then(|s| s.split('/').next().and_then(|h| h.trim().parse().ok()))
}

async fn rows<C: ConnectionTrait>(db: &C, sql: &str) -> AppResult<Vec<sea_orm::QueryResult>> {
    Ok(db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await?)
}

pub async fn relink(db: &Db) -> AppResult<()> {
    let w = db.begin_write().await?;
    let txn = &w.txn;
    // Connections: the single NetworkIXLan with exactly their two addresses
    // (a missing address matches a missing one).
    let conns = rows(
        txn,
        "SELECT id, ipv6_address, ipv4_address, peeringdb_netixlan_id FROM net_connection \
         WHERE ipv6_address IS NOT NULL OR ipv4_address IS NOT NULL",
    )
    .await?;
    if !conns.is_empty() {
        let mut index: HashMap<(Option<IpAddr>, Option<IpAddr>), Vec<i64>> = HashMap::new();
        for r in rows(txn, "SELECT id, ipaddr6, ipaddr4 FROM peeringdb_networkixlan").await? {
            let key = (host(r.try_get_by_index(1)?), host(r.try_get_by_index(2)?));
            index.entry(key).or_default().push(r.try_get_by_index(0)?);
        }
        for r in conns {
            let id: i64 = r.try_get_by_index(0)?;
            let key = (host(r.try_get_by_index(1)?), host(r.try_get_by_index(2)?));
            let current: Option<i64> = r.try_get_by_index(3)?;
            let target = match index.get(&key).map(Vec::as_slice) {
                Some([one]) => *one,
                Some(many) if many.len() > 1 => {
                    // Peering Manager crashes here; one ambiguous connection
                    // must not stop the others from being linked.
                    tracing::warn!(connection = id, "several PeeringDB records hold this connection's addresses; left as is");
                    continue;
                }
                _ => continue,
            };
            if current != Some(target) {
                txn.execute(
                    &Query::update()
                        .table("net_connection")
                        .value("peeringdb_netixlan_id", target)
                        .and_where(Expr::col("id").eq(id))
                        .to_owned(),
                )
                .await?;
            }
        }
    }
    // IXPs: the IXLan all their linked connections agree on; none when they disagree.
    let mut per_ixp: HashMap<i64, Option<i64>> = HashMap::new();
    let links = rows(
        txn,
        // An IXLan PeeringDB did not send counts as none (the IXP has a real foreign key).
        "SELECT c.internet_exchange_point_id, l.id FROM net_connection c \
         JOIN peeringdb_networkixlan n ON n.id = c.peeringdb_netixlan_id \
         LEFT JOIN peeringdb_ixlan l ON l.id = n.ixlan_id \
         WHERE c.internet_exchange_point_id IS NOT NULL",
    )
    .await?;
    for r in links {
        let ixp: i64 = r.try_get_by_index(0)?;
        let ixlan: Option<i64> = r.try_get_by_index(1)?;
        per_ixp.entry(ixp).and_modify(|seen| if *seen != ixlan { *seen = None }).or_insert(ixlan);
    }
    for (ixp, ixlan) in per_ixp {
        let col = || Expr::col("peeringdb_ixlan_id");
        let stale = match ixlan {
            Some(l) => col().is_null().or(col().ne(l)),
            None => col().is_not_null(),
        };
        txn.execute(
            &Query::update()
                .table("peering_internetexchange")
                .value("peeringdb_ixlan_id", ixlan)
                .and_where(Expr::col("id").eq(ixp))
                .and_where(stale)
                .to_owned(),
        )
        .await?;
    }
    // Hidden peers: back to the objects whose ids they kept.
    for (fk, copy, table) in [
        ("peeringdb_network_id", "peeringdb_network_id_copy", "peeringdb_network"),
        ("peeringdb_ixlan_id", "peeringdb_ixlan_id_copy", "peeringdb_ixlan"),
    ] {
        let sql = format!(
            "UPDATE peeringdb_hiddenpeer SET {fk} = {copy} WHERE {fk} IS NULL AND {copy} IN (SELECT id FROM {table})"
        );
        txn.execute_raw(Statement::from_string(txn.get_database_backend(), sql)).await?;
    }
    w.commit().await?;
    Ok(())
}

/// Before a flush: nothing local points into the cache any more; hidden
/// peers keep their id copies for the next sync.
pub async fn unlink<C: ConnectionTrait>(db: &C) -> AppResult<()> {
    for sql in [
        "UPDATE net_connection SET peeringdb_netixlan_id = NULL WHERE peeringdb_netixlan_id IS NOT NULL",
        "UPDATE peering_internetexchange SET peeringdb_ixlan_id = NULL WHERE peeringdb_ixlan_id IS NOT NULL",
        "UPDATE peeringdb_hiddenpeer SET peeringdb_network_id = NULL, peeringdb_ixlan_id = NULL",
    ] {
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await?;
    }
    Ok(())
}
