//! Local objects detached from the cache before a flush. Re-attaching them
//! after a sync is `pm_db::peeringdb::link_all`, shared with the IXP pages.

use pm_db::AppResult;
use sea_orm::{ConnectionTrait, Statement};

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
