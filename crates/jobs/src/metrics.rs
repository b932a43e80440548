//! Prometheus metrics (text exposition 0.0.4), off unless `PM_METRICS_ENABLED=true`.
//! Counters live in this process; job and queue gauges are read from the
//! database at scrape time, so any process shows the whole cluster.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use pm_db::Db;

static ENABLED: OnceLock<AtomicBool> = OnceLock::new();

fn flag() -> &'static AtomicBool {
    ENABLED.get_or_init(|| {
        let on = std::env::var("PM_METRICS_ENABLED")
            .map(|v| matches!(v.trim().to_lowercase().as_str(), "1" | "true" | "yes" | "on"))
            .unwrap_or(false);
        AtomicBool::new(on)
    })
}

pub fn enabled() -> bool {
    flag().load(Ordering::Relaxed)
}

/// Turn metrics on or off for this process (tests; the server reads the environment).
pub fn set_enabled(on: bool) {
    flag().store(on, Ordering::Relaxed)
}

pub struct Counter(AtomicU64);

impl Counter {
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Default for Counter {
    fn default() -> Self {
        Counter::new()
    }
}

pub static JOBS_ENQUEUED: Counter = Counter::new();

const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}", self.counts[i]);
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct State {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    jobs: BTreeMap<(String, String), u64>,
    job_duration: BTreeMap<String, Histogram>,
    webhooks: BTreeMap<String, u64>,
}

fn state() -> &'static Mutex<State> {
    static S: OnceLock<Mutex<State>> = OnceLock::new();
    S.get_or_init(Default::default)
}

/// One HTTP request; `route` is the matched route pattern (`/api/{app}/{endpoint}/`).
pub fn http_request(route: &str, method: &str, status: u16, elapsed: Duration) {
    if !enabled() {
        return;
    }
    let mut s = state().lock().unwrap();
    *s.requests.entry((route.to_string(), method.to_string(), status)).or_default() += 1;
    s.latency.entry(route.to_string()).or_default().observe(elapsed.as_secs_f64());
}

pub fn job_finished(name: &str, status: &str, elapsed: Duration) {
    if !enabled() {
        return;
    }
    let mut s = state().lock().unwrap();
    *s.jobs.entry((name.to_string(), status.to_string())).or_default() += 1;
    s.job_duration.entry(name.to_string()).or_default().observe(elapsed.as_secs_f64());
}

/// `outcome`: `success`, `failure` (non-2xx or transport error), `skipped`.
pub fn webhook_delivery(outcome: &str) {
    if !enabled() {
        return;
    }
    *state().lock().unwrap().webhooks.entry(outcome.to_string()).or_default() += 1;
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The exposition: process counters plus database-wide job gauges.
pub async fn render(db: &Db) -> String {
    let mut out = String::new();
    {
        let s = state().lock().unwrap();
        out.push_str("# HELP pm_http_requests_total HTTP requests by route, method and status.\n");
        out.push_str("# TYPE pm_http_requests_total counter\n");
        for ((route, method, status), n) in &s.requests {
            let _ = writeln!(
                out,
                "pm_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                esc(route)
            );
        }
        out.push_str("# HELP pm_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE pm_http_request_duration_seconds histogram\n");
        for (route, h) in &s.latency {
            h.write(&mut out, "pm_http_request_duration_seconds", &format!("route=\"{}\"", esc(route)));
        }
        out.push_str("# HELP pm_jobs_finished_total Job attempts finished by this process, by type and status.\n");
        out.push_str("# TYPE pm_jobs_finished_total counter\n");
        for ((name, status), n) in &s.jobs {
            let _ = writeln!(out, "pm_jobs_finished_total{{name=\"{}\",status=\"{status}\"}} {n}", esc(name));
        }
        out.push_str("# HELP pm_job_duration_seconds Job run time by type (this process).\n");
        out.push_str("# TYPE pm_job_duration_seconds histogram\n");
        for (name, h) in &s.job_duration {
            h.write(&mut out, "pm_job_duration_seconds", &format!("name=\"{}\"", esc(name)));
        }
        out.push_str("# HELP pm_webhook_deliveries_total Webhook delivery attempts by outcome (this process).\n");
        out.push_str("# TYPE pm_webhook_deliveries_total counter\n");
        for (outcome, n) in &s.webhooks {
            let _ = writeln!(out, "pm_webhook_deliveries_total{{outcome=\"{outcome}\"}} {n}");
        }
    }
    out.push_str("# HELP pm_jobs_enqueued_total Jobs queued by this process.\n# TYPE pm_jobs_enqueued_total counter\n");
    let _ = writeln!(out, "pm_jobs_enqueued_total {}", JOBS_ENQUEUED.get());
    if let Ok(counts) = crate::status::job_counts(db).await {
        out.push_str("# HELP pm_jobs Jobs in the database by type and status.\n# TYPE pm_jobs gauge\n");
        let mut depth = 0i64;
        for c in counts {
            if c.status == "pending" || c.status == "scheduled" {
                depth += c.count;
            }
            let _ = writeln!(out, "pm_jobs{{name=\"{}\",status=\"{}\"}} {}", esc(&c.name), c.status, c.count);
        }
        out.push_str("# HELP pm_job_queue_depth Jobs waiting to run (pending or scheduled).\n");
        out.push_str("# TYPE pm_job_queue_depth gauge\n");
        let _ = writeln!(out, "pm_job_queue_depth {depth}");
    }
    let (size, idle) = pool_stats(db);
    out.push_str("# HELP pm_db_pool_connections Database pool connections (this process).\n");
    out.push_str("# TYPE pm_db_pool_connections gauge\n");
    let _ = writeln!(out, "pm_db_pool_connections{{state=\"open\"}} {size}");
    let _ = writeln!(out, "pm_db_pool_connections{{state=\"idle\"}} {idle}");
    out
}

fn pool_stats(db: &Db) -> (u32, usize) {
    match db.backend() {
        sea_orm::DbBackend::Postgres => {
            let p = db.conn.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => {
            let p = db.conn.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
    }
}
