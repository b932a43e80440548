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
use pm_jobs::{JobQueue, SqlQueue};
use pm_render::RenderError;
use serde_json::{Value as Json, json};

use crate::api::resource::Shape;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Template errors as 400 with where and what; missing objects as 404.
fn render_error(e: RenderError) -> ApiError {
    match e {
        RenderError::NotFound(m) => ApiError(AppError::NotFound(m)),
        RenderError::Template(t) => ApiError(AppError::Validation(template_error_fields(&t))),
        RenderError::Forbidden(m) => ApiError(AppError::PermissionDenied(m)),
        RenderError::Internal(m) => ApiError(AppError::Internal(anyhow::anyhow!(m))),
    }
}

/// `{"detail", "template", "line", "message"}` of a template error.
fn template_error_fields(t: &pm_render::TemplateError) -> FieldErrors {
    let mut f = FieldErrors::new();
    f.0.insert("detail".into(), json!(t.to_string()));
    f.0.insert("template".into(), json!(t.template));
    f.0.insert("line".into(), json!(t.line));
    f.0.insert("message".into(), json!(t.message));
    f
}

/// Templates see what the caller may view, nothing more.
pub fn viewer(p: &Principal) -> pm_render::Viewer {
    pm_render::Viewer::user(p.perms.clone())
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
        let rendered = pm_render::render_router_as(&state.db, &viewer(&p), id, None).await.map_err(render_error)?;
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
    let (subject, body) = pm_render::render_email(&state.db, &viewer(&p), email, id).await.map_err(render_error)?;
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
        pm_render::render_network_email(&state.db, &viewer(&p), email, asys, network).await.map_err(render_error)?;
    Ok(axum::Json(json!({"subject": subject, "body": body})).into_response())
}

async fn export_text(state: &AppState, p: &Principal, id: i64) -> ApiResult<String> {
    require(p, "extras.exporttemplate", "view")?;
    let m = registry::model("extras.exporttemplate").unwrap();
    ops::retrieve(&state.db, &p.perms, m, id, Mode::Brief).await?;
    pm_render::render_export(&state.db, &viewer(p), id).await.map_err(render_error)
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

/// What a preview request asks for: the template kind, its unsaved text and
/// the object to render it against, checked against the caller's permissions.
pub struct PreviewRequest {
    pub kind: String,
    pub text: String,
    pub subject: Option<String>,
    pub trim: bool,
    pub lstrip: bool,
    pub name: String,
    pub router: Option<i64>,
    pub autonomous_system: Option<i64>,
    pub content_type: Option<String>,
}

impl PreviewRequest {
    pub fn from_json(v: &Json) -> Result<PreviewRequest, AppError> {
        let text = v
            .get("template")
            .and_then(Json::as_str)
            .ok_or_else(|| AppError::Validation(FieldErrors::single("template", "This field is required.")))?;
        let id = |k: &str| v.get(k).and_then(|x| x.as_i64().or_else(|| x.as_str()?.parse().ok()));
        Ok(PreviewRequest {
            kind: v.get("kind").and_then(Json::as_str).unwrap_or("configuration").to_string(),
            text: text.to_string(),
            subject: v.get("subject").and_then(Json::as_str).map(str::to_string),
            trim: v.get("jinja2_trim").and_then(Json::as_bool).unwrap_or(false),
            lstrip: v.get("jinja2_lstrip").and_then(Json::as_bool).unwrap_or(false),
            name: v.get("name").and_then(Json::as_str).unwrap_or("preview").to_string(),
            router: id("router"),
            autonomous_system: id("autonomous_system"),
            content_type: v.get("content_type").and_then(Json::as_str).map(str::to_string),
        })
    }
}

/// Ids of `m` the caller may view (an export's dataset is what they could list).
async fn visible_ids(state: &AppState, p: &Principal, m: &'static pm_db::model::Model) -> Result<Vec<i64>, AppError> {
    let scope = p.perms.scope(m, "view").ok_or_else(pm_db::error::permission_denied)?;
    let cond = sea_query::Condition::all().add(scope);
    Ok(pm_db::load::fetch(&state.db.conn, m, cond, &[("id", false)], None, 0).await?.iter().map(|o| o.id).collect())
}

/// Render unsaved template text; nothing is written. Template errors come
/// back as `Ok` inside the preview (the editor shows them at their line).
pub async fn run_preview(
    state: &AppState,
    p: &Principal,
    r: PreviewRequest,
) -> Result<pm_render::preview::Preview, AppError> {
    use pm_render::preview::Target;
    if p.user.is_none() {
        return Err(AppError::Unauthenticated("Authentication credentials were not provided.".into()));
    }
    let need = |label: &str, action: &str| -> Result<(), AppError> {
        if p.perms.allows(registry::model(label).expect("known model"), action) {
            Ok(())
        } else {
            Err(pm_db::error::permission_denied())
        }
    };
    let missing = |f: &str| AppError::Validation(FieldErrors::single(f, "This field is required."));
    let (target, prefix) = match r.kind.as_str() {
        "configuration" => {
            need("devices.router", "view_configuration")?;
            let id = r.router.ok_or_else(|| missing("router"))?;
            ops::retrieve(&state.db, &p.perms, registry::model("devices.router").unwrap(), id, Mode::Brief).await?;
            (Target::Router(id), "configuration")
        }
        "email" => {
            need("messaging.email", "view")?;
            let id = r.autonomous_system.ok_or_else(|| missing("autonomous_system"))?;
            let asm = registry::model("peering.autonomoussystem").unwrap();
            ops::retrieve(&state.db, &p.perms, asm, id, Mode::Brief).await?;
            (Target::AutonomousSystem(id), "email")
        }
        "export" => {
            need("extras.exporttemplate", "view")?;
            let label = r.content_type.as_deref().ok_or_else(|| missing("content_type"))?;
            let m = registry::model(label).ok_or_else(|| {
                AppError::Validation(FieldErrors::single("content_type", format!("Unknown object type {label:?}.")))
            })?;
            (Target::Export(m, visible_ids(state, p, m).await?), "exporttemplate")
        }
        other => {
            return Err(AppError::Validation(FieldErrors::single(
                "kind",
                format!("\"{other}\" is not a valid choice (configuration, email, export)."),
            )));
        }
    };
    let source =
        pm_render::Source { name: format!("{prefix}::{}", r.name), text: r.text, trim: r.trim, lstrip: r.lstrip };
    pm_render::preview::preview(&state.db, &viewer(p), target, source, r.subject).await.map_err(|e| render_error(e).0)
}

/// `POST /api/render/preview/`: `{"kind": "configuration"|"email"|"export", "template": "...",
/// "subject"?, "jinja2_trim"?, "jinja2_lstrip"?, "name"?, "router" | "autonomous_system" | "content_type"}`
/// → `{"rendered", "subject"?, "variables"}`, or 400 with the template, line and message (and the variables).
pub async fn preview(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    body: Body,
) -> ApiResult<Response> {
    let input = crate::api::resource::read_json(&state, body).await?;
    let req = PreviewRequest::from_json(&input)?;
    let out = run_preview(&state, &p, req).await?;
    match out.output {
        Ok((rendered, subject)) => {
            let mut body = json!({"rendered": rendered, "variables": out.variables});
            if let Some(s) = subject {
                body["subject"] = json!(s);
            }
            Ok(axum::Json(body).into_response())
        }
        Err(t) => {
            let mut f = template_error_fields(&t);
            f.0.insert("variables".into(), json!(out.variables));
            Err(AppError::Validation(f).into())
        }
    }
}
