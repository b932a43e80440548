//! Creating, updating and deleting any model: input parsing and validation
//! (errors name the field), model rules (hooks), permission constraints,
//! and the change-log record, all in the caller's transaction.

use std::collections::{HashMap, HashSet};

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use sea_query::{Condition, Expr, ExprTrait, Query};
use serde_json::{Map, Value as Json};

use crate::auth::Perms;
use crate::changelog;
use crate::error::{AppError, AppResult, FieldErrors, not_found};
use crate::load;
use crate::model::{Field, Init, Kind, Model, OnDelete};
use crate::object::{Obj, Val};
use crate::query::constraint;
use crate::registry;

/// Who makes a change, for permissions and the change log.
pub struct Actor<'a> {
    pub user_id: Option<i64>,
    pub user_name: String,
    pub request_id: uuid::Uuid,
    pub perms: &'a Perms,
    pub settings: &'a crate::Settings,
}

impl<'a> Actor<'a> {
    /// Machine writes (polling, synchronisation, the demo): every permission,
    /// no user, and still recorded in the change log under `name`.
    pub fn system(name: &str, settings: &'a crate::Settings) -> Actor<'a> {
        static PERMS: std::sync::LazyLock<Perms> = std::sync::LazyLock::new(Perms::superuser);
        Actor { user_id: None, user_name: name.into(), request_id: uuid::Uuid::new_v4(), perms: &PERMS, settings }
    }
}

/// A row about to be written, with the relations given in the input.
pub struct Pending {
    pub model: &'static Model,
    pub obj: Obj,
    pub old: Option<Obj>,
    /// M2M fields present in the input → target ids.
    pub m2m: HashMap<&'static str, Vec<i64>>,
    /// Tags present in the input.
    pub tags: Option<Vec<i64>>,
    /// Input keys that were given.
    pub given: HashSet<&'static str>,
    pub errors: FieldErrors,
    pub user_id: Option<i64>,
    pub validate_community: bool,
}

impl Pending {
    pub fn is_given(&self, name: &str) -> bool {
        self.given.contains(name)
    }
}

fn type_error(f: &Field) -> String {
    match f.kind {
        Kind::Int { .. } | Kind::IntChoice(_) | Kind::Id => "A valid integer is required.".into(),
        Kind::Bool => "Must be a valid boolean.".into(),
        Kind::DateTime => {
            "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].".into()
        }
        _ => "Not a valid string.".into(),
    }
}

fn as_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.trim().to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_int(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::String(s) => crate::query::filter::parse_bool(s),
        Json::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Resolve a related-object reference: an id, a numeric string, or a
/// dictionary of attributes (spec §5.4). Only objects the user may view are
/// found, and a dictionary may name only attributes that identify one object
/// (see [`natural_key`]): a reference is not a search, so it cannot be used to
/// probe hidden objects or secret fields one guessed prefix at a time.
async fn resolve_fk<C: ConnectionTrait>(
    db: &C,
    perms: &Perms,
    target: &'static Model,
    v: &Json,
) -> Result<i64, String> {
    let scope = perms.scope(target, "view");
    if let Some(id) = match v {
        Json::Number(_) => as_int(v),
        Json::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    } {
        let found = match scope {
            Some(scope) => matches!(load::get(db, target, id, scope).await, Ok(Some(_))),
            None => false,
        };
        return if found {
            Ok(id)
        } else {
            Err(format!("Related object not found using the provided numeric ID: {id}"))
        };
    }
    let Json::Object(attrs) = v else {
        return Err(format!(
            "Related objects must be referenced by numeric ID or by dictionary of attributes. Received an unrecognized value: {v}"
        ));
    };
    let mut flat = Map::new();
    flatten("", attrs, &mut flat);
    if let Some(key) = flat.keys().find(|k| !natural_key(target, k)) {
        return Err(format!(
            "Related objects are referenced by ID or by attributes that identify one {} (unique fields); \"{key}\" is not one.",
            target.verbose
        ));
    }
    let not_found = || format!("Related object not found using the provided attributes: {v}");
    let (Some(scope), false) = (scope, flat.is_empty()) else { return Err(not_found()) };
    let cond = constraint::condition(target, &Json::Object(flat.clone())).map_err(|_| not_found())?.add(scope);
    let found = load::fetch(db, target, cond, &[("id", false)], Some(2), 0).await.map_err(|e| e.to_string())?;
    match found.len() {
        1 => Ok(found[0].id),
        0 => Err(not_found()),
        _ => Err(format!("Multiple objects match the provided attributes: {v}")),
    }
}

/// Whether a (flattened) reference key names an attribute that identifies an
/// object of `model`: its id, a unique field or a column of a unique-together
/// set, possibly through a foreign key that is itself such an attribute
/// (`ixp_connection__id`). Never a secret field, never a lookup suffix.
fn natural_key(model: &'static Model, key: &str) -> bool {
    let (head, rest) = match key.split_once("__") {
        Some((h, r)) => (h, Some(r)),
        None => (key, None),
    };
    let Some(f) = model.fields.iter().find(|f| f.name == head || f.column() == Some(head)) else { return false };
    let in_unique_together =
        model.unique_together.iter().any(|(cols, _)| cols.iter().any(|c| *c == f.name || Some(*c) == f.column()));
    let identifying = matches!(f.kind, Kind::Id) || f.unique.is_some() || in_unique_together;
    if f.secret || !identifying {
        return false;
    }
    match (rest, f.kind) {
        (None, _) => true,
        (Some(rest), Kind::Fk { to, .. }) => registry::model(to).is_some_and(|m| natural_key(m, rest)),
        _ => false,
    }
}

fn flatten(prefix: &str, m: &Map<String, Json>, out: &mut Map<String, Json>) {
    for (k, v) in m {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}__{k}") };
        match v {
            Json::Object(inner) => flatten(&key, inner, out),
            _ => {
                out.insert(key, v.clone());
            }
        }
    }
}

async fn resolve_ids<C: ConnectionTrait>(
    db: &C,
    perms: &Perms,
    target: &'static Model,
    v: &Json,
) -> Result<Vec<i64>, String> {
    let Json::Array(items) = v else {
        return Err(format!("Expected a list of items but got type \"{}\".", json_type(v)));
    };
    let mut out = Vec::new();
    for item in items {
        let id = match item {
            Json::Object(_) => resolve_fk(db, perms, target, item).await?,
            _ => {
                let id = as_int(item)
                    .ok_or_else(|| format!("Incorrect type. Expected pk value, received {}.", json_type(item)))?;
                let visible = match perms.scope(target, "view") {
                    Some(scope) => load::get(db, target, id, scope).await.ok().flatten().is_some(),
                    None => false,
                };
                if !visible {
                    return Err(format!("Invalid pk \"{id}\" - object does not exist."));
                }
                id
            }
        };
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "int",
        Json::String(_) => "str",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
    }
}

fn content_type_id(v: &Json) -> Result<i64, String> {
    let s =
        v.as_str().ok_or_else(|| "Invalid value. Specify a content type as '<app_label>.<model_name>'.".to_string())?;
    registry::model(s.trim()).map(registry::ct_id).ok_or_else(|| format!("Invalid content type: {s}"))
}

/// Parse one input value for a field into a stored value.
async fn parse_field<C: ConnectionTrait>(db: &C, perms: &Perms, f: &'static Field, v: &Json) -> Result<Val, String> {
    if v.is_null() {
        return if f.null || matches!(f.kind, Kind::Json { .. }) && !f.required {
            Ok(Val::Null)
        } else {
            Err("This field may not be null.".into())
        };
    }
    Ok(match f.kind {
        Kind::Text { max } => {
            let s = as_text(v).ok_or_else(|| type_error(f))?;
            if s.is_empty() && f.required {
                return Err("This field may not be blank.".into());
            }
            if s.chars().count() > max {
                return Err(format!("Ensure this field has no more than {max} characters."));
            }
            if f.name == "slug" && !s.is_empty() && !pm_domain::text::is_valid_slug(&s) {
                return Err("Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens.".into());
            }
            // Django keeps a blank string sent for a nullable text field (`""`, not
            // None): only an omitted field is null (see `Field::null`).
            Val::Text(s)
        }
        Kind::LongText => {
            let s = as_text(v).ok_or_else(|| type_error(f))?;
            if s.is_empty() && f.required {
                return Err("This field may not be blank.".into());
            }
            Val::Text(s)
        }
        Kind::Int { min, max } => {
            let i = as_int(v).ok_or_else(|| type_error(f))?;
            if i < min {
                return Err(format!("Ensure this value is greater than or equal to {min}."));
            }
            if i > max {
                return Err(format!("Ensure this value is less than or equal to {max}."));
            }
            Val::Int(i)
        }
        Kind::Float => Val::Float(v.as_f64().ok_or_else(|| type_error(f))?),
        Kind::Bool => Val::Bool(as_bool(v).ok_or_else(|| type_error(f))?),
        Kind::Choice(choices) => {
            if matches!(v, Json::Array(_) | Json::Object(_)) {
                return Err(
                    "Value must be passed directly (e.g. \"foo\": 123); do not use a dictionary or list.".into()
                );
            }
            let s = as_text(v).ok_or_else(|| type_error(f))?;
            if s.is_empty() && (f.null || matches!(f.default, Init::Text(""))) {
                return Ok(if f.null { Val::Null } else { Val::Text(s) });
            }
            if !choices.iter().any(|c| c.value == s) {
                return Err(format!("\"{s}\" is not a valid choice."));
            }
            Val::Text(s)
        }
        Kind::IntChoice(choices) => {
            let i = as_int(v)
                .ok_or_else(|| format!("\"{}\" is not a valid choice.", v.as_str().unwrap_or(&v.to_string())))?;
            if !choices.iter().any(|(c, _)| *c == i) {
                return Err(format!("\"{i}\" is not a valid choice."));
            }
            Val::Int(i)
        }
        Kind::Inet { prefix } => {
            let s = as_text(v).ok_or_else(|| type_error(f))?;
            if s.is_empty() && f.null {
                return Ok(Val::Null);
            }
            let parsed =
                if prefix { pm_domain::net::parse_inet_with_prefix(&s) } else { pm_domain::net::parse_inet_host(&s) };
            Val::Text(parsed?)
        }
        Kind::Mac => {
            let s = as_text(v).ok_or_else(|| type_error(f))?;
            if s.is_empty() && f.null {
                return Ok(Val::Null);
            }
            Val::Text(pm_domain::net::parse_mac(&s)?)
        }
        Kind::Json { object } => {
            if object && !v.is_object() {
                return Err("JSON data must be in object form. Example: {\"foo\": 123}".into());
            }
            Val::Json(v.clone())
        }
        Kind::IntList => {
            let items = v.as_array().ok_or("Expected a list of items.")?;
            Val::Json(Json::Array(
                items
                    .iter()
                    .map(|i| as_int(i).map(Json::from).ok_or("A valid integer is required."))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Kind::CidrList => {
            let items: Vec<Json> = match v {
                Json::Array(a) => a.clone(),
                Json::String(s) => s.split(',').map(|x| Json::String(x.trim().into())).filter(|x| x != "").collect(),
                _ => return Err("Expected a list of items.".into()),
            };
            let mut out = Vec::new();
            for i in items {
                let s = i.as_str().ok_or("Enter a valid IPv4 or IPv6 network.")?;
                let net: ipnet::IpNet = s
                    .trim()
                    .parse()
                    .or_else(|_| s.trim().parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("{s} is not a valid IPv4 or IPv6 network."))?;
                out.push(Json::String(net.trunc().to_string()));
            }
            Val::Json(Json::Array(out))
        }
        Kind::MultiChoice => {
            let items = v.as_array().ok_or("Expected a list of items.")?;
            let parts: Vec<&str> =
                items.iter().map(|i| i.as_str().ok_or("Not a valid string.")).collect::<Result<_, _>>()?;
            Val::Text(parts.join(","))
        }
        Kind::StrList => {
            let items = v.as_array().ok_or("Expected a list of items.")?;
            Val::Json(Json::Array(
                items
                    .iter()
                    .map(|i| i.as_str().map(|s| Json::String(s.trim().to_string())).ok_or("Not a valid string."))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Kind::DateTime => {
            let s = v.as_str().ok_or_else(|| type_error(f))?;
            Val::Time(crate::query::filter::parse_datetime(s).ok_or_else(|| type_error(f))?)
        }
        Kind::Uuid => {
            let s = v.as_str().ok_or_else(|| type_error(f))?;
            Val::Text(uuid::Uuid::parse_str(s.trim()).map_err(|_| "Must be a valid UUID.")?.to_string())
        }
        Kind::Fk { to, .. } => Val::Int(resolve_fk(db, perms, registry::model(to).unwrap(), v).await?),
        Kind::ContentType => Val::Int(content_type_id(v)?),
        Kind::Id | Kind::M2m { .. } | Kind::ContentTypes { .. } | Kind::Tags | Kind::Computed(_) => unreachable!(),
    })
}

/// Build the row an input describes: over `old` for updates (PUT and PATCH
/// keep absent fields), over defaults for creates. Problems go to `errors`.
pub async fn prepare<C: ConnectionTrait>(
    db: &C,
    model: &'static Model,
    input: &Json,
    old: Option<Obj>,
    actor: &Actor<'_>,
) -> AppResult<Pending> {
    let creating = old.is_none();
    let mut p = Pending {
        model,
        obj: old.clone().unwrap_or_else(|| Obj::new(model)),
        old,
        m2m: HashMap::new(),
        tags: None,
        given: HashSet::new(),
        errors: FieldErrors::new(),
        user_id: actor.user_id,
        validate_community: actor.settings.validate_bgp_community,
    };
    let Json::Object(map) = input else {
        p.errors.add("non_field_errors", format!("Invalid data. Expected a dictionary, but got {}.", json_type(input)));
        return Ok(p);
    };
    for f in model.fields {
        if !f.api || !f.writable() {
            continue;
        }
        let Some(v) = map.get(f.name) else {
            if creating && (f.required || f.key_required) {
                p.errors.add(f.name, "This field is required.");
            }
            continue;
        };
        p.given.insert(f.name);
        match f.kind {
            Kind::M2m { to, .. } => match resolve_ids(db, actor.perms, registry::model(to).unwrap(), v).await {
                Ok(ids) => {
                    p.m2m.insert(f.name, ids);
                }
                Err(e) => p.errors.add(f.name, e),
            },
            Kind::ContentTypes { .. } => {
                let ids: Result<Vec<i64>, String> = match v {
                    Json::Array(items) => items.iter().map(content_type_id).collect(),
                    _ => Err("Expected a list of items.".into()),
                };
                match ids {
                    Ok(ids) if ids.is_empty() && f.required => p.errors.add(f.name, "This list may not be empty."),
                    Ok(ids) => {
                        p.m2m.insert(f.name, ids);
                    }
                    Err(e) => p.errors.add(f.name, e),
                }
            }
            Kind::Tags => match resolve_ids(db, actor.perms, registry::model("extras.tag").unwrap(), v).await {
                Ok(ids) => p.tags = Some(ids),
                Err(e) => p.errors.add(f.name, e),
            },
            _ => match parse_field(db, actor.perms, f, v).await {
                Ok(val) => p.obj.set(f.name, val),
                Err(e) => p.errors.add(f.name, e),
            },
        }
    }
    if let Some(clean) = model.hooks.clean
        && p.errors.is_empty()
    {
        clean(db_dyn(db), &mut p).await?;
    }
    if p.errors.is_empty() {
        check_unique(db, &mut p).await?;
    }
    Ok(p)
}

/// Hooks take a trait object so they stay plain `fn` pointers.
fn db_dyn<C: ConnectionTrait>(db: &C) -> &dyn DynConn {
    db
}

/// Object-safe subset of `ConnectionTrait` used by hooks.
#[async_trait::async_trait]
pub trait DynConn: Sync {
    async fn fetch(&self, model: &'static Model, cond: Condition) -> AppResult<Vec<Obj>>;
}

#[async_trait::async_trait]
impl<C: ConnectionTrait> DynConn for C {
    async fn fetch(&self, model: &'static Model, cond: Condition) -> AppResult<Vec<Obj>> {
        load::fetch(self, model, cond, &[("id", false)], None, 0).await
    }
}

async fn check_unique<C: ConnectionTrait>(db: &C, p: &mut Pending) -> AppResult<()> {
    let model = p.model;
    let others = || Condition::all().add(Expr::col("id").ne(p.obj.id));
    for f in model.columns() {
        let Some(msg) = f.unique else { continue };
        let v = p.obj.get(f.name);
        if v.is_null() || p.old.as_ref().is_some_and(|o| o.get(f.name) == v) {
            continue;
        }
        let cond = others().add(Expr::col(f.column().unwrap()).eq(v.to_sql(&f.kind)));
        if load::count(db, model, cond).await? > 0 {
            p.errors.add(f.name, msg);
        }
    }
    for (cols, msg) in model.unique_together {
        let mut cond = others();
        let mut any_null = false;
        for c in *cols {
            let f = model.columns().find(|f| f.column() == Some(*c)).unwrap();
            let v = p.obj.get(c);
            any_null |= v.is_null();
            cond = cond.add(Expr::col(*c).eq(v.to_sql(&f.kind)));
        }
        if !any_null && load::count(db, model, cond).await? > 0 {
            p.errors.add("non_field_errors", *msg);
        }
    }
    Ok(())
}

fn row_values(obj: &Obj) -> Vec<(&'static str, sea_query::Value)> {
    obj.model
        .columns()
        .filter(|f| !matches!(f.kind, Kind::Id))
        .map(|f| (f.column().unwrap(), obj.get(f.name).to_sql(&f.kind)))
        .collect()
}

async fn write_relations(txn: &DatabaseTransaction, p: &Pending) -> AppResult<()> {
    let id = p.obj.id;
    for (name, ids) in &p.m2m {
        let f = p.model.field(name).unwrap();
        let (table, src, dst) = match f.kind {
            Kind::M2m { table, src, dst, .. } | Kind::ContentTypes { table, src, dst } => (table, src, dst),
            _ => continue,
        };
        txn.execute(&Query::delete().from_table(table).and_where(Expr::col(src).eq(id)).to_owned()).await?;
        if !ids.is_empty() {
            let mut ins = Query::insert();
            ins.into_table(table).columns([src, dst]);
            for t in ids {
                ins.values_panic([id.into(), (*t).into()]);
            }
            txn.execute(&ins).await?;
        }
    }
    if let Some(tags) = &p.tags {
        let ct = registry::ct_id(p.model);
        txn.execute(
            &Query::delete()
                .from_table("extras_taggeditem")
                .and_where(Expr::col("content_type_id").eq(ct))
                .and_where(Expr::col("object_id").eq(id))
                .to_owned(),
        )
        .await?;
        if !tags.is_empty() {
            let mut ins = Query::insert();
            ins.into_table("extras_taggeditem").columns(["tag_id", "content_type_id", "object_id"]);
            for t in tags {
                ins.values_panic([(*t).into(), ct.into(), id.into()]);
            }
            txn.execute(&ins).await?;
        }
    }
    Ok(())
}

/// The object must still be one the actor may `action` (constraints hold after the write).
async fn check_scope(
    txn: &DatabaseTransaction,
    actor: &Actor<'_>,
    model: &'static Model,
    id: i64,
    action: &str,
) -> AppResult<()> {
    let scope = actor.perms.scope(model, action).ok_or_else(crate::error::permission_denied)?;
    if load::get(txn, model, id, scope).await?.is_none() {
        return Err(crate::error::permission_denied());
    }
    Ok(())
}

/// Insert a validated row; returns its id.
pub async fn insert(txn: &DatabaseTransaction, actor: &Actor<'_>, mut p: Pending) -> AppResult<i64> {
    let model = p.model;
    let now = chrono::Utc::now();
    for ts in ["created", "updated"] {
        if model.has(ts) && model.features.timestamps {
            p.obj.set(ts, Val::Time(now));
        }
    }
    let values = row_values(&p.obj);
    let q = Query::insert()
        .into_table(model.table)
        .columns(values.iter().map(|(c, _)| *c))
        .values_panic(values.into_iter().map(|(_, v)| v.into()))
        .returning_col("id")
        .to_owned();
    let row =
        txn.query_one(&q).await.map_err(|e| map_db_err(model, e))?.ok_or_else(|| anyhow::anyhow!("no id returned"))?;
    p.obj.id = row.try_get_by_index(0)?;
    p.obj.set("id", Val::Int(p.obj.id));
    write_relations(txn, &p).await?;
    check_scope(txn, actor, model, p.obj.id, "add").await?;
    if model.features.change_log {
        let post = changelog::snapshot_pending(txn, &p).await?;
        changelog::record(txn, actor, &p.obj, "create", None, Some(post)).await?;
    }
    Ok(p.obj.id)
}

/// Write a validated update; logs it when anything changed.
pub async fn update(txn: &DatabaseTransaction, actor: &Actor<'_>, mut p: Pending) -> AppResult<i64> {
    let model = p.model;
    let old = p.old.clone().expect("update needs the old row");
    let pre = if model.features.change_log { Some(changelog::snapshot_stored(txn, &old).await?) } else { None };
    if model.has("updated") && model.features.timestamps {
        p.obj.set("updated", Val::Time(chrono::Utc::now()));
    }
    // Only the columns this write changes: a concurrent writer of other
    // fields (a poller setting `bgp_state`, another user) keeps its values.
    let was = row_values(&old);
    let changed: Vec<(&str, sea_query::Value)> =
        row_values(&p.obj).into_iter().zip(was).filter(|((_, new), (_, was))| new != was).map(|(c, _)| c).collect();
    if !changed.is_empty() {
        let q = Query::update()
            .table(model.table)
            .values(changed.into_iter().map(|(c, v)| (c, v.into())))
            .and_where(Expr::col("id").eq(p.obj.id))
            .to_owned();
        txn.execute(&q).await.map_err(|e| map_db_err(model, e))?;
    }
    write_relations(txn, &p).await?;
    check_scope(txn, actor, model, p.obj.id, "change").await?;
    if let Some(pre) = pre {
        let post = changelog::snapshot_stored(txn, &p.obj).await?;
        if pre != post {
            changelog::record_with_old(txn, actor, &p.obj, Some(&old), "update", Some(pre), Some(post)).await?;
        }
    }
    Ok(p.obj.id)
}

/// Delete an object the way Django's collector would: protected references
/// refuse (409), cascaded children are deleted (and logged), SET_NULL
/// references are cleared, generic dependents go too.
pub fn delete<'a>(
    txn: &'a DatabaseTransaction,
    actor: &'a Actor<'a>,
    obj: Obj,
) -> futures::future::BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        let model = obj.model;
        let mut blockers = Vec::new();
        for (m, f) in registry::referencing(model) {
            if let Kind::Fk { on_delete: OnDelete::Protect, .. } = f.kind {
                let cond = Condition::all().add(Expr::col(f.column().unwrap()).eq(obj.id));
                let rows = load::fetch(txn, m, cond, &[("id", false)], Some(50), 0).await?;
                let mut cache = crate::object::Cache::default();
                load::prepare(txn, &mut cache, m, rows.clone(), load::Mode::Nested).await?;
                for r in &rows {
                    blockers.push(format!("{} ({})", crate::object::View::new(r, &cache).display(), r.id));
                }
            }
        }
        if !blockers.is_empty() {
            return Err(AppError::Conflict(format!(
                "unable to delete object. {} dependent objects were found: {}",
                blockers.len(),
                blockers.join(", ")
            )));
        }
        let pre = if model.features.change_log { Some(changelog::snapshot_stored(txn, &obj).await?) } else { None };
        for (m, f) in registry::referencing(model) {
            let col = f.column().unwrap();
            match f.kind {
                Kind::Fk { on_delete: OnDelete::Cascade, .. } => {
                    let cond = Condition::all().add(Expr::col(col).eq(obj.id));
                    let children = load::fetch(txn, m, cond, &[("id", false)], None, 0).await?;
                    delete_cascaded(txn, actor, m, children).await?;
                }
                Kind::Fk { on_delete: OnDelete::SetNull, .. } => {
                    let q = Query::update()
                        .table(m.table)
                        .value(col, Val::Null.to_sql(&f.kind))
                        .and_where(Expr::col(col).eq(obj.id))
                        .to_owned();
                    txn.execute(&q).await?;
                }
                _ => {}
            }
        }
        let ct = registry::ct_id(model);
        for (m, type_col, id_col) in registry::generic_dependents() {
            let cond = Condition::all().add(Expr::col(type_col).eq(ct)).add(Expr::col(id_col).eq(obj.id));
            let children = load::fetch(txn, m, cond, &[("id", false)], None, 0).await?;
            delete_cascaded(txn, actor, m, children).await?;
        }
        txn.execute(
            &Query::delete()
                .from_table("extras_taggeditem")
                .and_where(Expr::col("content_type_id").eq(ct))
                .and_where(Expr::col("object_id").eq(obj.id))
                .to_owned(),
        )
        .await?;
        if let Some(pre) = pre {
            changelog::record(txn, actor, &obj, "delete", Some(pre), None).await?;
        }
        txn.execute(&Query::delete().from_table(model.table).and_where(Expr::col("id").eq(obj.id)).to_owned())
            .await
            .map_err(|e| map_db_err(model, e))?;
        Ok(())
    })
}

/// Objects deleted because what they depend on is: each gets its webhook
/// delete event (queued before it goes, in id order, after its parent's),
/// then its own cascade.
async fn delete_cascaded(
    txn: &DatabaseTransaction,
    actor: &Actor<'_>,
    model: &'static Model,
    children: Vec<Obj>,
) -> AppResult<()> {
    if children.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = children.iter().map(|c| c.id).collect();
    crate::webhooks::queue_events(txn, actor, model, "delete", &ids).await?;
    for child in children {
        delete(txn, actor, child).await?;
    }
    Ok(())
}

/// Constraint violations that slipped past validation (concurrent writers)
/// are still the client's problem, not a 500. Classified by SQLSTATE
/// (PostgreSQL) and extended result code (SQLite), and named by field.
pub fn map_db_err(model: &'static Model, e: sea_orm::DbErr) -> AppError {
    use crate::error::DbFailure;
    match crate::error::classify(&e) {
        DbFailure::Unique(cols) => {
            let fields: Vec<&Field> =
                cols.iter().filter_map(|c| model.columns().find(|f| f.column() == Some(c))).collect();
            if let [f] = fields[..] {
                let msg = f
                    .unique
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{} with this {} already exists.", capitalize(model.verbose), f.name));
                return AppError::Validation(FieldErrors::single(f.name, msg));
            }
            let together = model.unique_together.iter().find(|(set, _)| {
                set.len() == cols.len()
                    && set
                        .iter()
                        .all(|n| model.field(n).and_then(|f| f.column()).is_some_and(|c| cols.iter().any(|x| x == c)))
            });
            let msg = together
                .map(|(_, m)| m.to_string())
                .unwrap_or_else(|| "An object with these values already exists.".into());
            AppError::Validation(FieldErrors::single("non_field_errors", msg))
        }
        DbFailure::ForeignKey(detail) => AppError::Conflict(format!("unable to complete the operation: {detail}")),
        DbFailure::Retry => AppError::ServiceUnavailable("The database is busy; try again.".into()),
        DbFailure::Other => AppError::Db(e),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Fetch an object for a write action, honouring the actor's constraints.
/// The row stays locked until the transaction ends (`FOR UPDATE` on
/// PostgreSQL; on SQLite the transaction already holds the write lock), so
/// the values read are the ones the write is based on.
pub async fn get_for(
    txn: &DatabaseTransaction,
    actor: &Actor<'_>,
    model: &'static Model,
    id: i64,
    action: &str,
) -> AppResult<Obj> {
    let scope = actor.perms.scope(model, action).ok_or_else(crate::error::permission_denied)?;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        let lock = Query::select()
            .column("id")
            .from(model.table)
            .and_where(Expr::col("id").eq(id))
            .lock(sea_query::LockType::Update)
            .to_owned();
        txn.query_one(&lock).await.map_err(|e| map_db_err(model, e))?;
    }
    load::get(txn, model, id, scope).await?.ok_or_else(|| not_found(model))
}
