//! The web UI: server-rendered pages (minijinja) for every model, driven by
//! the same declarations as the API. One dispatcher per model prefix routes
//! to generic handlers: list, detail (with tabs), add/edit/delete, bulk
//! edit/delete, import and export. Hand-written pages are the few that are
//! not about one model: home, search, login and the user's own pages.

mod account;
mod bulk;
mod detail;
mod editor;
mod form;
mod home;
mod jobs;
mod list;
pub mod meta;
mod peeringdb;
mod peers;
mod render;
mod search;
mod system;
mod templates;
mod transfer;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get};
use pm_db::AppError;
use pm_db::model::Model;
use serde_json::{Value as Json, json};

use crate::auth::{Principal, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    let mut r = Router::new()
        .route("/", get(|req: Req| page(req, P::Home)))
        .route("/login/", any(account::login))
        .route("/logout/", axum::routing::post(account::logout))
        .route("/search/", get(|req: Req| page(req, P::Search)))
        .route("/user/profile/", get(|req: Req| page(req, P::Profile)))
        .route("/user/preferences/", any(|req: Req| page(req, P::Preferences)))
        .route("/user/password/", any(|req: Req| page(req, P::Password)))
        .route("/user/api-tokens/", any(|req: Req| page(req, P::Tokens)))
        .route("/user/api-tokens/add/", any(|req: Req| page(req, P::TokenAdd)))
        .route("/user/api-tokens/{id}/delete/", any(|Path(id): Path<i64>, req: Req| page(req, P::TokenDelete(id))))
        .route("/core/system/", get(|req: Req| page(req, P::System)))
        .route("/core/background-queues/", get(|req: Req| page(req, P::BackgroundTasks)))
        .route("/peeringdb/", any(|req: Req| page(req, P::Peeringdb)))
        .route(
            "/peeringdb/synchronisations/{id}/",
            get(|Path(id): Path<i64>, req: Req| page(req, P::Synchronisation(id))),
        )
        .route("/peeringdb/available-ixp-peers/", any(|req: Req| page(req, P::AvailablePeers)))
        .route("/static/{file}", get(static_file))
        // Peering Manager's address of its Swagger UI, for those who look there.
        .route("/api/schema/swagger-ui/", get(|| async { Redirect::permanent("/api/docs/") }));
    for m in meta::ui_models() {
        let prefix = meta::ui_path(m).unwrap();
        r = r.route(prefix, any(move |req: Req| model_page(m, String::new(), req))).route(
            &format!("{prefix}{{*rest}}"),
            any(move |Path(rest): Path<String>, req: Req| model_page(m, rest, req)),
        );
    }
    r
}

/// A request as UI handlers see it.
pub struct Req {
    pub state: AppState,
    pub principal: Principal,
    pub rid: RequestId,
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The client's address and scheme (behind trusted proxies).
    pub client: crate::auth::Client,
}

impl FromRequest<AppState> for Req {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = req.extensions().get::<Principal>().cloned().unwrap_or_else(|| Principal::anonymous(true));
        let rid = req.extensions().get::<RequestId>().copied().unwrap_or(RequestId(uuid::Uuid::new_v4()));
        let method = req.method().clone();
        let uri = req.uri().clone();
        let headers = req.headers().clone();
        let client = req.extensions().get::<crate::auth::Client>().copied().unwrap_or_default();
        let body = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        Ok(Req { state: state.clone(), principal, rid, method, uri, headers, body, client })
    }
}

/// What a page handler works with: the request, the user's preferences, and
/// flash messages for the next page.
pub struct Ctx {
    pub req: Req,
    pub prefs: Json,
    messages: Vec<Json>,
}

pub type UiResult = Result<Response, AppError>;

impl Ctx {
    /// Anonymous callers go to the login page when login is required.
    async fn new(req: Req) -> Result<Ctx, Response> {
        if req.principal.user.is_none() && req.state.config.login_required {
            return Err(login_redirect(&req.uri));
        }
        let mut ctx = Ctx { req, prefs: json!({}), messages: vec![] };
        if let Some(u) = &ctx.req.principal.user {
            ctx.prefs = pm_db::session::preferences(&ctx.req.state.db.conn, u.id).await.unwrap_or_else(|_| json!({}));
        }
        if let Some(s) = &ctx.req.principal.session
            && let Some(list) = s.data.get("messages").and_then(Json::as_array)
            && !list.is_empty()
        {
            ctx.messages = list.clone();
            let mut s = (**s).clone();
            s.data["messages"] = json!([]);
            let _ = pm_db::session::save_data(&ctx.req.state.db.conn, &s).await;
        }
        Ok(ctx)
    }

