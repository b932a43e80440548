//! What every handler can reach.

use std::sync::Arc;

use pm_db::{Db, Settings};

use crate::throttle::LoginGuard;

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Anonymous callers may not read anything (default true).
    pub login_required: bool,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Real-IP` /
    /// `X-Forwarded-Proto` headers are believed (`PM_TRUST_PROXY_HEADERS`).
    /// Empty: the client is the TCP peer.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Always mark the session cookie `Secure` (otherwise only when the
    /// request came over HTTPS through a trusted proxy).
    pub secure_cookies: bool,
    /// Failed logins of one account before it is locked for a while (30 s,
    /// doubling with each further failure, at most 15 minutes).
    pub login_max_failures: u32,
    /// Failed logins from one client address (IPv6: its /64) before it is locked the same way.
    pub login_max_failures_per_address: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Unknown list-filter parameters are a 400 instead of being ignored (PM ignores them).
    pub strict_filters: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            login_required: true,
            trusted_proxies: vec![],
            secure_cookies: false,
            login_max_failures: 5,
            login_max_failures_per_address: 20,
            max_body_bytes: 10 * 1024 * 1024,
            strict_filters: false,
        }
    }
}

impl WebConfig {
    /// `PM_TRUST_PROXY_HEADERS`: a comma- or space-separated list of proxy
    /// networks (`10.0.0.0/8, ::1`); `true` means a proxy on this host
    /// (loopback), `false` or nothing means none. Entries that are not
    /// networks are reported and skipped.
    pub fn parse_trusted_proxies(value: &str) -> Vec<ipnet::IpNet> {
        let v = value.trim().to_ascii_lowercase();
        match v.as_str() {
            "" | "0" | "false" | "no" | "off" => return vec![],
            "1" | "true" | "yes" | "on" => {
                return vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
            }
            _ => {}
        }
        v.split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .filter_map(|s| {
                let net = s
                    .parse::<ipnet::IpNet>()
                    .ok()
                    .or_else(|| s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from));
                if net.is_none() {
                    tracing::warn!("PM_TRUST_PROXY_HEADERS: {s} is not an IP network; ignored");
                }
                net
            })
            .collect()
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub config: Arc<WebConfig>,
    /// Failed-login counters and the password-hashing gate.
    pub login: Arc<LoginGuard>,
}

impl AppState {
    pub fn new(db: Db, settings: Settings, config: WebConfig) -> AppState {
        let login = Arc::new(LoginGuard::new(&config));
        AppState { db, settings: Arc::new(settings), config: Arc::new(config), login }
    }
}
