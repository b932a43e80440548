//! Object pages: the object's cards and its tabs — one per model pointing at
//! it (sessions of an AS, connections of a router…), config context,
//! journal and change log where the model has them.

use pm_db::load::Mode;
use pm_db::model::{Computed, Kind, Model};
use pm_db::models::{core, extras, messaging};
use pm_db::{AppError, AppResult, ops, registry};
use sea_orm::ConnectionTrait;
use sea_query::{Condition, Expr, ExprTrait, Query};
use serde_json::{Value as Json, json};

use super::list::{self, TableOpts};
use super::meta;
use super::render;
use super::{Ctx, UiResult};

/// A tab listing the rows of `model` whose `field` points at the object, or
/// that match `filter=<object id>`.
#[derive(Clone, Copy)]
struct Related {
    slug: &'static str,
    model: &'static Model,
    field: Option<&'static pm_db::model::Field>,
    filter: Option<&'static str>,
    /// Fixed filters of a filter tab.
    also: &'static [(&'static str, &'static str)],
    /// The add form's parameter taking the object id, for a filter tab.
    add: Option<&'static str>,
}

impl Related {
    /// Shown even when empty, so that a new object has a place to add
    /// from: declared tabs, and objects that cannot exist without this one
    /// (the sessions of an AS).
    fn always(&self) -> bool {
        self.filter.is_some() || self.field.is_some_and(|f| f.required)
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The related tabs of a model, computed once per model.
fn related(m: &'static Model) -> Vec<(Related, String)> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    /// Per model table: (tab slug, referencing model, its FK field name).
    type Tabs = Vec<(&'static str, &'static Model, &'static str)>;
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Tabs>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    let entries = cache.entry(m.table).or_insert_with(|| {
        let refs: Vec<_> = registry::referencing(m)
            .into_iter()
            .filter(|(rm, _)| meta::ui_path(rm).is_some() && meta::meta(rm).list)
            .collect();
        let mut out = vec![];
        for (rm, f) in &refs {
            let siblings = refs.iter().filter(|(o, _)| std::ptr::eq(*o, *rm)).count();
            let plain = siblings == 1 || !f.name.starts_with("local_");
            let slug = if plain { rm.api.to_string() } else { format!("{}-{}", rm.api, f.name.replace('_', "-")) };
            out.push((leak(slug), *rm, f.name));
        }
        out
    });
    entries
        .iter()
        .map(|(slug, rm, fname)| {
            let f = rm.field(fname).unwrap();
            let label = if slug.contains(&f.name.replace('_', "-")) && f.name.starts_with("local_") {
                format!("{} (local)", meta::short_plural(rm))
            } else {
                meta::short_plural(rm)
            };
            (Related { slug, model: rm, field: Some(f), filter: None, also: &[], add: None }, label)
        })
        .chain(meta::meta(m).tabs.iter().filter_map(|t| {
            let rm = registry::model(t.model)?;
            let r = Related { slug: t.slug, model: rm, field: None, filter: Some(t.filter), also: t.also, add: t.add };
            Some((r, t.label.to_string()))
        }))
        .collect()
}

async fn count_where(ctx: &Ctx, m: &'static Model, cond: Condition) -> AppResult<i64> {
    let Some(scope) = ctx.perms().scope(m, "view") else { return Ok(0) };
    pm_db::load::count(&ctx.db().conn, m, cond.add(scope)).await
}

fn fk_cond(r: &Related, id: i64) -> Condition {
    match r.field {
        Some(f) => Condition::all().add(Expr::col(f.column().unwrap()).eq(id)),
        None => Condition::all(),
    }
}

/// Filter parameters of a filter tab.
fn tab_params(r: &Related, id: i64) -> Vec<(String, String)> {
    // A model label among the fixed values stands for its content type
    // (`object_type=devices.router`), whose id the filter wants.
    let value = |v: &str| registry::model(v).map(|t| registry::ct_id(t).to_string()).unwrap_or_else(|| v.to_string());
    let mut out: Vec<(String, String)> = r.also.iter().map(|(k, v)| (k.to_string(), value(v))).collect();
    out.extend(r.filter.map(|f| (f.to_string(), id.to_string())));
    out
}

fn generic_cond(type_col: &'static str, id_col: &'static str, m: &'static Model, id: i64) -> Condition {
    Condition::all().add(Expr::col(type_col).eq(registry::ct_id(m))).add(Expr::col(id_col).eq(id))
}

pub async fn detail(ctx: &mut Ctx, m: &'static Model, id: i64, tab: Option<&str>) -> UiResult {
    if !ctx.perms().allows(m, "view") {
        return Err(pm_db::error::permission_denied());
    }
    let (mut obj, mut cache) = ops::retrieve(ctx.db(), ctx.perms(), m, id, Mode::Full).await?;
    // An IXP not linked to PeeringDB yet tries to link itself when viewed (§3.2).
    if m.label() == "peering.internetexchange" && obj.int("peeringdb_ixlan").is_none() {
        let w = ctx.db().begin_write().await?;
        let linked = pm_db::peeringdb::link_ixp(&w.txn, id).await?;
        w.commit().await?;
        if linked.is_some() {
            (obj, cache) = ops::retrieve(ctx.db(), ctx.perms(), m, id, Mode::Full).await?;
        }
    }
    let j = list::to_json(ctx, &cache, std::slice::from_ref(&obj)).pop().unwrap_or(Json::Null);
    let path = meta::ui_path(m).unwrap_or("/");
    let base = format!("{path}{id}/");

    // Tabs: main, related lists, config context, journal, change log.
    let mut tabs = vec![json!({"slug": "", "label": meta::title(m.verbose), "url": base, "active": tab.is_none()})];
    let rel = related(m);
    for (r, label) in &rel {
        if !ctx.perms().allows(r.model, "view") {
            continue;
        }
        let n = match r.filter {
            Some(_) => {
                let cond = pm_db::query::filter::condition(&ctx.db().conn, r.model, &tab_params(r, id)).await?;
                count_where(ctx, r.model, cond).await?
            }
            None => count_where(ctx, r.model, fk_cond(r, id)).await?,
        };
        // Empty relations stay out of the way (the tab still answers when asked for).
        if n == 0 && tab != Some(r.slug) && !r.always() {
            continue;
        }
        tabs.push(json!({"slug": r.slug, "label": label, "url": format!("{base}{}/", r.slug), "count": n,
            "active": tab == Some(r.slug)}));
    }
    let has_cc = m.fields.iter().any(|f| matches!(f.kind, Kind::Computed(Computed::ConfigContext)));
    if has_cc && ctx.perms().allows(&extras::CONFIG_CONTEXT, "view") {
        tabs.push(json!({"slug": "config-context", "label": "Config Context", "url": format!("{base}config-context/"),
            "active": tab == Some("config-context")}));
    }
    if m.features.journal && ctx.perms().allows(&extras::JOURNAL_ENTRY, "view") {
        let n = count_where(
            ctx,
            &extras::JOURNAL_ENTRY,
            generic_cond("assigned_object_type_id", "assigned_object_id", m, id),
        )
        .await?;
        tabs.push(json!({"slug": "journal", "label": "Journal", "url": format!("{base}journal/"), "count": n,
            "active": tab == Some("journal")}));
    }
    // Routers: their rendered configuration (needs the `view_configuration` action).
    if m.label() == "devices.router" && ctx.perms().allows(m, "view_configuration") {
        tabs.push(json!({"slug": "configuration", "label": "Configuration", "url": format!("{base}configuration/"),
            "active": tab == Some("configuration")}));
    }
    // PeeringDB: the available peers of a linked IXP, the network of an AS.
    let mut network = None;
    let context_as = pm_db::session::get_pref(&ctx.prefs, "context.as").and_then(Json::as_i64);
    if m.label() == "peering.internetexchange" && obj.int("peeringdb_ixlan").is_some() {
        tabs.push(
            json!({"slug": "available-peers", "label": "Available peers", "url": format!("{base}available-peers/"),
            "active": tab == Some("available-peers")}),
        );
    }
    if m.label() == "peering.autonomoussystem" {
        network = pm_db::peeringdb::network_by_asn(&ctx.db().conn, obj.int("asn").unwrap_or(0)).await?;
        if network.is_some() {
            tabs.push(json!({"slug": "peeringdb", "label": "PeeringDB", "url": format!("{base}peeringdb/"),
                "active": tab == Some("peeringdb")}));
            if context_as.is_some_and(|c| c != id) {
                tabs.push(json!({"slug": "available-sessions", "label": "Available sessions",
                    "url": format!("{base}available-sessions/"), "active": tab == Some("available-sessions")}));
            }
        }
    }
    if m.features.change_log && ctx.perms().allows(&core::OBJECT_CHANGE, "view") {
        tabs.push(json!({"slug": "changelog", "label": "Changelog", "url": format!("{base}changelog/"),
            "active": tab == Some("changelog")}));
    }
    if let Some(t) = tab
        && !tabs.iter().any(|x| x["slug"] == json!(t))
    {
        return Err(AppError::NotFound("Page not found.".into()));
    }

    let full_path = ctx.req.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let mut page = json!({
        "title": j["display"].as_str().unwrap_or(""),
        "model": list::model_info(ctx, m),
        "object": {"id": id, "display": j["display"], "url": base},
        "tabs": tabs,
        "tab": tab.unwrap_or(""),
        "return_url": full_path,
        "created": j.get("created").and_then(Json::as_str).map(render::fmt_time),
        "updated": j.get("updated").and_then(Json::as_str).map(render::fmt_time),
        "editor_url": super::editor::kind(m).map(|_| format!("{base}editor/")),
    });
    let extra = match tab {
        None if m.label() == "core.job" => json!({"job": super::jobs::job_tab(ctx, id, &j)}),
        None => main_tab(ctx, m, &obj, &j).await?,
        Some("changelog") => changelog_tab(ctx, m, id).await?,
        Some("config-context") => config_context_tab(ctx, m, id, &j).await?,
        Some("journal") => journal_tab(ctx, m, id, &full_path).await?,
        Some("configuration") => configuration_tab(ctx, id, j["name"].as_str().unwrap_or("router")).await?,
        Some("available-peers") => super::peers::ixp_tab(ctx, &obj).await?,
        Some("peeringdb") if network.is_some() => super::peers::as_tab(ctx, &obj, network.as_ref().unwrap()).await?,
        Some("available-sessions") if network.is_some() && context_as.is_some() => {
            super::peers::as_sessions_tab(ctx, &obj, network.as_ref().unwrap(), context_as.unwrap()).await?
        }
        Some(slug) => {
            let (r, _) =
                rel.iter().find(|(r, _)| r.slug == slug).ok_or_else(|| AppError::NotFound("Page not found.".into()))?;
            related_tab(ctx, r, id, &full_path).await?
        }
    };
    if let (Json::Object(p), Json::Object(e)) = (&mut page, extra) {
        p.extend(e);
    }
    ctx.render("detail.html", page).await
}

async fn main_tab(ctx: &Ctx, m: &'static Model, obj: &pm_db::object::Obj, j: &Json) -> AppResult<Json> {
    let mut attrs = vec![];
    let mut relations = vec![];
    let mut blocks = vec![];
    let mut wide = vec![];
    for f in m.fields.iter().filter(|f| f.api && !f.write_only) {
        let Some(v) = j.get(f.name) else { continue };
        if matches!(f.kind, Kind::M2m { .. }) {
            relations.push(json!({"label": render::field_label(f), "html": render::value_html(f, v, true)}));
        } else if matches!(f.kind, Kind::Json { .. }) || (matches!(f.kind, Kind::LongText) && f.name != "comments") {
            if f.name == "local_context_data" {
                continue; // on the config context tab
            }
            // Nothing to show for an empty value (`{}` of PeeringDB prefixes
            // before the first poll). Long texts (templates) get the page's
            // width, JSON stays beside the attributes.
            let empty = match v {
                Json::Null => true,
                Json::String(s) => s.is_empty(),
                Json::Object(o) => o.is_empty(),
                Json::Array(a) => a.is_empty(),
                _ => false,
            };
            if !empty {
                let block = json!({"label": render::field_label(f), "html": render::value_html(f, v, true)});
                if matches!(f.kind, Kind::LongText) { wide.push(block) } else { blocks.push(block) }
            }
        } else if !matches!(f.kind, Kind::Tags | Kind::Computed(Computed::ConfigContext))
            && !matches!(f.name, "comments" | "id" | "created" | "updated")
        {
            attrs.push(json!({"label": render::field_label(f), "html": render::value_html(f, v, true)}));
        }
    }
    let comments = j.get("comments").and_then(Json::as_str).filter(|c| !c.trim().is_empty()).map(render::markdown);
    let tags = match j.get("tags") {
        Some(Json::Array(items)) => Some(items.iter().map(render::tag_pill).collect::<Vec<_>>().join(" ")),
        _ => None,
    };
    let mut out = json!({"attrs": attrs, "relations": relations, "blocks": blocks, "wide_blocks": wide, "comments": comments,
        "has_comments": m.has("comments"), "tags": tags});
    // Contacts of autonomous systems and IXPs (generic assignments, spec §9.5).
    if matches!(m.name, "autonomoussystem" | "internetexchange")
        && ctx.perms().allows(&messaging::CONTACT_ASSIGNMENT, "view")
    {
        out["contacts"] = contacts(ctx, m, obj.id).await?;
    }
    // An AS whose values differ from its PeeringDB network says so (details on its PeeringDB tab).
    if m.label() == "peering.autonomoussystem"
        && let Some(net) = pm_db::peeringdb::network_by_asn(&ctx.db().conn, obj.int("asn").unwrap_or(0)).await?
    {
        let labels: Vec<Json> = pm_db::peeringdb::divergence(obj, &net).iter().map(|d| d["label"].clone()).collect();
        if !labels.is_empty() {
            out["divergence"] =
                json!({"labels": labels, "url": format!("{}{}/peeringdb/", meta::ui_path(m).unwrap_or("/"), obj.id)});
        }
    }
    if std::ptr::eq(m, &core::OBJECT_CHANGE) {
        let pre = j.get("prechange_data").cloned().unwrap_or(Json::Null);
        let post = j.get("postchange_data").cloned().unwrap_or(Json::Null);
        let changed = j["changed_object_type"].as_str().and_then(registry::model);
        let diff = named_diff(ctx, changed, &pre, &post).await?;
        out["diff"] = Json::Array(diff);
        out["created"] = Json::Bool(Json::is_null(&pre));
        out["blocks"] = json!([]);
        out["wide_blocks"] = json!([]);
        out["pre"] = json!(serde_json::to_string_pretty(&pre).unwrap_or_default());
        out["post"] = json!(serde_json::to_string_pretty(&post).unwrap_or_default());
        // Other changes of the same request.
        let rid = obj.text("request_id").to_string();
        let cond = Condition::all().add(Expr::col("request_id").eq(rid)).add(Expr::col("id").ne(obj.id));
        let mut fetched = list::fetch(ctx, m, &[], cond, None, Some(50), 0).await?;
        let cols = render::visible_columns(m, &render::available_columns(m, ctx.perms()), None);
        let opts = TableOpts { selectable: false, actions: false, sort_base: None, sort: None, return_url: "" };
        out["request_changes"] = list::table(ctx, m, &mut fetched, &cols, opts).await?;
        out["request_count"] = json!(fetched.count);
    }
    if std::ptr::eq(m, &extras::TAG) {
        let q = Query::select()
            .column("content_type_id")
            .expr(Expr::cust("COUNT(*)"))
            .from("extras_taggeditem")
            .and_where(Expr::col("tag_id").eq(obj.id))
            .group_by_col("content_type_id")
            .to_owned();
        let mut items = vec![];
        for r in ctx.db().conn.query_all(&q).await? {
            let (ct, n) = (r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?);
            if let Some(t) = registry::by_ct_id(ct) {
                let url = meta::ui_path(t).map(|p| format!("{p}?tag={}", obj.text("slug")));
                items.push(json!({"label": meta::title(t.verbose_plural), "count": n, "url": url}));
            }
        }
        out["tagged"] = json!(items);
    }
    Ok(out)
}

async fn related_tab(ctx: &Ctx, r: &Related, id: i64, return_url: &str) -> AppResult<Json> {
    let m = r.model;
    let page_size = list::per_page(ctx);
    let available = render::available_columns(m, ctx.perms());
    let own = r.field.map(|f| f.name).unwrap_or("");
    let cols: Vec<_> = render::visible_columns(m, &available, None).into_iter().filter(|c| c.name != own).collect();
    let params = tab_params(r, id);
    let mut fetched = list::fetch_table(ctx, m, &params, fk_cond(r, id), None, Some(page_size), 0, &cols).await?;
    let opts = TableOpts { selectable: false, actions: true, sort_base: None, sort: None, return_url };
    let table = list::table(ctx, m, &mut fetched, &cols, opts).await?;
    let path = meta::ui_path(m).unwrap_or("/");
    let filter = r.filter.map(str::to_string).unwrap_or_else(|| format!("{own}_id"));
    let has_filter = pm_db::query::filter::parse_key(m, &filter).is_some();
    let list_query = serde_urlencoded::to_string(&params).unwrap_or_default();
    // "+ Add" with this object filled in: the foreign key, or the form
    // field a filter tab names.
    let param = r.field.map(|f| f.name).or(r.add);
    let add = param.filter(|_| meta::meta(m).add && m.writable() && ctx.perms().allows(m, "add")).map(|p| {
        let q = serde_urlencoded::to_string([(p, id.to_string()), ("return_url", return_url.to_string())])
            .unwrap_or_default();
        format!("{path}add/?{q}")
    });
    Ok(json!({
        "related": {
            "table": table,
            "count": fetched.count,
            "shown": fetched.objs.len(),
            "plural": meta::title(m.verbose_plural),
            "verbose": m.verbose,
            "list_url": has_filter.then(|| if r.filter.is_some() { format!("{path}?{list_query}") } else { format!("{path}?{filter}={id}") }),
            "add_url": add,
        }
    }))
}

/// A change-log diff with related objects by name ("Transit One", not `6`;
/// "—" for none, not `[]`).
async fn named_diff(ctx: &Ctx, m: Option<&'static Model>, pre: &Json, post: &Json) -> AppResult<Vec<Json>> {
    let mut diff = render::diff(pre, post);
    let Some(m) = m else { return Ok(diff) };
    for d in diff.iter_mut() {
        let key = d["key"].as_str().unwrap_or("").to_string();
        let target = match m.field(&key).map(|f| f.kind) {
            Some(Kind::Fk { to, .. } | Kind::M2m { to, .. }) => registry::model(to),
            _ => None,
        };
        let Some(target) = target else { continue };
        for (side, snapshot) in [("old", pre), ("new", post)] {
            let ids: Vec<i64> = match &snapshot[&key] {
                Json::Number(n) => n.as_i64().into_iter().collect(),
                Json::Array(items) => items.iter().filter_map(Json::as_i64).collect(),
                _ => continue,
            };
            let names = list::displays(ctx, target, &ids).await?;
            let text: Vec<String> = ids
                .iter()
                .map(|id| names.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone()).unwrap_or(format!("#{id}")))
                .collect();
            d[side] = json!(if text.is_empty() { "—".to_string() } else { text.join(", ") });
        }
    }
    Ok(diff)
}

async fn changelog_tab(ctx: &Ctx, m: &'static Model, id: i64) -> AppResult<Json> {
    let oc = &core::OBJECT_CHANGE;
    let cond = generic_cond("changed_object_type_id", "changed_object_id", m, id);
    let fetched = list::fetch(ctx, oc, &[], cond, None, Some(100), 0).await?;
    let objs = list::to_json(ctx, &fetched.cache, &fetched.objs);
    let entries: Vec<Json> = objs
        .iter()
        .map(|c| {
            let action = c["action"]["value"].as_str().unwrap_or("");
            json!({
                "url": format!("/core/changelog/{}/", c["id"]),
                "time": render::fmt_time(c["time"].as_str().unwrap_or("")),
                "user": c["user_name"],
                "action": render::badge(c["action"]["label"].as_str().unwrap_or(action), render::choice_colour(action)),
                "request_id": c["request_id"],
                "created": action == "create",
            })
        })
        .collect();
    let mut entries = entries;
    for (e, c) in entries.iter_mut().zip(&objs) {
        e["diff"] = Json::Array(named_diff(ctx, Some(m), &c["prechange_data"], &c["postchange_data"]).await?);
    }
    Ok(json!({"changes": entries, "change_count": fetched.count}))
}

/// The router's configuration as its template renders it now; a template
/// error is shown with its template, line and message instead of output.
async fn configuration_tab(ctx: &Ctx, id: i64, name: &str) -> AppResult<Json> {
    let raw_url = format!("/api/devices/routers/{id}/configuration/?raw");
    let viewer = pm_render::Viewer::user(ctx.perms().clone());
    let value = match pm_render::render_router_as(ctx.db(), &viewer, id, None).await {
        Ok(Some(r)) => {
            // For whoever tunes templates and loaders, not for the reader of the page.
            tracing::debug!(router = %name, statements = r.queries, "configuration rendered");
            json!({"text": r.text, "raw_url": raw_url, "filename": format!("{name}.conf")})
        }
        Ok(None) => json!({"none": true}),
        Err(pm_render::RenderError::Template(e)) => {
            json!({"error": {"template": e.template, "line": e.line, "message": e.message}})
        }
        Err(pm_render::RenderError::NotFound(m)) => return Err(AppError::NotFound(m)),
        Err(pm_render::RenderError::Forbidden(m)) => json!({"error": {"template": "", "line": null, "message": m}}),
        Err(pm_render::RenderError::Internal(m)) => return Err(AppError::Internal(anyhow::anyhow!(m))),
    };
    Ok(json!({"configuration": value}))
}

async fn config_context_tab(ctx: &Ctx, m: &'static Model, id: i64, j: &Json) -> AppResult<Json> {
    // `?format=json|yaml`, remembered as the `configcontext.format` preference (spec §9.5).
    let format = match ctx.query_get("format").as_deref() {
        Some(f @ ("json" | "yaml")) => {
            let mut prefs = ctx.prefs.clone();
            pm_db::session::set_pref(&mut prefs, "configcontext.format", Some(json!(f)));
            if let Some(uid) = ctx.user_id() {
                pm_db::session::save_preferences(&ctx.db().conn, uid, &prefs).await?;
            }
            f.to_string()
        }
        _ => pm_db::session::get_pref(&ctx.prefs, "configcontext.format")
            .and_then(Json::as_str)
            .unwrap_or("json")
            .to_string(),
    };
    let yaml = format == "yaml";
    let pretty = |v: &Json| {
        if Json::is_null(v) {
            None
        } else if yaml {
            serde_norway::to_string(v).ok()
        } else {
            serde_json::to_string_pretty(v).ok()
        }
    };
    let cca = &extras::CONFIG_CONTEXT_ASSIGNMENT;
    let mut assignments = vec![];
    if ctx.perms().allows(cca, "view") {
        let fetched =
            list::fetch(ctx, cca, &[], generic_cond("content_type_id", "object_id", m, id), None, None, 0).await?;
        let can_change = ctx.perms().allows(cca, "change");
        let can_delete = ctx.perms().allows(cca, "delete");
        for (o, a) in fetched.objs.iter().zip(list::to_json(ctx, &fetched.cache, &fetched.objs)) {
            assignments.push(json!({
                "context": render::object_link(Some(&extras::CONFIG_CONTEXT), &a["config_context"]),
                "weight": a["weight"],
                "edit_url": can_change.then(|| format!("/extras/config-context-assignments/{}/edit/", o.id)),
                "delete_url": can_delete.then(|| format!("/extras/config-context-assignments/{}/delete/", o.id)),
            }));
        }
    }
    let base = format!("{}{id}/config-context/", meta::ui_path(m).unwrap_or("/"));
    let add = ctx.perms().allows(cca, "add").then(|| {
        let q = serde_urlencoded::to_string([
            ("content_type", m.label()),
            ("object_id", id.to_string()),
            ("return_url", base.clone()),
        ])
        .unwrap_or_default();
        format!("/extras/config-context-assignments/add/?{q}")
    });
    Ok(json!({
        "config": {
            "rendered": pretty(&j["config_context"]),
            "local": pretty(&j["local_context_data"]),
            "assignments": assignments,
            "add_url": add,
            "format": format,
        }
    }))
}

async fn journal_tab(ctx: &Ctx, m: &'static Model, id: i64, return_url: &str) -> AppResult<Json> {
    let je = &extras::JOURNAL_ENTRY;
    let fetched = list::fetch(
        ctx,
        je,
        &[],
        generic_cond("assigned_object_type_id", "assigned_object_id", m, id),
        None,
        Some(100),
        0,
    )
    .await?;
    let objs = list::to_json(ctx, &fetched.cache, &fetched.objs);
    let users = user_names(ctx, &objs).await?;
    let entries: Vec<Json> = objs
        .iter()
        .map(|e| {
            let kind = e["kind"]["value"].as_str().unwrap_or("info");
            json!({
                "url": format!("/extras/journal-entries/{}/", e["id"]),
                "time": render::fmt_time(e["created"].as_str().unwrap_or("")),
                "user": e["created_by"].as_i64().and_then(|u| users.iter().find(|(i, _)| *i == u)).map(|(_, n)| n.clone()),
                "kind": render::badge(e["kind"]["label"].as_str().unwrap_or(kind), render::choice_colour(kind)),
                "comments": render::markdown(e["comments"].as_str().unwrap_or("")),
            })
        })
        .collect();
    let kinds: Vec<Json> =
        pm_db::choices::JOURNAL_KIND.iter().map(|c| json!({"value": c.value, "label": c.label})).collect();
    Ok(json!({"journal": {
        "entries": entries,
        "can_add": ctx.perms().allows(je, "add"),
        "object_type": m.label(),
        "object_id": id,
        "return_url": return_url,
        "kinds": kinds,
    }}))
}

async fn user_names(ctx: &Ctx, entries: &[Json]) -> AppResult<Vec<(i64, String)>> {
    let ids: Vec<i64> = entries.iter().filter_map(|e| e["created_by"].as_i64()).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let q =
        Query::select().columns(["id", "username"]).from("auth_user").and_where(Expr::col("id").is_in(ids)).to_owned();
    Ok(ctx
        .db()
        .conn
        .query_all(&q)
        .await?
        .iter()
        .filter_map(|r| Some((r.try_get_by_index::<i64>(0).ok()?, r.try_get_by_index::<String>(1).ok()?)))
        .collect())
}

async fn contacts(ctx: &Ctx, m: &'static Model, id: i64) -> AppResult<Json> {
    let ca = &messaging::CONTACT_ASSIGNMENT;
    let mut fetched =
        list::fetch(ctx, ca, &[], generic_cond("content_type_id", "object_id", m, id), None, None, 0).await?;
    list::load_fields(ctx, ca, &mut fetched, &[ca.field("contact").unwrap(), ca.field("role").unwrap()]).await?;
    let back = format!("{}{id}/", meta::ui_path(m).unwrap_or("/"));
    let can_delete = ctx.perms().allows(ca, "delete");
    let mut items = vec![];
    for (o, a) in fetched.objs.iter().zip(list::to_json(ctx, &fetched.cache, &fetched.objs)) {
        items.push(json!({
            "contact": render::object_link(Some(&messaging::CONTACT), &a["contact"]),
            "role": a["role"]["display"],
            "email": fetched.cache.get(&messaging::CONTACT, o.int("contact").unwrap_or(0)).map(|c| c.text("email").to_string()),
            "delete_url": can_delete.then(|| format!("/messaging/contact-assignments/{}/delete/?return_url={back}", o.id)),
        }));
    }
    let add = ctx.perms().allows(ca, "add").then(|| {
        let q = serde_urlencoded::to_string([
            ("content_type", m.label()),
            ("object_id", id.to_string()),
            ("return_url", back.clone()),
        ])
        .unwrap_or_default();
        format!("/messaging/contact-assignments/add/?{q}")
    });
    Ok(json!({"items": items, "add_url": add}))
}
