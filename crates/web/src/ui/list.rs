//! List pages: filter form (the API's filters), sortable columns chosen per
//! user, pagination, bulk selection; and the table renderer every other page
//! (related tabs, search results) reuses.

use std::collections::HashMap;

use pm_db::load::{self, Mode};
use pm_db::model::{Choice, Computed, Field, Kind, Model};
use pm_db::object::{Cache, Obj};
use pm_db::query::custom::CustomFilter as CF;
use pm_db::query::filter;
use pm_db::serialize::Render;
use pm_db::{AppError, AppResult, registry};
use sea_orm::ConnectionTrait;
use sea_query::{Condition, Expr, ExprTrait, Query};
use serde_json::{Value as Json, json};

use super::meta::{self, PAGE_SIZES};
use super::render::{self, Column, esc};
use super::{Ctx, UiResult, redirect};

/// Query keys that shape the page rather than filter it.
pub const UI_KEYS: &[&str] =
    &["page", "per_page", "sort", "export", "export_template", "return_url", "_", "ordering", "limit", "offset"];

/// One page of objects: the caller's view scope, `params` (API filters) and an extra condition.
pub struct Fetched {
    pub count: i64,
    pub objs: Vec<Obj>,
    pub cache: Cache,
}

/// What both fetches share: the filters within the caller's view scope, the
/// ordering, and how many rows match.
async fn page_query(
    ctx: &Ctx,
    m: &'static Model,
    params: &[(String, String)],
    extra: Condition,
    ordering: Option<&str>,
) -> AppResult<(Condition, Vec<(&'static str, bool)>, i64)> {
    let scope = ctx.perms().scope(m, "view").ok_or_else(pm_db::error::permission_denied)?;
    let db = &ctx.db().conn;
    let cond = filter::condition(db, m, params).await?.add(scope).add(extra);
    let order = filter::ordering(m, ordering)?;
    let count = load::count(db, m, cond.clone()).await?;
    Ok((cond, order, count))
}

pub async fn fetch(
    ctx: &Ctx,
    m: &'static Model,
    params: &[(String, String)],
    extra: Condition,
    ordering: Option<&str>,
    limit: Option<u64>,
    offset: u64,
) -> AppResult<Fetched> {
    let db = &ctx.db().conn;
    let (cond, order, count) = page_query(ctx, m, params, extra, ordering).await?;
    let objs = load::fetch(db, m, cond, &order, limit, offset).await?;
    let mut cache = Cache::default();
    // What `display` needs; the columns shown load the rest (`load_fields`).
    load::prepare(db, &mut cache, m, objs.clone(), Mode::Nested).await?;
    Ok(Fetched { count, objs, cache })
}

/// Like `fetch`, for a table: large columns (JSON, long text) are left out
/// unless shown, and related rows are loaded only for what `display` needs.
/// IRR prefix lists and templates can be megabytes; a table never reads them.
#[allow(clippy::too_many_arguments)]
pub async fn fetch_table(
    ctx: &Ctx,
    m: &'static Model,
    params: &[(String, String)],
    extra: Condition,
    ordering: Option<&str>,
    limit: Option<u64>,
    offset: u64,
    columns: &[Column],
) -> AppResult<Fetched> {
    let db = &ctx.db().conn;
    let (cond, order, count) = page_query(ctx, m, params, extra, ordering).await?;
    let keep: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let objs = fetch_light(db, m, cond, &order, limit, offset, &keep).await?;
    let mut cache = Cache::default();
    display_deps(db, &mut cache, m, &objs).await?;
    Ok(Fetched { count, objs, cache })
}

/// Columns too large for tables.
fn heavy(f: &Field) -> bool {
    matches!(f.kind, Kind::Json { .. } | Kind::LongText | Kind::IntList | Kind::CidrList | Kind::StrList)
}

/// Rows with only the columns `keep` names and those `display` reads
/// (`Meta::display_columns`); the others are read as NULL, positions kept so
/// rows still decode as the model's objects.
pub async fn fetch_light<C: ConnectionTrait>(
    db: &C,
    m: &'static Model,
    cond: Condition,
    order: &[(&'static str, bool)],
    limit: Option<u64>,
    offset: u64,
    keep: &[&str],
) -> AppResult<Vec<Obj>> {
    let declared = meta::meta(m).display_columns;
    let mut q = Query::select();
    q.from(m.table);
    for f in m.columns() {
        let wanted = f.name == "id"
            || keep.contains(&f.name)
            || if declared.is_empty() { !heavy(f) } else { declared.contains(&f.name) };
        if wanted {
            q.column((m.table, f.column().unwrap()));
        } else {
            q.expr(Expr::cust("NULL"));
        }
    }
    q.cond_where(cond);
    load::order(&mut q, m, order);
    if let Some(l) = limit {
        q.limit(l);
    }
    if offset > 0 {
        q.offset(offset);
    }
    let rows = db.query_all(&q).await?;
    Ok(rows.iter().map(|r| Obj::from_row(m, r)).collect::<Result<_, _>>()?)
}

/// Put light rows with these ids into the cache (only missing ones are read).
async fn load_ids_light<C: ConnectionTrait>(
    db: &C,
    cache: &mut Cache,
    m: &'static Model,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<Vec<i64>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let missing: Vec<i64> = ids.iter().copied().filter(|id| cache.get(m, *id).is_none()).collect();
    if !missing.is_empty() {
        let cond = Condition::all().add(Expr::col((m.table, "id")).is_in(missing));
        for o in fetch_light(db, m, cond, &[], None, 0, &[]).await? {
            cache.put(o);
        }
    }
    Ok(ids)
}

/// Load the rows `display` walks through (`ixp_connection.internet_exchange_point`).
pub fn display_deps<'a, C: ConnectionTrait>(
    db: &'a C,
    cache: &'a mut Cache,
    m: &'static Model,
    objs: &'a [Obj],
) -> futures::future::BoxFuture<'a, AppResult<()>> {
    load_paths(db, cache, m, objs, m.display_deps, false)
}

/// Load the objects along foreign-key paths (`ixp_connection.router`) into
/// the cache; with `displayed`, also what the last objects' display needs.
fn load_paths<'a, C: ConnectionTrait>(
    db: &'a C,
    cache: &'a mut Cache,
    m: &'static Model,
    objs: &'a [Obj],
    paths: &'a [&'static str],
    displayed: bool,
) -> futures::future::BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        for dep in paths {
            let mut current_model = m;
            let mut current: Vec<Obj> = objs.to_vec();
            for hop in dep.split('.') {
                let Some(f) = current_model.field(hop) else { break };
                let Kind::Fk { to, .. } = f.kind else { break };
                let target = registry::model(to).expect("fk target");
                let ids = load_ids_light(db, cache, target, current.iter().filter_map(|o| o.int(hop))).await?;
                current = ids.iter().filter_map(|id| cache.get(target, *id).cloned()).collect();
                current_model = target;
            }
            if displayed && !std::ptr::eq(current_model, m) {
                display_deps(db, cache, current_model, &current).await?;
            }
        }
        Ok(())
    })
}

