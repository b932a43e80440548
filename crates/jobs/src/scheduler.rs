//! Periodic jobs (`core_jobschedule`): each process ticks; a period is
//! claimed by a compare-and-swap on `next_run_ms` in the same transaction
//! that queues its job, so the schedule fires once per period for the whole
//! cluster, however many processes run it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use pm_db::webhooks::{NewJob, insert_jobs, now_ms, parse_cron};
use pm_db::{AppResult, Db};
use serde_json::{Value as Json, json};
use tokio::sync::watch;

use crate::{EngineConfig, SqlQueue, sql};

/// A schedule from configuration: `NAME=every 30s`, `NAME=3600`, `NAME=0 3 * * *`, `NAME=off`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSpec {
    pub name: String,
    pub interval: Option<i64>,
    pub cron: String,
    pub enabled: bool,
}

/// `PM_SCHEDULES`: specs separated by `;`.
pub fn parse_specs(text: &str) -> Result<Vec<ScheduleSpec>, String> {
    let mut out = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, when) = part.split_once('=').ok_or_else(|| format!("expected NAME=WHEN in {part:?}"))?;
        let (name, when) = (name.trim().to_string(), when.trim());
        let mut spec = ScheduleSpec { name, interval: None, cron: String::new(), enabled: true };
        if when.eq_ignore_ascii_case("off") {
            spec.enabled = false;
        } else if let Some(secs) = parse_interval(when) {
            spec.interval = Some(secs);
        } else {
            parse_cron(when).map_err(|e| format!("{part:?}: {e}"))?;
            spec.cron = when.to_string();
        }
        out.push(spec);
    }
    Ok(out)
}

