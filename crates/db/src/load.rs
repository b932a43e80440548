//! Reading rows: pages, single objects, and everything a representation
//! needs, loaded per relation in one query whatever the page size.

use std::collections::{HashMap, HashSet};

use futures::future::BoxFuture;
use sea_orm::ConnectionTrait;
use sea_query::{Condition, Expr, ExprTrait, Order, Query, SelectStatement};
use serde_json::{Value as Json, json};

use crate::error::AppResult;
use crate::model::{Computed, Kind, Model};
use crate::object::{Cache, Obj, Val};
use crate::registry;

/// How an object is rendered: the whole object, `?brief`, or embedded in another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    Brief,
    Nested,
}

pub fn select(model: &'static Model) -> SelectStatement {
    let mut q = Query::select();
    q.from(model.table);
    for f in model.columns() {
        q.column((model.table, f.column().unwrap()));
    }
    q
}

pub fn order(q: &mut SelectStatement, model: &'static Model, order: &[(&'static str, bool)]) {
    for (col, desc) in order {
        let o = if *desc { Order::Desc } else { Order::Asc };
        let nullable = model.column_index(col).map(|i| model.columns().nth(i).is_some_and(|f| f.null)).unwrap_or(false);
        if nullable {
            // NULLs sort the same on both backends (PostgreSQL's default): last
            // ascending, first descending. Written as `col IS NULL, col` so that
            // SQLite can read it from the expression index the schema creates.
            q.order_by_expr(Expr::col((model.table, *col)).is_null(), o.clone());
            q.order_by((model.table, *col), o);
        } else {
            // Plain ordering lets SQLite walk the ordering index instead of sorting.
            q.order_by((model.table, *col), o);
        }
    }
}

