//! The engine room: every long piece of work is a job, a row of `core_job`
//! in the main database, run by workers that read that same database.
//!
//! * [`JobQueue`] is what callers use (enqueue, cancel, re-run); [`SqlQueue`]
//!   implements it on `core_job` itself: claims are one `UPDATE … RETURNING`
//!   (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so a job is handed to exactly
//!   one worker; running jobs hold a lease renewed by a heartbeat, and a job
//!   whose worker died is failed or retried (its `max_attempts`) by any other
//!   worker's reaper.
//! * [`worker::Worker`] runs jobs with the handlers of a [`Registry`].
//! * [`scheduler`] fires periodic jobs once per period for the whole cluster.
//! * [`webhook`] dispatches and delivers webhook events.
//! * [`metrics`] is the Prometheus exposition.

pub mod ctx;
pub mod handlers;
pub mod metrics;
pub mod render;
pub mod scheduler;
pub mod sql;
pub mod status;
pub mod webhook;
pub mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use pm_db::{AppError, AppResult, Db};

pub use ctx::{Failed, JobCtx};
pub use pm_db::webhooks::NewJob;
pub use status::workers_running;

/// A job type's code: gets the context, returns when done.
/// `Err(Failed)` marks the job failed, any other error errored.
pub type Handler = Arc<dyn Fn(JobCtx) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// Job types by name (`core.housekeeping`, `extras.webhook.deliver`, …).
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
    /// Per job type, when not the engine's default (`PM_JOB_TIMEOUT_SECONDS`).
    timeouts: HashMap<String, std::time::Duration>,
    /// Per job type, when retries follow their own schedule (webhooks).
    backoffs: HashMap<String, Backoff>,
}

/// Delay before attempt `attempt + 1` of a job type, from the engine's config.
pub type Backoff = fn(&EngineConfig, i64) -> std::time::Duration;

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Every job type this crate knows.
    pub fn builtin() -> Registry {
        let mut r = Registry::new();
        handlers::register(&mut r);
        webhook::register(&mut r);
        render::register(&mut r);
        r
    }

    pub fn add<F, Fut>(&mut self, name: &str, f: F)
    where
        F: Fn(JobCtx) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.handlers.insert(name.to_string(), Arc::new(move |c| Box::pin(f(c))));
    }

    pub fn get(&self, name: &str) -> Option<&Handler> {
        self.handlers.get(name)
    }

    /// A job of this type running longer than `timeout` is stopped and failed.
    pub fn set_timeout(&mut self, name: &str, timeout: std::time::Duration) {
        self.timeouts.insert(name.to_string(), timeout);
    }

    pub fn timeout(&self, name: &str, default: std::time::Duration) -> std::time::Duration {
        self.timeouts.get(name).copied().unwrap_or(default)
    }

    /// Retries of this job type wait `backoff(config, attempt)` instead of the engine's doubling.
    pub fn set_backoff(&mut self, name: &str, backoff: Backoff) {
        self.backoffs.insert(name.to_string(), backoff);
    }

    pub fn backoff(&self, name: &str, config: &EngineConfig, attempt: i64) -> std::time::Duration {
        match self.backoffs.get(name) {
            Some(f) => f(config, attempt),
            None => config.backoff(attempt),
        }
    }
}

/// What the engine needs besides the database.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub settings: pm_db::Settings,
    /// Jobs run at the same time by one worker.
    pub concurrency: usize,
    /// A running job's lease; a worker silent for this long is presumed dead.
    pub lease: std::time::Duration,
    /// How often an idle worker looks for work (enqueues in the same process wake it at once).
    pub poll: std::time::Duration,
    /// First retry delay; doubles with each attempt (capped at one hour).
    pub retry_base: std::time::Duration,
    /// Attempts of a webhook delivery (1 = no retry).
    pub webhook_attempts: i64,
    /// Longest run of a job whose type sets no timeout of its own (RQ's default, 300 s).
    pub timeout: std::time::Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            settings: pm_db::Settings::default(),
            concurrency: 16,
            lease: std::time::Duration::from_secs(30),
            poll: std::time::Duration::from_millis(250),
            retry_base: std::time::Duration::from_secs(10),
            webhook_attempts: 5,
            timeout: std::time::Duration::from_secs(300),
        }
    }
}

