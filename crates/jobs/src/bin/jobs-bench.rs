//! Queue throughput benchmark (BENCHMARKS.md):
//!
//! ```sh
//! pm-jobs-bench --database sqlite:///tmp/q.sqlite3?mode=rwc --jobs 20000 --workers 1
//! pm-jobs-bench --database postgres://postgres@127.0.0.1/pm_bench --jobs 20000 --enqueue-only
//! peering-manager --database postgres://… worker &  (twice)   then: pm-jobs-bench … --wait
//! peering-manager --database postgres://… worker &  (twice)   then: pm-jobs-bench … --external
//! ```
//!
//! Modes: default = enqueue N `pm.noop` jobs then run them with W in-process
//! workers (each with its own pool, as separate processes would) and report
//! jobs/s; `--enqueue-only` queues and exits; `--wait` measures how fast
//! external workers empty the queue; `--external` queues N jobs due 5 s from
//! now (so already-running worker processes all see them at once) and
//! measures from that moment until the last one finished.

use std::time::{Duration, Instant};

use pm_jobs::{EngineConfig, JobQueue, NewJob, Registry, SqlQueue, sql};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

async fn remaining(db: &pm_db::Db) -> i64 {
    let r = sql::query_one(
        &db.conn,
        "SELECT COUNT(*) FROM core_job WHERE name = 'pm.noop' AND status IN ('pending', 'scheduled', 'running')",
        vec![],
    )
    .await
    .unwrap()
    .unwrap();
    r.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let url = arg(&args, "--database").unwrap_or_else(|| "sqlite:///tmp/pm-jobs-bench.sqlite3?mode=rwc".into());
    let n: usize = arg(&args, "--jobs").and_then(|v| v.parse().ok()).unwrap_or(20000);
    let workers: usize = arg(&args, "--workers").and_then(|v| v.parse().ok()).unwrap_or(1);
    let db = pm_db::Db::connect(&url).await?;
    db.migrate().await?;
    pm_jobs::ensure_schema(&db).await?;
    if !args.iter().any(|a| a == "--wait") {
        let q = SqlQueue::new(db.clone());
        let external = args.iter().any(|a| a == "--external");
        let due = if external { pm_db::webhooks::now_ms() + 5000 } else { 0 };
        let t = Instant::now();
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            q.enqueue_many(
                chunk
                    .iter()
                    .map(|_| NewJob { run_at_ms: due, ..NewJob::new("pm.noop", serde_json::json!({})) })
                    .collect(),
            )
            .await?;
        }
        println!(
            "enqueued {n} jobs in {:.2} s ({:.0}/s)",
            t.elapsed().as_secs_f64(),
            n as f64 / t.elapsed().as_secs_f64()
        );
        if args.iter().any(|a| a == "--enqueue-only") {
            return Ok(());
        }
        if external {
            let wait = due - pm_db::webhooks::now_ms();
            if wait <= 0 {
                anyhow::bail!("enqueuing took longer than 5 s; the measurement would be wrong");
            }
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
            let t = Instant::now();
            while remaining(&db).await > 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let secs = t.elapsed().as_secs_f64();
            println!("external workers ran {n} jobs in {secs:.2} s: {:.0} jobs/s", n as f64 / secs);
            return Ok(());
        }
        let t = Instant::now();
        let mut engines = Vec::new();
        for _ in 0..workers {
            let db = pm_db::Db::connect(&url).await?;
            let config = EngineConfig { concurrency: 64, ..EngineConfig::from_env(Default::default()) };
            engines.push(pm_jobs::Engine::start(db, config, Registry::builtin(), false).await?);
        }
        while remaining(&db).await > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = t.elapsed().as_secs_f64();
        println!("ran {n} jobs with {workers} worker(s) in {secs:.2} s: {:.0} jobs/s", n as f64 / secs);
        for e in engines {
            e.stop().await;
        }
    } else {
        let start = remaining(&db).await;
        let t = Instant::now();
        while remaining(&db).await > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = t.elapsed().as_secs_f64();
        println!("{start} jobs drained in {secs:.2} s: {:.0} jobs/s", start as f64 / secs);
    }
    Ok(())
}
