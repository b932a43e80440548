//! Logging in and out, and the user's own pages: profile, preferences,
//! password, API tokens (spec §8).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pm_db::session as sess;
use pm_db::{AppError, AppResult};
use sea_orm::ConnectionTrait;
use sea_query::{Expr, ExprTrait, Order, Query};
use serde_json::{Value as Json, json};

use super::meta::PAGE_SIZES;
use super::render::esc;
use super::{Ctx, Req, UiResult, html_response, redirect, templates};
use crate::auth::{SESSION_COOKIE, constant_time_eq, cookie};
use crate::throttle::Refused;

const CSRF_COOKIE: &str = "pm_csrf";

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if super::is_local_path(n) && !n.starts_with("/logout") => n.to_string(),
        _ => "/".into(),
    }
}

/// `; Secure` when the browser came over HTTPS (through a trusted proxy) or
/// `PM_SECURE_COOKIES` says so: the cookie then never travels in clear.
fn secure(req: &Req) -> &'static str {
    if req.state.config.secure_cookies || req.client.https { "; Secure" } else { "" }
}

fn set_cookie(resp: &mut Response, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `/login/`: the form (GET) and the check (POST). The form's CSRF token is a
/// double-submit cookie, as there is no session yet.
pub async fn login(req: Req) -> Response {
    let query: Vec<(String, String)> = serde_urlencoded::from_str(req.uri.query().unwrap_or("")).unwrap_or_default();
    let mut next = safe_next(query.iter().find(|(k, _)| k == "next").map(|(_, v)| v.as_str()));
    if req.principal.user.is_some() && req.principal.session.is_some() && req.method != axum::http::Method::POST {
        return redirect(&next);
    }
    let mut error = None;
    let mut throttled = None;
    let mut username = String::new();
    let csrf_cookie = cookie(&req.headers, CSRF_COOKIE).filter(|c| c.len() == 64);
    if req.method == axum::http::Method::POST {
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&req.body).unwrap_or_default();
        let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str()).unwrap_or("");
        username = get("username").trim().to_string();
        next = safe_next(Some(get("next")).filter(|n| !n.is_empty()).or(Some(&next)));
        let token_ok = csrf_cookie.as_deref().is_some_and(|c| constant_time_eq(get("csrfmiddlewaretoken"), c));
        if !token_ok {
            error = Some("Your session expired or cookies are disabled. Please try again.".to_string());
        } else {
            let attempt = req.state.login.login(&req.state.db, &username, get("password"), req.client.ip).await;
            match attempt {
                Err(Refused::Throttled(wait)) => {
                    let secs = Ord::max(wait.as_secs(), 1);
                    throttled = Some(secs);
                    error = Some(format!("Too many failed login attempts. Try again in {secs} seconds."));
                }
                Err(Refused::Error(e)) => {
                    tracing::error!(error = %e, "login failed");
                    error = Some("Login is unavailable right now.".into());
                }
                Ok(Some(user)) => match sess::create(&req.state.db.conn, user.id).await {
                    Ok((value, _)) => {
                        let mut resp = redirect(&next);
                        set_cookie(
                            &mut resp,
                            format!(
                                "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
                                sess::LIFETIME_DAYS * 86400,
                                secure(&req)
                            ),
                        );
                        set_cookie(&mut resp, format!("{CSRF_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"));
                        return resp;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot create session");
                        error = Some("Could not start a session. Please try again.".into());
                    }
                },
                Ok(None) => {
                    error = Some(
                        "Please enter a correct username and password. Note that both fields may be case-sensitive."
                            .into(),
                    )
                }
            }
        }
    }
    let csrf = csrf_cookie.unwrap_or_else(sess::random_token);
    let page = json!({"title": "Log in", "error": error, "username": username, "next": next, "csrf": csrf});
    let status = if throttled.is_some() { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::OK };
    let mut resp = match templates::render("login.html", &page) {
        Ok(html) => html_response(status, html),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    if let Some(secs) = throttled {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    set_cookie(
        &mut resp,
        format!("{CSRF_COOKIE}={csrf}; Path=/login/; HttpOnly; SameSite=Lax; Max-Age=3600{}", secure(&req)),
    );
    resp
}

/// `POST /logout/` (a link could be followed by any page or prefetcher):
/// ends the session when the form carries its CSRF token.
pub async fn logout(req: Req) -> Response {
    if let Some(s) = &req.principal.session {
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&req.body).unwrap_or_default();
        let sent = form.iter().find(|(k, _)| k == "csrfmiddlewaretoken").map(|(_, v)| v.as_str()).unwrap_or("");
        if !constant_time_eq(sent, &s.csrf) {
            return (StatusCode::FORBIDDEN, "CSRF verification failed. Reload the page and try again.").into_response();
        }
        let _ = sess::delete(&req.state.db.conn, &s.id).await;
    }
    let mut resp = redirect("/login/");
    set_cookie(&mut resp, format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", secure(&req)));
    resp
}

fn need_user(ctx: &Ctx) -> AppResult<i64> {
    ctx.user_id().ok_or_else(|| AppError::Unauthenticated("Log in first.".into()))
}

pub async fn profile(ctx: &mut Ctx) -> UiResult {
    let uid = need_user(ctx)?;
    let q = Query::select()
        .columns([
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_superuser",
            "date_joined",
            "last_login",
        ])
        .from("auth_user")
        .and_where(Expr::col("id").eq(uid))
        .to_owned();
    let r = ctx.db().conn.query_one(&q).await?.ok_or_else(|| AppError::NotFound("No such user.".into()))?;
    let text = |i| r.try_get_by_index::<String>(i).unwrap_or_default();
    let time = |i| {
        r.try_get_by_index::<Option<chrono::DateTime<chrono::Utc>>>(i)
            .ok()
            .flatten()
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    let gq = Query::select()
        .column(("auth_group", "name"))
        .from("auth_group")
        .inner_join("auth_user_groups", Expr::col(("auth_user_groups", "group_id")).equals(("auth_group", "id")))
        .and_where(Expr::col(("auth_user_groups", "user_id")).eq(uid))
        .order_by(("auth_group", "name"), Order::Asc)
        .to_owned();
    let groups: Vec<String> =
        ctx.db().conn.query_all(&gq).await?.iter().filter_map(|g| g.try_get_by_index(0).ok()).collect();
    let full_name = format!("{} {}", text(1), text(2)).trim().to_string();
    ctx.render(
        "profile.html",
        json!({
            "title": "Profile",
            "profile": {
                "username": text(0), "full_name": full_name, "email": text(3),
                "is_staff": r.try_get_by_index::<bool>(4).unwrap_or(false),
                "is_superuser": r.try_get_by_index::<bool>(5).unwrap_or(false),
                "date_joined": time(6), "last_login": time(7), "groups": groups,
            }
        }),
    )
    .await
}

pub async fn preferences(ctx: &mut Ctx) -> UiResult {
    need_user(ctx)?;
    if ctx.is_post() {
        let form = ctx.form()?;
        if let Some(v) = form.get("context_as") {
            let value = v.parse::<i64>().ok().map(Json::from);
            sess::set_pref(&mut ctx.prefs, "context.as", value);
        }
        if form.has("_save") {
            if let Some(n) = form.get("per_page").and_then(|v| v.parse::<u64>().ok()).filter(|n| (1..=1000).contains(n))
            {
                sess::set_pref(&mut ctx.prefs, "pagination.per_page", Some(json!(n)));
            }
            if let Some(t) = form.get("theme").filter(|t| ["light", "dark"].contains(t)) {
                sess::set_pref(&mut ctx.prefs, "ui.theme", Some(json!(t)));
            }
            if let Some(f) = form.get("configcontext_format").filter(|t| ["json", "yaml"].contains(t)) {
                sess::set_pref(&mut ctx.prefs, "configcontext.format", Some(json!(f)));
            }
            for table in form.all("clear_table") {
                if let Some(tables) = ctx.prefs.get_mut("tables").and_then(Json::as_object_mut) {
                    tables.remove(table);
                }
            }
        }
        if let Some(t) = form.get("toggle_theme") {
            let t = if t == "dark" { "dark" } else { "light" };
            sess::set_pref(&mut ctx.prefs, "ui.theme", Some(json!(t)));
        }
        ctx.save_prefs().await;
        if form.has("_save") {
            ctx.flash("success", "Your preferences have been updated.".into()).await;
        }
        let back = ctx.return_url(Some(&form), "/user/preferences/");
        return Ok(redirect(&back));
    }
    let per_page = super::list::per_page(ctx);
    let mut sizes: Vec<u64> = PAGE_SIZES.to_vec();
    let default = ctx.req.state.settings.paginate_count;
    if !sizes.contains(&default) {
        sizes.insert(0, default);
    }
    let sizes: Vec<Json> = sizes.iter().map(|n| json!({"n": n, "selected": *n == per_page})).collect();
    let theme = sess::get_pref(&ctx.prefs, "ui.theme").and_then(Json::as_str).unwrap_or("light").to_string();
    let cc_format =
        sess::get_pref(&ctx.prefs, "configcontext.format").and_then(Json::as_str).unwrap_or("json").to_string();
    let tables: Vec<Json> = ctx
        .prefs
        .get("tables")
        .and_then(Json::as_object)
        .map(|t| {
            t.iter()
                .map(|(k, v)| {
                    let model = super::model_by_label(&k.replacen('_', ".", 1));
                    let name = model.map(|m| super::meta::title(m.verbose_plural)).unwrap_or_else(|| k.clone());
                    let cols = v.get("columns").and_then(Json::as_array).map(|c| c.len());
                    let ordering = v.get("ordering").and_then(Json::as_str).map(str::to_string);
                    json!({"key": k, "name": name, "columns": cols, "ordering": ordering})
                })
                .collect()
        })
        .unwrap_or_default();
    ctx.render(
        "preferences.html",
        json!({"title": "Preferences", "sizes": sizes, "theme": theme, "tables": tables, "cc_format": cc_format}),
    )
    .await
}

pub async fn password(ctx: &mut Ctx) -> UiResult {
    let uid = need_user(ctx)?;
    let username = ctx.req.principal.user_name();
    let mut errors: Vec<String> = vec![];
    if ctx.is_post() {
        let form = ctx.form()?;
        let old = form.get("old_password").unwrap_or("");
        let (new1, new2) = (form.get("new_password1").unwrap_or(""), form.get("new_password2").unwrap_or(""));
        // Guessing the old password is guessing a password: same throttle.
        match ctx.req.state.login.login(ctx.db(), &username, old, ctx.req.client.ip).await {
            Ok(Some(_)) => {}
            Ok(None) => errors.push("Your old password was entered incorrectly. Please enter it again.".into()),
            Err(Refused::Throttled(wait)) => {
                errors.push(format!("Too many failed attempts. Try again in {} seconds.", Ord::max(wait.as_secs(), 1)))
            }
            Err(Refused::Error(e)) => return Err(e),
        }
        if new1 != new2 {
            errors.push("The two password fields didn’t match.".into());
        }
        errors.extend(sess::password_problems(&username, new1).into_iter().map(str::to_string));
        if errors.is_empty() {
            sess::set_password(&ctx.db().conn, uid, new1).await?;
            let keep = ctx.req.principal.session.as_ref().map(|s| s.id.clone()).unwrap_or_default();
            sess::delete_for_user_except(&ctx.db().conn, uid, &keep).await?;
            ctx.flash("success", "Your password has been changed.".into()).await;
            return Ok(redirect("/user/profile/"));
        }
    }
    ctx.render("password.html", json!({"title": "Change password", "errors": errors})).await
}

pub async fn tokens(ctx: &mut Ctx) -> UiResult {
    let uid = need_user(ctx)?;
    let q = Query::select()
        .columns(["id", "key_suffix", "description", "write_enabled", "created", "expires", "last_used", "allowed_ips"])
        .from("users_token")
        .and_where(Expr::col("user_id").eq(uid))
        .order_by("created", Order::Desc)
        .to_owned();
    let now = chrono::Utc::now();
    let fmt = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.format("%Y-%m-%d %H:%M").to_string());
    let mut list = vec![];
    for r in ctx.db().conn.query_all(&q).await? {
        let expires: Option<chrono::DateTime<chrono::Utc>> = r.try_get_by_index(5)?;
        let ips: Option<String> = r.try_get_by_index(7)?;
        let ips: Vec<String> = ips.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
        list.push(json!({
            "id": r.try_get_by_index::<i64>(0)?,
            "suffix": r.try_get_by_index::<String>(1)?,
            "description": r.try_get_by_index::<String>(2)?,
            "write_enabled": r.try_get_by_index::<bool>(3)?,
            "created": fmt(r.try_get_by_index(4)?),
            "expires": fmt(expires),
            "expired": expires.is_some_and(|e| e <= now),
            "last_used": fmt(r.try_get_by_index(6)?),
            "allowed_ips": ips.join(", "),
        }));
    }
    ctx.render("tokens.html", json!({"title": "API Tokens", "tokens": list})).await
}

pub async fn token_add(ctx: &mut Ctx) -> UiResult {
    let uid = need_user(ctx)?;
    let mut errors: Vec<String> = vec![];
    let mut values = json!({"write_enabled": true, "description": "", "expires": "", "allowed_ips": ""});
    if ctx.is_post() {
        let form = ctx.form()?;
        let description = form.get("description").unwrap_or("").trim().to_string();
        let write = form.get("write_enabled").is_some_and(|v| !v.is_empty());
        let expires_raw = form.get("expires").unwrap_or("").trim().to_string();
        let ips_raw = form.get("allowed_ips").unwrap_or("").trim().to_string();
        values =
            json!({"write_enabled": write, "description": description, "expires": expires_raw, "allowed_ips": ips_raw});
        if description.chars().count() > 100 {
            errors.push("Description: ensure this field has no more than 100 characters.".into());
        }
        let expires = if expires_raw.is_empty() {
            None
        } else {
            match pm_db::query::filter::parse_datetime(&expires_raw) {
                Some(t) => Some(t),
                None => {
                    errors.push("Expires: enter a valid date/time.".into());
                    None
                }
            }
        };
        let mut ips = vec![];
        for part in ips_raw.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
            match part.parse::<ipnet_like::Net>() {
                Ok(n) => ips.push(n.0),
                Err(_) => errors.push(format!("Allowed IPs: {part} is not a valid IPv4 or IPv6 network.")),
            }
        }
        if errors.is_empty() {
            let ips = (!ips.is_empty()).then_some(ips);
            let key = pm_db::auth::create_token(&ctx.db().conn, uid, write, expires, &description, ips).await?;
            return ctx
                .render("token_add.html", json!({"title": "API token created", "key": key, "description": description}))
                .await;
        }
    }
    ctx.render("token_add.html", json!({"title": "Add an API token", "errors": errors, "values": values})).await
}

