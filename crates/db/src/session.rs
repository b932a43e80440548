//! Browser sessions and user preferences.
//!
//! A session cookie carries 256 random bits; the table keeps only their
//! SHA-256 digest, so reading the table does not give anyone a session.
//! Session data is a small JSON object (`user_id`, `csrf`, flash messages).

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;
use sea_query::{Expr, ExprTrait, OnConflict, Query};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use crate::error::AppResult;

/// How long a session lives without being used (Django's two weeks).
pub const LIFETIME_DAYS: i64 = 14;

#[derive(Debug, Clone)]
pub struct Session {
    /// Digest of the cookie value: the row's primary key.
    pub id: String,
    pub user_id: i64,
    pub csrf: String,
    pub data: Json,
    pub expires: DateTime<Utc>,
}

fn digest(cookie: &str) -> String {
    hex::encode(Sha256::digest(cookie.as_bytes()))
}

/// A random token, hex-encoded (cookie values, CSRF tokens).
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// Start a session for a user; returns the cookie value (shown once) and the session.
pub async fn create<C: ConnectionTrait>(db: &C, user_id: i64) -> AppResult<(String, Session)> {
    let cookie = random_token();
    let session = Session {
        id: digest(&cookie),
        user_id,
        csrf: random_token(),
        data: json!({}),
        expires: Utc::now() + Duration::days(LIFETIME_DAYS),
    };
    let stored = json!({"user_id": user_id, "csrf": session.csrf, "data": session.data});
    let q = Query::insert()
        .into_table("users_session")
        .columns(["id", "data", "expires"])
        .values_panic([session.id.clone().into(), stored.to_string().into(), session.expires.into()])
        .to_owned();
    db.execute(&q).await?;
    let u = Query::update()
        .table("auth_user")
        .value("last_login", Utc::now())
        .and_where(Expr::col("id").eq(user_id))
        .to_owned();
    db.execute(&u).await?;
    Ok((cookie, session))
}

/// The live session a cookie names, if any. Sessions used after half their
/// life are extended (one write a week at most).
pub async fn load<C: ConnectionTrait>(db: &C, cookie: &str) -> AppResult<Option<Session>> {
    if cookie.len() != 64 {
        return Ok(None);
    }
    let id = digest(cookie);
    let q = Query::select()
        .columns(["data", "expires"])
        .from("users_session")
        .and_where(Expr::col("id").eq(id.clone()))
        .to_owned();
    let Some(r) = db.query_one(&q).await? else { return Ok(None) };
    let raw: String = r.try_get_by_index(0)?;
    let expires: DateTime<Utc> = r.try_get_by_index(1)?;
    let now = Utc::now();
    if expires <= now {
        return Ok(None);
    }
    let stored: Json = serde_json::from_str(&raw).unwrap_or(Json::Null);
    let Some(user_id) = stored["user_id"].as_i64() else { return Ok(None) };
    let mut session = Session {
        id,
        user_id,
        csrf: stored["csrf"].as_str().unwrap_or_default().to_string(),
        data: stored.get("data").cloned().unwrap_or_else(|| json!({})),
        expires,
    };
    if expires - now < Duration::days(LIFETIME_DAYS / 2) {
        session.expires = now + Duration::days(LIFETIME_DAYS);
        let u = Query::update()
            .table("users_session")
            .value("expires", session.expires)
            .and_where(Expr::col("id").eq(session.id.clone()))
            .to_owned();
        db.execute(&u).await?;
    }
    Ok(Some(session))
}

/// Store the session's `data` (flash messages and the like).
pub async fn save_data<C: ConnectionTrait>(db: &C, session: &Session) -> AppResult<()> {
    let stored = json!({"user_id": session.user_id, "csrf": session.csrf, "data": session.data});
    let q = Query::update()
        .table("users_session")
        .value("data", stored.to_string())
        .and_where(Expr::col("id").eq(session.id.clone()))
        .to_owned();
    db.execute(&q).await?;
    Ok(())
}

