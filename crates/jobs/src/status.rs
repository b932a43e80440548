//! What the cluster's queue looks like now: jobs by type and status, and the
//! live workers (from their heartbeats). For `/api/status/`, the staff pages
//! and `/metrics`.

use pm_db::webhooks::now_ms;
use pm_db::{AppResult, Db};

use crate::sql;

/// Jobs of one type in one status.
#[derive(Debug, Clone, PartialEq)]
pub struct JobCount {
    pub name: String,
    pub status: String,
    pub count: i64,
}

pub async fn job_counts(db: &Db) -> AppResult<Vec<JobCount>> {
    let rows = sql::query_all(
        &db.conn,
        "SELECT name, status, COUNT(*) FROM core_job GROUP BY name, status ORDER BY name, status",
        vec![],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| JobCount {
            name: r.try_get_by_index(0).unwrap_or_default(),
            status: r.try_get_by_index(1).unwrap_or_default(),
            count: r.try_get_by_index(2).unwrap_or_default(),
        })
        .collect())
}

/// A worker whose heartbeat is current.
#[derive(Debug, Clone)]
pub struct WorkerInfo {
    /// `host:pid:random`
    pub name: String,
    pub started_ms: i64,
    /// Its lease: presumed dead after this.
    pub expires_ms: i64,
    /// Jobs it is running.
    pub running: i64,
}

/// Live workers of the whole cluster (none when no worker ever ran here).
pub async fn workers(db: &Db) -> Vec<WorkerInfo> {
    let rows = sql::query_all(
        &db.conn,
        "SELECT w.name, w.started_ms, w.expires_ms, \
         (SELECT COUNT(*) FROM core_job j WHERE j.worker = w.name AND j.status = 'running') \
         FROM core_worker w WHERE w.expires_ms > ? ORDER BY w.name",
        vec![now_ms().into()],
    )
    .await;
    rows.map(|rows| {
        rows.iter()
            .map(|r| WorkerInfo {
                name: r.try_get_by_index(0).unwrap_or_default(),
                started_ms: r.try_get_by_index(1).unwrap_or_default(),
                expires_ms: r.try_get_by_index(2).unwrap_or_default(),
                running: r.try_get_by_index(3).unwrap_or_default(),
            })
            .collect()
    })
    .unwrap_or_default()
}

/// How many workers have a current heartbeat.
pub async fn workers_running(db: &Db) -> usize {
    workers(db).await.len()
}
