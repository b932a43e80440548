//! A worker: claims jobs in batches, runs them with bounded concurrency,
//! writes results in group commits, renews its lease, and reaps the jobs of
//! workers that died.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pm_db::AppResult;
use pm_db::webhooks::now_ms;
use sea_orm::DbBackend;
use serde_json::Value as Json;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::ctx::{Failed, JobCtx, Log, Shared};
use crate::{EngineConfig, Registry, SqlQueue, metrics, sql};

pub struct Worker {
    pub queue: SqlQueue,
    pub config: Arc<EngineConfig>,
    pub registry: Arc<Registry>,
    pub name: String,
}

/// A finished attempt, written by the completer.
struct Done {
    id: i64,
    status: &'static str,
    data: String,
    /// Retry: when to run again.
    run_at_ms: Option<i64>,
}

struct Claimed {
    id: i64,
    name: String,
    payload: Json,
    attempts: i64,
    max_attempts: i64,
    object_type: Option<i64>,
    object_id: Option<i64>,
    user_id: Option<i64>,
    job_id: String,
    data: Json,
}

impl Worker {
    pub fn new(queue: SqlQueue, config: Arc<EngineConfig>, registry: Arc<Registry>) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        let name = format!("{host}:{}:{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        Worker { queue, config, registry, name }
    }

