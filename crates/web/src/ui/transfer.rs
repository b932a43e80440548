//! Bulk import (CSV, JSON, YAML) and CSV export of any model.
//!
//! Import turns every row into the API's JSON input and creates them all in
//! one transaction: one bad row and nothing is written; errors name the row
//! and the field. Rows with an `id` update that object instead.
//!
//! Export writes the list's current filters and columns in the form import
//! reads, so an export can be edited and imported again: related objects by
//! their natural key (slug, name or `AS<asn>`, see [`natural_key`]) or their
//! id, lists comma-separated, JSON as JSON; read-only columns (`created`…)
//! are skipped by import.

use pm_db::model::{Kind, Model};
use pm_db::{AppError, FieldErrors, ops, registry};
use sea_query::Condition;
use serde_json::{Map, Value as Json, json};

use super::form::{actor, form_fields};
use super::list;
use super::meta;
use super::render::{self, esc};
use super::{Ctx, UiResult, redirect};
use axum::response::IntoResponse;

/// Largest export, in rows.
const MAX_EXPORT: u64 = 100_000;

pub async fn export(ctx: &mut Ctx, m: &'static Model) -> UiResult {
    let params = list::filter_params(&ctx.query());
    let available = render::available_columns(m, ctx.perms());
    let key = format!("tables.{}.columns", m.label().replace('.', "_"));
    let mut columns = render::visible_columns(m, &available, pm_db::session::get_pref(&ctx.prefs, &key));
    // What import needs to create the objects again comes along even when
    // the table does not show it (a BGP group's slug).
    for f in form_fields(m).into_iter().filter(|f| f.required && !f.write_only) {
        if !columns.iter().any(|c| c.name == f.name) {
            let label = render::field_label(f);
            columns.push(render::Column { name: f.name, label, field: Some(f), count: None, sortable: false });
        }
    }
    let mut fetched = list::fetch(ctx, m, &params, Condition::all(), None, Some(MAX_EXPORT), 0).await?;
    let fields: Vec<_> = columns.iter().filter_map(|c| c.field).collect();
    list::load_fields(ctx, m, &mut fetched, &fields).await?;
    let objs = list::to_json(ctx, &fetched.cache, &fetched.objs);
    let mut w = csv::Writer::from_writer(vec![]);
    let mut header = vec!["id".to_string()];
    header.extend(columns.iter().filter(|c| c.field.is_some() && c.name != "id").map(|c| c.name.to_string()));
    w.write_record(&header).map_err(|e| AppError::Internal(e.into()))?;
    for j in &objs {
        let mut row = vec![j["id"].to_string()];
        for c in columns.iter().filter(|c| c.name != "id") {
            if let Some(f) = c.field {
                row.push(csv_cell(f, &j[f.name]));
            }
        }
        w.write_record(&row).map_err(|e| AppError::Internal(e.into()))?;
    }
    let body = w.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let name = format!("{}.csv", m.api);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response())
}

/// Export templates of this model the user may use, for the list's "Export" menu.
pub async fn export_templates(ctx: &Ctx, m: &'static Model) -> Result<Vec<(i64, String)>, AppError> {
    let et = registry::model("extras.exporttemplate").expect("known model");
    let Some(scope) = ctx.perms().scope(et, "view") else { return Ok(vec![]) };
    use sea_query::{Expr, ExprTrait};
    let cond = Condition::all().add(scope).add(Expr::col("content_type_id").eq(registry::ct_id(m)));
    let rows = pm_db::load::fetch(&ctx.db().conn, et, cond, &[("name", false)], Some(100), 0).await?;
    Ok(rows.iter().map(|r| (r.id, r.text("name").to_string())).collect())
}

/// `P/?<filters>&export_template=<id>`: the filtered list through an export
/// template of this model, downloaded as a file.
pub async fn export_with_template(ctx: &mut Ctx, m: &'static Model, template: &str) -> UiResult {
    let tid: i64 = template.parse().map_err(|_| AppError::NotFound("No such export template.".into()))?;
    if !export_templates(ctx, m).await?.iter().any(|(id, _)| *id == tid) {
        return Err(AppError::NotFound("No export template of this object type matches the given query.".into()));
    }
    let (tpl, _) = ops::retrieve(
        ctx.db(),
        ctx.perms(),
        registry::model("extras.exporttemplate").unwrap(),
        tid,
        pm_db::load::Mode::Brief,
    )
    .await?;
    let params = list::filter_params(&ctx.query());
    let fetched = list::fetch(ctx, m, &params, Condition::all(), None, Some(MAX_EXPORT), 0).await?;
    let ids = fetched.objs.iter().map(|o| o.id).collect();
    let viewer = pm_render::Viewer::user(ctx.perms().clone());
    let text = match pm_render::preview::render_export_objects(ctx.db(), &viewer, tid, ids).await {
        Ok(t) => t,
        Err(pm_render::RenderError::Template(t)) => return Err(AppError::BadRequest(t.to_string())),
        Err(pm_render::RenderError::NotFound(msg)) => return Err(AppError::NotFound(msg)),
        Err(pm_render::RenderError::Forbidden(msg)) => return Err(AppError::PermissionDenied(msg)),
        Err(pm_render::RenderError::Internal(msg)) => return Err(AppError::Internal(anyhow::anyhow!(msg))),
    };
    let stem: String = tpl
        .text("name")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{stem}.txt\"")),
        ],
        text,
    )
        .into_response())
}

