//! Bulk import (CSV, JSON, YAML) and CSV export of any model.
//!
//! Import turns every row into the API's JSON input and creates them all in
//! one transaction: one bad row and nothing is written; errors name the row
//! and the field. Export writes the list's current filters and columns.

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
    let columns = render::visible_columns(m, &available, pm_db::session::get_pref(&ctx.prefs, &key));
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
                row.push(render::value_text(f, &j[f.name]));
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

/// A CSV cell for a field → the API's JSON value. Related objects may be
/// given by id, or by slug / name (or ASN for autonomous systems).
fn csv_value(f: &pm_db::model::Field, raw: &str) -> Option<Json> {
    let raw = raw.trim();
    let reference = |s: &str, to: &str| -> Json {
        if let Ok(i) = s.parse::<i64>() {
            if to == "peering.autonomoussystem" {
                return json!({"asn": i});
            }
            return json!(i);
        }
        let target = registry::model(to);
        match target {
            Some(t) if t.has("slug") => json!({"slug": s}),
            Some(t) if t.has("name") => json!({"name": s}),
            _ => json!(s),
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
            let fields: Vec<Option<&'static pm_db::model::Field>> = headers
                .iter()
                .map(|h| {
                    let f = m.field(h).filter(|f| f.api && f.writable());
                    if f.is_none() {
                        unknown.push(h.to_string());
                    }
                    f
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
                    let f = f.unwrap();
                    if let Some(v) = csv_value(f, cell) {
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
        match parse(m, &format, &data) {
            Err(e) => error = Some(e),
            Ok(items) if items.is_empty() => error = Some("No rows to import.".into()),
            Ok(items) => match ops::create(ctx.db(), &actor(ctx), m, &items, true).await {
                Ok(ids) => {
                    let plural = if ids.len() == 1 { m.verbose } else { m.verbose_plural };
                    ctx.flash("success", format!("Imported {} {}", ids.len(), esc(plural))).await;
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
                Err(AppError::Conflict(msg)) | Err(AppError::PermissionDenied(msg)) => error = Some(msg),
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

fn kind_hint(f: &pm_db::model::Field) -> String {
    match f.kind {
        Kind::Bool => "true / false".into(),
        Kind::Int { .. } => "integer".into(),
        Kind::Choice(cs) => cs.iter().map(|c| c.value).collect::<Vec<_>>().join(", "),
        Kind::IntChoice(cs) => cs.iter().map(|(v, _)| v.to_string()).collect::<Vec<_>>().join(", "),
        Kind::Fk { to, .. } => format!("{} (id, slug or name)", registry::model(to).map(|t| t.verbose).unwrap_or("")),
        Kind::M2m { to, .. } => {
            format!("{} (ids or slugs, comma-separated)", registry::model(to).map(|t| t.verbose_plural).unwrap_or(""))
        }
        Kind::Tags => "tag slugs, comma-separated".into(),
        Kind::Json { .. } => "JSON".into(),
        Kind::Inet { .. } => "IP address".into(),
        Kind::DateTime => "date/time (ISO 8601)".into(),
        Kind::ContentType => "app.model".into(),
        _ => "text".into(),
    }
}
