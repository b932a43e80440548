//! The job queue on both databases: records, cancel, re-run, housekeeping,
//! two workers never running one job twice, a killed worker process, and
//! the scheduler firing once per period with two processes.

use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pm_jobs::{Engine, EngineConfig, JobQueue, NewJob, Registry, SqlQueue, sql};
use serde_json::json;

use crate::both;
use crate::harness::{TestApp, fresh_url};

/// A worker that picks jobs up at once. Its lease is long: on a loaded
/// machine a heartbeat can be late by seconds, and a short lease would have
/// the worker's own running jobs reaped as lost (tests of reaping set a
/// short lease themselves).
pub fn fast_config() -> EngineConfig {
    EngineConfig {
        poll: Duration::from_millis(20),
        lease: Duration::from_secs(30),
        retry_base: Duration::from_millis(50),
        ..EngineConfig::default()
    }
}

/// The job type `test.hold`: logs "Holding (attempt N).", reports progress
/// 1 / 3 and stays running until the test releases it, so a test can look at
/// a running job for as long as it needs, whatever the machine's load.
pub const HOLD: &str = "test.hold";

pub struct Hold(Arc<tokio::sync::watch::Sender<bool>>);

impl Hold {
    /// The built-in job types plus `test.hold`.
    pub fn registry() -> (Registry, Hold) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut registry = Registry::builtin();
        registry.add(HOLD, move |ctx| {
            let mut rx = rx.clone();
            async move {
                ctx.info(&format!("Holding (attempt {}).", ctx.attempt));
                ctx.progress(1, 3);
                let _ = rx.wait_for(|released| *released).await;
                ctx.progress(3, 3);
                ctx.success("Released.");
                Ok(())
            }
        });
        (registry, Hold(Arc::new(tx)))
    }

    /// Let every held job (and any started later) finish.
    pub fn release(&self) {
        let _ = self.0.send(true);
    }
}

/// How many jobs match `condition` (SQL).
pub async fn jobs_where(db: &pm_db::Db, condition: &str) -> i64 {
    let q = format!("SELECT COUNT(*) FROM core_job WHERE {condition}");
    sql::query_one(&db.conn, &q, vec![]).await.unwrap().unwrap().try_get_by_index::<i64>(0).unwrap()
}

/// Wait (with a deadline) until job `id` has status `want`.
pub async fn wait_status(db: &pm_db::Db, id: i64, want: &str) {
    wait_for(60, &format!("job {id} to be {want}"), || async move { status_of(db, id).await == want }).await;
}

pub async fn status_of(db: &pm_db::Db, id: i64) -> String {
    let r =
        sql::query_one(&db.conn, "SELECT status FROM core_job WHERE id = ?", vec![id.into()]).await.unwrap().unwrap();
    r.try_get_by_index(0).unwrap()
}

