//! Add, edit and delete pages for every model. The form is derived from the
//! model's writable fields; what it posts is turned into the API's JSON
//! input and written by the same `ops` as the API (validation, permissions,
//! change log), so field errors read the same in both.

use std::collections::HashMap;

use pm_db::load::Mode;
use pm_db::model::{Field, Init, Kind, Model};
use pm_db::write::Actor;
use pm_db::{AppError, AppResult, FieldErrors, ops, registry};
use serde_json::{Map, Value as Json, json};

use super::list;
use super::meta;
use super::render::{self, esc};
use super::{Ctx, Form, UiResult, redirect};

/// Extra query parameters a picker sends to the API (spec §9.3).
pub fn picker_params(field: &str) -> &'static str {
    match field {
        "local_autonomous_system" => "affiliated=true",
        "import_routing_policies" => "type=import-policy",
        "export_routing_policies" => "type=export-policy",
        _ => "",
    }
}

/// Fields a form edits, in declaration order.
pub fn form_fields(m: &'static Model) -> Vec<&'static Field> {
    let exclude = meta::meta(m).form_exclude;
    m.fields
        .iter()
        .filter(|f| f.api && f.writable() && !exclude.contains(&f.name) && !matches!(f.kind, Kind::Computed(_)))
        // Computed from the password when the router encrypts passwords.
        .filter(|f| f.name != "encrypted_password")
        .filter(|f| !(std::ptr::eq(m, &pm_db::models::extras::JOURNAL_ENTRY) && f.name == "created_by"))
        .collect()
}

fn fieldset(f: &Field) -> &'static str {
    match f.kind {
        Kind::Tags => return "Tags",
        Kind::M2m { .. } if f.name.contains("routing_policies") || f.name == "communities" => {
            return "Routing Policies";
        }
        Kind::M2m { .. } => return "Relations",
        _ => {}
    }
    match f.name {
        "local_context_data" => "Config Context",
        "comments" => "Comments",
        n if n.ends_with("_peeringdb_sync") => "Synchronise with PeeringDB",
        n if n.starts_with("retrieve_") || n.starts_with("irr_sources") || n.starts_with("irr_ipv") => {
            "IRR Objects Retrieval"
        }
        n if n.starts_with("napalm_") => "NAPALM",
        _ => "main",
    }
}

/// Raw form values (strings) of an existing object, from its API JSON.
fn raw_from_json(f: &Field, v: &Json) -> Vec<String> {
    let one = |s: String| vec![s];
    match (f.kind, v) {
        (_, Json::Null) => vec![],
        (Kind::Bool, Json::Bool(b)) => {
            if *b {
                one("on".into())
            } else {
                vec![]
            }
        }
        (Kind::M2m { .. } | Kind::Tags, Json::Array(items)) => {
            items.iter().filter_map(|i| i.get("id").and_then(Json::as_i64)).map(|i| i.to_string()).collect()
        }
        (Kind::ContentTypes { .. }, Json::Array(items)) => {
            items.iter().filter_map(Json::as_str).map(str::to_string).collect()
        }
        (Kind::Fk { .. }, Json::Object(o)) => o.get("id").map(|i| one(i.to_string())).unwrap_or_default(),
        (Kind::Choice(_), Json::Object(o)) => one(o.get("value").and_then(Json::as_str).unwrap_or("").to_string()),
        (Kind::Json { .. }, v) => one(serde_json::to_string_pretty(v).unwrap_or_default()),
        (Kind::IntList | Kind::CidrList | Kind::StrList, Json::Array(items)) => one(items
            .iter()
            .map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i.to_string()))
            .collect::<Vec<_>>()
            .join(", ")),
        (Kind::DateTime, Json::String(s)) => one(chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_else(|_| s.clone())),
        (_, Json::String(s)) => one(s.clone()),
        (_, other) => one(other.to_string()),
    }
}