/// Load what [`meta::context`] shows of these objects (the router of a session).
pub async fn context_deps<C: ConnectionTrait>(
    db: &C,
    cache: &mut Cache,
    m: &'static Model,
    objs: &[Obj],
) -> AppResult<()> {
    let paths: Vec<&'static str> = meta::meta(m).context.iter().map(|(_, path)| *path).collect();
    load_paths(db, cache, m, objs, &paths, true).await
}

/// Load what these fields of the fetched objects show: related objects,
/// many-to-many targets, tags, computed values. One query per field at
/// most, whatever the number of rows.
pub async fn load_fields(
    ctx: &Ctx,
    m: &'static Model,
    fetched: &mut Fetched,
    fields: &[&'static Field],
) -> AppResult<()> {
    let db = &ctx.db().conn;
    let objs = &fetched.objs;
    if objs.is_empty() {
        return Ok(());
    }
    let cache = &mut fetched.cache;
    let ids: Vec<i64> = objs.iter().map(|o| o.id).collect();
    for f in fields {
        match f.kind {
            Kind::Fk { to, .. } => {
                let target = registry::model(to).expect("fk target");
                load_nested(db, cache, target, objs.iter().filter_map(|o| o.int(f.name)).collect()).await?;
            }
            Kind::M2m { table, src, dst, .. } | Kind::ContentTypes { table, src, dst }
                if !cache.m2m.contains_key(&(table, ids[0])) =>
            {
                let q = Query::select()
                    .columns([src, dst])
                    .from(table)
                    .and_where(Expr::col(src).is_in(ids.clone()))
                    .to_owned();
                let mut pairs = vec![];
                for r in db.query_all(&q).await? {
                    pairs.push((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?));
                }
                for id in &ids {
                    cache.m2m.entry((table, *id)).or_default();
                }
                if let Kind::M2m { to, .. } = f.kind {
                    let target = registry::model(to).expect("m2m target");
                    load_nested(db, cache, target, pairs.iter().map(|p| p.1).collect()).await?;
                    let name = |id: &i64| {
                        cache.get(target, *id).map(|o| pm_db::object::View::new(o, cache).display()).unwrap_or_default()
                    };
                    pairs.sort_by_cached_key(|p| name(&p.1));
                } else {
                    pairs.sort();
                }
                for (s, d) in pairs {
                    cache.m2m.entry((table, s)).or_default().push(d);
                }
            }
            Kind::Tags => {
                let ct = registry::ct_id(m);
                let q = Query::select()
                    .columns(["object_id", "tag_id"])
                    .from("extras_taggeditem")
                    .and_where(Expr::col("content_type_id").eq(ct))
                    .and_where(Expr::col("object_id").is_in(ids.clone()))
                    .to_owned();
                let mut pairs = vec![];
                for r in db.query_all(&q).await? {
                    pairs.push((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?));
                }
                let tag = &pm_db::models::extras::TAG;
                load::load_ids(db, cache, tag, pairs.iter().map(|p| p.1)).await?;
                pairs.sort_by_cached_key(|p| {
                    cache.get(tag, p.1).map(|t| t.text("name").to_string()).unwrap_or_default()
                });
                for id in &ids {
                    cache.tags.entry((ct, *id)).or_default();
                }
                for (o, t) in pairs {
                    cache.tags.entry((ct, o)).or_default().push(t);
                }
            }
            Kind::Computed(c) => {
                let mut put = |id: i64, v: Json| {
                    cache.computed.insert((m.table, id, f.name), v);
                };
                match c {
                    Computed::ConfigContext => {
                        for (id, v) in load::config_contexts(db, m, objs).await? {
                            put(id, v);
                        }
                    }
                    Computed::CommunityKind => {
                        for o in objs {
                            let k = pm_domain::community::kind_of(o.text("value")).map(|k| json!(k.as_str()));
                            put(o.id, k.unwrap_or(Json::Null));
                        }
                    }
                    // Read from the PeeringDB cache, as the API does.
                    Computed::ExistsInPeeringdb | Computed::IsAbandoned | Computed::PeeringdbPrefixes => {
                        load::compute(db, cache, m, objs, f.name, c).await?;
                    }
                    Computed::IsExpired => {
                        let now = chrono::Utc::now();
                        let col = if m.has("expires") { "expires" } else { "until" };
                        for o in objs {
                            put(o.id, json!(matches!(o.get(col), pm_db::object::Val::Time(t) if *t <= now)));
                        }
                    }
                    Computed::TaggedItems | Computed::UserCount => {
                        let (table, col) = if c == Computed::TaggedItems {
                            ("extras_taggeditem", "tag_id")
                        } else {
                            ("auth_user_groups", "group_id")
                        };
                        let q = Query::select()
                            .column(col)
                            .expr(Expr::cust("COUNT(*)"))
                            .from(table)
                            .and_where(Expr::col(col).is_in(ids.clone()))
                            .group_by_col(col)
                            .to_owned();
                        let mut counts = HashMap::new();
                        for r in db.query_all(&q).await? {
                            counts.insert(r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?);
                        }
                        for o in objs {
                            put(o.id, json!(counts.get(&o.id).copied().unwrap_or(0)));
                        }
                    }
                    Computed::GenericObject { type_field, id_field } => {
                        load_generic(db, cache, objs, type_field, id_field).await?
                    }
                    Computed::ChangedObject => {
                        load_generic(db, cache, objs, "changed_object_type", "changed_object_id").await?
                    }
                    Computed::Display | Computed::JobOutput => {}
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Put rows into the cache with what their own `display` needs.
async fn load_nested<C: ConnectionTrait>(db: &C, cache: &mut Cache, m: &'static Model, ids: Vec<i64>) -> AppResult<()> {
    let ids = load_ids_light(db, cache, m, ids).await?;
    let objs: Vec<Obj> = ids.iter().filter_map(|id| cache.get(m, *id).cloned()).collect();
    display_deps(db, cache, m, &objs).await
}

async fn load_generic<C: ConnectionTrait>(
    db: &C,
    cache: &mut Cache,
    objs: &[Obj],
    type_field: &str,
    id_field: &str,
) -> AppResult<()> {
    // Same grouping as the API's loader; the UI only needs what `display` reads.
    for (target, ids) in pm_db::load::generic_targets(objs, type_field, id_field) {
        load_nested(db, cache, target, ids).await?;
    }
    Ok(())
}

/// Objects as API JSON (relative URLs), secrets only for those allowed.
pub fn to_json(ctx: &Ctx, cache: &Cache, objs: &[Obj]) -> Vec<Json> {
    let perms = ctx.perms();
    let secrets = |m: &'static Model| perms.allows(m, "view_secrets");
    let r = Render::new("", cache, &secrets);
    objs.iter().map(|o| r.object(o, Mode::Full)).collect()
}

/// Counts of rows of other models pointing at these objects, per count column.
async fn counts(ctx: &Ctx, columns: &[Column], ids: &[i64]) -> AppResult<HashMap<&'static str, HashMap<i64, i64>>> {
    let mut out = HashMap::new();
    for c in columns.iter().filter_map(|c| c.count) {
        let Some(model) = registry::model(c.model) else { continue };
        let Some(col) = model.field(c.field).and_then(|f| f.column()) else { continue };
        let q = Query::select()
            .column(col)
            .expr(Expr::cust("COUNT(*)"))
            .from(model.table)
            .and_where(Expr::col(col).is_in(ids.to_vec()))
            .group_by_col(col)
            .to_owned();
        let mut map = HashMap::new();
        for r in ctx.db().conn.query_all(&q).await? {
            map.insert(r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?);
        }
        out.insert(c.name, map);
    }
    Ok(out)
}

pub struct TableOpts<'a> {
    pub selectable: bool,
    pub actions: bool,
    /// Query string (without `sort`) for sort links; None = headers not clickable.
    pub sort_base: Option<&'a str>,
    pub sort: Option<&'a str>,
    pub return_url: &'a str,
}

/// The table of a page of objects.
pub async fn table(
    ctx: &Ctx,
    m: &'static Model,
    fetched: &mut Fetched,
    columns: &[Column],
    opts: TableOpts<'_>,
) -> AppResult<Json> {
    use std::fmt::Write;
    let fields: Vec<&'static Field> = columns.iter().filter_map(|c| c.field).collect();
    load_fields(ctx, m, fetched, &fields).await?;
    let ids: Vec<i64> = fetched.objs.iter().map(|o| o.id).collect();
    let counts = if ids.is_empty() { HashMap::new() } else { counts(ctx, columns, &ids).await? };
    let link = render::link_column(m, columns);
    let can_change = m.writable() && ctx.perms().allows(m, "change");
    let can_delete = !m.read_only() && meta::meta(m).delete && ctx.perms().allows(m, "delete");
    let selectable = opts.selectable && (can_change || can_delete);
    let changelog = m.features.change_log && meta::meta(m).detail;
    let path = meta::ui_path(m).unwrap_or("/");
    let ret = esc(&serde_urlencoded::to_string([("return_url", opts.return_url)]).unwrap_or_default());
    let secrets = ctx.perms().allows(m, "view_secrets");
    // Rows are written straight to HTML: a page of 100 rows is the hot path.
    let mut html = String::with_capacity(512 + fetched.objs.len() * 160 * (columns.len() + 2));
    html.push_str("<div class=\"table-wrap\"><table class=\"table\"><thead><tr>");
    if selectable {
        html.push_str("<th class=\"select\"><input type=\"checkbox\" data-select-all aria-label=\"Select all\"></th>");
    }
    let sort = opts.sort.unwrap_or("");
    for c in columns {
        let (asc, desc) = (sort == c.name, sort.strip_prefix('-') == Some(c.name));
        match opts.sort_base.filter(|_| c.sortable) {
            Some(base) => {
                let next = if asc { format!("-{}", c.name) } else { c.name.to_string() };
                let q = if base.is_empty() { String::new() } else { format!("{base}&") };
                let class = if asc {
                    " asc"
                } else if desc {
                    " desc"
                } else {
                    ""
                };
                let _ = write!(
                    html,
                    "<th><a href=\"?{}sort={next}\" class=\"sort{class}\">{}</a></th>",
                    esc(&q),
                    esc(&c.label)
                );
            }
            None => {
                let _ = write!(html, "<th>{}</th>", esc(&c.label));
            }
        }
    }
    if opts.actions {
        html.push_str("<th class=\"actions\"></th>");
    }
    html.push_str("</tr></thead><tbody>");
    for o in &fetched.objs {
        let view = pm_db::object::View::new(o, &fetched.cache);
        let url = meta::object_url(m, o.id);
        html.push_str("<tr>");
        if selectable {
            let _ = write!(
                html,
                "<td class=\"select\"><input type=\"checkbox\" name=\"pk\" value=\"{}\" aria-label=\"Select\"></td>",
                o.id
            );
        }
        for c in columns {
            let mut cell = match (c.field, c.count) {
                (Some(f), _) if f.secret && !secrets => render::NONE.to_string(),
                (Some(f), _) => {
                    let v = render::field_json(&view, f);
                    // A change-log entry whose object is gone still names it.
                    if Json::is_null(&v) && f.name == "changed_object" {
                        esc(o.text("object_repr"))
                    } else {
                        render::value_html(f, &v, false)
                    }
                }
                (None, Some(cnt)) => {
                    let n = counts.get(c.name).and_then(|m| m.get(&o.id)).copied().unwrap_or(0);
                    let target = registry::model(cnt.model);
                    match target.and_then(meta::ui_path).filter(|_| n > 0) {
                        Some(p) if meta::meta(target.unwrap()).list => {
                            format!("<a href=\"{p}?{}_id={}\">{n}</a>", cnt.field, o.id)
                        }
                        _ => n.to_string(),
                    }
                }
                _ => String::new(),
            };
            if Some(c.name) == link
                && let Some(u) = &url
            {
                let inner = if cell.contains("<a ") { esc(&view.display()) } else { cell };
                cell = format!("<a class=\"obj\" href=\"{}\">{inner}</a>", esc(u));
            }
            let _ = write!(html, "<td>{cell}</td>");
        }
        if opts.actions {
            html.push_str("<td class=\"actions\">");
            if changelog {
                let _ = write!(html, "<a class=\"act\" href=\"{path}{}/changelog/\" title=\"Changelog\">⟲</a>", o.id);
            }
            if can_change {
                let _ = write!(html, "<a class=\"act\" href=\"{path}{}/edit/?{ret}\" title=\"Edit\">✎</a>", o.id);
            }
            if can_delete {
                let _ = write!(
                    html,
                    "<a class=\"act danger\" href=\"{path}{}/delete/?{ret}\" title=\"Delete\">✕</a>",
                    o.id
                );
            }
            html.push_str("</td>");
        }
        html.push_str("</tr>");
    }
    if fetched.objs.is_empty() {
        let _ = write!(html, "<tr class=\"empty\"><td colspan=\"{}\">Nothing here yet.</td></tr>", columns.len() + 2);
    }
    html.push_str("</tbody></table></div>");
    Ok(json!({"html": html, "selectable": selectable, "rows": fetched.objs.len()}))
}

/// Filter params from the query string: empty values and page keys dropped.
pub fn filter_params(query: &[(String, String)]) -> Vec<(String, String)> {
    query.iter().filter(|(k, v)| !v.trim().is_empty() && !UI_KEYS.contains(&k.as_str())).cloned().collect()
}

fn table_pref(m: &Model, what: &str) -> String {
    format!("tables.{}.{what}", m.label().replace('.', "_"))
}

pub fn per_page(ctx: &Ctx) -> u64 {
    pm_db::session::get_pref(&ctx.prefs, "pagination.per_page")
        .and_then(Json::as_u64)
        .filter(|n| (1..=1000).contains(n))
        .unwrap_or(std::cmp::max(ctx.req.state.settings.paginate_count, 1))
}

pub async fn list(ctx: &mut Ctx, m: &'static Model) -> UiResult {
    if !ctx.perms().allows(m, "view") {
        return Err(pm_db::error::permission_denied());
    }
    let query = ctx.query();
    if ctx.query_get("export").as_deref() == Some("csv") {
        return super::transfer::export(ctx, m).await;
    }
    if let Some(t) = ctx.query_get("export_template") {
        return super::transfer::export_with_template(ctx, m, &t).await;
    }
    // Page size and sort order are remembered per user.
    let mut prefs_changed = false;
    if let Some(n) = ctx.query_get("per_page").and_then(|v| v.parse::<u64>().ok()).filter(|n| (1..=1000).contains(n)) {
        pm_db::session::set_pref(&mut ctx.prefs, "pagination.per_page", Some(json!(n)));
        prefs_changed = true;
    }
    if let Some(s) = ctx.query_get("sort") {
        let value = (!s.is_empty()).then(|| json!(s));
        pm_db::session::set_pref(&mut ctx.prefs, &table_pref(m, "ordering"), value);
        prefs_changed = true;
    }
    if prefs_changed {
        ctx.save_prefs().await;
    }
    let per_page = per_page(ctx);
    let available = render::available_columns(m, ctx.perms());
    let columns =
        render::visible_columns(m, &available, pm_db::session::get_pref(&ctx.prefs, &table_pref(m, "columns")));
    let sort = pm_db::session::get_pref(&ctx.prefs, &table_pref(m, "ordering"))
        .and_then(Json::as_str)
        .map(str::to_string)
        .filter(|s| available.iter().any(|c| c.sortable && c.name == s.trim_start_matches('-')));
    let params = filter_params(&query);
    let page = ctx.query_get("page").and_then(|p| p.parse::<u64>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let mut filter_errors = None;
    let mut fetched = match fetch_table(
        ctx,
        m,
        &params,
        Condition::all(),
        sort.as_deref(),
        Some(per_page),
        (page - 1) * per_page,
        &columns,
    )
    .await
    {
        Ok(f) => f,
        Err(AppError::Validation(e)) => {
            filter_errors = Some(render::field_errors_text(&e));
            Fetched { count: 0, objs: vec![], cache: Cache::default() }
        }
        Err(e) => return Err(e),
    };
    let base_query = encode(&params);
    if !params.is_empty() {
        let url = format!("{}?{base_query}", ctx.req.uri.path());
        ctx.remember_search(&url).await;
    }
    let with = |extra: &[(&str, String)]| {
        let mut p: Vec<(String, String)> = params.clone();
        for (k, v) in extra {
            p.push((k.to_string(), v.clone()));
        }
        format!("?{}", encode(&p))
    };
    let full_path = ctx.req.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let table = table(
        ctx,
        m,
        &mut fetched,
        &columns,
        TableOpts {
            selectable: true,
            actions: true,
            sort_base: Some(&base_query),
            sort: sort.as_deref(),
            return_url: &full_path,
        },
    )
    .await?;
    let pages: u64 = std::cmp::max((fetched.count as u64).div_ceil(per_page), 1);
    let mut page_links = vec![];
    for n in 1..=pages {
        if n == 1 || n == pages || n.abs_diff(page) <= 2 {
            page_links.push(json!({"n": n, "url": with(&[("page", n.to_string())]), "current": n == page}));
        } else if page_links.last().is_some_and(|l: &Json| !l["gap"].as_bool().unwrap_or(false)) {
            page_links.push(json!({"gap": true}));
        }
    }
    // The page size in use is always among those offered (the API's default
    // of 20 is not one of the standard sizes).
    let mut offered = PAGE_SIZES.to_vec();
    if !offered.contains(&per_page) {
        offered.push(per_page);
        offered.sort_unstable();
    }
    let sizes: Vec<Json> = offered
        .iter()
        .map(|n| json!({"n": n, "url": with(&[("per_page", n.to_string())]), "current": *n == per_page}))
        .collect();
    let all_columns: Vec<Json> = {
        let mut ordered: Vec<&Column> = columns.iter().collect();
        ordered.extend(available.iter().filter(|a| !columns.iter().any(|c| c.name == a.name)));
        ordered
            .iter()
            .map(|c| json!({"name": c.name, "label": c.label, "visible": columns.iter().any(|v| v.name == c.name)}))
            .collect()
    };
    let filters = filter_form(ctx, m, &query).await?;
    let path = meta::ui_path(m).unwrap_or("/");
    let export_templates = super::transfer::export_templates(ctx, m).await?;
    let first = (page - 1) * per_page + 1;
    let last = (first + fetched.objs.len() as u64).saturating_sub(1);
    ctx.render(
        "list.html",
        json!({
            "title": meta::meta(m).title.map(str::to_string).unwrap_or_else(|| meta::title(m.verbose_plural)),
            "model": model_info(ctx, m),
            "tbl": table,
            "filters": filters,
            "q": ctx.query_get("q").unwrap_or_default(),
            "filtered": !params.is_empty(),
            "filter_errors": filter_errors,
            "count": fetched.count,
            "first": first,
            "last": last,
            "page": page,
            "pages": pages,
            "page_links": page_links,
            "prev_url": (page > 1).then(|| with(&[("page", (page - 1).to_string())])),
            "next_url": (page < pages).then(|| with(&[("page", (page + 1).to_string())])),
            "page_sizes": sizes,
            "per_page": per_page,
            "query": base_query,
            "query_pairs": params.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "all_columns": all_columns,
            "export_url": format!("{path}{}", with(&[("export", "csv".into())])),
            "export_templates": export_templates
                .iter()
                .map(|(id, name)| json!({"name": name, "url": format!("{path}{}", with(&[("export_template", id.to_string())]))}))
                .collect::<Vec<_>>(),
        }),
    )
    .await
}

pub fn encode(params: &[(String, String)]) -> String {
    serde_urlencoded::to_string(params).unwrap_or_default()
}

/// What templates need to know about a model and the user's rights on it.
pub fn model_info(ctx: &Ctx, m: &'static Model) -> Json {
    let meta = meta::meta(m);
    let perms = ctx.perms();
    let path = meta::ui_path(m).unwrap_or("/");
    json!({
        "label": m.label(),
        "verbose": m.verbose,
        "verbose_title": meta::title(m.verbose),
        "plural": meta::title(m.verbose_plural),
        "path": path,
        "list": meta.list,
        "can_add": meta.add && m.writable() && perms.allows(m, "add"),
        "can_change": m.writable() && perms.allows(m, "change"),
        "can_delete": !m.read_only() && meta.delete && perms.allows(m, "delete"),
        "change_log": m.features.change_log,
        "bulk_actions": if m.writable() && perms.allows(m, "change") {
            meta.bulk_actions.iter().map(|a| json!({"slug": a.slug, "label": a.label})).collect()
        } else {
            vec![]
        },
    })
}

/// POST to a list URL: save or reset the table's columns (spec §9.3 "Configure table").
pub async fn configure(ctx: &mut Ctx, m: &'static Model) -> UiResult {
    let form = ctx.form()?;
    let key = table_pref(m, "columns");
    if form.has("reset") {
        pm_db::session::set_pref(&mut ctx.prefs, &key, None);
    } else {
        let available = render::available_columns(m, ctx.perms());
        let chosen: Vec<Json> = form
            .all("columns")
            .into_iter()
            .filter(|c| available.iter().any(|a| a.name == *c))
            .map(|c| json!(c))
            .collect();
        pm_db::session::set_pref(&mut ctx.prefs, &key, (!chosen.is_empty()).then_some(Json::Array(chosen)));
    }
    ctx.save_prefs().await;
    let back = ctx.return_url(Some(&form), meta::ui_path(m).unwrap_or("/"));
    Ok(redirect(&back))
}

/// Display strings of objects by id (picker pre-selection).
pub async fn displays(ctx: &Ctx, m: &'static Model, ids: &[i64]) -> AppResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut cache = Cache::default();
    let db = &ctx.db().conn;
    load::load_ids(db, &mut cache, m, ids.iter().copied()).await?;
    let objs: Vec<Obj> = ids.iter().filter_map(|id| cache.get(m, *id).cloned()).collect();
    load::prepare(db, &mut cache, m, objs.clone(), Mode::Nested).await?;
    Ok(objs.iter().map(|o| (o.id, pm_db::object::View::new(o, &cache).display())).collect())
}

/// Tags by slug → (slug, name).
async fn tag_names(ctx: &Ctx, slugs: &[String]) -> AppResult<Vec<(String, String)>> {
    if slugs.is_empty() {
        return Ok(vec![]);
    }
    let q = Query::select()
        .columns(["slug", "name"])
        .from("extras_tag")
        .and_where(Expr::col("slug").is_in(slugs.to_vec()))
        .to_owned();
    let rows = ctx.db().conn.query_all(&q).await?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((r.try_get_by_index::<String>(0).ok()?, r.try_get_by_index::<String>(1).ok()?)))
        .collect())
}

fn options(choices: impl Iterator<Item = (String, String)>, current: &[String]) -> Vec<Json> {
    choices.map(|(v, l)| json!({"value": v, "label": l, "selected": current.contains(&v)})).collect()
}

fn bool_options(current: &[String]) -> Vec<Json> {
    options([("true".to_string(), "Yes".to_string()), ("false".into(), "No".into())].into_iter(), current)
}

/// The filter form: the API's filters a person would use, as widgets.
async fn filter_form(ctx: &Ctx, m: &'static Model, query: &[(String, String)]) -> AppResult<Vec<Json>> {
    let current = |name: &str| -> Vec<String> {
        query.iter().filter(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.clone()).collect()
    };
    let mut out: Vec<Json> = vec![];
    let widget = |name: &str, label: String, widget: &str, extra: Json| {
        let mut f = json!({"name": name, "label": label, "widget": widget, "value": current(name).first().cloned().unwrap_or_default()});
        if let (Json::Object(f), Json::Object(e)) = (&mut f, extra) {
            f.extend(e);
        }
        f
    };
    macro_rules! push {
        ($($a:expr),* $(,)?) => { out.push(widget($($a),*)) };
    }
    for f in m.fields {
        if f.filter == pm_db::model::Lookups::Off || matches!(f.kind, Kind::Id) {
            continue;
        }
        let label = render::field_label(f);
        match f.kind {
            Kind::Bool => push!(f.name, label, "select", json!({"options": bool_options(&current(f.name))})),
            Kind::Choice(cs) => {
                let opts = options(cs.iter().map(|c| (c.value.to_string(), c.label.to_string())), &current(f.name));
                push!(f.name, label, "select", json!({"options": opts}))
            }
            Kind::IntChoice(cs) => {
                let opts = options(cs.iter().map(|(v, l)| (v.to_string(), l.to_string())), &current(f.name));
                push!(f.name, label, "select", json!({"options": opts}))
            }
            Kind::Int { .. } => push!(f.name, label, "number", json!({})),
            Kind::Text { .. } | Kind::LongText if f.filter == pm_db::model::Lookups::Str => {
                let name = format!("{}__ic", f.name);
                let value = current(&name).first().cloned().unwrap_or_default();
                out.push(json!({"name": name, "label": label, "widget": "text", "value": value}));
            }
            Kind::Uuid | Kind::Text { .. } => push!(f.name, label, "text", json!({})),
            _ => {}
        }
    }
    for flt in m.filters {
        match flt.target {
            pm_db::model::FilterTarget::Path(p) if p == flt.name && flt.name.ends_with("_id") => {
                let fk = &flt.name[..flt.name.len() - 3];
                let Some(field) = m.field(fk) else { continue };
                let Kind::Fk { to, .. } = field.kind else { continue };
                let Some(target) = registry::model(to) else { continue };
                if !ctx.perms().allows(target, "view") {
                    continue;
                }
                let ids: Vec<i64> = current(flt.name).iter().filter_map(|v| v.parse().ok()).collect();
                let selected = displays(ctx, target, &ids).await.unwrap_or_default();
                let opts: Vec<Json> = selected
                    .into_iter()
                    .map(|(id, d)| json!({"value": id.to_string(), "label": d, "selected": true}))
                    .collect();
                push!(
                    flt.name,
                    render::field_label(field),
                    "picker",
                    json!({"api": target.api_list_path(), "options": opts, "multiple": true, "params": super::form::picker_params(field.name)}),
                );
            }
            pm_db::model::FilterTarget::Custom(c) => {
                let label = render::humanize(flt.name);
                match custom_kind(c) {
                    CustomFilterKind::AddressFamily => {
                        let opts = options(
                            [("4".to_string(), "IPv4".to_string()), ("6".into(), "IPv6".into())].into_iter(),
                            &current(flt.name),
                        );
                        push!(flt.name, label, "select", json!({"options": opts}))
                    }
                    CustomFilterKind::Bool => {
                        push!(flt.name, label, "select", json!({"options": bool_options(&current(flt.name))}))
                    }
                    CustomFilterKind::Choice(cs) => {
                        let opts =
                            options(cs.iter().map(|c| (c.value.to_string(), c.label.to_string())), &current(flt.name));
                        push!(flt.name, label, "select", json!({"options": opts}))
                    }
                    CustomFilterKind::Time => {
                        // `created__after`: one of several date pairs, named by its date.
                        let side = if flt.name.ends_with("after") { "after" } else { "before" };
                        let label = match flt.name.rsplit_once("__") {
                            Some((date, _)) => format!("{} {side}", render::humanize(date)),
                            None => meta::title(side),
                        };
                        push!(flt.name, label, "datetime", json!({}))
                    }
                    CustomFilterKind::ContentType => {
                        let opts = options(
                            meta::ui_models().filter(|t| t.features.change_log || t.features.tags).map(|t| {
                                (t.label(), format!("{} › {}", registry::app_verbose(t.app), meta::title(t.verbose)))
                            }),
                            &current(flt.name),
                        );
                        push!(flt.name, "Object type".into(), "select", json!({"options": opts}))
                    }
                    CustomFilterKind::Other => {}
                }
            }
            _ => {}
        }
    }
    if m.features.tags {
        let slugs = current("tag");
        let opts: Vec<Json> = tag_names(ctx, &slugs)
            .await?
            .into_iter()
            .map(|(s, n)| json!({"value": s, "label": n, "selected": true}))
            .collect();
        out.push(json!({"name": "tag", "label": "Tags", "widget": "picker", "api": "/api/extras/tags/",
            "options": opts, "multiple": true, "value_field": "slug", "params": ""}));
    }
    Ok(out)
}

enum CustomFilterKind {
    AddressFamily,
    Bool,
    Choice(&'static [Choice]),
    Time,
    ContentType,
    Other,
}

/// Which widget a hand-written filter gets.
fn custom_kind(c: CF) -> CustomFilterKind {
    match c {
        CF::AddressFamily(_) => CustomFilterKind::AddressFamily,
        CF::ExistsInPeeringdb | CF::IsAbandoned | CF::IsExpired(_) => CustomFilterKind::Bool,
        CF::RoutingPolicyType => CustomFilterKind::Choice(pm_db::choices::ROUTING_POLICY_TYPE),
        CF::After(_) | CF::Before(_) => CustomFilterKind::Time,
        CF::ContentTypeLabel(_) => CustomFilterKind::ContentType,
        _ => CustomFilterKind::Other,
    }
}