/// The field that names an object of `m` uniquely for people: its slug, or
/// another unique text or number (an AS's ASN, a router's name). Objects
/// without one (connections, sessions) are named by id.
fn natural_key(m: &'static Model) -> Option<&'static pm_db::model::Field> {
    let keys = m.fields.iter().filter(|f| f.unique.is_some() && matches!(f.kind, Kind::Text { .. } | Kind::Int { .. }));
    m.field("slug")
        .filter(|f| f.unique.is_some())
        .or_else(|| keys.clone().find(|f| f.name != "name"))
        .or(keys.clone().next_back())
}

/// How a number-valued natural key is written: ASNs as `AS65010`, the way
/// engineers write them (a bare number in a related column is an id).
const ASN_PREFIX: &str = "AS";

/// A related object in a CSV cell: its natural key when its representation
/// carries it, its id otherwise.
fn reference_text(to: &str, v: &Json) -> String {
    let key = registry::model(to).and_then(natural_key);
    match (key, v) {
        (Some(k), Json::Object(o)) => match (&k.kind, o.get(k.name)) {
            (Kind::Int { .. }, Some(Json::Number(n))) => format!("{ASN_PREFIX}{n}"),
            (_, Some(Json::String(s))) => s.clone(),
            _ => o.get("id").map(Json::to_string).unwrap_or_default(),
        },
        (None, Json::Object(o)) => o.get("id").map(Json::to_string).unwrap_or_default(),
        (_, Json::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A value of the API representation → a CSV cell that [`csv_value`] reads back.
fn csv_cell(f: &pm_db::model::Field, v: &Json) -> String {
    let join = |items: &Vec<Json>, one: &dyn Fn(&Json) -> String| items.iter().map(one).collect::<Vec<_>>().join(",");
    match (f.kind, v) {
        (_, Json::Null) => String::new(),
        (Kind::Fk { to, .. }, v) => reference_text(to, v),
        (Kind::M2m { to, .. }, Json::Array(items)) => join(items, &|i| reference_text(to, i)),
        (Kind::Tags, Json::Array(items)) => join(items, &|i| reference_text("extras.tag", i)),
        (Kind::Json { .. }, v) => v.to_string(),
        (_, Json::Object(o)) if o.contains_key("value") => match &o["value"] {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        },
        (_, Json::Array(items)) => join(items, &|i| match i {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        }),
        _ => render::value_text(f, v),
    }
}

/// A CSV cell for a field → the API's JSON value. Related objects may be
/// given by id, or by their natural key (slug, name, `AS65010`).
fn csv_value(f: &pm_db::model::Field, raw: &str) -> Option<Json> {
    let raw = raw.trim();
    let reference = |s: &str, to: &str| -> Json {
        if let Ok(i) = s.parse::<i64>() {
            return json!(i);
        }
        let target = registry::model(to);
        match target.and_then(natural_key) {
            Some(k) if matches!(k.kind, Kind::Int { .. }) => {
                let digits = s
                    .get(..ASN_PREFIX.len())
                    .filter(|p| p.eq_ignore_ascii_case(ASN_PREFIX))
                    .map(|_| &s[ASN_PREFIX.len()..]);
                match digits.and_then(|d| d.parse::<i64>().ok()) {
                    Some(n) => json!({ k.name: n }),
                    None => json!(s),
                }
            }
            Some(k) => json!({ k.name: s }),
            None => match target {
                Some(t) if t.has("name") => json!({"name": s}),
                _ => json!(s),
            },
        }
    };
    fn list(s: &str) -> Vec<&str> {
        s.split([',', '|']).map(str::trim).filter(|x| !x.is_empty()).collect()
    }
    Some(match f.kind {
        _ if raw.is_empty() && f.null => Json::Null,
        _ if raw.is_empty() => return None,
        Kind::Bool => json!(pm_db::query::filter::parse_bool(raw).map(Json::Bool).unwrap_or(json!(raw))),
        Kind::Int { .. } | Kind::IntChoice(_) => raw.parse::<i64>().map(Json::from).unwrap_or(json!(raw)),
        Kind::Float => raw.parse::<f64>().map(Json::from).unwrap_or(json!(raw)),
        Kind::Fk { to, .. } => reference(raw, to),
        Kind::M2m { to, .. } => Json::Array(list(raw).into_iter().map(|s| reference(s, to)).collect()),
        Kind::Tags => Json::Array(list(raw).into_iter().map(|s| reference(s, "extras.tag")).collect()),
        Kind::ContentTypes { .. } | Kind::StrList | Kind::CidrList => {
            Json::Array(list(raw).into_iter().map(|s| json!(s)).collect())
        }
        Kind::IntList => {
            Json::Array(list(raw).into_iter().map(|s| s.parse::<i64>().map(Json::from).unwrap_or(json!(s))).collect())
        }
        Kind::Json { .. } => serde_json::from_str(raw).unwrap_or(json!(raw)),
        _ => json!(raw),
    })
}

/// Parse the submitted data into one JSON object per row.
fn parse(m: &'static Model, format: &str, data: &str) -> Result<Vec<Json>, String> {
    match format {
        "json" => match serde_json::from_str::<Json>(data) {
            Ok(Json::Array(items)) => Ok(items),
            Ok(obj @ Json::Object(_)) => Ok(vec![obj]),
            Ok(_) => Err("Expected a list of objects.".into()),
            Err(e) => Err(format!("Invalid JSON: {e}")),
        },
        "yaml" => match serde_norway::from_str::<Json>(data) {
            Ok(Json::Array(items)) => Ok(items),
            Ok(obj @ Json::Object(_)) => Ok(vec![obj]),
            Ok(_) => Err("Expected a list of objects.".into()),
            Err(e) => Err(format!("Invalid YAML: {e}")),
        },
        _ => {
            let mut r = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(data.as_bytes());
            let headers = r.headers().map_err(|e| format!("Invalid CSV: {e}"))?.clone();
            let mut unknown = vec![];
            // The id (update that object), fields to write, and read-only
            // fields an export carries (`created`…): skipped.
            let fields: Vec<Option<&'static pm_db::model::Field>> = headers
                .iter()
                .map(|h| match m.field(h).filter(|f| f.api) {
                    Some(f) if f.writable() || f.name == "id" => Some(f),
                    Some(_) => None,
                    None => {
                        unknown.push(h.to_string());
                        None
                    }
                })
                .collect();
            if !unknown.is_empty() {
                return Err(format!("Unknown column(s): {}.", unknown.join(", ")));
            }
            let mut out = vec![];
            for (i, rec) in r.records().enumerate() {
                let rec = rec.map_err(|e| format!("Row {}: {e}", i + 1))?;
                let mut obj = Map::new();
                for (f, cell) in fields.iter().zip(rec.iter()) {
                    let Some(f) = f else { continue };
                    if f.name == "id" {
                        if !cell.trim().is_empty() {
                            let id = cell
                                .trim()
                                .parse::<i64>()
                                .map_err(|_| format!("Row {}: id {cell:?} is not a number.", i + 1))?;
                            obj.insert("id".into(), json!(id));
                        }
                    } else if let Some(v) = csv_value(f, cell) {
                        obj.insert(f.name.into(), v);
                    }
                }
                out.push(Json::Object(obj));
            }
            Ok(out)
        }
    }
}

pub async fn import(ctx: &mut Ctx, m: &'static Model) -> UiResult {
    if !ctx.perms().allows(m, "add") {
        return Err(pm_db::error::permission_denied());
    }
    let path = meta::ui_path(m).unwrap_or("/");
    let mut row_errors: Vec<Json> = vec![];
    let mut error = None;
    let mut data = String::new();
    let mut format = "csv".to_string();
    if ctx.is_post() {
        let form = ctx.form()?;
        data = form.get("data").unwrap_or("").to_string();
        format = form.get("format").unwrap_or("csv").to_string();
        match parse(m, &format, &data).and_then(split_updates) {
            Err(e) => error = Some(e),
            Ok(Rows::Create(items)) if items.is_empty() => error = Some("No rows to import.".into()),
            Ok(rows) => match save(ctx, m, &rows).await {
                Ok(ids) => {
                    let plural = if ids.len() == 1 { m.verbose } else { m.verbose_plural };
                    let verb = if matches!(rows, Rows::Update(_)) { "Updated" } else { "Imported" };
                    ctx.flash("success", format!("{verb} {} {}", ids.len(), esc(plural))).await;
                    return Ok(redirect(path));
                }
                Err(AppError::BulkValidation(list)) => {
                    for (i, e) in list.iter().enumerate() {
                        if !e.is_empty() {
                            row_errors.push(row_error(i + 1, e));
                        }
                    }
                }
                Err(AppError::Validation(e)) => row_errors.push(row_error(1, &e)),
                Err(AppError::Conflict(msg))
                | Err(AppError::PermissionDenied(msg))
                | Err(AppError::BadRequest(msg)) => error = Some(msg),
                Err(e) => return Err(e),
            },
        }
    }
    let fields: Vec<Json> = form_fields(m)
        .iter()
        .map(|f| {
            json!({"name": f.name, "label": render::field_label(f), "required": f.required,
            "kind": kind_hint(f)})
        })
        .collect();
    ctx.render(
        "import.html",
        json!({
            "title": format!("Import {}", m.verbose_plural),
            "model": list::model_info(ctx, m),
            "fields": fields,
            "data": data,
            "format": format,
            "error": error,
            "row_errors": row_errors,
        }),
    )
    .await
}

/// The rows of an import: all new, or all naming the object they update
/// (one transaction either way: nothing is half-written).
enum Rows {
    Create(Vec<Json>),
    Update(Vec<(i64, Json)>),
}

fn split_updates(items: Vec<Json>) -> Result<Rows, String> {
    let with_id = items.iter().filter(|i| i.get("id").is_some_and(|v| !v.is_null())).count();
    if with_id == 0 {
        return Ok(Rows::Create(items));
    }
    if with_id < items.len() {
        return Err("Either every row has an id (to update those objects) or none has (to create them).".into());
    }
    items
        .into_iter()
        .enumerate()
        .map(|(n, mut item)| {
            let id = item.as_object_mut().and_then(|o| o.remove("id")).and_then(|v| v.as_i64());
            id.map(|id| (id, item)).ok_or_else(|| format!("Row {}: the id must be a number.", n + 1))
        })
        .collect::<Result<_, _>>()
        .map(Rows::Update)
}

async fn save(ctx: &Ctx, m: &'static Model, rows: &Rows) -> Result<Vec<i64>, AppError> {
    match rows {
        Rows::Create(items) => ops::create(ctx.db(), &actor(ctx), m, items, true).await,
        Rows::Update(items) => {
            // Every id must be one the user may change, checked before
            // anything is written: a row that would silently do nothing is an error.
            use sea_query::{Expr, ExprTrait};
            let scope = ctx.perms().scope(m, "change").ok_or_else(pm_db::error::permission_denied)?;
            let wanted: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
            let cond = Condition::all().add(scope).add(Expr::col("id").is_in(wanted));
            let found: Vec<i64> =
                pm_db::load::fetch(&ctx.db().conn, m, cond, &[], None, 0).await?.iter().map(|r| r.id).collect();
            if let Some(row) = items.iter().position(|(id, _)| !found.contains(id)) {
                let msg = format!("Row {}: no {} with id {}.", row + 1, m.verbose, items[row].0);
                return Err(AppError::BadRequest(msg));
            }
            ops::update(ctx.db(), &actor(ctx), m, items, true, true).await
        }
    }
}

fn row_error(row: usize, e: &FieldErrors) -> Json {
    let fields: Vec<Json> =
        e.0.iter()
            .map(|(k, v)| {
                let msgs: Vec<String> =
                    v.as_array().into_iter().flatten().map(|m| m.as_str().unwrap_or("").to_string()).collect();
                json!({"field": k, "messages": msgs.join(" ")})
            })
            .collect();
    json!({"row": row, "fields": fields})
}

/// How a related object is named in a cell.
fn reference_hint(t: &'static Model) -> String {
    match natural_key(t) {
        Some(k) if matches!(k.kind, Kind::Int { .. }) => format!("id or {ASN_PREFIX}<{}>", k.name),
        Some(k) => format!("id or {}", k.name),
        None => "id".into(),
    }
}

fn kind_hint(f: &pm_db::model::Field) -> String {
    match f.kind {
        Kind::Bool => "true / false".into(),
        Kind::Int { .. } => "integer".into(),
        Kind::Choice(cs) => cs.iter().map(|c| c.value).collect::<Vec<_>>().join(", "),
        Kind::IntChoice(cs) => cs.iter().map(|(v, _)| v.to_string()).collect::<Vec<_>>().join(", "),
        Kind::Fk { to, .. } => match registry::model(to) {
            Some(t) => format!("{} ({})", t.verbose, reference_hint(t)),
            None => "id".into(),
        },
        Kind::M2m { to, .. } => match registry::model(to) {
            Some(t) => format!("{} ({}, comma-separated)", t.verbose_plural, reference_hint(t)),
            None => "ids, comma-separated".into(),
        },
        Kind::Tags => "tag slugs, comma-separated".into(),
        Kind::Json { .. } => "JSON".into(),
        Kind::Inet { .. } => "IP address".into(),
        Kind::DateTime => "date/time (ISO 8601)".into(),
        Kind::ContentType => "app.model".into(),
        _ => "text".into(),
    }
}