pub async fn fetch<C: ConnectionTrait>(
    db: &C,
    model: &'static Model,
    cond: Condition,
    ordering: &[(&'static str, bool)],
    limit: Option<u64>,
    offset: u64,
) -> AppResult<Vec<Obj>> {
    let mut q = select(model);
    if limit.is_some() || offset > 0 {
        // Sort and cut ids only, then read whole rows for the page: the
        // sorter then carries a few columns instead of every column of
        // every row in the table.
        let mut ids = Query::select();
        ids.column((model.table, "id")).from(model.table).cond_where(cond);
        order(&mut ids, model, ordering);
        if let Some(l) = limit {
            ids.limit(l);
        }
        if offset > 0 {
            ids.offset(offset);
        }
        q.and_where(Expr::col((model.table, "id")).in_subquery(ids));
    } else {
        q.cond_where(cond);
    }
    order(&mut q, model, ordering);
    let rows = db.query_all(&q).await?;
    rows.iter().map(|r| Obj::from_row(model, r).map_err(Into::into)).collect()
}

pub async fn count<C: ConnectionTrait>(db: &C, model: &'static Model, cond: Condition) -> AppResult<i64> {
    let q = Query::select().expr(Expr::cust("COUNT(*)")).from(model.table).cond_where(cond).to_owned();
    let row = db.query_one(&q).await?;
    Ok(row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(0))
}

pub async fn get<C: ConnectionTrait>(
    db: &C,
    model: &'static Model,
    id: i64,
    scope: Condition,
) -> AppResult<Option<Obj>> {
    let cond = Condition::all().add(Expr::col((model.table, "id")).eq(id)).add(scope);
    Ok(fetch(db, model, cond, &[], Some(1), 0).await?.pop())
}

/// Put rows with these ids into the cache (only the missing ones are read).
pub async fn load_ids<C: ConnectionTrait>(
    db: &C,
    cache: &mut Cache,
    model: &'static Model,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<Vec<i64>> {
    let ids: Vec<i64> = ids.into_iter().collect::<HashSet<_>>().into_iter().collect();
    let missing: Vec<i64> = ids.iter().copied().filter(|id| cache.get(model, *id).is_none()).collect();
    if !missing.is_empty() {
        let cond = Condition::all().add(Expr::col((model.table, "id")).is_in(missing));
        for o in fetch(db, model, cond, &[], None, 0).await? {
            cache.put(o);
        }
    }
    Ok(ids)
}

fn fk_ids(objs: &[Obj], field: &str) -> Vec<i64> {
    objs.iter().filter_map(|o| o.int(field)).collect()
}

/// Fields rendered in a mode.
pub fn fields_in(model: &'static Model, mode: Mode) -> impl Iterator<Item = &'static crate::model::Field> {
    model.fields.iter().filter(move |f| {
        f.api
            && !f.write_only
            && match mode {
                // Mirror objects are rendered whole wherever they appear.
                _ if model.is_mirror() => true,
                Mode::Full => true,
                Mode::Brief | Mode::Nested => model.brief.contains(&f.name),
            }
    })
}

/// Load everything `objs` need to be rendered in `mode` into `cache`.
pub fn prepare<'a, C: ConnectionTrait>(
    db: &'a C,
    cache: &'a mut Cache,
    model: &'static Model,
    objs: Vec<Obj>,
    mode: Mode,
) -> BoxFuture<'a, AppResult<()>> {
    Box::pin(async move {
        if objs.is_empty() {
            return Ok(());
        }
        prepare_display(db, cache, model, &objs).await?;
        load_links(db, cache, model, &objs, mode).await?;
        for f in fields_in(model, mode) {
            match f.kind {
                Kind::Fk { to, nested: true, .. } => {
                    let target = registry::model(to).expect("fk target");
                    let ids = load_ids(db, cache, target, fk_ids(&objs, f.name)).await?;
                    let targets = cached(cache, target, &ids);
                    prepare(db, cache, target, targets, Mode::Nested).await?;
                }
                Kind::M2m { to, table, .. } => {
                    let target = registry::model(to).expect("m2m target");
                    let mut ids: Vec<i64> =
                        objs.iter().flat_map(|o| cache.m2m.get(&(table, o.id)).cloned().unwrap_or_default()).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    let targets = cached(cache, target, &ids);
                    prepare(db, cache, target, targets, Mode::Nested).await?;
                }
                Kind::Computed(c) => compute(db, cache, model, &objs, f.name, c).await?,
                _ => {}
            }
        }
        Ok(())
    })
}

fn cached(cache: &Cache, model: &'static Model, ids: &[i64]) -> Vec<Obj> {
    ids.iter().filter_map(|id| cache.get(model, *id).cloned()).collect()
}

/// Rows `display` walks through (`ixp_connection.internet_exchange_point`).
async fn prepare_display<C: ConnectionTrait>(
    db: &C,
    cache: &mut Cache,
    model: &'static Model,
    objs: &[Obj],
) -> AppResult<()> {
    for dep in model.display_deps {
        let mut current_model = model;
        let mut current: Vec<Obj> = objs.to_vec();
        for hop in dep.split('.') {
            let Some(f) = current_model.field(hop) else { break };
            let Kind::Fk { to, .. } = f.kind else { break };
            let target = registry::model(to).expect("fk target");
            let ids = load_ids(db, cache, target, fk_ids(&current, hop)).await?;
            current = cached(cache, target, &ids);
            current_model = target;
        }
    }
    Ok(())
}

/// Every many-to-many link (M2M fields, content-type sets and tags) of these
/// objects in one statement of integer pairs, then each target table once for
/// the distinct ids: shared targets (the same policy on fifty ASes) are read
/// once, not once per link. Lists are ordered by the target's ordering.
async fn load_links<C: ConnectionTrait>(
    db: &C,
    cache: &mut Cache,
    model: &'static Model,
    objs: &[Obj],
    mode: Mode,
) -> AppResult<()> {
    let ids: Vec<String> = objs.iter().map(|o| o.id.to_string()).collect();
    let id_list = ids.join(",");
    let ct = registry::ct_id(model);
    // (join table key, target model or None for content types)
    let mut parts: Vec<(&'static str, Option<&'static Model>, String)> = Vec::new();
    for f in fields_in(model, mode) {
        let i = parts.len();
        match f.kind {
            Kind::M2m { to, table, src, dst } => parts.push((
                table,
                registry::model(to),
                format!("SELECT CAST({i} AS BIGINT) AS k, {src} AS s, {dst} AS d FROM {table} WHERE {src} IN ({id_list})"),
            )),
            Kind::ContentTypes { table, src, dst } => parts.push((
                table,
                None,
                format!("SELECT CAST({i} AS BIGINT) AS k, {src} AS s, {dst} AS d FROM {table} WHERE {src} IN ({id_list})"),
            )),
            Kind::Tags => parts.push((
                "extras_taggeditem",
                registry::model("extras.tag"),
                format!(
                    "SELECT CAST({i} AS BIGINT) AS k, object_id AS s, tag_id AS d FROM extras_taggeditem WHERE content_type_id = {ct} AND object_id IN ({id_list})"
                ),
            )),
            _ => {}
        }
    }
    if parts.is_empty() {
        return Ok(());
    }
    // Ids are integers from our own rows, safe to inline: one statement for
    // all links, folded into ONE text value "part,src,dst;…": a page has
    // hundreds of links, and each row costs a hand-off between the SQLite
    // thread and ours (a quarter of a list's CPU when they came as rows).
    // Order does not matter: lists are sorted below.
    let union = parts.iter().map(|p| p.2.as_str()).collect::<Vec<_>>().join(" UNION ALL ");
    let backend = db.get_database_backend();
    let concat = match backend {
        sea_orm::DbBackend::Postgres => "string_agg",
        _ => "group_concat",
    };
    let sql = format!(
        "SELECT {concat}(CAST(k AS TEXT) || ',' || CAST(s AS TEXT) || ',' || CAST(d AS TEXT), ';') FROM ({union}) AS links"
    );
    let folded: Option<String> = match db.query_one_raw(sea_orm::Statement::from_string(backend, sql)).await? {
        Some(r) => r.try_get_by_index(0)?,
        None => None,
    };
    let mut links: HashMap<(usize, i64), Vec<i64>> = HashMap::new();
    let mut wanted: HashMap<&'static str, (&'static Model, Vec<i64>)> = HashMap::new();
    for triple in folded.as_deref().unwrap_or("").split(';').filter(|t| !t.is_empty()) {
        let mut it = triple.split(',').map(str::parse::<i64>);
        let (Some(Ok(i)), Some(Ok(s)), Some(Ok(d))) = (it.next(), it.next(), it.next()) else {
            return Err(crate::error::AppError::Internal(anyhow::anyhow!("bad link triple {triple:?}")));
        };
        let i = i as usize;
        links.entry((i, s)).or_default().push(d);
        if let Some(m) = parts[i].1 {
            wanted.entry(m.table).or_insert((m, vec![])).1.push(d);
        }
    }
    for (_, (m, ids)) in wanted {
        load_ids(db, cache, m, ids).await?;
    }
    for (i, (table, target, _)) in parts.iter().enumerate() {
        let ordering = match target {
            Some(t) => crate::query::filter::ordering(t, None)?,
            None => vec![],
        };
        for o in objs {
            let mut ids = links.remove(&(i, o.id)).unwrap_or_default();
            match target {
                Some(t) => ids.sort_by(|a, b| match (cache.get(t, *a), cache.get(t, *b)) {
                    (Some(x), Some(y)) => crate::object::compare(x, y, &ordering),
                    _ => std::cmp::Ordering::Equal,
                }),
                None => ids.sort_unstable(),
            }
            if *table == "extras_taggeditem" {
                cache.tags.insert((ct, o.id), ids);
            } else {
                cache.m2m.insert((table, o.id), ids);
            }
        }
    }
    Ok(())
}

