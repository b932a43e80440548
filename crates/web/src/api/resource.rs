//! The generic REST endpoints every model gets (spec §5):
//! `/api/<app>/<endpoint>/` (list, create, bulk update, bulk delete) and
//! `/api/<app>/<endpoint>/<id>/` (retrieve, update, partial update, delete).

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use pm_db::load::Mode;
use pm_db::model::Model;
use pm_db::object::{Cache, Obj};
use pm_db::serialize::{Render, select_fields};
use pm_db::write::Actor;
use pm_db::{AppError, FieldErrors, ops, registry};
use serde_json::{Map, Value as Json, json};

use crate::auth::{Principal, RequestId};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Everything a request says about the response shape.
pub struct Shape {
    pub params: Vec<(String, String)>,
    pub mode: Mode,
    pub fields: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
}

impl Shape {
    pub fn from_uri(uri: &Uri) -> ApiResult<Shape> {
        let params: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|_| AppError::BadRequest("Malformed query string.".into()))?;
        let get = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let list =
            |k: &str| get(k).filter(|v| !v.is_empty()).map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
        let mode = if get("brief").is_some_and(|v| !v.is_empty()) { Mode::Brief } else { Mode::Full };
        Ok(Shape { mode, fields: list("fields"), exclude: list("exclude"), params })
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }
}

/// `http://host` as the client addressed us, for absolute URLs.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
    format!("{scheme}://{host}")
}

pub fn model_for(app: &str, endpoint: &str) -> ApiResult<&'static Model> {
    registry::by_api(app, endpoint).ok_or_else(|| ApiError(AppError::NotFound("Not found.".into())))
}

/// The caller's view of `objs`: secrets only with `view_secrets`, related
/// objects they may not view as their id only.
pub async fn render(
    state: &AppState,
    p: &Principal,
    base: &str,
    cache: &Cache,
    objs: &[Obj],
    shape: &Shape,
) -> ApiResult<Vec<Json>> {
    let secrets = |m: &'static Model| p.perms.allows(m, "view_secrets");
    let hidden = pm_db::load::hidden_related(&state.db.conn, &p.perms, cache).await?;
    let r = Render::new(base, cache, &secrets).with_hidden(hidden);
    Ok(objs
        .iter()
        .map(|o| {
            let mut v = r.object(o, shape.mode);
            // The PeeringDB mirror's serializers know no `fields`/`exclude`.
            if !o.model.is_mirror() {
                select_fields(&mut v, shape.fields.as_deref(), shape.exclude.as_deref());
            }
            v
        })
        .collect())
}

pub fn actor<'a>(state: &'a AppState, p: &'a Principal, rid: RequestId) -> Actor<'a> {
    Actor {
        user_id: p.user.as_ref().map(|u| u.id),
        user_name: p.user_name(),
        request_id: rid.0,
        perms: &p.perms,
        settings: &state.settings,
    }
}

/// Unsafe methods need a user and a write-enabled token.
pub fn check_write(p: &Principal) -> ApiResult<()> {
    if p.user.is_none() {
        return Err(AppError::Unauthenticated("Authentication credentials were not provided.".into()).into());
    }
    if !p.write_enabled {
        return Err(AppError::PermissionDenied("This token does not have write permission.".into()).into());
    }
    Ok(())
}

pub fn check_read(state: &AppState, p: &Principal) -> ApiResult<()> {
    if p.user.is_none() && state.config.login_required {
        return Err(AppError::Unauthenticated("Authentication credentials were not provided.".into()).into());
    }
    Ok(())
}

pub async fn read_json(state: &AppState, body: Body) -> ApiResult<Json> {
    let limit = state.config.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| AppError::PayloadTooLarge(format!("Request body is larger than the {limit} bytes allowed.")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::BadRequest("Request body is empty; a JSON document is expected.".into()).into());
    }
    serde_json::from_slice(&bytes).map_err(|e| AppError::BadRequest(format!("JSON parse error - {e}")).into())
}

