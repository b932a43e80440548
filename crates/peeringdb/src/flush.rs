//! Emptying the cache (`--flush`, `POST /api/peeringdb/cache/clear-local/`).

use pm_db::{AppResult, Db};
use sea_orm::ConnectionTrait;
use sea_query::Query;

use crate::namespaces::NAMESPACES;

/// Unlink local objects (hidden peers keep their id copies), delete every
/// cache table in reverse dependency order and the synchronisation records,
/// all in one transaction.
pub async fn flush(db: &Db) -> AppResult<()> {
    let w = db.begin_write().await?;
    crate::link::unlink(&w.txn).await?;
    for ns in NAMESPACES.iter().rev() {
        w.txn.execute(&Query::delete().from_table(ns.model.table).to_owned()).await?;
    }
    w.txn.execute(&Query::delete().from_table("peeringdb_synchronisation").to_owned()).await?;
    w.commit().await?;
    Ok(())
}
