//! Rendering endpoints: a router's configuration (a queued job, answered 202
//! with the Job, or `?raw` plain text at once), e-mails for an AS, and export templates. A template
//! error is an error response naming the template, line and message.

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use pm_db::load::Mode;
use pm_db::{AppError, FieldErrors, ops, registry};
use pm_render::RenderError;
use pm_jobs::{JobQueue, SqlQueue};
use serde_json::{Value as Json, json};

use crate::api::resource::Shape;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Template errors as 400 with where and what; missing objects as 404.
fn render_error(e: RenderError) -> ApiError {
    match e {
        RenderError::NotFound(m) => ApiError(AppError::NotFound(m)),
        RenderError::Template(t) => {
            let mut f = FieldErrors::new();
            f.0.insert("detail".into(), json!(t.to_string()));
            f.0.insert("template".into(), json!(t.template));
            f.0.insert("line".into(), json!(t.line));
            f.0.insert("message".into(), json!(t.message));
            ApiError(AppError::Validation(f))
        }
        RenderError::Internal(m) => ApiError(AppError::Internal(anyhow::anyhow!(m))),
    }
}

fn require(p: &Principal, label: &str, action: &str) -> ApiResult<()> {
    if p.user.is_none() {
        return Err(AppError::Unauthenticated("Authentication credentials were not provided.".into()).into());
    }
    let model = registry::model(label).expect("known model");
    if !p.perms.allows(model, action) {
        return Err(pm_db::error::permission_denied().into());
    }
    Ok(())
}

/// Queue a rendering job about `object` for the caller; 202 with the Job.
async fn queue_job(
    state: &AppState,
    p: &Principal,
    headers: &HeaderMap,
    name: &str,
    object: (&str, i64),
) -> ApiResult<Response> {
    let ct = registry::ct_id(registry::model(object.0).expect("known model"));
    let job = pm_jobs::NewJob {
        object_type: Some(ct),
        object_id: Some(object.1),
        user_id: p.user.as_ref().map(|u| u.id),
        ..pm_jobs::NewJob::new(name, json!({}))
    };
    let id = SqlQueue::new(state.db.clone()).enqueue(job).await?;
    crate::api::jobs::job_response(state, p, headers, id, StatusCode::ACCEPTED).await
}

pub async fn router_configuration(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&p, "devices.router", "view_configuration")?;
    let router = registry::model("devices.router").unwrap();
    // Routers the caller may not view do not exist for them.
    ops::retrieve(&state.db, &p.perms, router, id, Mode::Brief).await?;
    if Shape::from_uri(&uri)?.params.iter().any(|(k, _)| k == "raw") {
        let rendered = pm_render::render_router(&state.db, id, None).await.map_err(render_error)?;
        let text = rendered.map(|r| r.text).unwrap_or_default();
        return Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response());
    }
    queue_job(&state, &p, &headers, pm_jobs::render::RENDER_CONFIGURATION, ("devices.router", id)).await
}

pub async fn generate_email(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
    body: Body,
) -> ApiResult<Response> {
    require(&p, "peering.autonomoussystem", "view")?;
    let input = crate::api::resource::read_json(&state, body).await?;
    let email = input
        .get("email")
        .and_then(Json::as_i64)
        .ok_or_else(|| AppError::Validation(FieldErrors::single("email", "A valid integer is required.")))?;
    let asm = registry::model("peering.autonomoussystem").unwrap();
    ops::retrieve(&state.db, &p.perms, asm, id, Mode::Brief).await?;
    let (subject, body) = pm_render::render_email(&state.db, email, id).await.map_err(render_error)?;
    Ok(axum::Json(json!({"subject": subject, "body": body})).into_response())
}

async fn export_text(state: &AppState, p: &Principal, id: i64) -> ApiResult<String> {
    require(p, "extras.exporttemplate", "view")?;
    let m = registry::model("extras.exporttemplate").unwrap();
    ops::retrieve(&state.db, &p.perms, m, id, Mode::Brief).await?;
    pm_render::render_export(&state.db, id).await.map_err(render_error)
}

pub async fn export_render_synchronous(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let text = export_text(&state, &p, id).await?;
    Ok(axum::Json(json!({"rendered": text})).into_response())
}

pub async fn export_render(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&p, "extras.exporttemplate", "view")?;
    let m = registry::model("extras.exporttemplate").unwrap();
    ops::retrieve(&state.db, &p.perms, m, id, Mode::Brief).await?;
    queue_job(&state, &p, &headers, pm_jobs::render::RENDER_EXPORT, ("extras.exporttemplate", id)).await
}