/// `limit`/`offset` as Peering Manager reads them: a limit that is not a
/// positive integer falls back to the default, one above the maximum is
/// clamped (0 means the maximum), an offset that is not a positive integer
/// is 0. Only an offset no database can seek to (beyond a 64-bit integer)
/// is an error.
fn paging(state: &AppState, shape: &Shape) -> ApiResult<(u64, u64)> {
    let max = state.settings.max_page_size;
    let default = state.settings.paginate_count;
    let limit = match shape.get("limit").map(|v| v.trim().parse::<i64>()) {
        Some(Ok(0)) if max > 0 => max,
        Some(Ok(n)) if n > 0 => {
            if max > 0 {
                (n as u64).min(max)
            } else {
                n as u64
            }
        }
        _ => default,
    };
    let offset = match shape.get("offset").map(str::trim) {
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => v.parse::<i64>().map_err(|_| {
            ApiError(AppError::Validation(FieldErrors::single(
                "offset",
                format!("Ensure this value is less than or equal to {}.", i64::MAX),
            )))
        })? as u64,
        _ => 0,
    };
    Ok((limit, offset))
}

/// Drop query parameters the model does not know, as PM does, and say which
/// (`X-PM-Ignored-Parameters`) so a typo is still visible. With
/// `PM_STRICT_FILTERS` they stay and the filter engine refuses them (400).
pub fn ignore_unknown(state: &AppState, model: &'static Model, shape: &mut Shape) -> Vec<String> {
    if state.config.strict_filters {
        return Vec::new();
    }
    let mut ignored: Vec<String> = Vec::new();
    shape.params.retain(|(k, _)| {
        let known = pm_db::query::filter::is_known(model, k);
        if !known && !ignored.contains(k) {
            ignored.push(k.clone());
        }
        known
    });
    ignored
}

/// The response header naming the parameters that were ignored.
pub const IGNORED_HEADER: &str = "x-pm-ignored-parameters";

pub fn with_ignored(mut resp: Response, ignored: &[String]) -> Response {
    if !ignored.is_empty() {
        let value = ignored.iter().map(|k| k.escape_default().to_string()).collect::<Vec<_>>().join(", ");
        if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
            resp.headers_mut().insert(IGNORED_HEADER, v);
        }
    }
    resp
}

fn page_url(base: &str, uri: &Uri, limit: u64, offset: Option<u64>) -> String {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    pairs.retain(|(k, _)| k != "limit" && k != "offset");
    pairs.push(("limit".into(), limit.to_string()));
    if let Some(o) = offset {
        pairs.push(("offset".into(), o.to_string()));
    }
    format!("{base}{}?{}", uri.path(), serde_urlencoded::to_string(pairs).unwrap_or_default())
}

