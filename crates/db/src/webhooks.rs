//! Webhooks and jobs at the database layer: the webhook model's rules, the
//! condition language (spec §7.5), job rows for the queue in `crates/jobs`,
//! and webhook events queued *inside* the writing transaction, so they exist
//! exactly when the change commits (and vanish with a rollback).

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use sea_query::{Expr, ExprTrait, Query};
use serde_json::{Value as Json, json};

use crate::error::AppResult;
use crate::model::Model;
use crate::object::Val;
use crate::registry;
use crate::write::{Actor, DynConn, Pending};

/// The job that turns one write's events into webhook deliveries.
pub const DISPATCH_JOB: &str = "extras.webhook.dispatch";
/// One HTTP delivery of one event to one webhook.
pub const DELIVER_JOB: &str = "extras.webhook.deliver";

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A job to insert into `core_job`.
#[derive(Debug, Clone, Default)]
pub struct NewJob {
    pub name: String,
    pub object_type: Option<i64>,
    pub object_id: Option<i64>,
    pub user_id: Option<i64>,
    pub payload: Json,
    /// Earliest start (ms since the epoch); 0 = now.
    pub run_at_ms: i64,
    pub max_attempts: i64,
    pub serial_key: Option<String>,
}

impl NewJob {
    pub fn new(name: &str, payload: Json) -> NewJob {
        NewJob { name: name.into(), payload, max_attempts: 1, ..Default::default() }
    }
}

/// Insert jobs (pending, or scheduled when they start later); returns their ids in order.
pub async fn insert_jobs<C: ConnectionTrait>(db: &C, jobs: &[NewJob]) -> AppResult<Vec<i64>> {
    let now = chrono::Utc::now();
    let now_ms = now.timestamp_millis();
    let mut ids = Vec::with_capacity(jobs.len());
    for chunk in jobs.chunks(200) {
        let mut q = Query::insert();
        q.into_table("core_job").columns([
            "object_type_id",
            "object_id",
            "name",
            "status",
            "created",
            "user_id",
            "data",
            "job_id",
            "payload",
            "run_at_ms",
            "attempts",
            "max_attempts",
            "worker",
            "serial_key",
        ]);
        for j in chunk {
            let status = if j.run_at_ms > now_ms { "scheduled" } else { "pending" };
            q.values_panic([
                j.object_type.into(),
                j.object_id.into(),
                j.name.clone().into(),
                status.into(),
                now.into(),
                j.user_id.into(),
                Option::<String>::None.into(),
                uuid::Uuid::new_v4().to_string().into(),
                j.payload.to_string().into(),
                std::cmp::max(j.run_at_ms, 0).into(),
                0i64.into(),
                std::cmp::max(j.max_attempts, 1).into(),
                "".into(),
                j.serial_key.clone().into(),
            ]);
        }
        q.returning_col("id");
        let rows = db.query_all(&q).await?;
        let mut got: Vec<i64> = rows.iter().filter_map(|r| r.try_get_by_index::<i64>(0).ok()).collect();
        got.sort();
        ids.extend(got);
    }
    Ok(ids)
}

// ---------------------------------------------------------------------------
// Events

/// Enabled webhooks bound to `model` that fire on `event`.
pub async fn matching_webhooks<C: ConnectionTrait>(db: &C, model: &'static Model, event: &str) -> AppResult<Vec<i64>> {
    let flag = match event {
        "create" => "type_create",
        "update" => "type_update",
        _ => "type_delete",
    };
    let q = Query::select()
        .column(("w", "id"))
        .from_as("extras_webhook", "w")
        .inner_join(
            sea_query::Alias::new("extras_webhook_content_types"),
            Expr::col(("extras_webhook_content_types", "webhook_id")).equals(("w", "id")),
        )
        .and_where(Expr::col(("extras_webhook_content_types", "contenttype_id")).eq(registry::ct_id(model)))
        .and_where(Expr::col(("w", "enabled")).eq(true))
        .and_where(Expr::col(("w", flag)).eq(true))
        .order_by(("w", "id"), sea_query::Order::Asc)
        .to_owned();
    Ok(db.query_all(&q).await?.iter().filter_map(|r| r.try_get_by_index::<i64>(0).ok()).collect())
}

