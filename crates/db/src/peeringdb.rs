//! What Peering Manager does with the PeeringDB cache (spec templating §4.3,
//! data model §3.1, §3.2, §3.4): the network of an AS, available peers of an
//! IXP, linking IXPs and connections to the cache, shared IXPs and
//! facilities, divergence, and objects created from PeeringDB records.
//!
//! The sync (crate `pm-peeringdb`) fills the tables; everything here only
//! reads them, and writes local objects through the generic write path so
//! that validation, permissions and the change log apply as for the API.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement};
use sea_query::{Condition, Expr, ExprTrait, Query};
use serde_json::{Value as Json, json};

use crate::Db;
use crate::error::{AppError, AppResult, FieldErrors, permission_denied};
use crate::load;
use crate::models::{net, peering, peeringdb as pdb};
use crate::object::{Obj, Val};
use crate::write::{self, Actor};

/// `2001:DB8::1/128` or `192.0.2.1` → the address, for comparisons (the
/// cache keeps PeeringDB's bare hosts, local objects their own forms).
pub fn host(s: &str) -> Option<IpAddr> {
    pm_domain::net::host_part(s.trim()).parse().ok()
}

fn host_of(v: &Val) -> Option<IpAddr> {
    v.as_str().and_then(host)
}

/// Both stored spellings of an address (bare, and with its host length) for
/// SQL equality against cache columns.
fn spellings(ip: &IpAddr) -> [String; 2] {
    let len = if ip.is_ipv4() { 32 } else { 128 };
    [ip.to_string(), format!("{ip}/{len}")]
}

async fn ints<C: ConnectionTrait>(db: &C, q: &sea_query::SelectStatement) -> AppResult<Vec<i64>> {
    Ok(db.query_all(q).await?.iter().filter_map(|r| r.try_get_by_index::<Option<i64>>(0).ok().flatten()).collect())
}

async fn raw_rows<C: ConnectionTrait>(db: &C, sql: String) -> AppResult<Vec<sea_orm::QueryResult>> {
    Ok(db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await?)
}

