//! What every handler can reach.

use std::sync::Arc;

use pm_db::{Db, Settings};

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Anonymous callers may not read anything (default true).
    pub login_required: bool,
    /// Take the client address from X-Real-IP / X-Forwarded-For (only behind a proxy you trust).
    pub trust_proxy_headers: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Unknown list-filter parameters are a 400 instead of being ignored (PM ignores them).
    pub strict_filters: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            login_required: true,
            trust_proxy_headers: false,
            max_body_bytes: 10 * 1024 * 1024,
            strict_filters: false,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub config: Arc<WebConfig>,
}
