//! The REST API: discovery, status, user preferences, OpenAPI, and the
//! generic model endpoints.

pub mod jobs;
pub mod openapi;
pub mod peeringdb;
pub mod peers;
pub mod render;
pub mod resource;
pub mod userpref;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use pm_db::registry;
use serde_json::{Map, Value as Json, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

pub const API_VERSION: &str = "1.10";
pub const PM_VERSION: &str = "1.10.5";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/", get(root))
        .route("/api/status/", get(status))
        .route("/api/schema/", get(openapi::schema))
        .route("/api/users/userpref/", get(userpref::get).patch(userpref::patch))
        .route(
            "/api/devices/routers/{id}/configuration/",
            get(render::router_configuration)
                .post(render::router_configuration)
                .route_layer(axum::middleware::from_fn(queues_job)),
        )
        .route("/api/render/preview/", axum::routing::post(render::preview))
        .route("/api/peering/autonomous-systems/{id}/generate-email/", axum::routing::post(render::generate_email))
        .route(
            "/api/extras/export-templates/{id}/render/",
            get(render::export_render).route_layer(axum::middleware::from_fn(queues_job)),
        )
        .route("/api/extras/export-templates/{id}/render-synchronous/", get(render::export_render_synchronous))
        // the PeeringDB cache at work (crates/web/src/api/peers.rs)
        .route("/api/peering/internet-exchanges/{id}/available-peers/", get(peers::available_peers))
        .route("/api/peering/internet-exchanges/{id}/link-to-peeringdb/", axum::routing::post(peers::link_to_peeringdb))
        .route("/api/peering/internet-exchanges/{id}/prefixes/", get(peers::prefixes))
        .route("/api/peering/autonomous-systems/{id}/shared-ixps/", get(peers::shared_ixps))
        .route("/api/peering/autonomous-systems/{id}/shared-facilities/", get(peers::shared_facilities))
        .route("/api/peeringdb/networks/render-email/", axum::routing::post(render::network_email))
        // jobs and webhooks (crates/web/src/api/jobs.rs)
        .route("/api/core/jobs/{id}/cancel/", axum::routing::post(jobs::cancel))
        .route("/api/core/jobs/{id}/rerun/", axum::routing::post(jobs::rerun))
        .route("/api/extras/webhooks/{id}/test/", axum::routing::post(jobs::test_webhook))
        .route("/metrics", get(jobs::metrics))
        // PeeringDB cache and AS refresh (crates/web/src/api/peeringdb.rs)
        .route("/api/peeringdb/cache/statistics/", get(peeringdb::statistics))
        .route("/api/peeringdb/cache/update-local/", axum::routing::post(peeringdb::update_local))
        .route("/api/peeringdb/cache/clear-local/", axum::routing::post(peeringdb::clear_local))
        .route(
            "/api/peering/autonomous-systems/{id}/sync-with-peeringdb/",
            axum::routing::post(peeringdb::sync_autonomous_system),
        )
        .route(
            "/api/peering/autonomous-systems/sync-with-peeringdb/",
            axum::routing::post(peeringdb::sync_autonomous_systems),
        )
        .route("/api/{app}/", get(resource::app_root))
        .route("/api/{app}/{endpoint}/", any(resource::collection))
        .route("/api/{app}/{endpoint}/{id}/", any(resource::detail))
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").config(utoipa_swagger_ui::Config::from("/api/schema/")))
        .layer(axum::middleware::from_fn(token_scope))
}

/// A token without `write_enabled` as its principal (sessions may write).
fn read_only_token(req: &Request) -> bool {
    req.extensions().get::<Principal>().is_some_and(|p| p.user.is_some() && !p.write_enabled)
}

fn no_write_permission() -> Response {
    ApiError(pm_db::AppError::PermissionDenied("This token does not have write permission.".into())).into_response()
}

/// A read-only token changes nothing: every unsafe method is refused
/// before any handler runs, so no endpoint can forget the check.
async fn token_scope(req: Request, next: Next) -> Response {
    if read_only_token(&req) && !req.method().is_safe() {
        return no_write_permission();
    }
    next.run(req).await
}

/// Endpoints that queue a job even on GET (as PM's do): queuing is a write.
/// `?raw` renders in the request and queues nothing, so it stays a read.
async fn queues_job(req: Request, next: Next) -> Response {
    let raw = req.uri().query().is_some_and(|q| q.split('&').any(|kv| kv.split('=').next() == Some("raw")));
    if read_only_token(&req) && !raw {
        return no_write_permission();
    }
    next.run(req).await
}

async fn root(headers: HeaderMap) -> Response {
    let base = resource::base_url(&headers);
    let mut out = Map::new();
    for app in registry::APPS {
        out.insert((*app).into(), json!(format!("{base}/api/{app}/")));
    }
    out.insert("status".into(), json!(format!("{base}/api/status/")));
    axum::Json(Json::Object(out)).into_response()
}

async fn status(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<crate::auth::Principal>,
) -> crate::error::ApiResult<Response> {
    if p.user.is_none() && state.config.login_required {
        return Err(pm_db::AppError::Unauthenticated("Authentication credentials were not provided.".into()).into());
    }
    let backend = match state.db.backend() {
        sea_orm::DbBackend::Postgres => "postgresql",
        _ => "sqlite",
    };
    Ok(axum::Json(json!({
        "peering-manager-version": PM_VERSION,
        "implementation": format!("peering-manager-rs {}", env!("CARGO_PKG_VERSION")),
        "database": backend,
        "installed-apps": {},
        "rq-workers-running": pm_jobs::workers_running(&state.db).await,
    }))
    .into_response())
}
