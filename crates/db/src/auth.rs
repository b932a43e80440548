//! Who is asking and what they may do: passwords, API tokens, and
//! NetBox-style object permissions (actions on object types, optionally
//! narrowed by constraints).

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_query::{Condition, Expr, ExprTrait, Query};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::model::Model;
use crate::query::constraint;
use crate::registry;

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub is_superuser: bool,
    pub is_staff: bool,
    pub is_active: bool,
}

#[derive(Debug, Clone)]
struct Grant {
    content_types: Vec<i64>,
    actions: Vec<String>,
    constraints: Json,
}

/// The permissions of one user, read once per request.
#[derive(Debug, Clone, Default)]
pub struct Perms {
    superuser: bool,
    /// `LOGIN_REQUIRED=false`: everyone may view everything but accounts.
    view_all: bool,
    grants: Vec<Grant>,
}

impl Perms {
    pub fn superuser() -> Perms {
        Perms { superuser: true, view_all: false, grants: vec![] }
    }

    pub fn read_everything() -> Perms {
        Perms { view_all: true, ..Perms::default() }
    }

    pub fn with_read_everything(mut self) -> Perms {
        self.view_all = true;
        self
    }

    fn viewable_by_all(&self, model: &'static Model, action: &str) -> bool {
        self.view_all && action == "view" && model.app != "users"
    }

    pub fn none() -> Perms {
        Perms::default()
    }

    pub fn is_superuser(&self) -> bool {
        self.superuser
    }

    fn matching(&self, model: &'static Model, action: &str) -> impl Iterator<Item = &Grant> {
        let ct = registry::ct_id(model);
        self.grants.iter().filter(move |g| g.content_types.contains(&ct) && g.actions.iter().any(|a| a == action))
    }

    /// Whether the action is allowed on at least some objects of the model.
    pub fn allows(&self, model: &'static Model, action: &str) -> bool {
        self.superuser || self.viewable_by_all(model, action) || self.matching(model, action).next().is_some()
    }

    /// The rows the action may touch: `None` when none at all. Rows of a
    /// model whose content-type field `gates_view` also need their object to
    /// be viewable (or no object at all).
    pub fn scope(&self, model: &'static Model, action: &str) -> Option<Condition> {
        let own = self.own_scope(model, action)?;
        if self.superuser {
            return Some(own);
        }
        let Some((type_col, id_col)) = model.fields.iter().find_map(|f| Some((f.column()?, f.gates_view?))) else {
            return Some(own);
        };
        let (type_col, id_col) = (Expr::col((model.table, type_col)), Expr::col((model.table, id_col)));
        let mut visible = Condition::any().add(type_col.clone().is_null()).add(id_col.clone().is_null());
        let mut unconstrained = vec![];
        for target in registry::MODELS {
            match self.own_scope(target, "view") {
                None => {}
                Some(c) if c.is_empty() => unconstrained.push(registry::ct_id(target)),
                Some(c) => {
                    let ids = Query::select().column((target.table, "id")).from(target.table).cond_where(c).to_owned();
                    visible = visible.add(
                        Condition::all()
                            .add(type_col.clone().eq(registry::ct_id(target)))
                            .add(id_col.clone().in_subquery(ids)),
                    );
                }
            }
        }
        if !unconstrained.is_empty() {
            visible = visible.add(type_col.is_in(unconstrained));
        }
        Some(Condition::all().add(own).add(visible))
    }

    /// `scope` without the object gate.
    fn own_scope(&self, model: &'static Model, action: &str) -> Option<Condition> {
        if self.superuser || self.viewable_by_all(model, action) {
            return Some(Condition::all());
        }
        let mut any = Condition::any();
        let mut found = false;
        for g in self.matching(model, action) {
            found = true;
            match constraint::condition(model, &g.constraints) {
                Ok(c) if c.is_empty() => return Some(Condition::all()),
                Ok(c) => any = any.add(c),
                // A constraint that cannot be read grants nothing.
                Err(e) => tracing::warn!("ignoring unreadable permission constraint: {e}"),
            }
        }
        (found && !any.is_empty()).then_some(any)
    }
}

/// The object, when the action is allowed on it: a 404 when the caller may
/// not even view it (it does not exist for them), a 403 when they may view
/// but not act (custom actions check the right their effect needs).
pub async fn object_for<C: ConnectionTrait>(
    db: &C,
    perms: &Perms,
    model: &'static Model,
    id: i64,
    action: &str,
) -> AppResult<crate::object::Obj> {
    let view = perms.scope(model, "view").ok_or_else(crate::error::permission_denied)?;
    let obj = crate::load::get(db, model, id, view).await?.ok_or_else(|| crate::error::not_found(model))?;
    if action == "view" {
        return Ok(obj);
    }
    let scope = perms.scope(model, action).ok_or_else(crate::error::permission_denied)?;
    crate::load::get(db, model, id, scope).await?.ok_or_else(crate::error::permission_denied)
}