async fn fetch_where<C: ConnectionTrait>(
    db: &C,
    model: &'static crate::model::Model,
    cond: Condition,
    ordering: &[(&'static str, bool)],
) -> AppResult<Vec<Obj>> {
    load::fetch(db, model, cond, ordering, None, 0).await
}

// ---------------------------------------------------------------- networks

/// The PeeringDB network of an ASN; private ASNs are never looked up.
pub async fn network_by_asn<C: ConnectionTrait>(db: &C, asn: i64) -> AppResult<Option<Obj>> {
    if pm_domain::asn::is_private(asn) {
        return Ok(None);
    }
    let cond = Condition::all().add(Expr::col("asn").eq(asn));
    Ok(fetch_where(db, &pdb::NETWORK, cond, &[("id", false)]).await?.into_iter().next())
}

/// Local values that differ from PeeringDB's, as the AS page lists them
/// (name, IRR AS-SET, IPv6 and IPv4 max prefixes).
pub fn divergence(asys: &Obj, network: &Obj) -> Vec<Json> {
    const PAIRS: [(&str, &str, &str); 4] = [
        ("Name", "name", "name"),
        ("IRR AS-SET", "irr_as_set", "irr_as_set"),
        ("IPv6 max prefixes", "ipv6_max_prefixes", "info_prefixes6"),
        ("IPv4 max prefixes", "ipv4_max_prefixes", "info_prefixes4"),
    ];
    let mut out = vec![];
    for (label, local_key, pdb_key) in PAIRS {
        let local = asys.get(local_key).to_json();
        let remote = network.get(pdb_key).to_json();
        // An unset AS-SET and an empty one say the same thing.
        let blank = |v: &Json| v.is_null() || v == "";
        if local == remote || (blank(&local) && blank(&remote)) {
            continue;
        }
        out.push(json!({"label": label, "local_key": local_key, "peeringdb_key": pdb_key,
            "local_value": local, "peeringdb_value": remote}));
    }
    out
}

/// The AS with this ASN, created from its PeeringDB network when missing
/// (name, IRR AS-SET, max prefixes). `None` when PeeringDB does not know it.
pub async fn create_as_from_peeringdb(
    txn: &DatabaseTransaction,
    actor: &Actor<'_>,
    asn: i64,
) -> AppResult<Option<i64>> {
    let existing = ints(
        txn,
        &Query::select()
            .column("id")
            .from(peering::AUTONOMOUS_SYSTEM.table)
            .and_where(Expr::col("asn").eq(asn))
            .to_owned(),
    )
    .await?;
    if let Some(id) = existing.first() {
        return Ok(Some(*id));
    }
    let Some(net) = network_by_asn(txn, asn).await? else { return Ok(None) };
    if !actor.perms.allows(&peering::AUTONOMOUS_SYSTEM, "add") {
        return Err(permission_denied());
    }
    let input = json!({
        "asn": asn,
        "name": net.text("name"),
        "irr_as_set": net.text("irr_as_set"),
        "ipv6_max_prefixes": net.get("info_prefixes6").to_json(),
        "ipv4_max_prefixes": net.get("info_prefixes4").to_json(),
    });
    insert(txn, actor, &peering::AUTONOMOUS_SYSTEM, &input).await.map(Some)
}

/// Validate and insert one object (change-logged), errors naming the field.
async fn insert(
    txn: &DatabaseTransaction,
    actor: &Actor<'_>,
    model: &'static crate::model::Model,
    input: &Json,
) -> AppResult<i64> {
    let p = write::prepare(txn, model, input, None, actor).await?;
    if !p.errors.is_empty() {
        return Err(AppError::Validation(p.errors));
    }
    write::insert(txn, actor, p).await
}

// ------------------------------------------------------------ available peers

/// The cache row an IXP is linked to, and its local ASN.
async fn ixp_ixlan_and_asn<C: ConnectionTrait>(db: &C, ixp: &Obj) -> AppResult<(Option<i64>, Option<i64>)> {
    let asn = match ixp.int("local_autonomous_system") {
        Some(id) => ints(
            db,
            &Query::select()
                .column("asn")
                .from(peering::AUTONOMOUS_SYSTEM.table)
                .and_where(Expr::col("id").eq(id))
                .to_owned(),
        )
        .await?
        .first()
        .copied(),
        None => None,
    };
    Ok((ixp.int("peeringdb_ixlan"), asn))
}

/// Addresses configured on every connection of the IXP: an address counts
/// as done only when each connection has a session with it.
async fn configured_everywhere<C: ConnectionTrait>(db: &C, ixp_id: i64) -> AppResult<HashSet<IpAddr>> {
    let conns = ints(
        db,
        &Query::select()
            .column("id")
            .from(net::CONNECTION.table)
            .and_where(Expr::col("internet_exchange_point_id").eq(ixp_id))
            .to_owned(),
    )
    .await?;
    if conns.is_empty() {
        return Ok(HashSet::new());
    }
    let list = conns.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = raw_rows(
        db,
        format!(
            "SELECT ixp_connection_id, ip_address FROM {} WHERE ixp_connection_id IN ({list})",
            peering::IXP_PEERING_SESSION.table
        ),
    )
    .await?;
    let mut per_conn: HashMap<i64, HashSet<IpAddr>> = conns.iter().map(|c| (*c, HashSet::new())).collect();
    for r in rows {
        let conn: i64 = r.try_get_by_index(0)?;
        let ip: Option<String> = r.try_get_by_index(1)?;
        if let Some(ip) = ip.as_deref().and_then(host) {
            per_conn.entry(conn).or_default().insert(ip);
        }
    }
    let mut sets = per_conn.into_values();
    let first = sets.next().unwrap_or_default();
    Ok(sets.fold(first, |acc, s| acc.intersection(&s).copied().collect()))
}

/// Networks hidden on an IXLan now (no end, or an end still to come).
async fn hidden_networks<C: ConnectionTrait>(db: &C, ixlan: i64) -> AppResult<HashSet<i64>> {
    let now = chrono::Utc::now();
    let q = Query::select()
        .column("peeringdb_network_id_copy")
        .from(pdb::HIDDEN_PEER.table)
        .and_where(Expr::col("peeringdb_ixlan_id_copy").eq(ixlan))
        .cond_where(Condition::any().add(Expr::col("until").is_null()).add(Expr::col("until").gt(now)))
        .to_owned();
    Ok(ints(db, &q).await?.into_iter().collect())
}

/// PeeringDB records of the IXP's IXLan one could still peer with (§3.2):
/// not the IXP's own ASN, not hidden (unless `show_hidden`), with an IPv6
/// or IPv4 address not configured on every connection yet; ordered by ASN.
/// Empty when the IXP is not linked to PeeringDB.
pub async fn available_peers<C: ConnectionTrait>(db: &C, ixp: &Obj, show_hidden: bool) -> AppResult<Vec<Obj>> {
    let (Some(ixlan), local_asn) = ixp_ixlan_and_asn(db, ixp).await? else { return Ok(vec![]) };
    let done = configured_everywhere(db, ixp.id).await?;
    let hidden = if show_hidden { HashSet::new() } else { hidden_networks(db, ixlan).await? };
    let mut cond = Condition::all().add(Expr::col("ixlan_id").eq(ixlan));
    if let Some(asn) = local_asn {
        cond = cond.add(Expr::col("asn").ne(asn));
    }
    let rows = fetch_where(db, &pdb::NETWORK_IXLAN, cond, &[("asn", false), ("id", false)]).await?;
    let open = |v: &Val| host_of(v).is_some_and(|ip| !done.contains(&ip));
    Ok(rows
        .into_iter()
        .filter(|n| !n.int("net").is_some_and(|net| hidden.contains(&net)))
        .filter(|n| open(n.get("ipaddr6")) || open(n.get("ipaddr4")))
        .collect())
}

/// Available peers over several IXPs (the provisioning page): each record
/// once, with the first IXP (in the order given) it is available at.
pub async fn available_peers_of_all<C: ConnectionTrait>(db: &C, ixps: &[Obj]) -> AppResult<Vec<(i64, Obj)>> {
    let mut seen = HashSet::new();
    let mut out = vec![];
    for ixp in ixps {
        for n in available_peers(db, ixp, false).await? {
            if seen.insert(n.id) {
                out.push((ixp.id, n));
            }
        }
    }
    out.sort_by_key(|(_, n)| (n.int("asn").unwrap_or(0), n.id));
    Ok(out)
}

/// Sessions for a PeeringDB record on every connection of the IXP, IPv6
/// first then IPv4, skipping those that exist (same connection and
/// address); the AS is created from PeeringDB when missing (§3.4). Returns
/// the new session ids. A connection addressed in one family only gets no
/// session of the other.
pub async fn create_sessions_from_netixlan(
    txn: &DatabaseTransaction,
    actor: &Actor<'_>,
    ixp_id: i64,
    netixlan_id: i64,
) -> AppResult<Vec<i64>> {
    let session_model = &peering::IXP_PEERING_SESSION;
    if !actor.perms.allows(session_model, "add") {
        return Err(permission_denied());
    }
    let record = load::get(txn, &pdb::NETWORK_IXLAN, netixlan_id, Condition::all())
        .await?
        .ok_or_else(|| AppError::NotFound("PeeringDB record not found.".into()))?;
    let asn = record.int("asn").unwrap_or(0);
    let as_id = create_as_from_peeringdb(txn, actor, asn).await?.ok_or_else(|| {
        AppError::Validation(FieldErrors::single(
            "autonomous_system",
            format!("AS{asn} is not in the PeeringDB cache."),
        ))
    })?;
    let conns = fetch_where(
        txn,
        &net::CONNECTION,
        Condition::all().add(Expr::col("internet_exchange_point_id").eq(ixp_id)),
        &[("id", false)],
    )
    .await?;
    if conns.is_empty() {
        return Err(AppError::Validation(FieldErrors::single(
            "ixp_connection",
            "This IXP has no connection to create sessions on.",
        )));
    }
    let existing: HashSet<(i64, IpAddr)> = raw_rows(
        txn,
        format!(
            "SELECT ixp_connection_id, ip_address FROM {} WHERE ixp_connection_id IN ({})",
            session_model.table,
            conns.iter().map(|c| c.id.to_string()).collect::<Vec<_>>().join(",")
        ),
    )
    .await?
    .iter()
    .filter_map(|r| {
        let c: i64 = r.try_get_by_index(0).ok()?;
        let ip: String = r.try_get_by_index(1).ok()?;
        Some((c, host(&ip)?))
    })
    .collect();
    let mut ids = vec![];
    for conn in &conns {
        let addressed = [conn.get("ipv6_address"), conn.get("ipv4_address")];
        let any_address = addressed.iter().any(|v| !v.is_null());
        for (col, family) in [("ipv6_address", "ipaddr6"), ("ipv4_address", "ipaddr4")] {
            let Some(ip) = host_of(record.get(family)) else { continue };
            if any_address && conn.get(col).is_null() {
                continue;
            }
            if existing.contains(&(conn.id, ip)) {
                continue;
            }
            let input = json!({"autonomous_system": as_id, "ixp_connection": conn.id, "ip_address": ip.to_string()});
            ids.push(insert(txn, actor, session_model, &input).await?);
        }
    }
    Ok(ids)
}

// ------------------------------------------------------------------ linking

/// The single NetworkIXLan holding exactly a connection's two addresses (a
/// missing address matches a missing one). Several candidates: `None`
/// (Peering Manager crashes there; we leave the connection as it is).
async fn netixlan_for<C: ConnectionTrait>(db: &C, v6: Option<IpAddr>, v4: Option<IpAddr>) -> AppResult<Option<i64>> {
    if v6.is_none() && v4.is_none() {
        return Ok(None);
    }
    let mut cond = Condition::all();
    for (col, ip) in [("ipaddr6", v6), ("ipaddr4", v4)] {
        cond = cond.add(match ip {
            Some(ip) => Expr::col(col).is_in(spellings(&ip)),
            None => Expr::col(col).is_null(),
        });
    }
    let q = Query::select().column("id").from(pdb::NETWORK_IXLAN.table).cond_where(cond).limit(2).to_owned();
    match ints(db, &q).await?.as_slice() {
        [one] => Ok(Some(*one)),
        [] => Ok(None),
        _ => {
            tracing::warn!(?v6, ?v4, "several PeeringDB records hold these addresses; connection left as is");
            Ok(None)
        }
    }
}

async fn set_fk<C: ConnectionTrait>(db: &C, table: &str, col: &str, id: i64, target: i64) -> AppResult<()> {
    db.execute(
        &Query::update()
            .table(sea_query::Alias::new(table))
            .value(sea_query::Alias::new(col), target)
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await?;
    Ok(())
}

/// Link one connection to its PeeringDB record; returns the record id.
pub async fn link_connection<C: ConnectionTrait>(db: &C, conn: &Obj) -> AppResult<Option<i64>> {
    let found = netixlan_for(db, host_of(conn.get("ipv6_address")), host_of(conn.get("ipv4_address"))).await?;
    if let Some(n) = found
        && conn.int("peeringdb_netixlan") != Some(n)
    {
        set_fk(db, net::CONNECTION.table, "peeringdb_netixlan_id", conn.id, n).await?;
    }
    Ok(found.or(conn.int("peeringdb_netixlan")))
}

/// Link an IXP (and first its connections) to the IXLan its linked
/// connections share. Returns the IXLan, or `None` when there is none (the
/// IXP is left as it is: a link set by hand survives) or the connections
/// disagree (the IXP is unlinked, spec §4.2).
pub async fn link_ixp<C: ConnectionTrait>(db: &C, ixp_id: i64) -> AppResult<Option<i64>> {
    let conns = fetch_where(
        db,
        &net::CONNECTION,
        Condition::all().add(Expr::col("internet_exchange_point_id").eq(ixp_id)),
        &[("id", false)],
    )
    .await?;
    let mut records = vec![];
    for c in &conns {
        if let Some(n) = link_connection(db, c).await? {
            records.push(n);
        }
    }
    if records.is_empty() {
        return Ok(None);
    }
    let list = records.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let ixlans: HashSet<i64> =
        raw_rows(db, format!("SELECT DISTINCT ixlan_id FROM {} WHERE id IN ({list})", pdb::NETWORK_IXLAN.table))
            .await?
            .iter()
            .filter_map(|r| r.try_get_by_index::<Option<i64>>(0).ok().flatten())
            .collect();
    let [ixlan] = ixlans.into_iter().collect::<Vec<_>>()[..] else {
        db.execute(
            &Query::update()
                .table(sea_query::Alias::new(peering::INTERNET_EXCHANGE.table))
                .value(sea_query::Alias::new("peeringdb_ixlan_id"), Option::<i64>::None)
                .and_where(Expr::col("id").eq(ixp_id))
                .to_owned(),
        )
        .await?;
        return Ok(None);
    };
    let known =
        ints(db, &Query::select().column("id").from(pdb::IXLAN.table).and_where(Expr::col("id").eq(ixlan)).to_owned())
            .await?;
    if known.is_empty() {
        return Ok(None); // the record names an IXLan PeeringDB did not send
    }
    set_fk(db, peering::INTERNET_EXCHANGE.table, "peeringdb_ixlan_id", ixp_id, ixlan).await?;
    Ok(Some(ixlan))
}

/// Re-attach everything local to the cache: connections, IXPs and hidden
/// peers (spec §4.2 step 4). One transaction and a fixed number of reads
/// whatever the size of the cache; run after every sync.
pub async fn link_all(db: &Db) -> AppResult<()> {
    let w = db.begin_write().await?;
    let txn = &w.txn;
    let opt_host = |s: Option<String>| s.as_deref().and_then(host);
    // Connections: the single NetworkIXLan with exactly their two addresses
    // (a missing address matches a missing one).
    let conns = raw_rows(
        txn,
        format!(
            "SELECT id, ipv6_address, ipv4_address, peeringdb_netixlan_id FROM {} \
             WHERE ipv6_address IS NOT NULL OR ipv4_address IS NOT NULL",
            net::CONNECTION.table
        ),
    )
    .await?;
    if !conns.is_empty() {
        let mut index: HashMap<(Option<IpAddr>, Option<IpAddr>), Vec<i64>> = HashMap::new();
        for r in raw_rows(txn, format!("SELECT id, ipaddr6, ipaddr4 FROM {}", pdb::NETWORK_IXLAN.table)).await? {
            let key = (opt_host(r.try_get_by_index(1)?), opt_host(r.try_get_by_index(2)?));
            index.entry(key).or_default().push(r.try_get_by_index(0)?);
        }
        for r in conns {
            let id: i64 = r.try_get_by_index(0)?;
            let key = (opt_host(r.try_get_by_index(1)?), opt_host(r.try_get_by_index(2)?));
            let current: Option<i64> = r.try_get_by_index(3)?;
            let target = match index.get(&key).map(Vec::as_slice) {
                Some([one]) => *one,
                Some(many) if many.len() > 1 => {
                    // Peering Manager crashes here; one ambiguous connection
                    // must not stop the others from being linked.
                    tracing::warn!(
                        connection = id,
                        "several PeeringDB records hold this connection's addresses; left as is"
                    );
                    continue;
                }
                _ => continue,
            };
            if current != Some(target) {
                let q = Query::update()
                    .table(net::CONNECTION.table)
                    .value("peeringdb_netixlan_id", target)
                    .and_where(Expr::col("id").eq(id))
                    .to_owned();
                txn.execute(&q).await?;
            }
        }
    }
    // IXPs: the IXLan all their linked connections agree on; none when they
    // disagree; untouched when none is linked (a link set by hand stays).
    let mut per_ixp: HashMap<i64, Option<i64>> = HashMap::new();
    let links = raw_rows(
        txn,
        // An IXLan PeeringDB did not send counts as none (the IXP has a real foreign key).
        format!(
            "SELECT c.internet_exchange_point_id, l.id FROM {} c \
             JOIN {} n ON n.id = c.peeringdb_netixlan_id \
             LEFT JOIN {} l ON l.id = n.ixlan_id \
             WHERE c.internet_exchange_point_id IS NOT NULL",
            net::CONNECTION.table,
            pdb::NETWORK_IXLAN.table,
            pdb::IXLAN.table
        ),
    )
    .await?;
    for r in links {
        let ixp: i64 = r.try_get_by_index(0)?;
        let ixlan: Option<i64> = r.try_get_by_index(1)?;
        per_ixp
            .entry(ixp)
            .and_modify(|seen| {
                if *seen != ixlan {
                    *seen = None
                }
            })
            .or_insert(ixlan);
    }
    for (ixp, ixlan) in per_ixp {
        let col = || Expr::col("peeringdb_ixlan_id");
        let stale = match ixlan {
            Some(l) => col().is_null().or(col().ne(l)),
            None => col().is_not_null(),
        };
        let q = Query::update()
            .table(peering::INTERNET_EXCHANGE.table)
            .value("peeringdb_ixlan_id", ixlan)
            .and_where(Expr::col("id").eq(ixp))
            .and_where(stale)
            .to_owned();
        txn.execute(&q).await?;
    }
    // Hidden peers: back to the objects whose ids they kept.
    for (fk, copy, target) in [
        ("peeringdb_network_id", "peeringdb_network_id_copy", pdb::NETWORK.table),
        ("peeringdb_ixlan_id", "peeringdb_ixlan_id_copy", pdb::IXLAN.table),
    ] {
        let sql = format!(
            "UPDATE {} SET {fk} = {copy} WHERE {fk} IS NULL AND {copy} IN (SELECT id FROM {target})",
            pdb::HIDDEN_PEER.table
        );
        txn.execute_raw(Statement::from_string(txn.get_database_backend(), sql)).await?;
    }
    w.commit().await
}

// ---------------------------------------------------------------- prefixes

/// `{"ipv6": [...], "ipv4": [...]}` of the IXLans given, empty families left
/// out (spec quirk 12).
pub async fn prefixes_by_ixlan<C: ConnectionTrait>(db: &C, ixlans: &[i64]) -> AppResult<HashMap<i64, Json>> {
    let mut out: HashMap<i64, (Vec<String>, Vec<String>)> = HashMap::new();
    if !ixlans.is_empty() {
        let q = Query::select()
            .columns(["ixlan_id", "prefix"])
            .from(pdb::IXLAN_PREFIX.table)
            .and_where(Expr::col("ixlan_id").is_in(ixlans.to_vec()))
            .order_by("id", sea_query::Order::Asc)
            .to_owned();
        for r in db.query_all(&q).await? {
            let (ixlan, prefix): (i64, String) = (r.try_get_by_index(0)?, r.try_get_by_index(1)?);
            let e = out.entry(ixlan).or_default();
            if prefix.contains(':') { e.0.push(prefix) } else { e.1.push(prefix) }
        }
    }
    Ok(ixlans
        .iter()
        .map(|l| {
            let (v6, v4) = out.remove(l).unwrap_or_default();
            let mut m = serde_json::Map::new();
            if !v6.is_empty() {
                m.insert("ipv6".into(), json!(v6));
            }
            if !v4.is_empty() {
                m.insert("ipv4".into(), json!(v4));
            }
            (*l, Json::Object(m))
        })
        .collect())
}

/// The prefix length of the IXLan prefix holding `ip`, for connection
/// addresses (`cidr4`/`cidr6`); the host length when none holds it.
fn with_prefix_len(ip: IpAddr, prefixes: &[ipnet::IpNet]) -> String {
    let len = prefixes.iter().find(|p| p.contains(&ip)).map(|p| p.prefix_len()).unwrap_or(if ip.is_ipv4() {
        32
    } else {
        128
    });
    format!("{ip}/{len}")
}

// ------------------------------------------------- sessions vs the cache (§3.4)

/// SQL: the IXP session (table named in full) has a PeeringDB record with
/// its address and its AS's ASN. PeeringDB keeps `asn` on the record equal
/// to its network's, so the record's own column is used.
pub fn exists_in_peeringdb_sql() -> String {
    let s = peering::IXP_PEERING_SESSION.table;
    format!(
        "EXISTS (SELECT 1 FROM peeringdb_networkixlan n JOIN peering_autonomoussystem a ON a.id = {s}.autonomous_system_id \
         WHERE n.asn = a.asn AND (n.ipaddr6 IN ({s}.ip_address, {s}.ip_address || '/128') \
         OR n.ipaddr4 IN ({s}.ip_address, {s}.ip_address || '/32')))"
    )
}

/// SQL: the session looks abandoned (§3.4): its connection is linked to
/// PeeringDB, its router (if any) is polled, its AS has a PeeringDB network,
/// PeeringDB no longer lists it, and BGP is down (idle or active).
pub fn is_abandoned_sql() -> String {
    let s = peering::IXP_PEERING_SESSION.table;
    format!(
        "({s}.bgp_state IN ('idle', 'active') \
         AND EXISTS (SELECT 1 FROM net_connection c LEFT JOIN devices_router r ON r.id = c.router_id \
             WHERE c.id = {s}.ixp_connection_id AND c.peeringdb_netixlan_id IS NOT NULL \
             AND (c.router_id IS NULL OR r.poll_bgp_sessions_state = {t})) \
         AND EXISTS (SELECT 1 FROM peeringdb_network pn JOIN peering_autonomoussystem a2 ON a2.id = {s}.autonomous_system_id \
             WHERE pn.asn = a2.asn) \
         AND NOT {e})",
        t = "TRUE",
        e = exists_in_peeringdb_sql()
    )
}

/// Ids among `ids` of sessions matching one of the predicates above.
pub async fn sessions_matching<C: ConnectionTrait>(db: &C, ids: &[i64], predicate: &str) -> AppResult<HashSet<i64>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let s = peering::IXP_PEERING_SESSION.table;
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = raw_rows(db, format!("SELECT {s}.id FROM {s} WHERE {s}.id IN ({list}) AND {predicate}")).await?;
    Ok(rows.iter().filter_map(|r| r.try_get_by_index::<i64>(0).ok()).collect())
}

// -------------------------------------------------- shared IXPs and facilities

/// Our IXPs (local AS `local_as`) linked to an IXLan where both networks
/// have a PeeringDB record. Same network on both sides: none.
pub async fn shared_ixps<C: ConnectionTrait>(db: &C, net_a: i64, net_b: i64, local_as: i64) -> AppResult<Vec<i64>> {
    if net_a == net_b {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT i.id FROM peering_internetexchange i WHERE i.local_autonomous_system_id = {local_as} \
         AND i.peeringdb_ixlan_id IN (SELECT a.ixlan_id FROM peeringdb_networkixlan a \
             JOIN peeringdb_networkixlan b ON b.ixlan_id = a.ixlan_id WHERE a.net_id = {net_a} AND b.net_id = {net_b}) \
         ORDER BY i.name, i.id"
    );
    Ok(raw_rows(db, sql).await?.iter().filter_map(|r| r.try_get_by_index::<i64>(0).ok()).collect())
}

/// PeeringDB facilities where both networks are present, by name.
pub async fn shared_facilities<C: ConnectionTrait>(db: &C, net_a: i64, net_b: i64) -> AppResult<Vec<i64>> {
    if net_a == net_b {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT f.id FROM peeringdb_facility f WHERE f.id IN (SELECT a.fac_id FROM peeringdb_networkfacility a \
             JOIN peeringdb_networkfacility b ON b.fac_id = a.fac_id WHERE a.net_id = {net_a} AND b.net_id = {net_b}) \
         ORDER BY f.name, f.id"
    );
    Ok(raw_rows(db, sql).await?.iter().filter_map(|r| r.try_get_by_index::<i64>(0).ok()).collect())
}

/// PeeringDB records of `asn` on `ixlans` with an address not used yet by a
/// session of the AS `as_id` (on `connections` when given): the "missing
/// sessions" of §3.1.
pub async fn missing_sessions<C: ConnectionTrait>(
    db: &C,
    asn: i64,
    as_id: i64,
    ixlans: &[i64],
    connections: Option<&[i64]>,
) -> AppResult<Vec<Obj>> {
    if ixlans.is_empty() || pm_domain::asn::is_private(asn) {
        return Ok(vec![]);
    }
    let mut q = Query::select();
    q.column("ip_address")
        .from(peering::IXP_PEERING_SESSION.table)
        .and_where(Expr::col("autonomous_system_id").eq(as_id));
    if let Some(c) = connections {
        q.and_where(Expr::col("ixp_connection_id").is_in(c.to_vec()));
    }
    let used: HashSet<IpAddr> = db
        .query_all(&q)
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok().and_then(|s| host(&s)))
        .collect();
    let cond = Condition::all().add(Expr::col("asn").eq(asn)).add(Expr::col("ixlan_id").is_in(ixlans.to_vec()));
    let open = |v: &Val| host_of(v).is_some_and(|ip| !used.contains(&ip));
    Ok(fetch_where(db, &pdb::NETWORK_IXLAN, cond, &[("asn", false), ("id", false)])
        .await?
        .into_iter()
        .filter(|n| open(n.get("ipaddr6")) || open(n.get("ipaddr4")))
        .collect())
}

// --------------------------------------------------------------- IXP import

/// One IXLan of the context AS not imported yet, with its records.
#[derive(Debug, Clone)]
pub struct ImportGroup {
    pub ixlan: i64,
    pub ix_id: Option<i64>,
    pub ix_name: String,
    /// An IXP of the context AS already linked to this IXLan (reused).
    pub existing_ixp: Option<i64>,
    /// (netixlan id, IPv6 with prefix length, IPv4 with prefix length)
    pub connections: Vec<(i64, Option<String>, Option<String>)>,
}

/// What an IXP import would create for the AS `as_id` (spec §9, IXP import):
/// its PeeringDB records not linked to any connection, grouped by IXLan,
/// records without an address left out.
pub async fn ixp_import_plan<C: ConnectionTrait>(db: &C, as_id: i64) -> AppResult<Vec<ImportGroup>> {
    let asys = load::get(db, &peering::AUTONOMOUS_SYSTEM, as_id, Condition::all())
        .await?
        .ok_or_else(|| AppError::NotFound("Autonomous system not found.".into()))?;
    let asn = asys.int("asn").unwrap_or(0);
    if pm_domain::asn::is_private(asn) {
        return Ok(vec![]);
    }
    let linked = Query::select()
        .column("peeringdb_netixlan_id")
        .from(net::CONNECTION.table)
        .and_where(Expr::col("peeringdb_netixlan_id").is_not_null())
        .to_owned();
    let cond = Condition::all().add(Expr::col("asn").eq(asn)).add(Expr::col("id").not_in_subquery(linked));
    let records = fetch_where(db, &pdb::NETWORK_IXLAN, cond, &[("ixlan_id", false), ("id", false)]).await?;
    let ixlan_ids: Vec<i64> =
        records.iter().filter_map(|r| r.int("ixlan")).collect::<HashSet<_>>().into_iter().collect();
    let ixlans =
        fetch_where(db, &pdb::IXLAN, Condition::all().add(Expr::col("id").is_in(ixlan_ids.clone())), &[]).await?;
    let ix_ids: Vec<i64> = ixlans.iter().filter_map(|l| l.int("ix")).collect();
    let ixes =
        fetch_where(db, &pdb::INTERNET_EXCHANGE, Condition::all().add(Expr::col("id").is_in(ix_ids)), &[]).await?;
    let prefixes =
        fetch_where(db, &pdb::IXLAN_PREFIX, Condition::all().add(Expr::col("ixlan_id").is_in(ixlan_ids)), &[]).await?;
    let existing = fetch_where(
        db,
        &peering::INTERNET_EXCHANGE,
        Condition::all()
            .add(Expr::col("local_autonomous_system_id").eq(as_id))
            .add(Expr::col("peeringdb_ixlan_id").is_not_null()),
        &[("id", false)],
    )
    .await?;
    let mut groups: Vec<ImportGroup> = vec![];
    for r in &records {
        let (v6, v4) = (host_of(r.get("ipaddr6")), host_of(r.get("ipaddr4")));
        if v6.is_none() && v4.is_none() {
            continue;
        }
        let Some(ixlan) = r.int("ixlan") else { continue };
        let nets: Vec<ipnet::IpNet> = prefixes
            .iter()
            .filter(|p| p.int("ixlan") == Some(ixlan))
            .filter_map(|p| p.text("prefix").parse().ok())
            .collect();
        let conn = (r.id, v6.map(|ip| with_prefix_len(ip, &nets)), v4.map(|ip| with_prefix_len(ip, &nets)));
        if let Some(g) = groups.iter_mut().find(|g| g.ixlan == ixlan) {
            g.connections.push(conn);
            continue;
        }
        let ix_id = ixlans.iter().find(|l| l.id == ixlan).and_then(|l| l.int("ix"));
        let ix_name = ixes
            .iter()
            .find(|x| Some(x.id) == ix_id)
            .map(|x| x.text("name").to_string())
            .unwrap_or_else(|| format!("IX LAN {ixlan}"));
        let existing_ixp = existing.iter().find(|i| i.int("peeringdb_ixlan") == Some(ixlan)).map(|i| i.id);
        groups.push(ImportGroup { ixlan, ix_id, ix_name, existing_ixp, connections: vec![conn] });
    }
    Ok(groups)
}

/// Create the IXPs and connections of a plan in the caller's transaction
/// (all or nothing, change-logged). Returns (IXPs created, connections created).
pub async fn ixp_import_apply(
    txn: &DatabaseTransaction,
    actor: &Actor<'_>,
    as_id: i64,
    plan: &[ImportGroup],
) -> AppResult<(usize, usize)> {
    let ixp_model = &peering::INTERNET_EXCHANGE;
    let conn_model = &net::CONNECTION;
    if !actor.perms.allows(ixp_model, "add") || !actor.perms.allows(conn_model, "add") {
        return Err(permission_denied());
    }
    let (mut ixps, mut conns) = (0, 0);
    for g in plan {
        let slug = pm_domain::text::slugify(&format!("{} {}", g.ix_name, g.ix_id.unwrap_or(g.ixlan)));
        let by_slug = ints(
            txn,
            &Query::select()
                .column("id")
                .from(ixp_model.table)
                .and_where(Expr::col("slug").eq(slug.clone()))
                .to_owned(),
        )
        .await?;
        let ixp = match g.existing_ixp.or(by_slug.first().copied()) {
            Some(id) => id,
            None => {
                ixps += 1;
                let input = json!({"name": g.ix_name, "slug": slug, "local_autonomous_system": as_id, "peeringdb_ixlan": g.ixlan});
                insert(txn, actor, ixp_model, &input).await?
            }
        };
        for (netixlan, v6, v4) in &g.connections {
            let input = json!({"internet_exchange_point": ixp, "router": null, "ipv6_address": v6, "ipv4_address": v4,
                "peeringdb_netixlan": netixlan});
            insert(txn, actor, conn_model, &input).await?;
            conns += 1;
        }
    }
    Ok((ixps, conns))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(model: &'static crate::model::Model, vals: &[(&str, Val)]) -> Obj {
        let mut o = Obj::new(model);
        for (k, v) in vals {
            o.set(k, v.clone());
        }
        o
    }

    #[test]
    fn divergence_lists_only_real_differences() {
        let asys = obj(
            &peering::AUTONOMOUS_SYSTEM,
            &[
                ("name", Val::Text("Example".into())),
                ("irr_as_set", Val::Null),
                ("ipv6_max_prefixes", Val::Int(10)),
                ("ipv4_max_prefixes", Val::Int(100)),
            ],
        );
        let net = obj(
            &pdb::NETWORK,
            &[
                ("name", Val::Text("Example Networks".into())),
                ("irr_as_set", Val::Text("".into())),
                ("info_prefixes6", Val::Int(10)),
                ("info_prefixes4", Val::Int(200)),
            ],
        );
        let d = divergence(&asys, &net);
        let keys: Vec<&str> = d.iter().map(|x| x["local_key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["name", "ipv4_max_prefixes"], "an unset AS-SET equals an empty one");
        assert_eq!(d[1]["peeringdb_key"], "info_prefixes4");
        assert_eq!(d[1]["peeringdb_value"], 200);
    }

    #[test]
    fn addresses_compare_whatever_their_spelling() {
        assert_eq!(host("2001:DB8::1/64"), host("2001:db8::1"));
        assert_eq!(host("192.0.2.1/32"), host("192.0.2.1"));
        assert_eq!(host("nonsense"), None);
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(spellings(&ip), ["2001:db8::1".to_string(), "2001:db8::1/128".to_string()]);
        let nets: Vec<ipnet::IpNet> = vec!["192.0.2.0/24".parse().unwrap()];
        assert_eq!(with_prefix_len("192.0.2.7".parse().unwrap(), &nets), "192.0.2.7/24");
        assert_eq!(with_prefix_len("198.51.100.7".parse().unwrap(), &nets), "198.51.100.7/32");
    }
}
