//! Model rules that field types cannot express (spec §4), run after the
//! input parsed cleanly and before uniqueness checks.

use futures::future::BoxFuture;
use sea_query::{Condition, Expr, ExprTrait};

use crate::error::AppResult;
use crate::models::{devices, net, peering};
use crate::object::Val;
use crate::write::{DynConn, Pending};

pub type CleanFn = for<'a> fn(&'a dyn DynConn, &'a mut Pending) -> BoxFuture<'a, AppResult<()>>;

#[derive(Debug, Clone, Copy)]
pub struct Hooks {
    pub clean: Option<CleanFn>,
}

impl Hooks {
    pub const NONE: Hooks = Hooks { clean: None };
}

async fn one(
    db: &dyn DynConn,
    model: &'static crate::model::Model,
    id: Option<i64>,
) -> AppResult<Option<crate::object::Obj>> {
    let Some(id) = id else { return Ok(None) };
    Ok(db.fetch(model, Condition::all().add(Expr::col("id").eq(id))).await?.pop())
}

/// Every routing policy must fit the session's address family.
async fn check_policy_families(db: &dyn DynConn, p: &mut Pending) -> AppResult<()> {
    let Some(version) = pm_domain::net::ip_version(p.obj.text("ip_address")) else { return Ok(()) };
    for field in ["import_routing_policies", "export_routing_policies"] {
        let Some(ids) = p.m2m.get(field) else { continue };
        let cond = Condition::all().add(Expr::col("id").is_in(ids.clone()));
        for policy in db.fetch(&peering::ROUTING_POLICY, cond).await? {
            let af = policy.int("address_family").unwrap_or(0);
            if af != 0 && af != version as i64 {
                p.errors.add(
                    field,
                    format!(
                        "Routing policy '{}' cannot be used for this session, address families mismatch.",
                        policy.text("name")
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Keep `encrypted_password` in step with `password` for routers that ask
/// for it, in the router platform's cipher (spec §3.7).
async fn encrypt_password(db: &dyn DynConn, p: &mut Pending, router_id: Option<i64>, key: String) -> AppResult<()> {
    let Some(router) = one(db, &devices::ROUTER, router_id).await? else { return Ok(()) };
    let Some(platform) = one(db, &devices::PLATFORM, router.int("platform")).await? else { return Ok(()) };
    let algorithm = pm_domain::crypto::PasswordAlgorithm::from_value(platform.text("password_algorithm"));
    let password = p.obj.get("password").as_str().map(str::to_string);
    let encrypted = p.obj.get("encrypted_password").as_str().map(str::to_string);
    let new = pm_domain::crypto::session_encrypted_password(
        algorithm,
        router.bool("encrypt_passwords"),
        &key,
        password.as_deref(),
        encrypted.as_deref(),
    );
    p.obj.set("encrypted_password", new.map(Val::Text).unwrap_or(Val::Null));
    Ok(())
}

pub fn direct_session<'a>(db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        let ip = p.obj.text("ip_address").to_string();
        let local = p.obj.get("local_ip_address").as_str().map(str::to_string);
        let ttl = p.obj.int("multihop_ttl").unwrap_or(1);
        for (field, msg) in pm_domain::net::check_direct_session_addresses(&ip, local.as_deref(), ttl) {
            p.errors.add(field, msg);
        }
        check_policy_families(db, p).await?;
        if p.errors.is_empty() {
            // Peering Manager keys direct-session ciphers with the address *and* its length.
            encrypt_password(db, p, p.obj.int("router"), ip).await?;
        }
        Ok(())
    })
}

pub fn ixp_session<'a>(db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        check_policy_families(db, p).await?;
        if p.errors.is_empty() {
            let connection = one(db, &net::CONNECTION, p.obj.int("ixp_connection")).await?;
            let router = connection.and_then(|c| c.int("router"));
            let key = p.obj.text("ip_address").to_string();
            encrypt_password(db, p, router, key).await?;
        }
        Ok(())
    })
}

pub fn community<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        if p.validate_community && pm_domain::community::kind_of(p.obj.text("value")).is_none() {
            p.errors.add("value", pm_domain::community::INVALID_COMMUNITY);
        }
        Ok(())
    })
}

