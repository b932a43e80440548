//! Who is calling: an API token (`Authorization: Token <key>`), a browser
//! session (cookie `pm_session`), or nobody. The result is a `Principal`
//! every handler receives. Requests authenticated by the session cookie must
//! carry the session's CSRF token on unsafe methods (`X-CSRFToken` header for
//! API calls, a form field for UI forms).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use std::sync::Arc;

use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pm_db::AppError;
use pm_db::auth::{Perms, User};
use pm_db::session::Session;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Clone)]
pub struct Principal {
    pub user: Option<User>,
    pub perms: Perms,
    /// False for read-only tokens.
    pub write_enabled: bool,
    /// Set when the caller came with a session cookie (browser).
    pub session: Option<Arc<Session>>,
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "pm_session";

/// A cookie's value from the `Cookie` header(s).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

impl Principal {
    pub fn anonymous(login_required: bool) -> Principal {
        let perms = if login_required { Perms::none() } else { Perms::read_everything() };
        Principal { user: None, perms, write_enabled: false, session: None }
    }
    pub fn user_name(&self) -> String {
        self.user.as_ref().map(|u| u.username.clone()).unwrap_or_default()
    }
}

/// The request's id: returned as `X-Request-ID`, stored on its change-log records.
#[derive(Clone, Copy)]
pub struct RequestId(pub uuid::Uuid);

/// Where a request came from, as far as we can tell.
#[derive(Clone, Copy, Debug, Default)]
pub struct Client {
    /// The client's address: the TCP peer, or behind trusted proxies the
    /// right-most address they did not add themselves.
    pub ip: Option<IpAddr>,
    /// The browser used HTTPS (told by a trusted proxy's `X-Forwarded-Proto`).
    pub https: bool,
}

fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| s.strip_prefix('[')?.split_once(']')?.0.parse().ok())
}

/// Who is at the other end. Proxy headers count only when the TCP peer is
/// a trusted proxy; in `X-Forwarded-For` each proxy appends the address it
/// saw, so the client is the right-most address that is not a trusted
/// proxy: whatever a client writes to the left of it cannot matter.
pub fn client(headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[ipnet::IpNet]) -> Client {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let Some(peer_ip) = peer.filter(is_trusted) else { return Client { ip: peer, https: false } };
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let https = values("x-forwarded-proto").last().is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let chain = values("x-forwarded-for");
    let ip = if chain.is_empty() {
        match values("x-real-ip").last() {
            Some(v) => parse_addr(v),
            None => Some(peer_ip),
        }
    } else {
        let mut found = None;
        for hop in chain.iter().rev() {
            match parse_addr(hop) {
                Some(ip) if is_trusted(&ip) => found = Some(ip),
                // The first untrusted hop from the right is the client; an
                // unreadable one leaves the client unknown.
                other => {
                    found = other;
                    break;
                }
            }
        }
        found
    };
    Client { ip, https }
}

/// Parse the Authorization header: `Token <key>` (keyword case-insensitive).
fn token_from(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(raw) = headers.get("authorization") else { return Ok(None) };
    let raw = raw.to_str().map_err(|_| AppError::Unauthenticated("Invalid token header.".into()))?;
    let mut parts = raw.split_whitespace();
    let (Some(kw), key, rest) = (parts.next(), parts.next(), parts.next()) else { return Ok(None) };
    if !kw.eq_ignore_ascii_case("token") {
        return Ok(None);
    }
    match (key, rest) {
        (None, _) => Err(AppError::Unauthenticated("Invalid token header. No credentials provided.".into())),
        (Some(_), Some(_)) => {
            Err(AppError::Unauthenticated("Invalid token header. Token string should not contain spaces.".into()))
        }
        (Some(k), None) => Ok(Some(k.to_string())),
    }
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let rid = RequestId(uuid::Uuid::new_v4());
    req.extensions_mut().insert(rid);
    // Read what authentication needs first: the request body is not Sync.
    let headers = req.headers().clone();
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let who = client(&headers, peer, &state.config.trusted_proxies);
    req.extensions_mut().insert(who);
    let ip = who.ip;
    let principal = match resolve(&state, &headers, ip).await {
        Ok(p) => p,
        Err(e) => return with_request_id(ApiError(e).into_response(), rid),
    };
    // Browser calls to the API with the session cookie: CSRF header on unsafe methods.
    if let Some(session) = &principal.session
        && req.uri().path().starts_with("/api/")
        && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
    {
        let sent = headers.get("x-csrftoken").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !constant_time_eq(sent, &session.csrf) {
            let e = AppError::PermissionDenied("CSRF Failed: CSRF token missing or incorrect.".into());
            return with_request_id(ApiError(e).into_response(), rid);
        }
    }
    req.extensions_mut().insert(principal);
    with_request_id(next.run(req).await, rid)
}

fn with_request_id(mut resp: Response, rid: RequestId) -> Response {
    resp.headers_mut().insert("X-Request-ID", rid.0.to_string().parse().unwrap());
    resp
}

async fn resolve(state: &AppState, headers: &HeaderMap, ip: Option<IpAddr>) -> Result<Principal, AppError> {
    let Some(key) = token_from(headers)? else {
        return from_session(state, headers).await;
    };
    let (user, token) = pm_db::auth::authenticate_token(&state.db.conn, &key, ip).await?;
    let mut perms = pm_db::auth::load_perms(&state.db.conn, &user).await?;
    if !state.config.login_required {
        perms = perms.with_read_everything();
    }
    Ok(Principal { user: Some(user), perms, write_enabled: token.write_enabled, session: None })
}

/// The session cookie's user, or anonymous when there is no live session.
async fn from_session(state: &AppState, headers: &HeaderMap) -> Result<Principal, AppError> {
    let anonymous = Principal::anonymous(state.config.login_required);
    let Some(value) = cookie(headers, SESSION_COOKIE) else { return Ok(anonymous) };
    let Some(session) = pm_db::session::load(&state.db.conn, &value).await? else { return Ok(anonymous) };
    let Some(user) = pm_db::auth::user_by_id(&state.db.conn, session.user_id).await?.filter(|u| u.is_active) else {
        return Ok(anonymous);
    };
    let mut perms = pm_db::auth::load_perms(&state.db.conn, &user).await?;
    if !state.config.login_required {
        perms = perms.with_read_everything();
    }
    Ok(Principal { user: Some(user), perms, write_enabled: true, session: Some(Arc::new(session)) })
}

/// Compare secrets without leaking where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && !b.is_empty() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