    pub fn db(&self) -> &pm_db::Db {
        &self.req.state.db
    }

    pub fn perms(&self) -> &pm_db::auth::Perms {
        &self.req.principal.perms
    }

    pub fn user_id(&self) -> Option<i64> {
        self.req.principal.user.as_ref().map(|u| u.id)
    }

    /// Query string pairs, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_str(self.req.uri.query().unwrap_or("")).unwrap_or_default()
    }

    pub fn query_get(&self, key: &str) -> Option<String> {
        self.query().into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A POSTed form, after its CSRF token was checked.
    pub fn form(&self) -> Result<Form, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&self.req.body)
            .map_err(|_| AppError::BadRequest("Malformed form data.".into()))?;
        let form = Form(pairs);
        let expected = self.req.principal.session.as_ref().map(|s| s.csrf.as_str()).unwrap_or("");
        if !crate::auth::constant_time_eq(form.get("csrfmiddlewaretoken").unwrap_or(""), expected) {
            return Err(AppError::PermissionDenied("CSRF verification failed. Reload the page and try again.".into()));
        }
        Ok(form)
    }

    pub fn is_post(&self) -> bool {
        self.req.method == Method::POST
    }

    /// Queue a message for the next page (after a redirect).
    pub async fn flash(&mut self, level: &str, html: String) {
        if let Some(s) = &self.req.principal.session {
            let mut s = (**s).clone();
            let mut list = s.data.get("messages").and_then(Json::as_array).cloned().unwrap_or_default();
            list.push(json!({"level": level, "html": html}));
            s.data["messages"] = Json::Array(list);
            let _ = pm_db::session::save_data(&self.req.state.db.conn, &s).await;
            self.req.principal.session = Some(std::sync::Arc::new(s));
        } else {
            self.messages.push(json!({"level": level, "html": html}));
        }
    }

    /// Remember the last filtered list, for the top bar's link back to it (spec §9.1).
    pub async fn remember_search(&mut self, url: &str) {
        if let Some(s) = &self.req.principal.session
            && s.data.get("last_search").and_then(Json::as_str) != Some(url)
        {
            let mut s = (**s).clone();
            s.data["last_search"] = json!(url);
            let _ = pm_db::session::save_data(&self.req.state.db.conn, &s).await;
            self.req.principal.session = Some(std::sync::Arc::new(s));
        }
    }

    /// Show a message on the page being rendered.
    pub fn message(&mut self, level: &str, html: String) {
        self.messages.push(json!({"level": level, "html": html}));
    }

    pub async fn save_prefs(&mut self) {
        if let Some(uid) = self.user_id() {
            let _ = pm_db::session::save_preferences(&self.req.state.db.conn, uid, &self.prefs).await;
        }
    }

    /// A safe place to go back to: a relative `return_url`, else `fallback`.
    pub fn return_url(&self, form: Option<&Form>, fallback: &str) -> String {
        let candidate =
            form.and_then(|f| f.get("return_url").map(str::to_string)).or_else(|| self.query_get("return_url"));
        match candidate {
            Some(u) if is_local_path(&u) => u,
            _ => fallback.to_string(),
        }
    }

    /// Render a page inside the layout.
    pub async fn render(&self, template: &str, mut page: Json) -> UiResult {
        let base = self.base_context().await?;
        if let (Json::Object(p), Json::Object(b)) = (&mut page, base) {
            for (k, v) in b {
                p.entry(k).or_insert(v);
            }
        }
        let html = templates::render(template, &page)?;
        Ok(html_response(StatusCode::OK, html))
    }

    async fn base_context(&self) -> Result<Json, AppError> {
        let p = &self.req.principal;
        let path = self.req.uri.path();
        let nav: Vec<Json> = meta::NAV
            .iter()
            .map(|g| {
                let items: Vec<Json> = g
                    .items
                    .iter()
                    .filter(|i| !i.staff || p.user.as_ref().is_some_and(|u| u.is_staff))
                    .filter(|i| meta::nav_available(i.url))
                    .map(|i| json!({"label": i.label, "url": i.url, "active": path.starts_with(i.url)}))
                    .collect();
                let active = items.iter().any(|i| i["active"] == json!(true));
                json!({"label": g.label, "icon": g.icon, "items": items, "active": active})
            })
            .filter(|g| g["items"].as_array().is_some_and(|i| !i.is_empty()))
            .collect();
        let user = p
            .user
            .as_ref()
            .map(|u| json!({"username": u.username, "is_superuser": u.is_superuser, "is_staff": u.is_staff}));
        let theme = pm_db::session::get_pref(&self.prefs, "ui.theme").and_then(Json::as_str).unwrap_or("light");
        let context_as = pm_db::session::get_pref(&self.prefs, "context.as").and_then(Json::as_i64);
        let mut affiliated = vec![];
        let as_model = &pm_db::models::peering::AUTONOMOUS_SYSTEM;
        if p.user.is_some()
            && let Some(scope) = p.perms.scope(as_model, "view")
        {
            use sea_query::{Condition, Expr, ExprTrait};
            let cond = Condition::all().add(Expr::col("affiliated").eq(true)).add(scope);
            let objs = pm_db::load::fetch(&self.db().conn, as_model, cond, &[("asn", false)], Some(100), 0).await?;
            let cache = pm_db::object::Cache::default();
            for o in &objs {
                let display = pm_db::object::View::new(o, &cache).display();
                affiliated.push(json!({"id": o.id, "display": display, "selected": Some(o.id) == context_as}));
            }
        }
        let current_as = affiliated.iter().find(|a| a["selected"] == json!(true)).cloned();
        let full_path = self.req.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let last_search = p
            .session
            .as_ref()
            .and_then(|s| s.data.get("last_search").and_then(Json::as_str))
            .filter(|l| *l != full_path)
            .map(str::to_string);
        Ok(json!({
            "user": user,
            "csrf": p.session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default(),
            "nav": nav,
            "messages": self.messages,
            "theme": theme,
            "affiliated": affiliated,
            "context_as": current_as,
            "path": path,
            "full_path": full_path,
            "last_search": last_search,
            "login_required": self.req.state.config.login_required,
        }))
    }

    /// An HTML error page (403, 404, 400, 409, 500) in the layout.
    pub async fn error_page(&self, e: AppError) -> Response {
        let (status, title, detail) = match &e {
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m.clone()),
            AppError::PermissionDenied(m) => (StatusCode::FORBIDDEN, "Permission denied", m.clone()),
            AppError::Unauthenticated(_) => return login_redirect(&self.req.uri),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m.clone()),
            AppError::Conflict(m) => (StatusCode::CONFLICT, "Conflict", m.clone()),
            AppError::MethodNotAllowed(m) => (StatusCode::METHOD_NOT_ALLOWED, "Not allowed", m.clone()),
            AppError::Validation(f) => (StatusCode::BAD_REQUEST, "Invalid request", render::field_errors_text(f)),
            AppError::BulkValidation(_) => (StatusCode::BAD_REQUEST, "Invalid request", "Invalid data.".into()),
            AppError::PayloadTooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "Too large", m.clone()),
            AppError::ServiceUnavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "Unavailable", m.clone()),
            AppError::Db(err) => {
                tracing::error!(error = %err, "database error");
                (StatusCode::INTERNAL_SERVER_ERROR, "Server error", "A database error occurred.".into())
            }
            AppError::Internal(err) => {
                tracing::error!(error = %err, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "Server error", "An internal error occurred.".into())
            }
        };
        let page = json!({"title": title, "detail": detail, "status": status.as_u16()});
        match self.render("error.html", page).await {
            Ok(mut r) => {
                *r.status_mut() = status;
                r
            }
            Err(_) => (status, format!("{title}: {detail}")).into_response(),
        }
    }
}

