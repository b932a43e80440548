//! Bulk edit and bulk delete of selected objects, or of every object the
//! list's filters match (`_all`). Each runs in one transaction through the
//! same `ops` as the API: all objects change (and are logged) or none.

use std::collections::HashMap;

use pm_db::load::Mode;
use pm_db::model::{Kind, Model};
use pm_db::{AppError, AppResult, FieldErrors, ops};
use sea_query::{Condition, ExprTrait};
use serde_json::{Map, Value as Json, json};

use super::form::{self, actor};
use super::list;
use super::meta;
use super::render::esc;
use super::{Ctx, Form, UiResult, redirect};

/// At most this many objects in one bulk operation.
const MAX_BULK: u64 = 10_000;

/// The ids a bulk form names: `pk` values, or every match of the list's filters.
async fn selected(ctx: &Ctx, m: &'static Model, form: &Form) -> AppResult<Vec<i64>> {
    if form.has("_all") {
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(form.get("query").unwrap_or("")).unwrap_or_default();
        let params = list::filter_params(&query);
        let scope = ctx.perms().scope(m, "view").ok_or_else(pm_db::error::permission_denied)?;
        let db = &ctx.db().conn;
        let cond = pm_db::query::filter::condition(db, m, &params).await?.add(scope);
        let objs = pm_db::load::fetch(db, m, cond, &[("id", false)], Some(MAX_BULK), 0).await?;
        return Ok(objs.iter().map(|o| o.id).collect());
    }
    let mut ids: Vec<i64> = form.all("pk").iter().filter_map(|v| v.parse().ok()).collect();
    ids.dedup();
    Ok(ids)
}

/// Fields a bulk edit may set: writable, not unique, not tags (added/removed instead).
fn bulk_fields(m: &'static Model) -> Vec<&'static pm_db::model::Field> {
    form::form_fields(m)
        .into_iter()
        .filter(|f| f.unique.is_none() && !matches!(f.kind, Kind::Tags | Kind::ContentType) && f.name != "slug")
        .filter(|f| !m.unique_together.iter().any(|(cols, _)| cols.contains(&f.column().unwrap_or(""))))
        .collect()
}

async fn object_list(ctx: &Ctx, m: &'static Model, ids: &[i64]) -> AppResult<Vec<Json>> {
    let fetched = list::fetch(
        ctx,
        m,
        &[],
        Condition::all().add(sea_query::Expr::col((m.table, "id")).is_in(ids.to_vec())),
        None,
        Some(1000),
        0,
    )
    .await?;
    let mut cache = fetched.cache;
    list::context_deps(&ctx.db().conn, &mut cache, m, &fetched.objs).await?;
    Ok(fetched
        .objs
        .iter()
        .map(|o| {
            json!({"id": o.id, "display": meta::display_in_context(&pm_db::object::View::new(o, &cache)),
            "url": meta::object_url(m, o.id)})
        })
        .collect())
}

pub async fn edit(ctx: &mut Ctx, m: &'static Model) -> UiResult {
    if !ctx.perms().allows(m, "change") {
        return Err(pm_db::error::permission_denied());
    }
    let form = ctx.form()?;
    let ids = selected(ctx, m, &form).await?;
    let path = meta::ui_path(m).unwrap_or("/");
    let back = ctx.return_url(Some(&form), path);
    if ids.is_empty() {
        ctx.flash("warning", format!("No {} were selected.", esc(m.verbose_plural))).await;
        return Ok(redirect(&back));
    }
    let fields = bulk_fields(m);
    let mut errors: Vec<String> = vec![];
    if form.has("_apply") {
        let nullify = form.all("_nullify");
        let mut change = Map::new();
        let mut local = FieldErrors::new();
        for f in &fields {
            let vals: Vec<String> = form.all(f.name).iter().filter(|v| !v.is_empty()).map(|v| v.to_string()).collect();
            if nullify.contains(&f.name) {
                change.insert(f.name.into(), if matches!(f.kind, Kind::M2m { .. }) { json!([]) } else { Json::Null });
                continue;
            }
            if vals.is_empty() {
                continue;
            }
            let get = |_: &str| vals.clone();
            let one = form::input_from(m, &[*f], &get, &|_| true, &mut local);
            if let Some(v) = one.get(f.name) {
                change.insert(f.name.into(), v.clone());
            }
        }
        let add_tags: Vec<i64> = form.all("add_tags").iter().filter_map(|v| v.parse().ok()).collect();
        let remove_tags: Vec<i64> = form.all("remove_tags").iter().filter_map(|v| v.parse().ok()).collect();
        let tag_change = m.features.tags && (!add_tags.is_empty() || !remove_tags.is_empty());
        let mut current_tags: HashMap<i64, Vec<i64>> = HashMap::new();
        if tag_change {
            let (objs, cache) = ops::reload(ctx.db(), m, &ids, Mode::Full).await?;
            for j in list::to_json(ctx, &cache, &objs) {
                let tags = j["tags"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|t| t["id"].as_i64()).collect())
                    .unwrap_or_default();
                current_tags.insert(j["id"].as_i64().unwrap_or(0), tags);
            }
        }
        if !local.is_empty() {
            errors.push(super::render::field_errors_text(&local));
        } else if change.is_empty() && !tag_change {
            errors.push("Nothing to change: fill in the fields to set.".into());
        } else {
            let items: Vec<(i64, Json)> = ids
                .iter()
                .map(|id| {
                    let mut item = change.clone();
                    if tag_change {
                        let mut tags = current_tags.get(id).cloned().unwrap_or_default();
                        for t in &add_tags {
                            if !tags.contains(t) {
                                tags.push(*t);
                            }
                        }
                        tags.retain(|t| !remove_tags.contains(t));
                        item.insert("tags".into(), json!(tags));
                    }
                    (*id, Json::Object(item))
                })
                .collect();
            match ops::update(ctx.db(), &actor(ctx), m, &items, true, true).await {
                Ok(done) => {
                    let plural = if done.len() == 1 { m.verbose } else { m.verbose_plural };
                    ctx.flash("success", format!("Updated {} {}", done.len(), esc(plural))).await;
                    return Ok(redirect(&back));
                }
                Err(AppError::BulkValidation(list)) => {
                    let objs = object_list(ctx, m, &ids).await?;
                    for (i, e) in list.iter().enumerate() {
                        if !e.is_empty() {
                            let name = objs
                                .iter()
                                .find(|o| o["id"].as_i64() == ids.get(i).copied())
                                .and_then(|o| o["display"].as_str())
                                .unwrap_or("object")
                                .to_string();
                            errors.push(format!("{name}: {}", super::render::field_errors_text(e)));
                        }
                    }
                }
                Err(AppError::Validation(e)) => errors.push(super::render::field_errors_text(&e)),
                Err(AppError::Conflict(msg)) | Err(AppError::PermissionDenied(msg)) => errors.push(msg),
                Err(e) => return Err(e),
            }
        }
    }
    let mut raw: HashMap<&'static str, Vec<String>> = HashMap::new();
    if form.has("_apply") {
        for f in &fields {
            raw.insert(f.name, form.all(f.name).iter().map(|s| s.to_string()).collect());
        }
    }
    let mut widgets = form::widgets(ctx, m, &fields, &raw, &FieldErrors::new()).await?;
    for w in &mut widgets {
        let name = w["name"].as_str().unwrap_or("").to_string();
        let field = m.field(&name).unwrap();
        w["nullable"] = json!(field.null || matches!(field.kind, Kind::M2m { .. }));
        if w["widget"] == "checkbox" {
            let v = raw.get(field.name).and_then(|v| v.first().cloned()).unwrap_or_default();
            w["widget"] = json!("select");
            w["options"] = json!([
                {"value": "", "label": "— unchanged —", "selected": v.is_empty()},
                {"value": "true", "label": "Yes", "selected": v == "true"},
                {"value": "false", "label": "No", "selected": v == "false"},
            ]);
        } else if w["widget"] == "select"
            && !w["multiple"].as_bool().unwrap_or(false)
            && let Some(opts) = w["options"].as_array_mut()
        {
            // "— unchanged —" first, selected unless the form came back with a value.
            opts.retain(|o| o["value"] != "");
            let any_selected = raw.get(field.name).is_some_and(|v| v.iter().any(|x| !x.is_empty()));
            if !any_selected {
                for o in opts.iter_mut() {
                    o["selected"] = json!(false);
                }
            }
            opts.insert(0, json!({"value": "", "label": "— unchanged —", "selected": !any_selected}));
        }
        w["required"] = json!(false);
    }
    let objs = object_list(ctx, m, &ids).await?;
    ctx.render(
        "bulk_edit.html",
        json!({
            "title": format!("Editing {} {}", ids.len(), if ids.len() == 1 { m.verbose } else { m.verbose_plural }),
            "model": list::model_info(ctx, m),
            "fields": widgets,
            "tags": m.features.tags,
            "ids": ids,
            "objects": objs,
            "errors": errors,
            "return_url": back,
        }),
    )
    .await
}