impl EngineConfig {
    /// `PM_WORKER_CONCURRENCY`, `PM_JOB_LEASE_SECONDS`, `PM_JOB_POLL_MS`,
    /// `PM_JOB_RETRY_SECONDS`, `PM_WEBHOOK_ATTEMPTS`, `PM_JOB_TIMEOUT_SECONDS`.
    pub fn from_env(settings: pm_db::Settings) -> EngineConfig {
        fn num<T: std::str::FromStr>(k: &str) -> Option<T> {
            std::env::var(k).ok().and_then(|v| v.trim().parse().ok())
        }
        let d = EngineConfig::default();
        EngineConfig {
            settings,
            concurrency: num("PM_WORKER_CONCURRENCY").unwrap_or(d.concurrency).max(1),
            lease: num::<f64>("PM_JOB_LEASE_SECONDS").map(std::time::Duration::from_secs_f64).unwrap_or(d.lease),
            poll: num("PM_JOB_POLL_MS").map(std::time::Duration::from_millis).unwrap_or(d.poll),
            retry_base: num::<f64>("PM_JOB_RETRY_SECONDS")
                .map(std::time::Duration::from_secs_f64)
                .unwrap_or(d.retry_base),
            webhook_attempts: num("PM_WEBHOOK_ATTEMPTS").unwrap_or(d.webhook_attempts).max(1),
            timeout: num::<f64>("PM_JOB_TIMEOUT_SECONDS")
                .filter(|s| *s > 0.0)
                .map(std::time::Duration::from_secs_f64)
                .unwrap_or(d.timeout),
        }
    }

    /// Delay before attempt `attempt + 1`.
    pub fn backoff(&self, attempt: i64) -> std::time::Duration {
        let factor = 2f64.powi((attempt - 1).clamp(0, 20) as i32);
        std::time::Duration::from_secs_f64((self.retry_base.as_secs_f64() * factor).min(3600.0))
    }
}

/// What callers see of the queue; the implementation may change (see crate docs).
#[async_trait::async_trait]
pub trait JobQueue: Send + Sync {
    /// Queue a job; returns the `core_job` id.
    async fn enqueue(&self, job: NewJob) -> AppResult<i64>;
    /// Queue many jobs in one transaction; ids in order.
    async fn enqueue_many(&self, jobs: Vec<NewJob>) -> AppResult<Vec<i64>>;
    /// Cancel a job that has not started; false when it already started or finished.
    async fn cancel(&self, id: i64, by: &str) -> AppResult<bool>;
    /// Queue a copy of a job (same type, object and arguments); returns the new id.
    async fn rerun(&self, id: i64, user_id: Option<i64>) -> AppResult<i64>;
}

/// The queue on `core_job`.
#[derive(Clone)]
pub struct SqlQueue {
    pub db: Db,
    /// Wakes the workers of this process when work is queued here.
    pub notify: Arc<tokio::sync::Notify>,
}

impl SqlQueue {
    /// Every queue of the process shares one wake-up, so an enqueue from a
    /// web handler wakes the embedded worker at once.
    pub fn new(db: Db) -> SqlQueue {
        static NOTIFY: std::sync::OnceLock<Arc<tokio::sync::Notify>> = std::sync::OnceLock::new();
        SqlQueue { db, notify: NOTIFY.get_or_init(|| Arc::new(tokio::sync::Notify::new())).clone() }
    }
}

#[async_trait::async_trait]
impl JobQueue for SqlQueue {
    async fn enqueue(&self, job: NewJob) -> AppResult<i64> {
        Ok(self.enqueue_many(vec![job]).await?[0])
    }