fn raw_default(f: &Field) -> Vec<String> {
    match f.default {
        Init::Int(i) => vec![i.to_string()],
        Init::Bool(true) => vec!["on".into()],
        Init::Text(s) if !s.is_empty() => vec![s.to_string()],
        _ => vec![],
    }
}

/// Form values → the API's JSON input. Problems the API cannot see (bad
/// JSON text) go to `errors`.
pub fn input_from(
    m: &'static Model,
    fields: &[&'static Field],
    values: &dyn Fn(&str) -> Vec<String>,
    present: &dyn Fn(&str) -> bool,
    errors: &mut FieldErrors,
) -> Json {
    let mut out = Map::new();
    for f in fields {
        let vals = values(f.name);
        let first = vals.first().map(|s| s.trim().to_string()).unwrap_or_default();
        let v = match f.kind {
            Kind::Bool => Json::Bool(!first.is_empty() && first != "false" && first != "0"),
            Kind::M2m { .. } | Kind::Tags => Json::Array(
                vals.iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| v.parse::<i64>().map(Json::from).unwrap_or(json!(v)))
                    .collect(),
            ),
            Kind::ContentTypes { .. } => Json::Array(vals.iter().filter(|v| !v.is_empty()).map(|v| json!(v)).collect()),
            _ if first.is_empty() => {
                if !present(f.name) {
                    continue;
                }
                match f.kind {
                    Kind::Text { .. } | Kind::LongText if !f.null => json!(""),
                    Kind::Choice(_) if !f.null => json!(""),
                    Kind::Int { .. } | Kind::IntChoice(_) | Kind::Float | Kind::Fk { .. } if !f.null => {
                        if f.required || matches!(f.default, Init::None) {
                            errors.add(f.name, "This field is required.");
                        }
                        continue;
                    }
                    Kind::CidrList | Kind::IntList | Kind::StrList if !f.null => json!([]),
                    _ => Json::Null,
                }
            }
            Kind::Int { .. } | Kind::IntChoice(_) | Kind::Fk { .. } => {
                first.parse::<i64>().map(Json::from).unwrap_or(json!(first))
            }
            Kind::Float => first.parse::<f64>().map(Json::from).unwrap_or(json!(first)),
            Kind::Json { .. } => match serde_json::from_str::<Json>(&first) {
                Ok(j) => j,
                Err(e) => {
                    errors.add(f.name, format!("Enter valid JSON: {e}."));
                    continue;
                }
            },
            Kind::IntList => Json::Array(
                first
                    .split([',', ' ', '\n'])
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().parse::<i64>().map(Json::from).unwrap_or(json!(s.trim())))
                    .collect(),
            ),
            Kind::StrList => Json::Array(
                first.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(|s| json!(s)).collect(),
            ),
            _ => json!(first),
        };
        out.insert(f.name.to_string(), v);
    }
    let _ = m;
    Json::Object(out)
}

pub fn actor<'a>(ctx: &'a Ctx) -> Actor<'a> {
    let p = &ctx.req.principal;
    Actor {
        user_id: p.user.as_ref().map(|u| u.id),
        user_name: p.user_name(),
        request_id: ctx.req.rid.0,
        perms: &p.perms,
        settings: &ctx.req.state.settings,
    }
}

