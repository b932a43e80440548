//! Talking to PeeringDB: `GET {base}/{ns}?since=<ts>&depth=0`, with a
//! timeout, `Retry-After` honoured on 429, exponential backoff on 5xx and
//! cut connections, and a bounded number of attempts. A server that cannot
//! be reached at all (unknown name, connection refused) is not retried:
//! without network access, waiting minutes helps nobody.

use std::time::Duration;

/// Where PeeringDB is and how patient to be with it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://www.peeringdb.com/api` (no trailing slash needed).
    pub base_url: String,
    pub api_key: Option<String>,
    /// Whole request, body included.
    pub timeout: Duration,
    /// Attempts per namespace (1 = no retry).
    pub attempts: u32,
    /// First retry delay; doubles with each attempt.
    pub backoff: Duration,
    /// Longest `Retry-After` obeyed; longer waits are cut to this.
    pub max_retry_after: Duration,
}

pub const DEFAULT_URL: &str = "https://www.peeringdb.com/api";

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: DEFAULT_URL.into(),
            api_key: None,
            timeout: Duration::from_secs(300),
            attempts: 5,
            backoff: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl ClientConfig {
    /// `PM_PEERINGDB_URL`, `PM_PEERINGDB_API_KEY`, `PM_PEERINGDB_TIMEOUT`
    /// (seconds), `PM_PEERINGDB_ATTEMPTS`, `PM_PEERINGDB_BACKOFF` (seconds).
    pub fn from_env() -> ClientConfig {
        fn var(k: &str) -> Option<String> {
            std::env::var(k).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
        }
        let secs = |k: &str| var(k).and_then(|v| v.parse::<f64>().ok()).map(Duration::from_secs_f64);
        let d = ClientConfig::default();
        ClientConfig {
            base_url: var("PM_PEERINGDB_URL").unwrap_or(d.base_url),
            api_key: var("PM_PEERINGDB_API_KEY"),
            timeout: secs("PM_PEERINGDB_TIMEOUT").unwrap_or(d.timeout),
            attempts: var("PM_PEERINGDB_ATTEMPTS").and_then(|v| v.parse().ok()).unwrap_or(d.attempts).max(1),
            backoff: secs("PM_PEERINGDB_BACKOFF").unwrap_or(d.backoff),
            max_retry_after: d.max_retry_after,
        }
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    pub config: ClientConfig,
}

/// Why a namespace could not be downloaded.
#[derive(Debug)]
pub struct FetchError {
    pub message: String,
    /// No connection could be made (name resolution, refused, connect
    /// timeout): the other namespaces would fail the same way.
    pub unreachable: bool,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> anyhow::Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(30))
            .user_agent(concat!("peering-manager-rs/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client { http, config })
    }

    pub fn url(&self, ns: &str) -> String {
        format!("{}/{ns}", self.config.base_url.trim_end_matches('/'))
    }

    /// The body of one namespace's answer, whole (a body cut short is an error).
    pub async fn fetch(&self, ns: &str, since: i64) -> Result<Vec<u8>, FetchError> {
        let url = self.url(ns);
        let mut last = String::new();
        for attempt in 1..=self.config.attempts {
            let wait = match self.once(&url, since).await {
                Ok(body) => return Ok(body),
                Err(Attempt::Fatal(message)) => return Err(FetchError { message, unreachable: false }),
                Err(Attempt::Unreachable(message)) => return Err(FetchError { message, unreachable: true }),
                Err(Attempt::Retry(msg, after)) => {
                    last = msg;
                    after.unwrap_or_else(|| self.backoff(attempt))
                }
            };
            if attempt < self.config.attempts {
                tracing::warn!(ns, attempt, wait_ms = wait.as_millis() as u64, "PeeringDB {ns}: {last}; retrying");
                tokio::time::sleep(wait).await;
            }
        }
        Err(FetchError {
            message: format!("{last} (gave up after {} attempts)", self.config.attempts),
            unreachable: false,
        })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.config.backoff.saturating_mul(1 << (attempt - 1).min(10))
    }

    async fn once(&self, url: &str, since: i64) -> Result<Vec<u8>, Attempt> {
        let mut req = self.http.get(url).query(&[("since", since), ("depth", 0)]);
        if let Some(key) = &self.config.api_key {
            req = req.header("Authorization", format!("Api-Key {key}"));
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_connect() {
                Attempt::Unreachable(format!("cannot connect to {}: {}", self.config.base_url, cause(&e)))
            } else {
                Attempt::Retry(format!("request failed: {}", describe(&e)), None)
            }
        })?;
        let status = resp.status();
        if status.as_u16() == 429 {
            let after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map(|s| Duration::from_secs_f64(s.max(0.0)).min(self.config.max_retry_after));
            return Err(Attempt::Retry("rate limited (HTTP 429)".into(), after));
        }
        if status.is_server_error() {
            return Err(Attempt::Retry(format!("server error (HTTP {})", status.as_u16()), None));
        }
        if status.as_u16() == 401 || status.as_u16() == 403 {
            return Err(Attempt::Fatal(format!("refused (HTTP {}): check PM_PEERINGDB_API_KEY", status.as_u16())));
        }
        if !status.is_success() {
            return Err(Attempt::Fatal(format!("unexpected answer (HTTP {})", status.as_u16())));
        }
        match resp.bytes().await {
            Ok(b) => Ok(b.to_vec()),
            Err(e) => Err(Attempt::Retry(format!("download cut short: {}", describe(&e)), None)),
        }
    }
}

enum Attempt {
    /// Worth another try, after this long when the server said so.
    Retry(String, Option<Duration>),
    Fatal(String),
    /// No connection at all.
    Unreachable(String),
}

/// The innermost cause ("failed to lookup address information: Name or
/// service not known", "Connection refused (os error 111)"): the part a
/// person can act on.
fn cause(e: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(c) = last.source() {
        last = c;
    }
    last.to_string()
}

/// reqwest's errors hide the cause (connection reset, timeout) in `source()`.
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    if e.is_timeout() {
        s.push_str(" (timed out)");
    }
    s
}