    /// Run until `shutdown` turns true; running jobs are finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let this = Arc::new(self);
        tracing::info!(worker = %this.name, concurrency = this.config.concurrency, "job worker started");
        let slots = Arc::new(Semaphore::new(this.config.concurrency));
        let (done_tx, done_rx) = mpsc::unbounded_channel::<Done>();
        let completer = tokio::spawn(this.clone().completer(done_rx));
        let (hb_stop_tx, hb_stop) = watch::channel(false);
        let heartbeat = tokio::spawn(this.clone().heartbeat(hb_stop));
        let mut last_reap = std::time::Instant::now() - Duration::from_secs(3600);
        let reap_every = (this.config.lease / 2).max(Duration::from_millis(500));
        loop {
            if *shutdown.borrow() {
                break;
            }
            if last_reap.elapsed() >= reap_every {
                last_reap = std::time::Instant::now();
                if let Err(e) = reap(&this.queue.db, &this.name).await {
                    tracing::warn!("reaping lost jobs: {e}");
                }
            }
            let free = slots.available_permits();
            let mut claimed = 0;
            if free > 0 {
                match this.claim(free.min(64)).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            let permit = slots.clone().acquire_owned().await.expect("open semaphore");
                            let me = this.clone();
                            let tx = done_tx.clone();
                            tokio::spawn(async move {
                                me.execute(job, tx).await;
                                drop(permit);
                            });
                        }
                    }
                    Err(e) => {
                        tracing::warn!("claiming jobs: {e}");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
            if claimed == 0 || slots.available_permits() == 0 {
                let notified = this.queue.notify.notified();
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(if free == 0 { Duration::from_millis(5) } else { this.config.poll }) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        // Drain: wait for running jobs, then the last writes.
        let _ = slots.acquire_many(this.config.concurrency as u32).await;
        drop(done_tx);
        let _ = completer.await;
        let _ = hb_stop_tx.send(true);
        let _ = heartbeat.await;
        tracing::info!(worker = %this.name, "job worker stopped");
    }

    async fn claim(&self, limit: usize) -> AppResult<Vec<Claimed>> {
        let db = &self.queue.db;
        let now = now_ms();
        let lease = now + self.config.lease.as_millis() as i64;
        let lock = if db.backend() == DbBackend::Postgres { "FOR UPDATE OF j SKIP LOCKED" } else { "" };
        let q = format!(
            "UPDATE core_job SET status = 'running', started = ?, worker = ?, lease_ms = ?, attempts = attempts + 1 \
             WHERE id IN (SELECT j.id FROM core_job j WHERE j.status IN ('pending', 'scheduled') AND j.run_at_ms <= ? \
               AND (j.serial_key IS NULL OR NOT EXISTS (SELECT 1 FROM core_job e WHERE e.serial_key = j.serial_key \
                    AND e.id < j.id AND e.status IN ('pending', 'scheduled', 'running'))) \
               ORDER BY j.id LIMIT ? {lock}) \
             RETURNING id, name, payload, attempts, max_attempts, object_type_id, object_id, user_id, job_id, data"
        );
        let w = db.begin_write().await?;
        let rows = sql::query_all(
            &w.txn,
            &q,
            vec![chrono::Utc::now().into(), self.name.clone().into(), lease.into(), now.into(), (limit as i64).into()],
        )
        .await?;
        w.commit().await?;
        let mut out: Vec<Claimed> = rows
            .iter()
            .map(|r| Claimed {
                id: r.try_get_by_index(0).unwrap_or_default(),
                name: r.try_get_by_index(1).unwrap_or_default(),
                payload: sql::json_col(r, 2),
                attempts: r.try_get_by_index(3).unwrap_or(1),
                max_attempts: r.try_get_by_index(4).unwrap_or(1),
                object_type: r.try_get_by_index(5).ok().flatten(),
                object_id: r.try_get_by_index(6).ok().flatten(),
                user_id: r.try_get_by_index(7).ok().flatten(),
                job_id: r.try_get_by_index(8).unwrap_or_default(),
                data: sql::json_col(r, 9),
            })
            .collect();
        out.sort_by_key(|c| c.id);
        Ok(out)
    }

    async fn execute(self: Arc<Self>, job: Claimed, done: mpsc::UnboundedSender<Done>) {
        let started = std::time::Instant::now();
        let shared = Arc::new(Mutex::new(Shared { log: Log::from_stored(job.data), dirty: false, failed: false }));
        let ctx = JobCtx {
            db: self.queue.db.clone(),
            queue: self.queue.clone(),
            config: self.config.clone(),
            id: job.id,
            job_id: job.job_id,
            name: job.name.clone(),
            payload: job.payload,
            attempt: job.attempts,
            max_attempts: job.max_attempts,
            user_id: job.user_id,
            object_type: job.object_type,
            object_id: job.object_id,
            worker: self.name.clone(),
            shared: shared.clone(),
        };
        let _ = (job.object_type, job.object_id);
        let result: anyhow::Result<()> = match self.registry.get(&job.name) {
            None => Err(anyhow::anyhow!("No handler for job type {:?} in this worker.", job.name)),
            Some(h) => {
                let limit = self.registry.timeout(&job.name, self.config.timeout);
                let mut task = tokio::spawn(h(ctx));
                let mut tick = tokio::time::interval(Duration::from_millis(500));
                tick.tick().await;
                let deadline = tokio::time::sleep(limit);
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        r = &mut task => break match r {
                            Ok(r) => r,
                            Err(e) if e.is_panic() => Err(anyhow::anyhow!("the job panicked: {}", panic_text(e))),
                            Err(e) => Err(anyhow::anyhow!("the job was aborted: {e}")),
                        },
                        _ = tick.tick() => self.flush_live(job.id, &shared).await,
                        _ = &mut deadline => {
                            task.abort();
                            break Err(Failed(format!(
                                "Job stopped: it ran longer than its timeout of {} s.",
                                fmt_secs(limit)
                            ))
                            .into());
                        }
                    }
                }
            }
        };
        let mut s = shared.lock().unwrap();
        let (status, run_at) = match result {
            Ok(()) if s.failed => ("failed", None),
            Ok(()) => ("completed", None),
            Err(e) => {
                let failed = e.downcast_ref::<Failed>().is_some();
                if job.attempts < job.max_attempts {
                    let delay = self.registry.backoff(&job.name, &self.config, job.attempts);
                    s.log.add(
                        "main",
                        "warning",
                        &format!(
                            "Attempt {} of {} failed: {e}. Retrying in {:.1} s.",
                            job.attempts,
                            job.max_attempts,
                            delay.as_secs_f64()
                        ),
                    );
                    ("scheduled", Some(now_ms() + delay.as_millis() as i64))
                } else if failed {
                    s.log.add("main", "failure", &e.to_string());
                    ("failed", None)
                } else {
                    s.log.add("main", "failure", "An exception occurred, see output for more details.");
                    s.log.add("output", "default", &format!("{e:#}"));
                    ("errored", None)
                }
            }
        };
        metrics::job_finished(&job.name, status, started.elapsed());
        let _ = done.send(Done { id: job.id, status, data: s.log.to_json().to_string(), run_at_ms: run_at });
    }

    /// Live log: write the data of a running job when it changed.
    async fn flush_live(&self, id: i64, shared: &Arc<Mutex<Shared>>) {
        let data = {
            let mut s = shared.lock().unwrap();
            if !s.dirty {
                return;
            }
            s.dirty = false;
            s.log.to_json().to_string()
        };
        let db = &self.queue.db;
        let r = async {
            let w = db.begin_write().await?;
            sql::execute(
                &w.txn,
                "UPDATE core_job SET data = ? WHERE id = ? AND worker = ? AND status = 'running'",
                vec![data.into(), id.into(), self.name.clone().into()],
            )
            .await?;
            w.commit().await
        }
        .await;
        if let Err(e) = r {
            tracing::warn!(job = id, "writing the live log: {e}");
        }
    }

    /// Group commit of finished jobs.
    async fn completer(self: Arc<Self>, mut rx: mpsc::UnboundedReceiver<Done>) {
        let mut batch = Vec::new();
        while let Some(first) = rx.recv().await {
            batch.push(first);
            while batch.len() < 512 {
                match rx.try_recv() {
                    Ok(d) => batch.push(d),
                    Err(_) => break,
                }
            }
            let mut tries = 0;
            loop {
                match self.write_done(&batch).await {
                    Ok(()) => break,
                    Err(e) if tries < 20 => {
                        tries += 1;
                        tracing::warn!("recording finished jobs (retrying): {e}");
                        tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                    }
                    Err(e) => {
                        tracing::error!("recording finished jobs failed; their leases will expire: {e}");
                        break;
                    }
                }
            }
            batch.clear();
            // Serial jobs and freed slots may be waiting for these.
            self.queue.notify.notify_waiters();
        }
    }

    async fn write_done(&self, batch: &[Done]) -> AppResult<()> {
        let w = self.queue.db.begin_write().await?;
        let now = chrono::Utc::now();
        for d in batch {
            match d.run_at_ms {
                Some(at) => {
                    sql::execute(
                        &w.txn,
                        "UPDATE core_job SET status = 'scheduled', data = ?, run_at_ms = ?, lease_ms = NULL \
                         WHERE id = ? AND worker = ? AND status = 'running'",
                        vec![d.data.clone().into(), at.into(), d.id.into(), self.name.clone().into()],
                    )
                    .await?;
                }
                None => {
                    sql::execute(
                        &w.txn,
                        "UPDATE core_job SET status = ?, data = ?, completed = ?, lease_ms = NULL \
                         WHERE id = ? AND worker = ? AND status = 'running'",
                        vec![d.status.into(), d.data.clone().into(), now.into(), d.id.into(), self.name.clone().into()],
                    )
                    .await?;
                }
            }
        }
        w.commit().await
    }

    /// Renews the leases of this worker's running jobs and its own row in
    /// `core_worker` (live worker count); the row goes when the worker stops.
    async fn heartbeat(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let every = (self.config.lease / 3).max(Duration::from_millis(100));
        let started = now_ms();
        let mut first = true;
        loop {
            if !first {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => break,
                }
            }
            first = false;
            let now = now_ms();
            let lease = now + self.config.lease.as_millis() as i64;
            let r = async {
                let w = self.queue.db.begin_write().await?;
                sql::execute(
                    &w.txn,
                    "UPDATE core_job SET lease_ms = ? WHERE worker = ? AND status = 'running'",
                    vec![lease.into(), self.name.clone().into()],
                )
                .await?;
                sql::execute(
                    &w.txn,
                    "INSERT INTO core_worker (name, started_ms, expires_ms) VALUES (?, ?, ?)                      ON CONFLICT (name) DO UPDATE SET expires_ms = excluded.expires_ms",
                    vec![self.name.clone().into(), started.into(), lease.into()],
                )
                .await?;
                // Rows of workers gone for an hour (killed, machine lost).
                sql::execute(&w.txn, "DELETE FROM core_worker WHERE expires_ms < ?", vec![(now - 3_600_000).into()])
                    .await?;
                w.commit().await
            }
            .await;
            if let Err(e) = r {
                tracing::warn!("renewing job leases: {e}");
            }
        }
        let _ =
            sql::execute(&self.queue.db.conn, "DELETE FROM core_worker WHERE name = ?", vec![self.name.clone().into()])
                .await;
    }
}

