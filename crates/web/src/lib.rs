//! HTTP for Peering Manager: the REST API and the web UI.

pub mod api;
pub mod auth;
pub mod error;
pub mod state;
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

/// Paths need their trailing slash (as in Django); GETs without one are redirected.
async fn fallback(req: ui::Req) -> Response {
    let (method, uri) = (&req.method, &req.uri);
    let path = uri.path();
    if !path.ends_with('/') && (method == Method::GET || method == Method::HEAD) {
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