/// Wait until `f` holds (or panic after `secs`).
pub async fn wait_for<F, Fut>(secs: u64, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = Instant::now();
    while !f().await {
        assert!(t.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

both!(lifecycle, |backend| {
    let app = TestApp::new(backend).await;
    let q = SqlQueue::new(app.db.clone());
    let done = q.enqueue(NewJob::new("pm.noop", json!({"message": "hello output"}))).await.unwrap();
    let later = q
        .enqueue(NewJob { run_at_ms: pm_db::webhooks::now_ms() + 3_600_000, ..NewJob::new("pm.noop", json!({})) })
        .await
        .unwrap();
    let unknown = q.enqueue(NewJob::new("no.such.type", json!({}))).await.unwrap();
    // Listed before any worker runs.
    let j = app.get(&format!("/api/core/jobs/{done}/")).await.expect(200);
    assert_eq!(j["status"]["value"], "pending");
    assert_eq!(app.get(&format!("/api/core/jobs/{later}/")).await.expect(200)["status"]["value"], "scheduled");

    let engine = Engine::start(app.db.clone(), fast_config(), Registry::builtin(), false).await.unwrap();
    let db = app.db.clone();
    wait_for(60, "jobs to finish", || {
        let db = db.clone();
        async move { status_of(&db, done).await == "completed" && status_of(&db, unknown).await == "errored" }
    })
    .await;
    let j = app.get(&format!("/api/core/jobs/{done}/")).await.expect(200);
    assert_eq!(j["output"], "hello output");
    assert!(j["started"].is_string() && j["completed"].is_string(), "{j}");
    assert_eq!(j["name"], "pm.noop");
    let e = app.get(&format!("/api/core/jobs/{unknown}/")).await.expect(200);
    assert!(e["output"].as_str().unwrap().contains("No handler"), "{e}");
    assert_eq!(e["data"]["main"]["log"][0][4], "An exception occurred, see output for more details.");

    // The future job is still waiting: cancel it; a finished one cannot be cancelled.
    assert_eq!(status_of(&app.db, later).await, "scheduled");
    let c = app.post(&format!("/api/core/jobs/{later}/cancel/"), json!({})).await.expect(200);
    assert_eq!(c["status"]["value"], "failed");
    assert!(c["data"]["main"]["log"][0][4].as_str().unwrap().contains("cancelled by admin"), "{c}");
    app.post(&format!("/api/core/jobs/{done}/cancel/"), json!({})).await.expect(409);

    // Re-run: a new job, same type and arguments; 202 with the Job.
    let r = app.post(&format!("/api/core/jobs/{done}/rerun/"), json!({})).await.expect(202);
    let again = r["id"].as_i64().unwrap();
    assert_ne!(again, done);
    assert_eq!(r["name"], "pm.noop");
    assert_eq!(r["user"]["username"], "admin");
    let db = app.db.clone();
    wait_for(60, "re-run", || {
        let db = db.clone();
        async move { status_of(&db, again).await == "completed" }
    })
    .await;
    assert_eq!(app.get(&format!("/api/core/jobs/{again}/")).await.expect(200)["output"], "hello output");

    // Housekeeping (itself a job) removes old finished jobs, never pending ones.
    let old = chrono::Utc::now() - chrono::Duration::days(200);
    let pending_old = q
        .enqueue(NewJob { run_at_ms: pm_db::webhooks::now_ms() + 3_600_000, ..NewJob::new("pm.noop", json!({})) })
        .await
        .unwrap();
    sql::execute(
        &app.db.conn,
        "UPDATE core_job SET created = ? WHERE id IN (?, ?)",
        vec![old.into(), done.into(), pending_old.into()],
    )
    .await
    .unwrap();
    let hk = q.enqueue(NewJob::new("core.housekeeping", json!({}))).await.unwrap();
    let db = app.db.clone();
    wait_for(60, "housekeeping", || {
        let db = db.clone();
        async move { status_of(&db, hk).await == "completed" }
    })
    .await;
    app.get(&format!("/api/core/jobs/{done}/")).await.expect(404);
    app.get(&format!("/api/core/jobs/{pending_old}/")).await.expect(200);
    assert!(app.get(&format!("/api/core/jobs/{hk}/")).await.expect(200)["output"].as_str().unwrap().contains("jobs=1"));
    engine.stop().await;
});

both!(progress_is_live, |backend| {
    let app = TestApp::new(backend).await;
    let q = SqlQueue::new(app.db.clone());
    let id = q.enqueue(NewJob::new(HOLD, json!({}))).await.unwrap();
    let (registry, hold) = Hold::registry();
    let engine = Engine::start(app.db.clone(), fast_config(), registry, false).await.unwrap();
    // While it runs, the API shows it running with its log and progress.
    let app2 = &app;
    wait_for(60, "live progress", || async move {
        let j = app2.get(&format!("/api/core/jobs/{id}/")).await.expect(200);
        j["status"]["value"] == "running" && j["data"]["progress"]["done"] == 1
    })
    .await;
    let j = app.get(&format!("/api/core/jobs/{id}/")).await.expect(200);
    assert_eq!(j["data"]["progress"]["total"], 3);
    assert_eq!(j["data"]["main"]["log"][0][4], "Holding (attempt 1).");
    hold.release();
    wait_status(&app.db, id, "completed").await;
    engine.stop().await;
});

both!(two_workers_run_each_job_once, |backend| {
    let url = fresh_url(backend).await;
    let db = pm_db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let runs: Arc<Mutex<HashMap<i64, u32>>> = Arc::default();
    let mut registry = Registry::new();
    let r = runs.clone();
    registry.add("test.count", move |ctx| {
        let r = r.clone();
        async move {
            *r.lock().unwrap().entry(ctx.id).or_default() += 1;
            // Long enough that one worker cannot drain the queue before the
            // other has started, short enough to keep the test quick.
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(())
        }
    });
    let q = SqlQueue::new(db.clone());
    let n = 600;
    let ids = q.enqueue_many((0..n).map(|_| NewJob::new("test.count", json!({}))).collect()).await.unwrap();
    // Two workers, each with its own connection pool (as two processes would have).
    let mut pools = Vec::new();
    for _ in 0..2 {
        pools.push(pm_db::Db::connect(&url).await.unwrap());
    }
    let mut engines = Vec::new();
    for db in pools {
        engines.push(Engine::start(db, fast_config(), registry.clone(), false).await.unwrap());
    }
    let dbr = &db;
    wait_for(60, "all jobs", || async move { jobs_where(dbr, "status = 'completed'").await == n as i64 }).await;
    for e in engines {
        e.stop().await;
    }
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), n);
    for id in &ids {
        assert_eq!(runs.get(id), Some(&1), "job {id} ran {:?} times", runs.get(id));
    }
    // Both workers took part.
    let rows = sql::query_all(&db.conn, "SELECT DISTINCT worker FROM core_job", vec![]).await.unwrap();
    assert_eq!(rows.len(), 2, "both workers should have claimed jobs");
});

fn spawn_worker(url: &str, envs: &[(&str, &str)]) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_peering-manager"));
    c.args(["--database", url, "worker"]).env("PM_LOG", "warn");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

both!(killed_worker_fails_or_requeues, |backend| {
    let url = fresh_url(backend).await;
    let db = pm_db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let q = SqlQueue::new(db.clone());
    let once = q.enqueue(NewJob::new("pm.sleep", json!({"seconds": 120, "until_attempt": 1}))).await.unwrap();
    let retried = q
        .enqueue(NewJob { max_attempts: 2, ..NewJob::new("pm.sleep", json!({"seconds": 120, "until_attempt": 1})) })
        .await
        .unwrap();
    let mut child = spawn_worker(&url, &[("PM_JOB_LEASE_SECONDS", "1.5"), ("PM_JOB_POLL_MS", "50")]);
    let db2 = db.clone();
    wait_for(60, "both jobs running in the worker process", || {
        let db = db2.clone();
        async move { status_of(&db, once).await == "running" && status_of(&db, retried).await == "running" }
    })
    .await;
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    assert_eq!(status_of(&db, once).await, "running");
    // Another worker reaps them once the lease has expired (it looks every
    // half lease: a short one here).
    let config = EngineConfig { lease: Duration::from_millis(1500), ..fast_config() };
    let engine = Engine::start(db.clone(), config, Registry::builtin(), false).await.unwrap();
    let db2 = db.clone();
    wait_for(60, "reaping", || {
        let db = db2.clone();
        async move { status_of(&db, once).await == "failed" && status_of(&db, retried).await == "completed" }
    })
    .await;
    engine.stop().await;
    let data = |id: i64| {
        let db = db.clone();
        async move {
            let r = sql::query_one(&db.conn, "SELECT data, attempts FROM core_job WHERE id = ?", vec![id.into()])
                .await
                .unwrap()
                .unwrap();
            (sql::json_col(&r, 0).to_string(), r.try_get_by_index::<i64>(1).unwrap())
        }
    };
    let (log, attempts) = data(once).await;
    assert!(log.contains("stopped while running this job"), "{log}");
    assert_eq!(attempts, 1);
    let (log, attempts) = data(retried).await;
    assert!(log.contains("queued again") && log.contains("Nothing left to wait for"), "{log}");
    assert_eq!(attempts, 2);
});

both!(scheduler_fires_once_per_period_across_processes, |backend| {
    let url = fresh_url(backend).await;
    let db = pm_db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let env = [("PM_SCHEDULES", "pm.noop=every 1s"), ("PM_JOB_POLL_MS", "50")];
    let mut a = spawn_worker(&url, &env);
    let mut b = spawn_worker(&url, &env);
    // Three periods at least (however slowly the two processes start).
    let dbr = &db;
    wait_for(60, "three periods", || async move { jobs_where(dbr, "name = 'pm.noop'").await >= 3 }).await;
    a.kill().unwrap();
    b.kill().unwrap();
    a.wait().unwrap();
    b.wait().unwrap();
    let rows = sql::query_all(&db.conn, "SELECT payload FROM core_job WHERE name = 'pm.noop'", vec![]).await.unwrap();
    let periods: Vec<i64> = rows.iter().map(|r| sql::json_col(r, 0)["scheduled_for"].as_i64().unwrap()).collect();
    let mut unique = periods.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), periods.len(), "a period fired twice: {periods:?}");
    assert!(periods.len() >= 3, "too few periods fired: {periods:?}");
    for w in unique.windows(2) {
        assert_eq!((w[1] - w[0]) % 1000, 0, "periods stay aligned: {unique:?}");
    }
    // The schedule shows its last and next run in the API representation.
    let r = sql::query_one(
        &db.conn,
        "SELECT last_run, next_run, last_job FROM core_jobschedule WHERE name = 'pm.noop'",
        vec![],
    )
    .await
    .unwrap()
    .unwrap();
    assert!(r.try_get_by_index::<Option<i64>>(2).unwrap().is_some());
});

