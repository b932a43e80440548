//! Rendering endpoints: a router's configuration (Job-shaped answer, or
//! `?raw` plain text), e-mails for an AS, and export templates. A template
//! error is an error response naming the template, line and message.

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use pm_db::load::Mode;
use pm_db::{AppError, FieldErrors, ops, registry};
use pm_render::RenderError;
use sea_orm::ConnectionTrait;
use sea_query::Query;
use serde_json::{Value as Json, json};

use crate::api::resource::{Shape, base_url, render};
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

/// Record a finished job (the queue itself arrives with the job engine) and return its id.
async fn finished_job(
    state: &AppState,
    p: &Principal,
    name: &str,
    object: (&str, i64),
    output: &str,
    info: &str,
) -> ApiResult<i64> {
    let now = chrono::Utc::now();
    let ts = pm_db::object::format_time(&now);
    let data = json!({
        "main": {"success": 1, "info": 0, "warning": 0, "failure": 0, "log": [[ts, "success", null, null, info]]},
        "output": {"log": [[ts, "default", null, null, output]]},
        "total": {"success": 1, "info": 0, "warning": 0, "failure": 0}
    });
    let ct = registry::ct_id(registry::model(object.0).expect("known model"));
    let q = Query::insert()
        .into_table("core_job")
        .columns([
            "object_type_id",
            "object_id",
            "name",
            "status",
            "created",
            "started",
            "completed",
            "user_id",
            "data",
            "job_id",
        ])
        .values_panic([
            ct.into(),
            object.1.into(),
            name.into(),
            "completed".into(),
            now.into(),
            now.into(),
            now.into(),
            p.user.as_ref().map(|u| u.id).into(),
            data.to_string().into(),
            uuid::Uuid::new_v4().to_string().into(),
        ])
        .returning_col("id")
        .to_owned();
    let row = state
        .db
        .conn
        .query_one(&q)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no job id")))?;
    Ok(row.try_get_by_index::<i64>(0).map_err(AppError::from)?)
}

async fn job_response(state: &AppState, p: &Principal, headers: &HeaderMap, id: i64) -> ApiResult<Response> {
    let model = registry::model("core.job").unwrap();
    let (objs, cache) = ops::reload(&state.db, model, &[id], Mode::Full).await?;
    let shape = Shape { params: vec![], mode: Mode::Full, fields: None, exclude: None };
    let mut out = render(p, &base_url(headers), &cache, &objs, &shape);
    Ok((StatusCode::ACCEPTED, axum::Json(out.pop().unwrap_or(Json::Null))).into_response())
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
    let rendered = pm_render::render_router(&state.db, id, None).await.map_err(render_error)?;
    let text = rendered.map(|r| r.text).unwrap_or_default();
    let raw = Shape::from_uri(&uri)?.params.iter().any(|(k, _)| k == "raw");
    if raw {
        return Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response());
    }
    let info =
        if text.is_empty() { "No configuration (or empty) generated." } else { "Router configuration rendered." };
    let job =
        finished_job(&state, &p, "devices.router.render_configuration", ("devices.router", id), &text, info).await?;
    job_response(&state, &p, &headers, job).await
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

/// `POST /api/peeringdb/networks/render-email/` `{"email", "autonomous_system", "network"}`:
/// an e-mail to a PeeringDB network (context §1.4.3). Unknown ids are 404s
/// naming what is missing (Peering Manager answers 500 for the AS and network).
pub async fn network_email(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    body: Body,
) -> ApiResult<Response> {
    require(&p, "peering.autonomoussystem", "view")?;
    let input = crate::api::resource::read_json(&state, body).await?;
    let mut errors = FieldErrors::new();
    let mut id = |k: &str| {
        let v = input.get(k).and_then(Json::as_i64);
        if v.is_none() {
            errors.add(k, "A valid integer is required.");
        }
        v.unwrap_or(0)
    };
    let (email, asys, network) = (id("email"), id("autonomous_system"), id("network"));
    errors.into_result()?;
    let asm = registry::model("peering.autonomoussystem").unwrap();
    ops::retrieve(&state.db, &p.perms, asm, asys, Mode::Brief).await?;
    let (subject, body) =
        pm_render::render_network_email(&state.db, email, asys, network).await.map_err(render_error)?;
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
    let text = export_text(&state, &p, id).await?;
    let job = finished_job(
        &state,
        &p,
        "extras.exporttemplate.render",
        ("extras.exporttemplate", id),
        &text,
        "Export template rendered.",
    )
    .await?;
    job_response(&state, &p, &headers, job).await
}
