//! Autonomous systems refreshed from their PeeringDB network
//! (`synchronise_with_peeringdb`): name, IRR AS-SET and max prefixes, each
//! only when its `*_peeringdb_sync` flag is set. Writes go through pm-db's
//! normal update path, so every change is in the change log, attributed to
//! whoever started the sync (or "PeeringDB sync") under one request id.

use std::collections::HashMap;

use pm_db::auth::Perms;
use pm_db::models::peering::AUTONOMOUS_SYSTEM;
use pm_db::object::{Obj, Val};
use pm_db::write::Actor;
use pm_db::{AppError, AppResult, Db, Settings};
use sea_orm::ConnectionTrait;
use sea_query::{Condition, Expr, ExprTrait, Query};
use serde_json::{Map, Value as Json, json};

/// Who the change log names.
pub struct Who {
    pub user_id: Option<i64>,
    pub user_name: String,
    pub request_id: uuid::Uuid,
}

impl Who {
    pub fn sync() -> Who {
        Who { user_id: None, user_name: crate::SYNC_USER_NAME.into(), request_id: uuid::Uuid::new_v4() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Values copied (`true` when anything changed).
    Synced(bool),
    /// Private ASNs are never looked up.
    Private,
    /// No network with this ASN in the cache.
    NotFound,
    Failed(String),
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub updated: usize,
    pub unchanged: usize,
    pub private: usize,
    pub not_found: usize,
    pub failed: usize,
}

/// The four values PeeringDB may set: (AS field, sync flag, network column).
const SYNCED: [(&str, &str, &str); 4] = [
    ("name", "name_peeringdb_sync", "name"),
    ("irr_as_set", "irr_as_set_peeringdb_sync", "irr_as_set"),
    ("ipv6_max_prefixes", "ipv6_max_prefixes_peeringdb_sync", "info_prefixes6"),
    ("ipv4_max_prefixes", "ipv4_max_prefixes_peeringdb_sync", "info_prefixes4"),
];

/// The network values by ASN.
async fn networks<C: ConnectionTrait>(db: &C, asns: &[i64]) -> AppResult<HashMap<i64, [Json; 4]>> {
    let mut out = HashMap::new();
    for chunk in asns.chunks(5000) {
        let q = Query::select()
            .columns(["asn", "name", "irr_as_set", "info_prefixes6", "info_prefixes4"])
            .from("peeringdb_network")
            .and_where(Expr::col("asn").is_in(chunk.iter().copied()))
            .to_owned();
        for r in db.query_all(&q).await? {
            let asn: i64 = r.try_get_by_index(0)?;
            let name: String = r.try_get_by_index(1)?;
            let irr: String = r.try_get_by_index(2)?;
            let v6: Option<i64> = r.try_get_by_index(3)?;
            let v4: Option<i64> = r.try_get_by_index(4)?;
            out.insert(asn, [json!(name), json!(irr), json!(v6), json!(v4)]);
        }
    }
    Ok(out)
}

/// Local value as the API would accept it back (an empty IRR AS-SET is null).
fn local(obj: &Obj, field: &str) -> Json {
    match obj.get(field) {
        Val::Text(s) if s.is_empty() => Json::Null,
        v => v.to_json(),
    }
}

fn wanted(field: &str, v: &Json) -> Json {
    match v {
        Json::String(s) if s.is_empty() && field == "irr_as_set" => Json::Null,
        // An AS name holds 200 characters; PeeringDB's 255.
        Json::String(s) if field == "name" => json!(s.chars().take(200).collect::<String>()),
        other => other.clone(),
    }
}

/// Synchronise these autonomous systems (all when `ids` is None), as the system.
pub async fn synchronise(
    db: &Db,
    settings: &Settings,
    who: &Who,
    ids: Option<&[i64]>,
) -> AppResult<Vec<(i64, Outcome)>> {
    synchronise_as(db, settings, who, &Perms::superuser(), ids).await
}

/// Synchronise with the caller's permissions: an AS the new values would
/// take out of the caller's `change` constraints is refused (`Failed`).
pub async fn synchronise_as(
    db: &Db,
    settings: &Settings,
    who: &Who,
    perms: &Perms,
    ids: Option<&[i64]>,
) -> AppResult<Vec<(i64, Outcome)>> {
    let mut cond = Condition::all();
    if let Some(ids) = ids {
        cond = cond.add(Expr::col("id").is_in(ids.iter().copied()));
    }
    let ases = pm_db::load::fetch(&db.conn, &AUTONOMOUS_SYSTEM, cond, &[("asn", false)], None, 0).await?;
    let asns: Vec<i64> = ases.iter().filter_map(|a| a.int("asn")).collect();
    let nets = networks(&db.conn, &asns).await?;
    let actor =
        Actor { user_id: who.user_id, user_name: who.user_name.clone(), request_id: who.request_id, perms, settings };
    let mut out = Vec::with_capacity(ases.len());
    for a in ases {
        let asn = a.int("asn").unwrap_or(0);
        if pm_domain::asn::is_private(asn) {
            out.push((a.id, Outcome::Private));
            continue;
        }
        let Some(net) = nets.get(&asn) else {
            out.push((a.id, Outcome::NotFound));
            continue;
        };
        let mut patch = Map::new();
        for (i, (field, flag, _)) in SYNCED.iter().enumerate() {
            let new = wanted(field, &net[i]);
            if a.bool(flag) && local(&a, field) != new {
                patch.insert((*field).into(), new);
            }
        }
        if patch.is_empty() {
            out.push((a.id, Outcome::Synced(false)));
            continue;
        }
        // One AS per transaction: a value the AS refuses fails that AS only.
        let result =
            pm_db::ops::update(db, &actor, &AUTONOMOUS_SYSTEM, &[(a.id, Json::Object(patch))], true, false).await;
        out.push((
            a.id,
            match result {
                Ok(_) => Outcome::Synced(true),
                Err(AppError::Validation(e)) => {
                    let msg = format!("AS{asn}: {}", Json::Object(e.0));
                    tracing::warn!("PeeringDB values refused for {msg}");
                    Outcome::Failed(msg)
                }
                Err(AppError::PermissionDenied(_) | AppError::NotFound(_)) => {
                    Outcome::Failed(format!("AS{asn}: the new values are outside your permissions"))
                }
                Err(e) => return Err(e),
            },
        ));
    }
    Ok(out)
}

pub fn tally(outcomes: &[(i64, Outcome)]) -> Tally {
    let mut t = Tally::default();
    for (_, o) in outcomes {
        match o {
            Outcome::Synced(true) => t.updated += 1,
            Outcome::Synced(false) => t.unchanged += 1,
            Outcome::Private => t.private += 1,
            Outcome::NotFound => t.not_found += 1,
            Outcome::Failed(_) => t.failed += 1,
        }
    }
    t
}