/// Widgets for fields, from raw values (pickers show the display of what is selected).
pub async fn widgets(
    ctx: &Ctx,
    m: &'static Model,
    fields: &[&'static Field],
    raw: &HashMap<&'static str, Vec<String>>,
    errors: &FieldErrors,
) -> AppResult<Vec<Json>> {
    let mut out = vec![];
    for f in fields {
        let vals = raw.get(f.name).cloned().unwrap_or_default();
        let first = vals.first().cloned().unwrap_or_default();
        let errs = errors.0.get(f.name).cloned().unwrap_or(json!([]));
        let mut w = json!({
            "name": f.name,
            "label": render::field_label(f),
            "value": first,
            "required": f.required && !matches!(f.kind, Kind::Bool),
            "errors": errs,
            "fieldset": fieldset(f),
        });
        let extra = match f.kind {
            Kind::Bool => json!({"widget": "checkbox", "checked": !first.is_empty()}),
            Kind::Choice(cs) => {
                let mut opts = vec![];
                if f.null || !f.required || cs.iter().all(|c| c.value != first) {
                    opts.push(json!({"value": "", "label": "---------", "selected": first.is_empty()}));
                }
                for c in cs {
                    opts.push(json!({"value": c.value, "label": c.label, "selected": c.value == first}));
                }
                json!({"widget": "select", "options": opts})
            }
            Kind::IntChoice(cs) => {
                let opts: Vec<Json> = cs
                    .iter()
                    .map(|(v, l)| json!({"value": v.to_string(), "label": l, "selected": v.to_string() == first}))
                    .collect();
                json!({"widget": "select", "options": opts})
            }
            Kind::Fk { to, .. } | Kind::M2m { to, .. } => {
                let target = registry::model(to).unwrap();
                let ids: Vec<i64> = vals.iter().filter_map(|v| v.parse().ok()).collect();
                let selected = list::displays(ctx, target, &ids).await?;
                let opts: Vec<Json> = selected
                    .into_iter()
                    .map(|(id, d)| json!({"value": id.to_string(), "label": d, "selected": true}))
                    .collect();
                json!({"widget": "picker", "api": target.api_list_path(), "options": opts,
                    "multiple": matches!(f.kind, Kind::M2m { .. }), "params": picker_params(f.name),
                    "nullable": f.null || !f.required})
            }
            Kind::Tags => {
                let tag = &pm_db::models::extras::TAG;
                let ids: Vec<i64> = vals.iter().filter_map(|v| v.parse().ok()).collect();
                let selected = list::displays(ctx, tag, &ids).await?;
                let opts: Vec<Json> = selected
                    .into_iter()
                    .map(|(id, d)| json!({"value": id.to_string(), "label": d, "selected": true}))
                    .collect();
                json!({"widget": "picker", "api": tag.api_list_path(), "options": opts, "multiple": true,
                    "params": "", "nullable": true})
            }
            Kind::ContentType | Kind::ContentTypes { .. } => {
                let opts: Vec<Json> = registry::MODELS
                    .iter()
                    .filter(|t| meta::ui_path(t).is_some())
                    .map(|t| {
                        let label = format!("{} › {}", registry::app_verbose(t.app), meta::title(t.verbose));
                        json!({"value": t.label(), "label": label, "selected": vals.contains(&t.label())})
                    })
                    .collect();
                let multiple = matches!(f.kind, Kind::ContentTypes { .. });
                let mut opts = opts;
                if !multiple {
                    opts.insert(0, json!({"value": "", "label": "---------", "selected": first.is_empty()}));
                }
                json!({"widget": "select", "options": opts, "multiple": multiple})
            }
            Kind::Json { .. } => json!({"widget": "textarea", "mono": true, "rows": 6}),
            Kind::LongText => {
                let code = matches!(f.name, "template" | "body_template");
                json!({"widget": "textarea", "mono": code, "rows": if code { 16 } else { 5 }})
            }
            Kind::Int { min, max } => json!({"widget": "number", "min": min, "max": max}),
            Kind::Float => json!({"widget": "number", "step": "any"}),
            Kind::DateTime => json!({"widget": "datetime"}),
            _ if f.secret => json!({"widget": "text", "mono": true, "autocomplete": "off"}),
            Kind::Inet { .. } | Kind::Mac => json!({"widget": "text", "mono": true}),
            _ if f.name == "color" => json!({"widget": "color"}),
            _ => json!({"widget": "text"}),
        };
        if let (Json::Object(w), Json::Object(e)) = (&mut w, extra) {
            w.extend(e);
        }
        // A picker narrowed by another field's value (the page's script
        // sends it as this API filter).
        if let Some((_, by, param)) = meta::meta(m).narrow.iter().find(|(name, ..)| *name == f.name) {
            w["narrow_by"] = json!(format!("id_{by}"));
            w["narrow_param"] = json!(param);
        }
        out.push(w);
    }
    Ok(out)
}

/// The form's fields with its form-only pickers, each before the field it narrows.
fn with_form_only(m: &'static Model, fields: &[&'static Field]) -> Vec<&'static Field> {
    let meta = meta::meta(m);
    let mut out = vec![];
    for f in fields {
        for (_, by, _) in meta.narrow.iter().filter(|(name, ..)| *name == f.name) {
            out.extend(meta.form_only.iter().filter(|x| x.name == *by));
        }
        out.push(*f);
    }
    out
}