pub fn hash_password(password: &str) -> String {
    Argon2::default().hash_password(password.as_bytes()).expect("argon2 hash").to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    match argon2::password_hash::phc::PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Tokens carry 160 random bits, so a fast digest is enough to store them
/// safely and keeps authentication cheap on every API call.
pub fn token_digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub fn new_token_key() -> String {
    let bytes: [u8; 20] = rand::random();
    hex::encode(bytes)
}

fn user_from_row(r: &sea_orm::QueryResult, offset: usize) -> AppResult<User> {
    Ok(User {
        id: r.try_get_by_index(offset)?,
        username: r.try_get_by_index(offset + 1)?,
        is_superuser: r.try_get_by_index(offset + 2)?,
        is_staff: r.try_get_by_index(offset + 3)?,
        is_active: r.try_get_by_index(offset + 4)?,
    })
}

const USER_COLS: [&str; 5] = ["id", "username", "is_superuser", "is_staff", "is_active"];

pub async fn user_by_id<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<User>> {
    let q = Query::select().columns(USER_COLS).from("auth_user").and_where(Expr::col("id").eq(id)).to_owned();
    db.query_one(&q).await?.map(|r| user_from_row(&r, 0)).transpose()
}

/// A user and their password hash, read for a login attempt.
pub struct Candidate {
    user: Option<(User, String)>,
}

/// The account a login names (`user` is None when there is no such user).
pub async fn login_candidate<C: ConnectionTrait>(db: &C, username: &str) -> AppResult<Candidate> {
    let q = Query::select()
        .columns(USER_COLS)
        .column("password")
        .from("auth_user")
        .and_where(Expr::col("username").eq(username))
        .to_owned();
    let Some(r) = db.query_one(&q).await? else { return Ok(Candidate { user: None }) };
    let user = user_from_row(&r, 0)?;
    let hash: String = r.try_get_by_index(5)?;
    Ok(Candidate { user: Some((user, hash)) })
}

impl Candidate {
    /// Check the password (CPU-heavy: run it off the async workers). Unknown
    /// users cost the same argon2 work as known ones, so timing does not
    /// tell which usernames exist.
    pub fn check(self, password: &str) -> Option<User> {
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        match self.user {
            Some((user, hash)) => (verify_password(password, &hash) && user.is_active).then_some(user),
            None => {
                let dummy = DUMMY.get_or_init(|| hash_password(&crate::session::random_token()));
                let _ = verify_password(password, dummy);
                None
            }
        }
    }
}

/// Username/password login; `None` when either is wrong or the user is inactive.
pub async fn login<C: ConnectionTrait>(db: &C, username: &str, password: &str) -> AppResult<Option<User>> {
    Ok(login_candidate(db, username).await?.check(password))
}

#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: i64,
    pub write_enabled: bool,
}

/// Validate `Authorization: Token <key>` for a client address (spec §5.2).
pub async fn authenticate_token<C: ConnectionTrait>(
    db: &C,
    key: &str,
    client_ip: Option<std::net::IpAddr>,
) -> AppResult<(User, TokenInfo)> {
    let q = Query::select()
        .columns([
            ("users_token", "id"),
            ("users_token", "expires"),
            ("users_token", "write_enabled"),
            ("users_token", "allowed_ips"),
            ("users_token", "last_used"),
        ])
        .columns(USER_COLS.map(|c| ("auth_user", c)))
        .from("users_token")
        .inner_join("auth_user", Expr::col(("auth_user", "id")).equals(("users_token", "user_id")))
        .and_where(Expr::col(("users_token", "key_digest")).eq(token_digest(key)))
        .to_owned();
    let fail = |m: &str| AppError::Unauthenticated(m.to_string());
    let r = db.query_one(&q).await?.ok_or_else(|| fail("Invalid token"))?;
    let id: i64 = r.try_get_by_index(0)?;
    let expires: Option<DateTime<Utc>> = r.try_get_by_index(1)?;
    let write_enabled: bool = r.try_get_by_index(2)?;
    let allowed: Option<String> = r.try_get_by_index(3)?;
    let last_used: Option<DateTime<Utc>> = r.try_get_by_index(4)?;
    let user = user_from_row(&r, 5)?;
    let now = Utc::now();
    if expires.is_some_and(|e| now >= e) {
        return Err(fail("Token expired"));
    }
    if !user.is_active {
        return Err(fail("User inactive"));
    }
    let nets: Vec<String> = allowed.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    if !nets.is_empty() {
        let ip = client_ip.ok_or_else(|| {
            AppError::PermissionDenied(
                "Client IP address could not be determined for validation. Check that the HTTP server is correctly configured to pass the required header(s).".into(),
            )
        })?;
        let ok = nets.iter().filter_map(|n| n.parse::<ipnet::IpNet>().ok()).any(|n| n.contains(&ip));
        if !ok {
            return Err(AppError::PermissionDenied(format!(
                "Source IP {ip} is not permitted to authenticate using this token."
            )));
        }
    }
    if last_used.is_none_or(|t| (now - t).num_seconds() > 60) {
        let u =
            Query::update().table("users_token").value("last_used", now).and_where(Expr::col("id").eq(id)).to_owned();
        db.execute(&u).await?;
    }
    Ok((user, TokenInfo { id, write_enabled }))
}