    async fn enqueue_many(&self, jobs: Vec<NewJob>) -> AppResult<Vec<i64>> {
        let w = self.db.begin_write().await?;
        let ids = pm_db::webhooks::insert_jobs(&w.txn, &jobs).await?;
        w.commit().await?;
        self.notify.notify_waiters();
        metrics::JOBS_ENQUEUED.add(ids.len() as u64);
        Ok(ids)
    }

    async fn cancel(&self, id: i64, by: &str) -> AppResult<bool> {
        let w = self.db.begin_write().await?;
        let row = sql::query_one(
            &w.txn,
            "SELECT data FROM core_job WHERE id = ? AND status IN ('pending', 'scheduled')",
            vec![id.into()],
        )
        .await?;
        let Some(row) = row else { return Ok(false) };
        let mut log = ctx::Log::from_stored(sql::json_col(&row, 0));
        log.add("main", "failure", &format!("Job cancelled by {by} before it started."));
        let n = sql::execute(
            &w.txn,
            "UPDATE core_job SET status = 'failed', completed = ?, data = ? WHERE id = ? AND status IN ('pending', 'scheduled')",
            vec![chrono::Utc::now().into(), log.to_json().to_string().into(), id.into()],
        )
        .await?;
        w.commit().await?;
        Ok(n == 1)
    }

    async fn rerun(&self, id: i64, user_id: Option<i64>) -> AppResult<i64> {
        let row = sql::query_one(
            &self.db.conn,
            "SELECT name, object_type_id, object_id, payload, max_attempts, serial_key FROM core_job WHERE id = ?",
            vec![id.into()],
        )
        .await?
        .ok_or_else(|| AppError::NotFound("No job matches the given query.".into()))?;
        let job = NewJob {
            name: row.try_get_by_index(0).map_err(AppError::from)?,
            object_type: row.try_get_by_index(1).ok().flatten(),
            object_id: row.try_get_by_index(2).ok().flatten(),
            user_id,
            payload: sql::json_col(&row, 3),
            run_at_ms: 0,
            max_attempts: row.try_get_by_index::<i64>(4).unwrap_or(1),
            serial_key: row.try_get_by_index(5).ok().flatten(),
        };
        self.enqueue(job).await
    }
}

/// Indexes the queue needs (idempotent; run by every worker at start).
pub async fn ensure_schema(db: &Db) -> AppResult<()> {
    for stmt in [
        "CREATE INDEX IF NOT EXISTS core_job_queue_idx ON core_job (status, run_at_ms)",
        "CREATE INDEX IF NOT EXISTS core_job_serial_idx ON core_job (serial_key)",
        "CREATE INDEX IF NOT EXISTS core_job_worker_idx ON core_job (worker)",
        // Live workers: each renews its row with its heartbeat (`rq-workers-running`).
        "CREATE TABLE IF NOT EXISTS core_worker (name VARCHAR(200) PRIMARY KEY, started_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL)",
    ] {
        sql::execute(&db.conn, stmt, vec![]).await?;
    }
    Ok(())
}

/// A worker and the scheduler running in the background of this process.
pub struct Engine {
    pub queue: SqlQueue,
    shutdown: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Engine {
    /// Start a worker (and the scheduler when `scheduler` is true).
    pub async fn start(db: Db, config: EngineConfig, registry: Registry, scheduler: bool) -> AppResult<Engine> {
        ensure_schema(&db).await?;
        install_crypto();
        let queue = SqlQueue::new(db.clone());
        let (tx, rx) = tokio::sync::watch::channel(false);
        let config = Arc::new(config);
        let mut tasks = Vec::new();
        let w = worker::Worker::new(queue.clone(), config.clone(), Arc::new(registry));
        tasks.push(tokio::spawn(w.run(rx.clone())));
        if scheduler {
            tasks.push(tokio::spawn(scheduler::run(queue.clone(), config.clone(), rx)));
        }
        Ok(Engine { queue, shutdown: tx, tasks })
    }

    /// Stop taking work, let running jobs finish, return.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// rustls needs one crypto provider for the process (ring, see stack.md).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
