//! Built-in job types: housekeeping, and two diagnostic types the tests
//! and the benchmark use (`pm.noop`, `pm.sleep`).

use serde_json::Value as Json;

use crate::{JobCtx, Registry};

pub const HOUSEKEEPING: &str = "core.housekeeping";
pub const NOOP: &str = "pm.noop";
pub const SLEEP: &str = "pm.sleep";

pub fn register(r: &mut Registry) {
    r.add(HOUSEKEEPING, housekeeping);
    // Deleting months of change log on a big database takes a while.
    r.set_timeout(HOUSEKEEPING, std::time::Duration::from_secs(3600));
    r.add(NOOP, noop);
    r.add(SLEEP, sleep);
}

/// Change log and job retention, expired sessions and tokens (spec §8.6).
async fn housekeeping(ctx: JobCtx) -> anyhow::Result<()> {
    ctx.info("Housekeeping started.");
    let (changes, jobs) = pm_db::ops::housekeeping(&ctx.db, &ctx.config.settings).await?;
    ctx.success(&format!("Removed {changes} change-log record(s) and {jobs} job(s) past retention."));
    ctx.output(&format!("changes={changes} jobs={jobs}"));
    Ok(())
}

/// Does nothing (queue benchmark, scheduler tests); echoes `payload.message` to the output.
async fn noop(ctx: JobCtx) -> anyhow::Result<()> {
    if let Some(m) = ctx.payload.get("message").and_then(Json::as_str) {
        ctx.output(m);
    }
    Ok(())
}

/// Sleeps `payload.seconds`, reporting progress each second; only during
/// attempts up to `payload.until_attempt` when given (kill tests).
async fn sleep(ctx: JobCtx) -> anyhow::Result<()> {
    let seconds = ctx.payload.get("seconds").and_then(Json::as_f64).unwrap_or(1.0);
    let until = ctx.payload.get("until_attempt").and_then(Json::as_i64).unwrap_or(i64::MAX);
    if ctx.attempt > until {
        ctx.success("Nothing left to wait for.");
        return Ok(());
    }
    ctx.info(&format!("Sleeping {seconds} s (attempt {}).", ctx.attempt));
    let steps = seconds.ceil().max(1.0) as u64;
    for i in 0..steps {
        ctx.progress(i, steps);
        tokio::time::sleep(std::time::Duration::from_secs_f64(seconds / steps as f64)).await;
    }
    ctx.progress(steps, steps);
    ctx.success("Done sleeping.");
    Ok(())
}
