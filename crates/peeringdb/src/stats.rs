//! `GET /api/peeringdb/cache/statistics/`: rows per namespace.

use pm_db::{AppResult, Db};
use serde_json::{Map, Value as Json, json};

use crate::namespaces::NAMESPACES;

/// `{"org-count": 3, …, "sync-count": 1}` with Peering Manager's keys.
pub async fn statistics(db: &Db) -> AppResult<Json> {
    let mut out = Map::new();
    for ns in &NAMESPACES {
        let n = pm_db::load::count(&db.conn, ns.model, sea_query::Condition::all()).await?;
        out.insert(format!("{}-count", ns.tag), json!(n));
    }
    let sync = pm_db::registry::model("peeringdb.synchronisation").expect("registered");
    out.insert("sync-count".into(), json!(pm_db::load::count(&db.conn, sync, sea_query::Condition::all()).await?));
    Ok(Json::Object(out))
}