/// `3600`, `every 30s`, `every 5m`, `every 2h`, `every 1d`.
fn parse_interval(s: &str) -> Option<i64> {
    let s = s.strip_prefix("every").map(str::trim).unwrap_or(s);
    if let Ok(n) = s.parse::<i64>() {
        return (n > 0).then_some(n);
    }
    let (num, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: i64 = num.trim().parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    (n > 0).then_some(n * mult)
}

/// Default schedules of a fresh install.
pub fn defaults() -> Vec<ScheduleSpec> {
    vec![ScheduleSpec {
        name: crate::handlers::HOUSEKEEPING.into(),
        interval: None,
        cron: "0 3 * * *".into(),
        enabled: true,
    }]
}

fn next_after(interval: Option<i64>, cron: &str, after_ms: i64) -> Option<i64> {
    if let Some(secs) = interval {
        return Some(after_ms + secs * 1000);
    }
    let c = parse_cron(cron).ok()?;
    let t: DateTime<Utc> = Utc.timestamp_millis_opt(after_ms).single()?;
    c.find_next_occurrence(&t, false).ok().map(|n| n.timestamp_millis())
}

/// Create missing schedules and apply configured ones (configuration wins
/// over what was edited in the UI for the names it mentions).
pub async fn apply_specs(db: &Db, specs: &[ScheduleSpec], overwrite: bool) -> AppResult<()> {
    let now = Utc::now();
    for s in specs {
        let next = next_after(s.interval, &s.cron, now.timestamp_millis()).unwrap_or(0);
        let next_dt = Utc.timestamp_millis_opt(next).single();
        // One upsert: processes starting together all try and the result is
        // the same; without `overwrite` a schedule edited in the UI is kept.
        let on_conflict = if overwrite {
            "DO UPDATE SET enabled = excluded.enabled, interval_seconds = excluded.interval_seconds, \
             cron = excluded.cron, next_run = excluded.next_run, next_run_ms = excluded.next_run_ms, \
             updated = excluded.updated"
        } else {
            "DO NOTHING"
        };
        let w = db.begin_write().await?;
        sql::execute(
            &w.txn,
            &format!(
                "INSERT INTO core_jobschedule (name, enabled, interval_seconds, cron, payload, next_run, next_run_ms, created, updated) \
                 VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?) ON CONFLICT (name) {on_conflict}"
            ),
            vec![
                s.name.clone().into(),
                s.enabled.into(),
                s.interval.into(),
                s.cron.clone().into(),
                next_dt.into(),
                next.into(),
                now.into(),
                now.into(),
            ],
        )
        .await?;
        w.commit().await?;
    }
    Ok(())
}

/// One pass: fire every due schedule this process wins. Returns jobs queued.
pub async fn tick(db: &Db) -> AppResult<usize> {
    let now = now_ms();
    let rows = sql::query_all(
        &db.conn,
        "SELECT id, name, interval_seconds, cron, payload, next_run_ms FROM core_jobschedule WHERE enabled = ?",
        vec![true.into()],
    )
    .await?;
    let mut fired = 0;
    for r in rows {
        let id: i64 = r.try_get_by_index(0).unwrap_or_default();
        let name: String = r.try_get_by_index(1).unwrap_or_default();
        let interval: Option<i64> = r.try_get_by_index(2).ok().flatten();
        let cron: String = r.try_get_by_index::<Option<String>>(3).ok().flatten().unwrap_or_default();
        let payload = sql::json_col(&r, 4);
        let due: Option<i64> = r.try_get_by_index(5).ok().flatten();
        let Some(due) = due.filter(|d| *d > 0) else {
            // Edited in the UI (or new): compute its next run, no job now.
            let next = next_after(interval, &cron, now);
            set_next(db, id, None, next).await?;
            continue;
        };
        if due > now {
            continue;
        }
        // Next period after `now` (missed periods are not replayed), aligned on the schedule.
        let mut next = next_after(interval, &cron, due);
        while let Some(n) = next
            && n <= now
        {
            next = next_after(interval, &cron, n);
        }
        let w = db.begin_write().await?;
        let won = sql::execute(
            &w.txn,
            "UPDATE core_jobschedule SET next_run_ms = ?, next_run = ?, last_run = ? WHERE id = ? AND next_run_ms = ?",
            vec![
                next.unwrap_or(0).into(),
                next.and_then(|n| Utc.timestamp_millis_opt(n).single()).into(),
                Utc::now().into(),
                id.into(),
                due.into(),
            ],
        )
        .await?;
        if won != 1 {
            w.rollback_ok();
            continue;
        }
        let mut payload = if payload.is_object() { payload } else { json!({}) };
        payload["scheduled_for"] = Json::from(due);
        let mut job = NewJob::new(&name, payload);
        job.max_attempts = 1;
        let ids = insert_jobs(&w.txn, &[job]).await?;
        sql::execute(&w.txn, "UPDATE core_jobschedule SET last_job = ? WHERE id = ?", vec![ids[0].into(), id.into()])
            .await?;
        w.commit().await?;
        fired += 1;
        tracing::info!(schedule = %name, job = ids[0], "scheduled job queued");
    }
    Ok(fired)
}

async fn set_next(db: &Db, id: i64, expect: Option<i64>, next: Option<i64>) -> AppResult<()> {
    let _ = expect;
    let w = db.begin_write().await?;
    sql::execute(
        &w.txn,
        "UPDATE core_jobschedule SET next_run_ms = ?, next_run = ? WHERE id = ? AND (next_run_ms IS NULL OR next_run_ms = 0)",
        vec![next.unwrap_or(0).into(), next.and_then(|n| Utc.timestamp_millis_opt(n).single()).into(), id.into()],
    )
    .await?;
    w.commit().await
}

trait RollbackOk {
    fn rollback_ok(self);
}

impl RollbackOk for pm_db::WriteTxn {
    /// Dropping the transaction rolls it back.
    fn rollback_ok(self) {}
}

/// The scheduler loop: defaults and `PM_SCHEDULES` applied once, then a tick per second.
pub async fn run(queue: SqlQueue, _config: Arc<EngineConfig>, mut shutdown: watch::Receiver<bool>) {
    let db = queue.db.clone();
    if let Err(e) = apply_specs(&db, &defaults(), false).await {
        tracing::warn!("creating default schedules: {e}");
    }
    if let Ok(text) = std::env::var("PM_SCHEDULES") {
        match parse_specs(&text) {
            Ok(specs) => {
                if let Err(e) = apply_specs(&db, &specs, true).await {
                    tracing::warn!("applying PM_SCHEDULES: {e}");
                }
            }
            Err(e) => tracing::error!("PM_SCHEDULES is invalid, ignored: {e}"),
        }
    }
    loop {
        match tick(&db).await {
            Ok(n) if n > 0 => queue.notify.notify_waiters(),
            Ok(_) => {}
            Err(e) => tracing::warn!("scheduler: {e}"),
        }
        // Tick just after each second boundary, so processes agree on what is due.
        let wait = 1000 - (now_ms() % 1000) + 20;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