#[test]
fn schedule_specs() {
    let s = pm_jobs::scheduler::parse_specs("core.housekeeping=0 3 * * *; pm.noop=every 30s;x=off;y=600").unwrap();
    assert_eq!(s[0].cron, "0 3 * * *");
    assert_eq!(s[1].interval, Some(30));
    assert!(!s[2].enabled);
    assert_eq!(s[3].interval, Some(600));
    assert!(pm_jobs::scheduler::parse_specs("a=not a cron").is_err());
}

both!(timeouts_fail_jobs_and_status_counts_live_workers, |backend| {
    let app = TestApp::new(backend).await;
    assert_eq!(app.get("/api/status/").await.expect(200)["rq-workers-running"], 0);
    let mut registry = Registry::builtin();
    registry.add("test.hang", |_ctx| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(())
    });
    registry.set_timeout("test.hang", Duration::from_millis(300));
    let q = SqlQueue::new(app.db.clone());
    let hang = q.enqueue(NewJob::new("test.hang", json!({}))).await.unwrap();
    // The default timeout applies to types without their own.
    let slow = q.enqueue(NewJob::new("pm.sleep", json!({"seconds": 30}))).await.unwrap();
    let config = EngineConfig { timeout: Duration::from_millis(600), ..fast_config() };
    let one = Engine::start(app.db.clone(), config.clone(), registry.clone(), false).await.unwrap();
    let db = app.db.clone();
    wait_for(60, "timeouts", || {
        let db = db.clone();
        async move { status_of(&db, hang).await == "failed" && status_of(&db, slow).await == "failed" }
    })
    .await;
    let j = app.get(&format!("/api/core/jobs/{hang}/")).await.expect(200);
    let last = j["data"]["main"]["log"].as_array().unwrap().last().unwrap()[4].as_str().unwrap().to_string();
    assert_eq!(last, "Job stopped: it ran longer than its timeout of 0.3 s.");
    let j = app.get(&format!("/api/core/jobs/{slow}/")).await.expect(200);
    assert!(j["data"]["main"]["log"].to_string().contains("timeout of 0.6 s"), "{j}");
    assert!(j["completed"].is_string());

    // Live workers, from their heartbeats: this one and a second one.
    assert_eq!(app.get("/api/status/").await.expect(200)["rq-workers-running"], 1);
    let two = Engine::start(app.db.clone(), config, registry, false).await.unwrap();
    let app2 = &app;
    wait_for(60, "second worker", || async move { app2.get("/api/status/").await.json["rq-workers-running"] == 2 })
        .await;
    two.stop().await;
    one.stop().await;
    assert_eq!(app.get("/api/status/").await.expect(200)["rq-workers-running"], 0, "stopped workers leave");
});