/// Queue the webhook events of one write (spec §7.2) as one dispatch job in
/// the writing transaction. Nothing is written when no enabled webhook
/// listens. Every object is serialized here, as it is at this change (PM
/// serializes at the end of the request): a later update or delete of the
/// same object, even milliseconds later, never changes or drops this event.
/// Deleted objects are passed before they are deleted.
pub async fn queue_events(
    txn: &DatabaseTransaction,
    actor: &Actor<'_>,
    model: &'static Model,
    event: &str,
    ids: &[i64],
) -> AppResult<()> {
    if !model.features.webhooks || ids.is_empty() {
        return Ok(());
    }
    if matching_webhooks(txn, model, event).await?.is_empty() {
        return Ok(());
    }
    let mut objects = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let cond = sea_query::Condition::all().add(Expr::col("id").is_in(chunk.to_vec()));
        let objs = crate::load::fetch(txn, model, cond, &[("id", false)], None, 0).await?;
        let mut cache = crate::object::Cache::default();
        crate::load::prepare(txn, &mut cache, model, objs.clone(), crate::load::Mode::Full).await?;
        let data: Vec<Json> = {
            let secrets = |_: &'static Model| false;
            let r = crate::serialize::Render::new("", &cache, &secrets);
            objs.iter().map(|o| r.object(o, crate::load::Mode::Full)).collect()
        };
        let mut snaps = change_snapshots(txn, &actor.request_id.to_string(), model, chunk).await?;
        for (o, data) in objs.iter().zip(data) {
            let (pre, post) = if event == "delete" {
                (crate::changelog::snapshot_stored(txn, o).await?, Json::Null)
            } else {
                snaps.remove(&o.id).unwrap_or((Json::Null, Json::Null))
            };
            objects.push(json!({"id": o.id, "data": data, "prechange": pre, "postchange": post}));
        }
    }
    // In the order the caller gave (a bulk write's order).
    objects.sort_by_key(|o| ids.iter().position(|i| Some(*i) == o["id"].as_i64()));
    let payload = json!({
        "model": model.label(),
        "event": event,
        "objects": objects,
        "username": actor.user_name,
        "request_id": actor.request_id.to_string(),
        "timestamp": python_timestamp(&chrono::Utc::now()),
    });
    let mut job = NewJob::new(DISPATCH_JOB, payload);
    job.user_id = actor.user_id;
    job.max_attempts = 3;
    // Dispatches of one model run one after the other, in the order of their
    // writes: each queues its deliveries (serial per object and webhook) only
    // after the previous write's, so a receiver never sees an object's
    // events out of order.
    job.serial_key = Some(format!("webhook-dispatch:{}", model.label()));
    insert_jobs(txn, &[job]).await?;
    Ok(())
}

/// Change-log snapshots of objects in this request so far: the first
/// prechange and the last postchange of each (several changes in one request).
async fn change_snapshots<C: ConnectionTrait>(
    db: &C,
    request_id: &str,
    model: &'static Model,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, (Json, Json)>> {
    let q = Query::select()
        .columns(["changed_object_id", "prechange_data", "postchange_data"])
        .from("core_objectchange")
        .and_where(Expr::col("request_id").eq(request_id))
        .and_where(Expr::col("changed_object_type_id").eq(registry::ct_id(model)))
        .and_where(Expr::col("changed_object_id").is_in(ids.to_vec()))
        .order_by("id", sea_query::Order::Asc)
        .to_owned();
    let json_at = |r: &sea_orm::QueryResult, i: usize| match r.try_get_by_index::<Option<String>>(i) {
        Ok(Some(s)) => serde_json::from_str(&s).unwrap_or(Json::Null),
        _ => Json::Null,
    };
    let mut out = std::collections::HashMap::new();
    for r in db.query_all(&q).await? {
        let Ok(id) = r.try_get_by_index::<i64>(0) else { continue };
        let e = out.entry(id).or_insert((json_at(&r, 1), Json::Null));
        e.1 = json_at(&r, 2);
    }
    Ok(out)
}

/// Python's `str(datetime)`: `2023-08-07 19:30:23.140019+00:00`.
pub fn python_timestamp(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
}

// ---------------------------------------------------------------------------
// Model rules

/// Largest CA bundle a webhook may name (system bundles are ~200 KB).
pub const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A CA file must be a regular file of at most [`MAX_CA_FILE_BYTES`]: never a
/// device (`/dev/zero`), a FIFO or a multi-gigabyte file read into memory.
pub fn check_ca_file(path: &str) -> Result<u64, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("Cannot read the CA file {path}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("The CA file {path} is not a regular file."));
    }
    if meta.len() > MAX_CA_FILE_BYTES {
        return Err(format!(
            "The CA file {path} is larger than {} MB; a CA bundle is much smaller.",
            MAX_CA_FILE_BYTES / (1024 * 1024)
        ));
    }
    Ok(meta.len())
}

/// Read a CA file within the same limits, even if it grew after the check.
pub fn read_ca_file(path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    check_ca_file(path)?;
    let file = std::fs::File::open(path).map_err(|e| format!("Cannot read the CA file {path}: {e}"))?;
    let mut out = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("Cannot read the CA file {path}: {e}"))?;
    if out.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(format!("The CA file {path} is larger than {} MB.", MAX_CA_FILE_BYTES / (1024 * 1024)));
    }
    Ok(out)
}