pub async fn delete<C: ConnectionTrait>(db: &C, session_id: &str) -> AppResult<()> {
    let q = Query::delete().from_table("users_session").and_where(Expr::col("id").eq(session_id)).to_owned();
    db.execute(&q).await?;
    Ok(())
}

/// Log a user out everywhere (after a password change), except one session.
pub async fn delete_for_user_except<C: ConnectionTrait>(db: &C, user_id: i64, keep: &str) -> AppResult<()> {
    let q = Query::select().columns(["id", "data"]).from("users_session").to_owned();
    for r in db.query_all(&q).await? {
        let id: String = r.try_get_by_index(0)?;
        let raw: String = r.try_get_by_index(1)?;
        let data: Json = serde_json::from_str(&raw).unwrap_or(Json::Null);
        if data["user_id"].as_i64() == Some(user_id) && id != keep {
            delete(db, &id).await?;
        }
    }
    Ok(())
}

/// A user's preference tree (`{}` when none was saved).
pub async fn preferences<C: ConnectionTrait>(db: &C, user_id: i64) -> AppResult<Json> {
    let q = Query::select()
        .column("data")
        .from("users_userpreferences")
        .and_where(Expr::col("user_id").eq(user_id))
        .to_owned();
    Ok(db
        .query_one(&q)
        .await?
        .and_then(|r| r.try_get_by_index::<String>(0).ok())
        .and_then(|s| serde_json::from_str(&s).ok())
        .filter(Json::is_object)
        .unwrap_or_else(|| json!({})))
}

pub async fn save_preferences<C: ConnectionTrait>(db: &C, user_id: i64, data: &Json) -> AppResult<()> {
    let q = Query::insert()
        .into_table("users_userpreferences")
        .columns(["user_id", "data"])
        .values_panic([user_id.into(), data.to_string().into()])
        .on_conflict(OnConflict::column("user_id").update_column("data").to_owned())
        .to_owned();
    db.execute(&q).await?;
    Ok(())
}

/// Set (or, with `None`, remove) one dotted key of a preference tree: `tables.x.columns`.
pub fn set_pref(tree: &mut Json, path: &str, value: Option<Json>) {
    let parts: Vec<&str> = path.split('.').collect();
    let mut node = tree;
    for p in &parts[..parts.len() - 1] {
        if !node.is_object() {
            *node = json!({});
        }
        node = node.as_object_mut().unwrap().entry(p.to_string()).or_insert_with(|| json!({}));
    }
    if !node.is_object() {
        *node = json!({});
    }
    let map = node.as_object_mut().unwrap();
    let last = parts[parts.len() - 1];
    match value {
        Some(v) => {
            map.insert(last.to_string(), v);
        }
        None => {
            map.remove(last);
        }
    }
}

/// Read one dotted key of a preference tree.
pub fn get_pref<'a>(tree: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(tree, |node, p| node.get(p)).filter(|v| !v.is_null())
}

/// Change a user's password (argon2).
pub async fn set_password<C: ConnectionTrait>(db: &C, user_id: i64, password: &str) -> AppResult<()> {
    let q = Query::update()
        .table("auth_user")
        .value("password", crate::auth::hash_password(password))
        .and_where(Expr::col("id").eq(user_id))
        .to_owned();
    db.execute(&q).await?;
    Ok(())
}

/// Django's password rules, in short: 8+ characters, not only digits, not the username.
pub fn password_problems(username: &str, password: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if password.chars().count() < 8 {
        out.push("This password is too short. It must contain at least 8 characters.");
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        out.push("This password is entirely numeric.");
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        out.push("The password is too similar to the username.");
    }
    const COMMON: &[&str] = &["password", "12345678", "qwertyui", "letmein1", "password1", "iloveyou"];
    if COMMON.contains(&password.to_lowercase().as_str()) {
        out.push("This password is too common.");
    }
    out
}