pub async fn token_delete(ctx: &mut Ctx, id: i64) -> UiResult {
    let uid = need_user(ctx)?;
    let q = Query::select()
        .columns(["key_suffix", "description"])
        .from("users_token")
        .and_where(Expr::col("id").eq(id))
        .and_where(Expr::col("user_id").eq(uid))
        .to_owned();
    let r = ctx.db().conn.query_one(&q).await?.ok_or_else(|| AppError::NotFound("No such token.".into()))?;
    let suffix: String = r.try_get_by_index(0)?;
    if ctx.is_post() {
        ctx.form()?;
        let d = Query::delete()
            .from_table("users_token")
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("user_id").eq(uid))
            .to_owned();
        ctx.db().conn.execute(&d).await?;
        ctx.flash("success", format!("Deleted API token …{}", esc(&suffix))).await;
        return Ok(redirect("/user/api-tokens/"));
    }
    let description: String = r.try_get_by_index(1)?;
    ctx.render("token_delete.html", json!({"title": "Delete API token", "suffix": suffix, "description": description}))
        .await
}

/// CIDR parsing for allowed IPs (a bare address is a /32 or /128).
mod ipnet_like {
    pub struct Net(pub String);
    impl std::str::FromStr for Net {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            if let Some((addr, len)) = s.split_once('/') {
                let ip: std::net::IpAddr = addr.parse().map_err(|_| ())?;
                let len: u8 = len.parse().map_err(|_| ())?;
                let max = if ip.is_ipv4() { 32 } else { 128 };
                if len > max {
                    return Err(());
                }
                Ok(Net(format!("{ip}/{len}")))
            } else {
                let ip: std::net::IpAddr = s.parse().map_err(|_| ())?;
                Ok(Net(format!("{ip}/{}", if ip.is_ipv4() { 32 } else { 128 })))
            }
        }
    }
}