pub fn clean_webhook<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        if !p.obj.bool("type_create") && !p.obj.bool("type_update") && !p.obj.bool("type_delete") {
            p.errors.add("type_create", "You must select at least one type: create, update, and/or delete.");
        }
        if let Val::Json(c) = p.obj.get("conditions").clone()
            && !Json::is_null(&c)
            && let Err(e) = conditions::validate(&c)
        {
            p.errors.add("conditions", e);
        }
        let ca = p.obj.text("ca_file_path").to_string();
        if !p.obj.bool("ssl_verification") && !ca.is_empty() {
            p.errors.add("ca_file_path", "Do not specify a CA certificate file if SSL verification is disabled.");
        } else if !ca.is_empty()
            && std::path::Path::new(&ca).exists()
            && let Err(e) = check_ca_file(&ca)
        {
            // A missing file may appear later (it is checked again at delivery);
            // a device, a directory or a huge file is refused now.
            p.errors.add("ca_file_path", e);
        }
        if let Some(types) = p.m2m.get("content_types") {
            for ct in types {
                match registry::by_ct_id(*ct) {
                    Some(m) if m.features.webhooks => {}
                    Some(m) => p.errors.add("content_types", format!("Webhooks cannot be bound to {}.", m.label())),
                    None => p.errors.add("content_types", "Unknown object type."),
                }
            }
        }
        for line in p.obj.text("additional_headers").lines().filter(|l| !l.trim().is_empty()) {
            // Templated lines are checked when rendered; plain ones now.
            if !line.contains("{{") && !line.contains(':') {
                p.errors.add("additional_headers", format!("Invalid header line (no \":\"): {line}"));
            }
        }
        Ok(())
    })
}

pub fn clean_schedule<'a>(_db: &'a dyn DynConn, p: &'a mut Pending) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        let cron = p.obj.text("cron").trim().to_string();
        let interval = p.obj.int("interval_seconds");
        match (interval, cron.is_empty()) {
            (None, true) => p.errors.add("interval_seconds", "Give an interval (seconds) or a cron expression."),
            (Some(_), false) => p.errors.add("cron", "Give an interval or a cron expression, not both."),
            (None, false) => {
                if let Err(e) = parse_cron(&cron) {
                    p.errors.add("cron", format!("Invalid cron expression: {e}"));
                }
            }
            _ => {}
        }
        // A new or re-timed schedule runs next per its new timing (shown at once in
        // the UI); the scheduler claims that period like any other.
        let timing_changed = match &p.old {
            None => true,
            Some(o) => {
                o.int("interval_seconds") != interval
                    || o.text("cron").trim() != cron
                    || o.bool("enabled") != p.obj.bool("enabled")
            }
        };
        if p.errors.is_empty() && timing_changed {
            let now = chrono::Utc::now();
            let next = match interval {
                Some(secs) => Some(now + chrono::Duration::seconds(secs)),
                None => parse_cron(&cron).ok().and_then(|c| c.find_next_occurrence(&now, false).ok()),
            };
            p.obj.set("next_run_ms", next.map(|n| Val::Int(n.timestamp_millis())).unwrap_or(Val::Null));
            p.obj.set("next_run", next.map(Val::Time).unwrap_or(Val::Null));
        }
        Ok(())
    })
}

/// Five-field cron (`m h dom mon dow`), with optional seconds and `@daily`-style nicknames.
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    croner::parser::CronParser::new().parse(expr.trim()).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------
// Conditions (spec §7.5)

pub mod conditions {
    use serde_json::Value as Json;