/// Permissions granted to the user directly or through groups.
pub async fn load_perms<C: ConnectionTrait>(db: &C, user: &User) -> AppResult<Perms> {
    if user.is_superuser {
        return Ok(Perms::superuser());
    }
    let by_user = Query::select()
        .column("objectpermission_id")
        .from("users_objectpermission_users")
        .and_where(Expr::col("user_id").eq(user.id))
        .to_owned();
    let groups = Query::select()
        .column("group_id")
        .from("auth_user_groups")
        .and_where(Expr::col("user_id").eq(user.id))
        .to_owned();
    let by_group = Query::select()
        .column("objectpermission_id")
        .from("users_objectpermission_groups")
        .and_where(Expr::col("group_id").in_subquery(groups))
        .to_owned();
    let q = Query::select()
        .columns(["id", "actions", "constraints"])
        .from("users_objectpermission")
        .and_where(Expr::col("enabled").eq(true))
        .cond_where(
            Condition::any().add(Expr::col("id").in_subquery(by_user)).add(Expr::col("id").in_subquery(by_group)),
        )
        .to_owned();
    let rows = db.query_all(&q).await?;
    let mut grants = Vec::new();
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.try_get_by_index(0).ok()).collect();
    let cts_q = Query::select()
        .columns(["objectpermission_id", "contenttype_id"])
        .from("users_objectpermission_object_types")
        .and_where(Expr::col("objectpermission_id").is_in(ids))
        .to_owned();
    let cts = db.query_all(&cts_q).await?;
    for r in rows {
        let id: i64 = r.try_get_by_index(0)?;
        let actions: String = r.try_get_by_index(1)?;
        let constraints: Option<String> = r.try_get_by_index(2)?;
        grants.push(Grant {
            content_types: cts
                .iter()
                .filter(|c| c.try_get_by_index::<i64>(0).ok() == Some(id))
                .filter_map(|c| c.try_get_by_index(1).ok())
                .collect(),
            actions: serde_json::from_str(&actions).unwrap_or_default(),
            constraints: constraints.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or(Json::Null),
        });
    }
    Ok(Perms { superuser: false, view_all: false, grants })
}

pub async fn user_count<C: ConnectionTrait>(db: &C) -> AppResult<i64> {
    crate::load::count(db, &crate::models::users::USER, Condition::all()).await
}

pub async fn user_id_by_name<C: ConnectionTrait>(db: &C, username: &str) -> AppResult<Option<i64>> {
    let q = Query::select().column("id").from("auth_user").and_where(Expr::col("username").eq(username)).to_owned();
    Ok(db.query_one(&q).await?.and_then(|r| r.try_get_by_index(0).ok()))
}

/// Create a user directly (CLI, first start). Returns its id.
pub async fn create_user<C: ConnectionTrait>(
    db: &C,
    username: &str,
    email: &str,
    password: &str,
    superuser: bool,
) -> AppResult<i64> {
    let now = Utc::now();
    let q = Query::insert()
        .into_table("auth_user")
        .columns([
            "username",
            "password",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "is_superuser",
            "date_joined",
        ])
        .values_panic([
            username.into(),
            hash_password(password).into(),
            "".into(),
            "".into(),
            email.into(),
            superuser.into(),
            true.into(),
            superuser.into(),
            now.into(),
        ])
        .returning_col("id")
        .to_owned();
    let r = db.query_one(&q).await?.ok_or_else(|| anyhow::anyhow!("insert returned nothing"))?;
    Ok(r.try_get_by_index(0)?)
}

/// Create a token; the clear key is returned once and never stored.
pub async fn create_token<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    write_enabled: bool,
    expires: Option<DateTime<Utc>>,
    description: &str,
    allowed_ips: Option<Vec<String>>,
) -> AppResult<String> {
    let key = new_token_key();
    let q = Query::insert()
        .into_table("users_token")
        .columns([
            "user_id",
            "created",
            "expires",
            "key_digest",
            "key_suffix",
            "write_enabled",
            "description",
            "allowed_ips",
        ])
        .values_panic([
            user_id.into(),
            Utc::now().into(),
            expires.into(),
            token_digest(&key).into(),
            key[key.len() - 4..].to_string().into(),
            write_enabled.into(),
            description.into(),
            allowed_ips.map(|a| Json::from(a).to_string()).into(),
        ])
        .to_owned();
    db.execute(&q).await?;
    Ok(key)
}