pub fn colour<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        let c = p.obj.text("color").to_string();
        if !pm_domain::text::is_valid_colour(&c) {
            p.errors.add("color", "Enter a valid hexadecimal RGB colour code.");
        }
        Ok(())
    })
}

pub fn connection<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        for (field, version) in [("ipv6_address", 6u8), ("ipv4_address", 4u8)] {
            if let Some(ip) = p.obj.get(field).as_str()
                && pm_domain::net::ip_version(ip) != Some(version)
            {
                p.errors.add(field, format!("Enter a valid IPv{version} address."));
            }
        }
        Ok(())
    })
}

pub fn router<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        if !p.obj.bool("poll_bgp_sessions_state") {
            p.obj.set("poll_bgp_sessions_last_updated", Val::Null);
        }
        Ok(())
    })
}

pub fn contact<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        let email = p.obj.text("email").to_string();
        if !email.is_empty() && !pm_domain::text::is_valid_email(&email) {
            p.errors.add("email", "Enter a valid email address.");
        }
        Ok(())
    })
}

/// Generic relations must point at an object that exists.
pub fn generic_target<'a>(db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        let (ct, id) = (p.obj.int("content_type"), p.obj.int("object_id"));
        if let (Some(ct), Some(id)) = (ct, id) {
            let target = crate::registry::by_ct_id(ct).expect("valid content type");
            if one(db, target, Some(id)).await?.is_none() {
                p.errors.add("object_id", format!("Related object not found using the provided value: {id}."));
            }
        }
        Ok(())
    })
}

pub fn export_template<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        if p.obj.text("name").eq_ignore_ascii_case("table") {
            p.errors.add("name", "\"table\" is a reserved name. Please choose a different name.");
        }
        Ok(())
    })
}

pub fn journal_entry<'a>(db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        let (ct, id) = (p.obj.int("assigned_object_type"), p.obj.int("assigned_object_id"));
        if let (Some(ct), Some(id)) = (ct, id) {
            let target = crate::registry::by_ct_id(ct).expect("valid content type");
            if one(db, target, Some(id)).await?.is_none() {
                p.errors.add("assigned_object_id", format!("Invalid assigned_object: {} ID {id}", target.label()));
            }
        }
        if p.old.is_none() && !p.is_given("created_by") {
            p.obj.set("created_by", p.user_id.map(Val::Int).unwrap_or(Val::Null));
        }
        Ok(())
    })
}

/// Passwords are hashed whenever they are set (the original stores clear
/// text on update; we never do).
pub fn user<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        if p.is_given("password") {
            let pw = p.obj.text("password").to_string();
            if pw.chars().count() < 8 {
                p.errors.add("password", "This password is too short. It must contain at least 8 characters.");
            } else if pw.chars().all(|c| c.is_ascii_digit()) {
                p.errors.add("password", "This password is entirely numeric.");
            } else {
                p.obj.set("password", Val::Text(crate::auth::hash_password(&pw)));
            }
        }
        Ok(())
    })
}

pub fn object_permission<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        let actions = match p.obj.get("actions") {
            Val::Json(serde_json::Value::Array(a)) => a.clone(),
            _ => vec![],
        };
        if actions.is_empty() {
            p.errors.add("actions", "At least one action must be selected.");
        }
        if let Val::Json(c) = p.obj.get("constraints").clone()
            && let Some(types) = p.m2m.get("object_types")
        {
            for ct in types {
                let model = crate::registry::by_ct_id(*ct).expect("valid content type");
                if let Err(e) = crate::query::constraint::condition(model, &c) {
                    p.errors.add("constraints", format!("Invalid constraints for {}: {e}", model.label()));
                }
            }
        }
        Ok(())
    })
}

/// Hidden peers remember the ids they point at, so a cache flush (which
/// nulls the foreign keys) does not forget which peer was hidden where.
pub fn hidden_peer<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        for (fk, copy) in
            [("peeringdb_network", "peeringdb_network_id_copy"), ("peeringdb_ixlan", "peeringdb_ixlan_id_copy")]
        {
            if let Some(id) = p.obj.int(fk) {
                p.obj.set(copy, Val::Int(id));
            }
        }
        Ok(())
    })
}
