//! Job actions (cancel, re-run), the webhook "test" action, and `/metrics`
//! with its request-tracking middleware. The queue itself is `pm_jobs`.

use axum::Extension;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pm_db::load::Mode;
use pm_db::{AppError, ops, registry};
use pm_jobs::{JobQueue, SqlQueue};
use serde_json::Value as Json;

use crate::api::resource::{Shape, base_url, render};
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::AppState;

fn require(p: &Principal, label: &str, action: &str) -> ApiResult<()> {
    if p.user.is_none() {
        return Err(AppError::Unauthenticated("Authentication credentials were not provided.".into()).into());
    }
    if !p.write_enabled {
        return Err(AppError::PermissionDenied("This token does not have write permission.".into()).into());
    }
    let model = registry::model(label).expect("registered model");
    if p.perms.allows(model, action) {
        Ok(())
    } else {
        Err(AppError::PermissionDenied("You do not have permission to perform this action.".into()).into())
    }
}

/// The Job representation (spec §5.12) with the given status code.
pub async fn job_response(
    state: &AppState,
    p: &Principal,
    headers: &HeaderMap,
    id: i64,
    status: StatusCode,
) -> ApiResult<Response> {
    let model = registry::model("core.job").unwrap();
    let (objs, cache) = ops::reload(&state.db, model, &[id], Mode::Full).await?;
    let shape = Shape { params: vec![], mode: Mode::Full, fields: None, exclude: None };
    let mut out = render(state, p, &base_url(headers), &cache, &objs, &shape).await?;
    Ok((status, axum::Json(out.pop().unwrap_or(Json::Null))).into_response())
}

/// What starting a job of a given type needs: an action on the job's
/// object (within the caller's constraints), or being staff. Re-running a
/// job starts one of its type again, so it needs the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartRight {
    OnObject(&'static str),
    Staff,
}

/// The start right of each job type; types not listed (PeeringDB
/// synchronisation, housekeeping, webhook dispatch, diagnostics) are staff's.
pub fn start_right(job_type: &str) -> StartRight {
    match job_type {
        pm_jobs::render::RENDER_CONFIGURATION => StartRight::OnObject("view_configuration"),
        pm_jobs::render::RENDER_EXPORT => StartRight::OnObject("view"),
        pm_db::webhooks::DELIVER_JOB => StartRight::OnObject("change"),
        _ => StartRight::Staff,
    }
}

/// Whether the caller may start a job of this type about this object.
pub async fn may_start(state: &AppState, p: &Principal, job: &pm_db::object::Obj) -> Result<(), AppError> {
    match start_right(job.text("name")) {
        StartRight::Staff if p.user.as_ref().is_some_and(|u| u.is_staff || u.is_superuser) => Ok(()),
        StartRight::Staff => Err(pm_db::error::permission_denied()),
        StartRight::OnObject(action) => {
            let model = job.int("object_type").and_then(registry::by_ct_id);
            let (Some(model), Some(id)) = (model, job.int("object_id")) else {
                return Err(pm_db::error::permission_denied());
            };
            pm_db::auth::object_for(&state.db.conn, &p.perms, model, id, action).await?;
            if action != "view" {
                // Acting on an object starts with seeing it.
                pm_db::auth::object_for(&state.db.conn, &p.perms, model, id, "view").await?;
            }
            Ok(())
        }
    }
}

/// `POST /api/core/jobs/{id}/cancel/`: only jobs that have not started (409 otherwise).
pub async fn cancel(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&p, "core.job", "change")?;
    let job = registry::model("core.job").unwrap();
    pm_db::auth::object_for(&state.db.conn, &p.perms, job, id, "change").await?;
    let q = SqlQueue::new(state.db.clone());
    if !q.cancel(id, &p.user_name()).await? {
        return Err(AppError::Conflict("Only pending or scheduled jobs can be cancelled.".into()).into());
    }
    job_response(&state, &p, &headers, id, StatusCode::OK).await
}

/// `POST /api/core/jobs/{id}/rerun/`: queue a copy; 202 with the new job.
pub async fn rerun(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&p, "core.job", "add")?;
    let job = registry::model("core.job").unwrap();
    let (old, _) = ops::retrieve(&state.db, &p.perms, job, id, Mode::Brief).await?;
    may_start(&state, &p, &old).await?;
    let q = SqlQueue::new(state.db.clone());
    let new = q.rerun(id, p.user.as_ref().map(|u| u.id)).await?;
    job_response(&state, &p, &headers, new, StatusCode::ACCEPTED).await
}

/// `POST /api/extras/webhooks/{id}/test/`: deliver a sample event; 202 with the job.
pub async fn test_webhook(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&p, "extras.webhook", "change")?;
    let model = registry::model("extras.webhook").unwrap();
    // Sending is acting on this webhook: change on it, within the caller's constraints.
    let hook = pm_db::auth::object_for(&state.db.conn, &p.perms, model, id, "change").await?;
    let q = SqlQueue::new(state.db.clone());
    let job = pm_jobs::webhook::test_job(id, hook.text("name"), p.user.as_ref().map(|u| u.id), &p.user_name());
    let new = q.enqueue(job).await?;
    job_response(&state, &p, &headers, new, StatusCode::ACCEPTED).await
}

/// `GET /metrics` (no login, like Peering Manager); 404 unless `PM_METRICS_ENABLED=true`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    if !pm_jobs::metrics::enabled() {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    let body = pm_jobs::metrics::render(&state.db).await;
    ([("content-type", "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// Counts requests by route pattern and status, with latency.
pub async fn track(req: Request, next: Next) -> Response {
    if !pm_jobs::metrics::enabled() {
        return next.run(req).await;
    }
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    pm_jobs::metrics::http_request(&route, &method, resp.status().as_u16(), started.elapsed());
    resp
}