    fn ops_for(v: &Json) -> Option<&'static [&'static str]> {
        match v {
            Json::String(_) => Some(&["eq", "contains", "regex"]),
            Json::Bool(_) => Some(&["eq", "contains"]),
            Json::Number(_) => Some(&["eq", "gt", "gte", "lt", "lte", "contains"]),
            Json::Array(_) => Some(&["eq", "in", "contains"]),
            Json::Null => Some(&["eq"]),
            Json::Object(_) => None,
        }
    }

    fn is_set(v: &Json) -> bool {
        matches!(v, Json::Object(m) if m.len() == 1 && (m.contains_key("and") || m.contains_key("or")))
    }

    fn validate_condition(c: &Json) -> Result<(), String> {
        let Json::Object(m) = c else { return Err(format!("Condition must be an object: {c}")) };
        for k in m.keys() {
            if !["attr", "value", "op", "negate"].contains(&k.as_str()) {
                return Err(format!("Unknown key in condition: {k}"));
            }
        }
        if !m.get("attr").is_some_and(Json::is_string) {
            return Err("Condition needs an \"attr\" string.".into());
        }
        let value = m.get("value").ok_or("Condition needs a \"value\".")?;
        let op = match m.get("op") {
            None => "eq",
            Some(Json::String(s)) => s.as_str(),
            Some(o) => return Err(format!("Invalid op: {o}")),
        };
        let allowed = ops_for(value).ok_or_else(|| format!("Invalid value type: {value}"))?;
        if !allowed.contains(&op) {
            return Err(format!("Invalid op {op} for value {value}"));
        }
        if let Some(n) = m.get("negate")
            && !n.is_boolean()
        {
            return Err("\"negate\" must be a boolean.".into());
        }
        if op == "regex" {
            regex::Regex::new(value.as_str().unwrap_or("")).map_err(|e| format!("Invalid regex: {e}"))?;
        }
        Ok(())
    }

    /// A condition set: exactly one key, `and` or `or`, holding conditions and sets.
    pub fn validate(set: &Json) -> Result<(), String> {
        let Json::Object(m) = set else { return Err("Condition set must be an object.".into()) };
        if m.len() != 1 {
            return Err("Condition set must have exactly one logical operator (\"and\" or \"or\").".into());
        }
        let (k, v) = m.iter().next().unwrap();
        if k != "and" && k != "or" {
            return Err(format!("Invalid logic operator: {k}"));
        }
        let Json::Array(items) = v else { return Err(format!("\"{k}\" must hold a list.")) };
        for item in items {
            if is_set(item) { validate(item)? } else { validate_condition(item)? }
        }
        Ok(())
    }

    /// Walk `a.b.c`; lists map the lookup over their elements.
    pub fn lookup(data: &Json, path: &str) -> Json {
        let mut cur = data.clone();
        for part in path.split('.') {
            cur = step(&cur, part);
        }
        cur
    }

    fn step(v: &Json, key: &str) -> Json {
        match v {
            Json::Object(m) => m.get(key).cloned().unwrap_or(Json::Null),
            Json::Array(items) => Json::Array(items.iter().map(|i| step(i, key)).collect()),
            _ => Json::Null,
        }
    }

    fn num(v: &Json) -> Option<f64> {
        v.as_f64()
    }

    fn equal(a: &Json, b: &Json) -> bool {
        match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        }
    }

    fn eval_condition(c: &Json, data: &Json) -> Result<bool, String> {
        let attr = c["attr"].as_str().unwrap_or("");
        let value = &c["value"];
        let op = c.get("op").and_then(Json::as_str).unwrap_or("eq");
        let negate = c.get("negate").and_then(Json::as_bool).unwrap_or(false);
        let d = lookup(data, attr);
        let cmp = |f: fn(f64, f64) -> bool| match (num(&d), num(value)) {
            (Some(x), Some(y)) => Ok(f(x, y)),
            _ => Err(format!("Cannot compare {d} and {value} ({attr})")),
        };
        let result = match op {
            "eq" => equal(&d, value),
            "gt" => cmp(|a, b| a > b)?,
            "gte" => cmp(|a, b| a >= b)?,
            "lt" => cmp(|a, b| a < b)?,
            "lte" => cmp(|a, b| a <= b)?,
            "in" => value.as_array().is_some_and(|l| l.iter().any(|x| equal(x, &d))),
            "contains" => match (&d, value) {
                (Json::String(s), Json::String(v)) => s.contains(v.as_str()),
                (Json::Array(items), v) => items.iter().any(|x| equal(x, v)),
                _ => return Err(format!("Cannot look for {value} in {d} ({attr})")),
            },
            "regex" => {
                let Json::String(s) = &d else { return Err(format!("Cannot match a regex against {d} ({attr})")) };
                let re =
                    regex::Regex::new(&format!("^(?:{})", value.as_str().unwrap_or(""))).map_err(|e| e.to_string())?;
                re.is_match(s)
            }
            other => return Err(format!("Unknown op {other}")),
        };
        Ok(result != negate)
    }

    /// Evaluate a condition set against `data`.
    pub fn eval(set: &Json, data: &Json) -> Result<bool, String> {
        let Json::Object(m) = set else { return Err("Condition set must be an object.".into()) };
        let (k, v) = m.iter().next().ok_or("Empty condition set.")?;
        let items = v.as_array().ok_or("Condition set must hold a list.")?;
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            results.push(if is_set(item) { eval(item, data)? } else { eval_condition(item, data)? });
        }
        match k.as_str() {
            "and" => Ok(results.iter().all(|r| *r)),
            "or" => Ok(results.iter().any(|r| *r)),
            other => Err(format!("Invalid logic operator: {other}")),
        }
    }
}