/// Group widgets into fieldsets, in first-appearance order.
pub fn fieldsets(m: &'static Model, widgets: Vec<Json>) -> Vec<Json> {
    let mut sets: Vec<(String, Vec<Json>)> = vec![];
    for w in widgets {
        let name = match w["fieldset"].as_str().unwrap_or("main") {
            "main" => meta::title(m.verbose),
            other => other.to_string(),
        };
        match sets.iter_mut().find(|(n, _)| *n == name) {
            Some((_, ws)) => ws.push(w),
            None => sets.push((name, vec![w])),
        }
    }
    sets.into_iter().map(|(name, fields)| json!({"name": name, "fields": fields})).collect()
}

pub async fn edit(ctx: &mut Ctx, m: &'static Model, id: Option<i64>) -> UiResult {
    let action = if id.is_some() { "change" } else { "add" };
    if !ctx.perms().allows(m, action) {
        return Err(pm_db::error::permission_denied());
    }
    let path = meta::ui_path(m).unwrap_or("/");
    let fields = form_fields(m);
    let existing = match id {
        Some(id) => {
            let (obj, cache) = ops::retrieve(ctx.db(), ctx.perms(), m, id, Mode::Full).await?;
            Some(list::to_json(ctx, &cache, std::slice::from_ref(&obj)).pop().unwrap_or(Json::Null))
        }
        None => None,
    };
    let mut errors = FieldErrors::new();
    let mut raw: HashMap<&'static str, Vec<String>> = HashMap::new();
    let mut form_data: Option<Form> = None;
    if ctx.is_post() {
        let form = ctx.form()?;
        let values = |name: &str| form.all(name).into_iter().map(str::to_string).collect::<Vec<_>>();
        // Checkboxes and multi-selects are absent when empty: every field of the form counts as given.
        let secrets_ok = ctx.perms().allows(m, "view_secrets");
        let present = |name: &str| {
            let f = m.field(name).unwrap();
            !(f.secret && id.is_some() && !secrets_ok && form.get(name).unwrap_or("").is_empty())
        };
        let given: Vec<&'static Field> = fields.iter().copied().filter(|f| present(f.name)).collect();
        let input = input_from(m, &given, &values, &present, &mut errors);
        if errors.is_empty() {
            let result = match id {
                Some(id) => ops::update(ctx.db(), &actor(ctx), m, &[(id, input)], true, false).await,
                None => ops::create(ctx.db(), &actor(ctx), m, &[input], false).await,
            };
            match result {
                Ok(ids) => {
                    let new_id = ids.first().copied().unwrap_or(0);
                    let (objs, cache) = ops::reload(ctx.db(), m, &[new_id], Mode::Nested).await?;
                    let display =
                        objs.first().map(|o| pm_db::object::View::new(o, &cache).display()).unwrap_or_default();
                    let link = match meta::object_url(m, new_id) {
                        Some(u) => format!("<a href=\"{}\">{}</a>", esc(&u), esc(&display)),
                        None => esc(&display),
                    };
                    let verb = if id.is_some() { "Modified" } else { "Created" };
                    ctx.flash("success", format!("{verb} {} {link}", esc(m.verbose))).await;
                    if form.has("_addanother") {
                        let q = ctx.req.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
                        return Ok(redirect(&format!("{path}add/{q}")));
                    }
                    let fallback = meta::object_url(m, new_id)
                        .filter(|_| meta::meta(m).detail)
                        .unwrap_or_else(|| if meta::meta(m).list { path.to_string() } else { "/".into() });
                    return Ok(redirect(&ctx.return_url(Some(&form), &fallback)));
                }
                Err(AppError::Validation(e)) => errors = e,
                Err(AppError::Conflict(msg)) | Err(AppError::PermissionDenied(msg)) => {
                    errors.add("non_field_errors", msg)
                }
                Err(e) => return Err(e),
            }
        }
        for f in fields.iter().copied().chain(meta::meta(m).form_only) {
            raw.insert(f.name, values(f.name));
        }
        form_data = Some(form);
    } else {
        let query = ctx.query();
        for f in &fields {
            let from_query: Vec<String> = query.iter().filter(|(k, _)| k == f.name).map(|(_, v)| v.clone()).collect();
            let v = if !from_query.is_empty() {
                from_query
            } else if let Some(j) = &existing {
                raw_from_json(f, &j[f.name])
            } else if f.name == "local_autonomous_system" {
                // The affiliated AS picked in the top bar (spec §8.4).
                pm_db::session::get_pref(&ctx.prefs, "context.as")
                    .and_then(Json::as_i64)
                    .map(|i| vec![i.to_string()])
                    .unwrap_or_default()
            } else {
                raw_default(f)
            };
            raw.insert(f.name, v);
        }
        for f in meta::meta(m).form_only {
            raw.insert(f.name, query.iter().filter(|(k, _)| k == f.name).map(|(_, v)| v.clone()).collect());
        }
    }
    let widgets = widgets(ctx, m, &with_form_only(m, &fields), &raw, &errors).await?;
    let non_field: Vec<Json> = errors
        .0
        .iter()
        .filter(|(k, _)| !fields.iter().any(|f| f.name == k.as_str()))
        .flat_map(|(k, v)| {
            let prefix = if k == "non_field_errors" { String::new() } else { format!("{}: ", render::humanize(k)) };
            v.as_array().cloned().unwrap_or_default().into_iter().map(move |m| {
                json!(format!("{prefix}{}", m.as_str().map(str::to_string).unwrap_or_else(|| m.to_string())))
            })
        })
        .collect();
    let cancel = ctx
        .return_url(form_data.as_ref(), &id.and_then(|i| meta::object_url(m, i)).unwrap_or_else(|| path.to_string()));
    let title = match (&existing, id) {
        (Some(j), Some(_)) => format!("Editing {}", j["display"].as_str().unwrap_or("")),
        _ => format!("Add a new {}", m.verbose),
    };
    ctx.render(
        "form.html",
        json!({
            "title": title,
            "model": list::model_info(ctx, m),
            "editing": id.is_some(),
            "fieldsets": fieldsets(m, widgets),
            "non_field_errors": non_field,
            "has_errors": !errors.is_empty(),
            "return_url": ctx.return_url(form_data.as_ref(), ""),
            "cancel_url": cancel,
        }),
    )
    .await
}

