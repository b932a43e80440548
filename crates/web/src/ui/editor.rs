//! The template editor of configurations, e-mails and export templates: the
//! text beside a live preview against a chosen router (or AS), the variables
//! the template sees, and an error marked at its line. Previews go through
//! `POST /api/render/preview/` (nothing written); Save is an ordinary update
//! (change log, permissions).

use pm_db::load::Mode;
use pm_db::model::Model;
use pm_db::{AppError, AppResult, FieldErrors, ops, registry};
use sea_query::{Condition, Expr, ExprTrait};
use serde_json::{Value as Json, json};

use super::{Ctx, UiResult, form, list, meta, redirect};
use crate::api::render::{PreviewRequest, run_preview};

/// The preview kind of a template model.
pub fn kind(m: &Model) -> Option<&'static str> {
    match m.label().as_str() {
        "devices.configuration" => Some("configuration"),
        "messaging.email" => Some("email"),
        "extras.exporttemplate" => Some("export"),
        _ => None,
    }
}

/// Objects a template can be previewed against, visible to the user (by display order).
async fn choices(ctx: &Ctx, label: &str, order: &'static str) -> AppResult<Vec<(i64, String)>> {
    let m = registry::model(label).expect("known model");
    let Some(scope) = ctx.perms().scope(m, "view") else { return Ok(vec![]) };
    let objs =
        pm_db::load::fetch(&ctx.db().conn, m, Condition::all().add(scope), &[(order, false)], Some(1000), 0).await?;
    let cache = pm_db::object::Cache::default();
    Ok(objs.iter().map(|o| (o.id, pm_db::object::View::new(o, &cache).display())).collect())
}

/// Routers using this configuration come first as the default preview target.
async fn router_using(ctx: &Ctx, configuration: i64) -> AppResult<Option<i64>> {
    let m = registry::model("devices.router").unwrap();
    let Some(scope) = ctx.perms().scope(m, "view") else { return Ok(None) };
    let cond = Condition::all().add(scope).add(Expr::col("configuration_template_id").eq(configuration));
    Ok(pm_db::load::fetch(&ctx.db().conn, m, cond, &[("name", false)], Some(1), 0).await?.first().map(|o| o.id))
}

pub async fn editor(ctx: &mut Ctx, m: &'static Model, id: i64) -> UiResult {
    let kind = kind(m).ok_or_else(|| AppError::NotFound("Page not found.".into()))?;
    let (obj, cache) = ops::retrieve(ctx.db(), ctx.perms(), m, id, Mode::Full).await?;
    let can_change = ctx.perms().allows(m, "change");
    let base = format!("{}{id}/", meta::ui_path(m).unwrap_or("/"));
    let mut text = obj.text("template").to_string();
    let mut subject = obj.text("subject").to_string();
    let mut save_errors = json!(null);
    if ctx.is_post() {
        let f = ctx.form()?;
        if !can_change {
            return Err(pm_db::error::permission_denied());
        }
        text = f.get("template").unwrap_or("").to_string();
        let mut input = json!({"template": text});
        if kind == "email" {
            subject = f.get("subject").unwrap_or("").to_string();
            input["subject"] = json!(subject);
        }
        match ops::update(ctx.db(), &form::actor(ctx), m, &[(id, input)], true, false).await {
            Ok(_) => {
                ctx.flash("success", "Template saved.".into()).await;
                let q = ctx.req.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
                return Ok(redirect(&format!("{base}editor/{q}")));
            }
            Err(AppError::Validation(e)) => save_errors = field_errors(&e),
            Err(e) => return Err(e),
        }
    }

    // The preview target: `?router=` / `?autonomous_system=`, else a sensible first one.
    let (target_field, target_label, options) = match kind {
        "configuration" => ("router", "Router", choices(ctx, "devices.router", "name").await?),
        "email" => ("autonomous_system", "Autonomous system", choices(ctx, "peering.autonomoussystem", "asn").await?),
        _ => ("", "", vec![]),
    };
    let asked = ctx.query_get(target_field).and_then(|v| v.parse::<i64>().ok());
    let default = match kind {
        "configuration" => router_using(ctx, id).await?,
        _ => None,
    };
    let selected =
        asked.filter(|a| options.iter().any(|(i, _)| i == a)).or(default).or_else(|| options.first().map(|(i, _)| *i));
    let j = list::to_json(ctx, &cache, std::slice::from_ref(&obj)).pop().unwrap_or(Json::Null);
    let content_type = j["content_type"].as_str().map(str::to_string);
    let name = obj.text("name").to_string();

    let req = PreviewRequest {
        kind: kind.to_string(),
        text: text.clone(),
        subject: (kind == "email").then(|| subject.clone()),
        trim: obj.bool("jinja2_trim"),
        lstrip: obj.bool("jinja2_lstrip"),
        name: name.clone(),
        router: selected.filter(|_| kind == "configuration"),
        autonomous_system: selected.filter(|_| kind == "email"),
        content_type: content_type.clone(),
    };
    let (preview, variables, error, note) = if kind != "export" && selected.is_none() {
        (json!(null), json!([]), json!(null), Some(format!("No {} to preview against.", target_label.to_lowercase())))
    } else {
        match run_preview(&ctx.req.state, &ctx.req.principal, req).await {
            Ok(p) => match p.output {
                Ok((body, subj)) => (json!({"body": body, "subject": subj}), json!(p.variables), json!(null), None),
                Err(t) => (
                    json!(null),
                    json!(p.variables),
                    json!({"template": t.template, "line": t.line, "message": t.message}),
                    None,
                ),
            },
            Err(AppError::PermissionDenied(_)) => {
                (json!(null), json!([]), json!(null), Some("You may not preview this template.".to_string()))
            }
            Err(e) => return Err(e),
        }
    };
    let lines = text.split('\n').count().max(1);
    let error_line = error.get("line").and_then(Json::as_u64);
    let page = json!({
        "title": format!("Template editor: {name}"),
        "model": list::model_info(ctx, m),
        "object": {"id": id, "display": name, "url": base},
        "kind": kind,
        "name": name,
        "text": text,
        "subject": subject,
        "trim": obj.bool("jinja2_trim"),
        "lstrip": obj.bool("jinja2_lstrip"),
        "content_type": content_type,
        "target": {"field": target_field, "label": target_label, "selected": selected,
            "options": options.iter().map(|(i, d)| json!({"id": i, "display": d})).collect::<Vec<_>>()},
        "preview": preview,
        "variables": variables,
        "error": error,
        "error_line": error_line,
        "line_numbers": (1..=lines).collect::<Vec<_>>(),
        "note": note,
        "can_change": can_change,
        "save_errors": save_errors,
    });
    ctx.render("editor.html", page).await
}

fn field_errors(e: &FieldErrors) -> Json {
    Json::Object(e.0.clone())
}
