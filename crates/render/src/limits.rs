//! What one render may cost: instructions (minijinja fuel), wall-clock time,
//! output bytes, and how many renders run at once. A template that goes past
//! one stops with a template error saying which limit and which setting
//! raises it; nothing a user writes can keep a thread or gigabytes busy.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Include depth shared by every kind of include (`include_configuration`,
/// `include_email`, `include_exporttemplate`, `{% include 'kind::name' %}`).
pub const MAX_INCLUDE_DEPTH: usize = 10;

/// Render limits, from the environment (`PM_RENDER_*`) with sane defaults.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Template instructions per render (`PM_RENDER_FUEL`).
    pub fuel: u64,
    /// Wall-clock time per render (`PM_RENDER_TIMEOUT_SECONDS`).
    pub timeout: Duration,
    /// Bytes of output per render (`PM_RENDER_MAX_OUTPUT_BYTES`).
    pub max_output_bytes: usize,
    /// Renders running at once in this process (`PM_RENDER_CONCURRENCY`).
    pub concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 50_000_000,
            timeout: Duration::from_secs(60),
            max_output_bytes: 16 * 1024 * 1024,
            concurrency: 4,
        }
    }
}

fn setting<T: std::str::FromStr>(name: &str) -> Option<T> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse() {
        Ok(x) => Some(x),
        Err(_) => {
            tracing::warn!("{name}={v:?} is not a valid number; using the default");
            None
        }
    }
}

impl Limits {
    pub fn from_env() -> Limits {
        let d = Limits::default();
        Limits {
            fuel: setting::<u64>("PM_RENDER_FUEL").filter(|f| *f > 0).unwrap_or(d.fuel),
            timeout: setting::<u64>("PM_RENDER_TIMEOUT_SECONDS")
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .unwrap_or(d.timeout),
            max_output_bytes: setting::<usize>("PM_RENDER_MAX_OUTPUT_BYTES")
                .filter(|b| *b > 0)
                .unwrap_or(d.max_output_bytes),
            concurrency: setting::<usize>("PM_RENDER_CONCURRENCY").filter(|c| *c > 0).unwrap_or(d.concurrency),
        }
    }

    /// The process's limits, read from the environment once.
    pub fn current() -> &'static Limits {
        static L: OnceLock<Limits> = OnceLock::new();
        L.get_or_init(Limits::from_env)
    }
}

/// Renders running at once: a render waits for a slot (at most its timeout).
pub fn slots() -> &'static Arc<tokio::sync::Semaphore> {
    static S: OnceLock<Arc<tokio::sync::Semaphore>> = OnceLock::new();
    S.get_or_init(|| Arc::new(tokio::sync::Semaphore::new(Limits::current().concurrency)))
}

/// Why a render was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stop {
    Running = 0,
    Timeout = 1,
    Output = 2,
    Cancelled = 3,
}

/// The running budget of one render (and of everything it includes).
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    deadline: Mutex<Instant>,
    fuel_left: AtomicU64,
    /// Set when the caller went away (the request was dropped).
    cancelled: Arc<AtomicBool>,
    stop: AtomicU8,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        let deadline = Mutex::new(Instant::now() + limits.timeout);
        let fuel_left = AtomicU64::new(limits.fuel);
        Budget { limits, deadline, fuel_left, cancelled: Arc::new(AtomicBool::new(false)), stop: AtomicU8::new(0) }
    }

    /// A fresh allowance for the next top-level template.
    pub fn restart(&self) {
        *self.deadline.lock().unwrap() = Instant::now() + self.limits.timeout;
        self.fuel_left.store(self.limits.fuel, Ordering::Relaxed);
        self.stop.store(Stop::Running as u8, Ordering::Relaxed);
    }

    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancelled.clone()
    }

    pub fn fuel_left(&self) -> u64 {
        self.fuel_left.load(Ordering::Relaxed)
    }

    pub fn spend_fuel(&self, used: u64) {
        let _ = self.fuel_left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |f| Some(f.saturating_sub(used)));
    }

    fn stopped(&self, why: Stop) -> minijinja::Error {
        self.stop.compare_exchange(0, why as u8, Ordering::Relaxed, Ordering::Relaxed).ok();
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, self.explain(why))
    }

    /// Stop here when the time is up or nobody waits for the result.
    pub fn check(&self) -> Result<(), minijinja::Error> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(self.stopped(Stop::Cancelled));
        }
        if Instant::now() > *self.deadline.lock().unwrap() {
            return Err(self.stopped(Stop::Timeout));
        }
        Ok(())
    }

    /// Why the render stopped, when a limit stopped it.
    pub fn stop_reason(&self) -> Option<String> {
        let why = match self.stop.load(Ordering::Relaxed) {
            1 => Stop::Timeout,
            2 => Stop::Output,
            3 => Stop::Cancelled,
            _ => return None,
        };
        Some(self.explain(why))
    }

    pub fn explain(&self, why: Stop) -> String {
        let l = &self.limits;
        match why {
            Stop::Timeout => format!(
                "rendering took longer than {} s and was stopped (PM_RENDER_TIMEOUT_SECONDS)",
                l.timeout.as_secs()
            ),
            Stop::Output => format!(
                "the output is larger than {} bytes and was stopped (PM_RENDER_MAX_OUTPUT_BYTES)",
                l.max_output_bytes
            ),
            Stop::Cancelled => "rendering was cancelled: the client went away".to_string(),
            Stop::Running => String::new(),
        }
    }

    /// What a render that ran out of fuel says.
    pub fn out_of_fuel(&self) -> String {
        format!("the template executed more than {} instructions and was stopped (PM_RENDER_FUEL)", self.limits.fuel)
    }
}

/// Where a render writes: stops at the output cap, the deadline, or when
/// the caller went away.
pub struct Capped<'a> {
    pub out: Vec<u8>,
    budget: &'a Budget,
    writes: u32,
}

impl<'a> Capped<'a> {
    pub fn new(budget: &'a Budget) -> Capped<'a> {
        Capped { out: Vec::new(), budget, writes: 0 }
    }
}

impl std::io::Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.budget.limits.max_output_bytes {
            let e = self.budget.stopped(Stop::Output);
            return Err(std::io::Error::other(e.to_string()));
        }
        // Reading the clock on every small write would cost more than the write.
        self.writes = self.writes.wrapping_add(1);
        if self.writes.is_multiple_of(64) || buf.len() > 4096 {
            self.budget.check().map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sets the cancel flag when dropped: an awaited render whose caller goes
/// away (client disconnected) stops at its next check.
pub struct CancelOnDrop(pub Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