/// What deleting these objects takes along, as the write path would cascade
/// it (children, their children, generic assignments): "12 Internet exchange
/// peering sessions", one line per type, for the confirmation page.
pub async fn cascaded(ctx: &Ctx, m: &'static Model, ids: &[i64]) -> AppResult<Vec<String>> {
    use pm_db::model::OnDelete;
    use sea_orm::ConnectionTrait;
    use sea_query::{Expr, ExprTrait, Query};
    let db = &ctx.db().conn;
    let ids_where = |table: &'static str, col: &'static str, ids: Vec<i64>, extra: Option<(&'static str, i64)>| {
        let mut q = Query::select();
        q.column("id").from(table).and_where(Expr::col(col).is_in(ids));
        if let Some((c, v)) = extra {
            q.and_where(Expr::col(c).eq(v));
        }
        q
    };
    let mut counts: Vec<(&'static Model, usize)> = vec![];
    // Objects met already (a cycle of cascades must end).
    let mut seen: std::collections::HashSet<(&'static str, i64)> = ids.iter().map(|id| (m.table, *id)).collect();
    let mut queue: Vec<(&'static Model, Vec<i64>)> = vec![(m, ids.to_vec())];
    while let Some((model, ids)) = queue.pop() {
        let mut children: Vec<(&'static Model, sea_query::SelectStatement)> = vec![];
        for (rm, f) in registry::referencing(model) {
            if let Kind::Fk { on_delete: OnDelete::Cascade, .. } = f.kind {
                children.push((rm, ids_where(rm.table, f.column().unwrap(), ids.clone(), None)));
            }
        }
        let ct = registry::ct_id(model);
        for (rm, type_col, id_col) in registry::generic_dependents() {
            children.push((rm, ids_where(rm.table, id_col, ids.clone(), Some((type_col, ct)))));
        }
        for (rm, q) in children {
            let found: Vec<i64> = db
                .query_all(&q)
                .await?
                .iter()
                .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
                .filter(|id| seen.insert((rm.table, *id)))
                .collect();
            if found.is_empty() {
                continue;
            }
            match counts.iter_mut().find(|(c, _)| std::ptr::eq(*c, rm)) {
                Some((_, n)) => *n += found.len(),
                None => counts.push((rm, found.len())),
            }
            queue.push((rm, found));
        }
    }
    Ok(counts
        .into_iter()
        .map(|(rm, n)| format!("{n} {}", if n == 1 { rm.verbose } else { rm.verbose_plural }))
        .collect())
}

pub async fn delete(ctx: &mut Ctx, m: &'static Model, id: i64) -> UiResult {
    if !ctx.perms().allows(m, "delete") || m.read_only() || !meta::meta(m).delete {
        return Err(pm_db::error::permission_denied());
    }
    let (obj, mut cache) = ops::retrieve(ctx.db(), ctx.perms(), m, id, Mode::Nested).await?;
    list::context_deps(&ctx.db().conn, &mut cache, m, std::slice::from_ref(&obj)).await?;
    let display = meta::display_in_context(&pm_db::object::View::new(&obj, &cache));
    let path = meta::ui_path(m).unwrap_or("/");
    let fallback = if meta::meta(m).list { path.to_string() } else { "/".into() };
    let mut error = None;
    let mut form_data = None;
    if ctx.is_post() {
        let form = ctx.form()?;
        match ops::delete(ctx.db(), &actor(ctx), m, &[id], false).await {
            Ok(_) => {
                ctx.flash("success", format!("Deleted {} {}", esc(m.verbose), esc(&display))).await;
                let back = ctx.return_url(Some(&form), &fallback);
                // Going back to the deleted object's own pages makes no sense.
                let back = if back.starts_with(&format!("{path}{id}/")) { fallback } else { back };
                return Ok(redirect(&back));
            }
            Err(AppError::Conflict(msg)) => error = Some(msg),
            Err(e) => return Err(e),
        }
        form_data = Some(form);
    }
    let cancel = ctx.return_url(form_data.as_ref(), &meta::object_url(m, id).unwrap_or(fallback));
    ctx.render(
        "delete.html",
        json!({
            "title": format!("Delete {}", m.verbose),
            "model": list::model_info(ctx, m),
            "display": display,
            "cascaded": cascaded(ctx, m, &[id]).await?,
            "error": error,
            "return_url": ctx.return_url(form_data.as_ref(), ""),
            "cancel_url": cancel,
        }),
    )
    .await
}