pub async fn delete(ctx: &mut Ctx, m: &'static Model) -> UiResult {
    if !ctx.perms().allows(m, "delete") || m.read_only() || !meta::meta(m).delete {
        return Err(pm_db::error::permission_denied());
    }
    let form = ctx.form()?;
    let ids = selected(ctx, m, &form).await?;
    let path = meta::ui_path(m).unwrap_or("/");
    let back = ctx.return_url(Some(&form), path);
    if ids.is_empty() {
        ctx.flash("warning", format!("No {} were selected.", esc(m.verbose_plural))).await;
        return Ok(redirect(&back));
    }
    let mut error = None;
    if form.has("_confirm") {
        match ops::delete(ctx.db(), &actor(ctx), m, &ids, true).await {
            Ok(n) => {
                let plural = if n == 1 { m.verbose } else { m.verbose_plural };
                ctx.flash("success", format!("Deleted {n} {}", esc(plural))).await;
                return Ok(redirect(&back));
            }
            Err(AppError::Conflict(msg)) => error = Some(msg),
            Err(e) => return Err(e),
        }
    }
    let objs = object_list(ctx, m, &ids).await?;
    ctx.render(
        "bulk_delete.html",
        json!({
            "title": format!("Delete {} {}?", ids.len(), if ids.len() == 1 { m.verbose } else { m.verbose_plural }),
            "model": list::model_info(ctx, m),
            "ids": ids,
            "objects": objs,
            "cascaded": form::cascaded(ctx, m, &ids).await?,
            "error": error,
            "return_url": back,
        }),
    )
    .await
}

/// A model's extra bulk action (`meta.bulk_actions`) on the selected rows.
pub async fn action(ctx: &mut Ctx, m: &'static Model, slug: &str) -> UiResult {
    let form = ctx.form()?;
    let ids = selected(ctx, m, &form).await?;
    let back = ctx.return_url(Some(&form), meta::ui_path(m).unwrap_or("/"));
    if ids.is_empty() {
        ctx.flash("warning", format!("No {} were selected.", esc(m.verbose_plural))).await;
        return Ok(redirect(&back));
    }
    match (m.label().as_str(), slug) {
        ("peering.autonomoussystem", "sync-with-peeringdb") => {
            super::peeringdb::sync_autonomous_systems(ctx, ids, &back).await
        }
        _ => Err(pm_db::AppError::NotFound("Page not found.".into())),
    }
}