pub async fn compute<C: ConnectionTrait>(
    db: &C,
    cache: &mut Cache,
    model: &'static Model,
    objs: &[Obj],
    field: &'static str,
    c: Computed,
) -> AppResult<()> {
    let ids: Vec<i64> = objs.iter().map(|o| o.id).collect();
    let put = |cache: &mut Cache, id: i64, v: Json| {
        cache.computed.insert((model.table, id, field), v);
    };
    match c {
        Computed::ConfigContext => {
            let merged = config_contexts(db, model, objs).await?;
            for (id, v) in merged {
                put(cache, id, v);
            }
        }
        Computed::CommunityKind => {
            for o in objs {
                let kind = pm_domain::community::kind_of(o.text("value")).map(|k| json!(k.as_str()));
                put(cache, o.id, kind.unwrap_or(Json::Null));
            }
        }
        Computed::Display => {} // rendered from `display` directly
        Computed::PeeringdbPrefixes => {
            let ixlans: Vec<i64> = objs.iter().filter_map(|o| o.int("peeringdb_ixlan")).collect();
            let by_ixlan = crate::peeringdb::prefixes_by_ixlan(db, &ixlans).await?;
            for o in objs {
                let v = o.int("peeringdb_ixlan").and_then(|l| by_ixlan.get(&l).cloned());
                put(cache, o.id, v.unwrap_or_else(|| json!({})));
            }
        }
        Computed::ExistsInPeeringdb | Computed::IsAbandoned => {
            let predicate = if c == Computed::ExistsInPeeringdb {
                crate::peeringdb::exists_in_peeringdb_sql()
            } else {
                crate::peeringdb::is_abandoned_sql()
            };
            let yes = crate::peeringdb::sessions_matching(db, &ids, &predicate).await?;
            for o in objs {
                put(cache, o.id, json!(yes.contains(&o.id)));
            }
        }
        Computed::TaggedItems => {
            let counts = count_by(db, "extras_taggeditem", "tag_id", &ids).await?;
            for o in objs {
                put(cache, o.id, json!(counts.get(&o.id).copied().unwrap_or(0)));
            }
        }
        Computed::UserCount => {
            let counts = count_by(db, "auth_user_groups", "group_id", &ids).await?;
            for o in objs {
                put(cache, o.id, json!(counts.get(&o.id).copied().unwrap_or(0)));
            }
        }
        Computed::GenericObject { type_field, id_field } => {
            load_generic(db, cache, objs, type_field, id_field).await?;
        }
        Computed::ChangedObject => {
            load_generic(db, cache, objs, "changed_object_type", "changed_object_id").await?;
        }
        Computed::JobOutput => {
            for o in objs {
                let lines = match o.get("data") {
                    Val::Json(d) => d["output"]["log"]
                        .as_array()
                        .map(|l| {
                            l.iter().filter_map(|e| e.get(4).and_then(Json::as_str)).collect::<Vec<_>>().join("\n")
                        })
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                put(cache, o.id, json!(lines));
            }
        }
        Computed::IsExpired => {
            let now = chrono::Utc::now();
            for o in objs {
                let col = if model.has("expires") { "expires" } else { "until" };
                let expired = matches!(o.get(col), Val::Time(t) if *t <= now);
                put(cache, o.id, json!(expired));
            }
        }
    }
    Ok(())
}

async fn count_by<C: ConnectionTrait>(
    db: &C,
    table: &'static str,
    col: &'static str,
    ids: &[i64],
) -> AppResult<HashMap<i64, i64>> {
    let q = Query::select()
        .column(col)
        .expr(Expr::cust("COUNT(*)"))
        .from(table)
        .and_where(Expr::col(col).is_in(ids.to_vec()))
        .group_by_col(col)
        .to_owned();
    let mut out = HashMap::new();
    for r in db.query_all(&q).await? {
        out.insert(r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?);
    }
    Ok(out)
}

/// The targets of a generic relation (content type + object id columns),
/// grouped by model, so each model is read once.
pub fn generic_targets(objs: &[Obj], type_field: &str, id_field: &str) -> Vec<(&'static Model, Vec<i64>)> {
    let mut by_type: HashMap<i64, Vec<i64>> = HashMap::new();
    for o in objs {
        if let (Some(ct), Some(id)) = (o.int(type_field), o.int(id_field)) {
            by_type.entry(ct).or_default().push(id);
        }
    }
    by_type.into_iter().filter_map(|(ct, ids)| registry::by_ct_id(ct).map(|m| (m, ids))).collect()
}

/// Load the targets of generic relations, grouped by content type.
async fn load_generic<C: ConnectionTrait>(
    db: &C,
    cache: &mut Cache,
    objs: &[Obj],
    type_field: &str,
    id_field: &str,
) -> AppResult<()> {
    for (target, ids) in generic_targets(objs, type_field, id_field) {
        let ids = load_ids(db, cache, target, ids).await?;
        let targets = cached(cache, target, &ids);
        prepare(db, cache, target, targets, Mode::Nested).await?;
    }
    Ok(())
}

/// Merged config context per object: active contexts by weight, then the
/// object's own local context data on top (spec §3.9; inactive contexts are
/// left out on purpose).
/// `PM_MERGE_INACTIVE_CONFIG_CONTEXTS=true` merges inactive config contexts
/// too, as Peering Manager 1.10 does (it ignores `is_active`): for
/// byte-identical migrations. Default: inactive contexts are left out.
pub fn merge_inactive_config_contexts() -> bool {
    static FLAG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FLAG.get_or_init(|| {
        std::env::var("PM_MERGE_INACTIVE_CONFIG_CONTEXTS")
            .is_ok_and(|v| matches!(v.trim().to_lowercase().as_str(), "1" | "true" | "yes" | "on"))
    })
}

pub async fn config_contexts<C: ConnectionTrait>(
    db: &C,
    model: &'static Model,
    objs: &[Obj],
) -> AppResult<HashMap<i64, Json>> {
    let ct = registry::ct_id(model);
    let q = Query::select()
        .column(("extras_configcontextassignment", "object_id"))
        .column(("extras_configcontext", "data"))
        .from("extras_configcontextassignment")
        .inner_join(
            "extras_configcontext",
            Expr::col(("extras_configcontext", "id")).equals(("extras_configcontextassignment", "config_context_id")),
        )
        .and_where(Expr::col(("extras_configcontextassignment", "content_type_id")).eq(ct))
        .and_where(
            Expr::col(("extras_configcontextassignment", "object_id"))
                .is_in(objs.iter().map(|o| o.id).collect::<Vec<_>>()),
        )
        .and_where(
            Expr::col(("extras_configcontext", "is_active")).eq(true).or(Expr::val(merge_inactive_config_contexts())),
        )
        .order_by(("extras_configcontextassignment", "weight"), Order::Asc)
        .order_by(("extras_configcontext", "name"), Order::Asc)
        .to_owned();
    let mut contexts: HashMap<i64, Vec<Json>> = HashMap::new();
    for r in db.query_all(&q).await? {
        let id = r.try_get_by_index::<i64>(0)?;
        let data: String = r.try_get_by_index(1)?;
        let data = pm_domain::jsonb::normalise(serde_json::from_str(&data).unwrap_or(Json::Null));
        contexts.entry(id).or_default().push(data);
    }
    let mut out = HashMap::new();
    for o in objs {
        let mut merged: Option<Json> = None;
        let layers = contexts.remove(&o.id).unwrap_or_default();
        let local = match o.get("local_context_data") {
            Val::Json(j) if !j.is_null() => Some(j.clone()),
            _ => None,
        };
        for layer in layers.iter().chain(local.iter()) {
            let m = merged.get_or_insert_with(|| json!({}));
            pm_domain::merge::deep_merge(m, layer, true, pm_domain::merge::ListMerge::Replace);
        }
        out.insert(o.id, merged.unwrap_or(Json::Null));
    }
    Ok(out)
}

/// Related objects in `cache` the caller may not view: rendered nested as
/// their id only (as NetBox does), so a page never names what its reader
/// cannot open. One query per related model with a view constraint.
pub async fn hidden_related<C: ConnectionTrait>(
    db: &C,
    perms: &crate::auth::Perms,
    cache: &Cache,
) -> AppResult<HashSet<(&'static str, i64)>> {
    let mut by_table: HashMap<&'static str, Vec<i64>> = HashMap::new();
    for (table, id) in cache.objs.keys() {
        by_table.entry(table).or_default().push(*id);
    }
    let mut hidden = HashSet::new();
    for (table, ids) in by_table {
        let Some(model) = registry::MODELS.iter().copied().find(|m| m.table == table) else { continue };
        let visible: HashSet<i64> = match perms.scope(model, "view") {
            Some(scope) if scope.is_empty() => continue,
            None => HashSet::new(),
            Some(scope) => {
                let mut found = HashSet::new();
                for chunk in ids.chunks(500) {
                    let cond =
                        Condition::all().add(Expr::col((model.table, "id")).is_in(chunk.to_vec())).add(scope.clone());
                    let q = Query::select().column((model.table, "id")).from(model.table).cond_where(cond).to_owned();
                    for r in db.query_all(&q).await? {
                        if let Ok(id) = r.try_get_by_index::<i64>(0) {
                            found.insert(id);
                        }
                    }
                }
                found
            }
        };
        hidden.extend(ids.into_iter().filter(|id| !visible.contains(id)).map(|id| (table, id)));
    }
    Ok(hidden)
}