// An axum handler: one argument per extractor.
#[allow(clippy::too_many_arguments)]
pub async fn collection(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    Path((app, endpoint)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let model = model_for(&app, &endpoint)?;
    let mut shape = Shape::from_uri(&uri)?;
    let base = base_url(&headers);
    match method {
        Method::GET | Method::HEAD => {
            check_read(&state, &p)?;
            let ignored = ignore_unknown(&state, model, &mut shape);
            let (limit, offset) = paging(&state, &shape)?;
            let page = ops::list(&state.db, &p.perms, model, &shape.params, Some(limit), offset, shape.mode).await?;
            let count = page.count as u64;
            let next = (offset + limit < count).then(|| page_url(&base, &uri, limit, Some(offset + limit)));
            let previous = (offset > 0).then(|| {
                let prev = offset.saturating_sub(limit);
                page_url(&base, &uri, limit, (prev > 0).then_some(prev))
            });
            let results = render(&state, &p, &base, &page.cache, &page.objs, &shape).await?;
            let body = json!({"count": count, "next": next, "previous": previous, "results": results});
            Ok(with_ignored(axum::Json(body).into_response(), &ignored))
        }
        Method::POST => {
            check_write(&p)?;
            let input = read_json(&state, body).await?;
            let (items, bulk) = match input {
                Json::Array(items) => (items, true),
                other => (vec![other], false),
            };
            if bulk && items.is_empty() {
                return Err(AppError::BadRequest("Expected a non-empty list of objects.".into()).into());
            }
            let ids = ops::create(&state.db, &actor(&state, &p, rid), model, &items, bulk).await?;
            respond_written(&state, &p, &base, model, &ids, &shape, bulk, StatusCode::CREATED).await
        }
        Method::PUT | Method::PATCH => {
            check_write(&p)?;
            let items = bulk_items(read_json(&state, body).await?)?;
            let ids =
                ops::update(&state.db, &actor(&state, &p, rid), model, &items, method == Method::PATCH, true).await?;
            respond_written(&state, &p, &base, model, &ids, &shape, true, StatusCode::OK).await
        }
        Method::DELETE => {
            check_write(&p)?;
            let items = bulk_items(read_json(&state, body).await?)?;
            let ids: Vec<i64> = items.into_iter().map(|(id, _)| id).collect();
            ops::delete(&state.db, &actor(&state, &p, rid), model, &ids, true).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        other => Err(method_not_allowed(&other)),
    }
}

pub fn method_not_allowed(m: &Method) -> ApiError {
    ApiError(AppError::MethodNotAllowed(format!("Method \"{m}\" not allowed.")))
}

/// Bulk bodies: a list of objects each carrying an integer `id`.
fn bulk_items(input: Json) -> ApiResult<Vec<(i64, Json)>> {
    let Json::Array(items) = input else {
        return Err(AppError::BadRequest("Expected a list of objects, each with an \"id\".".into()).into());
    };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for item in items {
        match item.get("id").and_then(Json::as_i64) {
            Some(id) => {
                out.push((id, item));
                errors.push(FieldErrors::new());
            }
            None => errors.push(FieldErrors::single("id", "This field is required and must be an integer.")),
        }
    }
    if errors.iter().any(|e| !e.is_empty()) {
        return Err(AppError::BulkValidation(errors).into());
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn respond_written(
    state: &AppState,
    p: &Principal,
    base: &str,
    model: &'static Model,
    ids: &[i64],
    shape: &Shape,
    bulk: bool,
    status: StatusCode,
) -> ApiResult<Response> {
    let (objs, cache) = ops::reload(&state.db, model, ids, Mode::Full).await?;
    let shape =
        Shape { mode: Mode::Full, fields: shape.fields.clone(), exclude: shape.exclude.clone(), params: vec![] };
    let mut out = render(state, p, base, &cache, &objs, &shape).await?;
    let body = if bulk { Json::Array(out) } else { out.pop().unwrap_or(Json::Null) };
    Ok((status, axum::Json(body)).into_response())
}

// An axum handler: one argument per extractor.
#[allow(clippy::too_many_arguments)]
pub async fn detail(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    Path((app, endpoint, id)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let model = model_for(&app, &endpoint)?;
    let id: i64 = id.parse().map_err(|_| pm_db::error::not_found(model))?;
    let shape = Shape::from_uri(&uri)?;
    let base = base_url(&headers);
    match method {
        Method::GET | Method::HEAD => {
            check_read(&state, &p)?;
            let (obj, cache) = ops::retrieve(&state.db, &p.perms, model, id, shape.mode).await?;
            let mut out = render(&state, &p, &base, &cache, &[obj], &shape).await?;
            Ok(axum::Json(out.pop()).into_response())
        }
        Method::PUT | Method::PATCH => {
            check_write(&p)?;
            let input = read_json(&state, body).await?;
            if !input.is_object() {
                return Err(AppError::BadRequest("Expected a JSON object.".into()).into());
            }
            let ids =
                ops::update(&state.db, &actor(&state, &p, rid), model, &[(id, input)], method == Method::PATCH, false)
                    .await?;
            respond_written(&state, &p, &base, model, &ids, &shape, false, StatusCode::OK).await
        }
        Method::DELETE => {
            check_write(&p)?;
            ops::delete(&state.db, &actor(&state, &p, rid), model, &[id], false).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        other => Err(method_not_allowed(&other)),
    }
}

/// `GET /api/<app>/`: the app's endpoints, alphabetically.
pub async fn app_root(Path(app): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    let base = base_url(&headers);
    let mut endpoints: Vec<&Model> = registry::MODELS.iter().copied().filter(|m| m.app == app && m.has_api()).collect();
    if endpoints.is_empty() && !registry::APPS.contains(&app.as_str()) {
        return Err(AppError::NotFound("Not found.".into()).into());
    }
    endpoints.sort_by_key(|m| m.api);
    let mut out = Map::new();
    for m in endpoints {
        out.insert(m.api.into(), json!(format!("{base}{}", m.api_list_path())));
    }
    Ok(axum::Json(Json::Object(out)).into_response())
}