/// `300`, `0.25`: seconds as people write them.
fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 { format!("{}", s as u64) } else { format!("{s}") }
}

fn panic_text(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into()),
        Err(e) => e.to_string(),
    }
}

/// Jobs whose worker stopped renewing its lease: retried while attempts
/// remain, failed otherwise. Any worker may do this; the guarded UPDATE lets
/// exactly one of them win each job.
pub async fn reap(db: &pm_db::Db, me: &str) -> AppResult<usize> {
    let now = now_ms();
    let rows = sql::query_all(
        &db.conn,
        "SELECT id, attempts, max_attempts, data, worker FROM core_job WHERE status = 'running' AND lease_ms < ?",
        vec![now.into()],
    )
    .await?;
    let mut n = 0;
    for r in rows {
        let id: i64 = r.try_get_by_index(0).unwrap_or_default();
        let attempts: i64 = r.try_get_by_index(1).unwrap_or(1);
        let max: i64 = r.try_get_by_index(2).unwrap_or(1);
        let mut log = Log::from_stored(sql::json_col(&r, 3));
        let worker: String = r.try_get_by_index(4).unwrap_or_default();
        let retry = attempts < max;
        let msg = if retry {
            format!("Worker {worker} stopped during attempt {attempts} of {max}; the job is queued again.")
        } else {
            format!("Worker {worker} stopped while running this job; it did not finish.")
        };
        log.add("main", if retry { "warning" } else { "failure" }, &msg);
        let w = db.begin_write().await?;
        let changed = if retry {
            sql::execute(
                &w.txn,
                "UPDATE core_job SET status = 'pending', data = ?, run_at_ms = ?, lease_ms = NULL, worker = ? \
                 WHERE id = ? AND status = 'running' AND lease_ms < ?",
                vec![log.to_json().to_string().into(), now.into(), "".into(), id.into(), now.into()],
            )
            .await?
        } else {
            sql::execute(
                &w.txn,
                "UPDATE core_job SET status = 'failed', data = ?, completed = ?, lease_ms = NULL \
                 WHERE id = ? AND status = 'running' AND lease_ms < ?",
                vec![log.to_json().to_string().into(), chrono::Utc::now().into(), id.into(), now.into()],
            )
            .await?
        };
        w.commit().await?;
        if changed == 1 {
            n += 1;
            tracing::warn!(job = id, reaper = me, "{msg}");
        }
    }
    Ok(n)
}
