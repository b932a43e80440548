//! HTTP for Peering Manager: the REST API and the web UI.

pub mod api;
pub mod auth;
pub mod error;
pub mod state;
pub mod throttle;
pub mod ui;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use pm_db::AppError;

pub use state::{AppState, WebConfig};

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::router())
        .merge(ui::router())
        .fallback(fallback)
        // Prometheus request metrics (no-op unless PM_METRICS_ENABLED).
        .layer(middleware::from_fn(api::jobs::track))
        .layer(middleware::from_fn(api_version_header))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(state)
}

async fn api_version_header(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let mut resp = next.run(req).await;
    if is_api {
        resp.headers_mut().insert("API-Version", HeaderValue::from_static(api::API_VERSION));
    }
    resp
}

/// Our pages load scripts, styles and images from this site only (no inline
/// script: `pm.js` binds every handler), may not be framed, and do not leak
/// their URLs (which carry filters) to other sites.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Swagger UI (third-party) injects a `<style>` element; scripts stay locked down.
const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("X-Content-Type-Options", HeaderValue::from_static("nosniff"));
    h.insert("Referrer-Policy", HeaderValue::from_static("same-origin"));
    let html = h
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        let csp = if docs { DOCS_CONTENT_SECURITY_POLICY } else { CONTENT_SECURITY_POLICY };
        h.insert("Content-Security-Policy", HeaderValue::from_static(csp));
        h.insert("X-Frame-Options", HeaderValue::from_static("DENY"));
    }
    resp
}

/// Paths need their trailing slash (as in Django); GETs without one are redirected.
async fn fallback(req: ui::Req) -> Response {
    let (method, uri) = (&req.method, &req.uri);
    let path = uri.path();
    if !path.ends_with('/') && (method == Method::GET || method == Method::HEAD) {
        // `//evil.example/x` must not become `//evil.example/x/`: a
        // protocol-relative URL, i.e. another site.
        let path = format!("/{}", path.trim_start_matches(['/', '\\'])).replace('\\', "%5C");
        let target = match uri.query() {
            Some(q) => format!("{path}/?{q}"),
            None => format!("{path}/"),
        };
        return Redirect::permanent(&target).into_response();
    }
    if path.starts_with("/api/") {
        return error::ApiError(AppError::NotFound("Not found.".into())).into_response();
    }
    ui::not_found(req).await
}