/// POSTed form fields (repeated keys kept).
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

pub fn html_response(status: StatusCode, html: String) -> Response {
    let mut r = (status, html).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A path on this site, safe to redirect to: one leading slash, no
/// backslash (browsers read `/\\host` as `//host`), no control character
/// (browsers drop tabs and newlines, so `/\t/host` becomes `//host`).
pub fn is_local_path(u: &str) -> bool {
    u.starts_with('/') && !u[1..].starts_with('/') && !u.chars().any(|c| c == '\\' || c.is_control())
}

/// 303 to `to`; a target that cannot be a header goes home instead of failing.
pub fn redirect(to: &str) -> Response {
    let target = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
}

fn login_redirect(uri: &Uri) -> Response {
    let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    redirect(&format!("/login/?{q}"))
}

/// The pages, for the dispatcher.
enum P {
    Home,
    Search,
    Profile,
    Preferences,
    Password,
    Tokens,
    TokenAdd,
    TokenDelete(i64),
    System,
    BackgroundTasks,
    Peeringdb,
    Synchronisation(i64),
    AvailablePeers,
    Model(&'static Model, Vec<String>),
    NotFound,
}

/// The styled "page not found" for an address no page answers.
pub async fn not_found(req: Req) -> Response {
    page(req, P::NotFound).await
}

/// Run a page handler with its context; errors become error pages.
async fn page(req: Req, which: P) -> Response {
    let mut ctx = match Ctx::new(req).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = match which {
        P::Home => home::home(&mut ctx).await,
        P::Search => search::search(&mut ctx).await,
        P::Profile => account::profile(&mut ctx).await,
        P::Preferences => account::preferences(&mut ctx).await,
        P::Password => account::password(&mut ctx).await,
        P::Tokens => account::tokens(&mut ctx).await,
        P::TokenAdd => account::token_add(&mut ctx).await,
        P::TokenDelete(id) => account::token_delete(&mut ctx, id).await,
        P::System => system::system(&mut ctx).await,
        P::BackgroundTasks => system::background_tasks(&mut ctx).await,
        P::Peeringdb => peeringdb::page(&mut ctx).await,
        P::Synchronisation(id) => peeringdb::synchronisation(&mut ctx, id).await,
        P::AvailablePeers => peers::provisioning(&mut ctx).await,
        P::Model(m, parts) => model_dispatch(&mut ctx, m, parts).await,
        P::NotFound => Err(AppError::NotFound("Page not found.".into())),
    };
    match result {
        Ok(r) => r,
        Err(e) => ctx.error_page(e).await,
    }
}

/// Every page of a model: `P/`, `P/add/`, `P/import/`, `P/edit/`, `P/delete/`,
/// `P/<id>/`, `P/<id>/edit/`, `P/<id>/delete/`, `P/<id>/<tab>/`.
async fn model_page(m: &'static Model, rest: String, req: Req) -> Response {
    if !rest.is_empty() && !rest.ends_with('/') && matches!(req.method, Method::GET | Method::HEAD) {
        let target = match req.uri.query() {
            Some(q) => format!("{}/?{q}", req.uri.path()),
            None => format!("{}/", req.uri.path()),
        };
        return Redirect::permanent(&target).into_response();
    }
    let parts: Vec<String> = rest.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    page(req, P::Model(m, parts)).await
}

async fn model_dispatch(ctx: &mut Ctx, m: &'static Model, parts: Vec<String>) -> UiResult {
    let post = ctx.is_post();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let meta = meta::meta(m);
    let id = |s: &str| s.parse::<i64>().map_err(|_| pm_db::error::not_found(m));
    match parts.as_slice() {
        ["peeringdb-import"] if m.label() == "peering.internetexchange" => peers::ixp_import(ctx).await,
        [n, tab @ ("available-peers" | "available-sessions")]
            if post && matches!(m.name, "internetexchange" | "autonomoussystem") =>
        {
            let back = format!("{}{}/{tab}/", meta::ui_path(m).unwrap_or("/"), id(n)?);
            peers::create_sessions(ctx, &back).await
        }
        [] if meta.list && post => list::configure(ctx, m).await,
        [] if meta.list => list::list(ctx, m).await,
        ["add"] if meta.add && m.writable() => form::edit(ctx, m, None).await,
        ["import"] if meta.add && m.writable() => transfer::import(ctx, m).await,
        ["edit"] if post && m.writable() => bulk::edit(ctx, m).await,
        ["delete"] if post => bulk::delete(ctx, m).await,
        [action] if post && meta.bulk_actions.iter().any(|a| a.slug == *action) => bulk::action(ctx, m, action).await,
        [n] if meta.detail => detail::detail(ctx, m, id(n)?, None).await,
        [n, "cancel"] if post && m.label() == "core.job" => jobs::cancel(ctx, id(n)?).await,
        [n, "rerun"] if post && m.label() == "core.job" => jobs::rerun(ctx, id(n)?).await,
        [n, "editor"] if editor::kind(m).is_some() => editor::editor(ctx, m, id(n)?).await,
        [n, "edit"] if m.writable() => form::edit(ctx, m, Some(id(n)?)).await,
        [n, "delete"] => form::delete(ctx, m, id(n)?).await,
        [n, tab] if meta.detail => detail::detail(ctx, m, id(n)?, Some(tab)).await,
        _ => Err(AppError::NotFound("Page not found.".into())),
    }
}

async fn static_file(Path(file): Path<String>) -> Response {
    match templates::asset(&file) {
        Some((body, mime)) => {
            let mut r = body.into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            r
        }
        None => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

/// `peering.autonomoussystem` → `Model`, for pages that take a type.
pub fn model_by_label(label: &str) -> Option<&'static Model> {
    pm_db::registry::model(label)
}
