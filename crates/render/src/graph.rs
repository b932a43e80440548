//! The data a template walks, loaded lazily and in batches.
//!
//! Templates run synchronously; the first time one asks for a relation of
//! an object (its AS, its sessions, its tags…), the graph loads that relation
//! for *every* object of the same model it already holds, in one query, like
//! Django's `prefetch_related`. Loops over 1,000 sessions therefore cost one
//! query per relation, not one per session.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use pm_db::load;
use pm_db::model::{Kind, Model};
use pm_db::object::{Cache, Obj, View};
use pm_db::{Db, registry};
use sea_query::{Condition, Expr, ExprTrait};
use serde_json::Value as Json;

use crate::limits::{Budget, Limits};
use crate::scope::Viewer;

#[derive(Default)]
struct Inner {
    objs: HashMap<(&'static str, i64), Arc<Obj>>,
    /// Ids held per table, in the order they arrived.
    known: HashMap<&'static str, Vec<i64>>,
    /// (relation name, table, id) already loaded.
    loaded: HashSet<(&'static str, &'static str, i64)>,
    /// (join table, source id) → target ids.
    m2m: HashMap<(&'static str, i64), Vec<i64>>,
    /// (child table, fk column, parent id) → child ids in the child's default order.
    children: HashMap<(&'static str, &'static str, i64), Vec<i64>>,
    /// (table, id) → tag ids.
    tags: HashMap<(&'static str, i64), Vec<i64>>,
    /// (table, id) → merged config context.
    contexts: HashMap<(&'static str, i64), Json>,
    /// Whole tables read once (`communities` = all communities).
    whole: HashMap<&'static str, Vec<i64>>,
    /// (what, id) → value computed for every held row at once (`per_held`).
    memo: HashMap<(&'static str, i64), Option<i64>>,
    /// (table, id) asked for but outside what the viewer may see.
    hidden: HashSet<(&'static str, i64)>,
}

pub struct Graph {
    pub db: Db,
    handle: tokio::runtime::Handle,
    inner: Mutex<Inner>,
    queries: AtomicUsize,
    pub settings: pm_db::Settings,
    /// Whose permissions limit what the template reaches (scope.rs).
    pub viewer: Viewer,
    /// Time, fuel and output left to the render (limits.rs).
    pub budget: Budget,
}

pub type GResult<T> = Result<T, minijinja::Error>;

pub fn db_error(e: impl std::fmt::Display) -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("database error: {e}"))
}

impl Graph {
    /// A graph that sees everything (the CLI, the system), with the default limits.
    pub fn new(db: Db, handle: tokio::runtime::Handle) -> Arc<Graph> {
        Graph::for_viewer(db, handle, Viewer::System, Limits::current().clone())
    }

    pub fn for_viewer(db: Db, handle: tokio::runtime::Handle, viewer: Viewer, limits: Limits) -> Arc<Graph> {
        Arc::new(Graph {
            db,
            handle,
            inner: Mutex::new(Inner::default()),
            queries: AtomicUsize::new(0),
            settings: pm_db::Settings::default(),
            viewer,
            budget: Budget::new(limits),
        })
    }

    /// `ids` without those known to be outside the viewer's view.
    pub fn drop_hidden(&self, model: &'static Model, mut ids: Vec<i64>) -> Vec<i64> {
        let inner = self.inner.lock().unwrap();
        if !inner.hidden.is_empty() {
            ids.retain(|i| !inner.hidden.contains(&(model.table, *i)));
        }
        ids
    }

    /// SQL statements issued so far (the benchmark and tests watch this).
    pub fn query_count(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    /// Every row a template sees comes through here: limited to the viewer's
    /// view constraints (in the same batched query), secrets blanked.
    fn fetch(&self, model: &'static Model, cond: Condition) -> GResult<Vec<Obj>> {
        self.budget.check()?;
        let cond = match self.viewer.rows(model) {
            None => cond,
            Some(None) => return Ok(vec![]),
            Some(Some(scope)) => Condition::all().add(cond).add(scope),
        };
        self.queries.fetch_add(1, Ordering::Relaxed);
        let ordering = pm_db::query::filter::ordering(model, None).map_err(db_error)?;
        let mut objs =
            self.handle.block_on(load::fetch(&self.db.conn, model, cond, &ordering, None, 0)).map_err(db_error)?;
        if !self.viewer.sees_secrets(model) {
            for f in model.fields.iter().filter(|f| f.secret) {
                for o in &mut objs {
                    if !o.get(f.name).is_null() {
                        o.set(f.name, pm_db::object::Val::Text(String::new()));
                    }
                }
            }
        }
        Ok(objs)
    }

    pub fn block_on<T>(&self, f: impl std::future::Future<Output = Result<T, pm_db::AppError>>) -> GResult<T> {
        self.budget.check()?;
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.handle.block_on(f).map_err(db_error)
    }

    fn remember(inner: &mut Inner, objs: Vec<Obj>) -> Vec<i64> {
        let mut ids = Vec::with_capacity(objs.len());
        for o in objs {
            ids.push(o.id);
            let key = (o.model.table, o.id);
            if !inner.objs.contains_key(&key) {
                inner.known.entry(o.model.table).or_default().push(o.id);
                inner.objs.insert(key, Arc::new(o));
            }
        }
        ids
    }

    pub fn get(&self, model: &'static Model, id: i64) -> GResult<Option<Arc<Obj>>> {
        if let Some(o) = self.inner.lock().unwrap().objs.get(&(model.table, id)) {
            return Ok(Some(o.clone()));
        }
        self.ensure(model, &[id])?;
        Ok(self.inner.lock().unwrap().objs.get(&(model.table, id)).cloned())
    }

    /// Make sure these rows are held (one query for all missing ones).
    pub fn ensure(&self, model: &'static Model, ids: &[i64]) -> GResult<()> {
        let missing: Vec<i64> = {
            let inner = self.inner.lock().unwrap();
            ids.iter()
                .copied()
                .filter(|id| {
                    !inner.objs.contains_key(&(model.table, *id)) && !inner.hidden.contains(&(model.table, *id))
                })
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let objs = self.fetch(model, Condition::all().add(Expr::col((model.table, "id")).is_in(missing.clone())))?;
        let mut inner = self.inner.lock().unwrap();
        Self::remember(&mut inner, objs);
        // Rows that exist but the viewer may not see are asked for once only.
        for id in missing {
            if !inner.objs.contains_key(&(model.table, id)) {
                inner.hidden.insert((model.table, id));
            }
        }
        Ok(())
    }

    /// A value per object that SQL computes (a flag, the id of a related
    /// cache row): on first use for one row of `model`, `compute` gets every
    /// held row of that model not asked yet, so a template asking it of each
    /// session in a loop costs one query, not one per session.
    pub fn per_held(
        &self,
        model: &'static Model,
        what: &'static str,
        id: i64,
        compute: impl FnOnce(&[i64]) -> GResult<HashMap<i64, i64>>,
    ) -> GResult<Option<i64>> {
        let ids: Vec<i64> = {
            let inner = self.inner.lock().unwrap();
            if let Some(v) = inner.memo.get(&(what, id)) {
                return Ok(*v);
            }
            let mut ids: Vec<i64> = inner
                .known
                .get(model.table)
                .map(|k| k.iter().copied().filter(|i| !inner.memo.contains_key(&(what, *i))).collect())
                .unwrap_or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
            ids
        };
        let found = compute(&ids)?;
        let mut inner = self.inner.lock().unwrap();
        for i in ids {
            inner.memo.insert((what, i), found.get(&i).copied());
        }
        Ok(inner.memo.get(&(what, id)).copied().flatten())
    }

    /// Rows matching a condition, held from now on.
    pub fn query(&self, model: &'static Model, cond: Condition) -> GResult<Vec<i64>> {
        let mut objs = self.fetch(model, cond)?;
        crate::order::sort(self, model, &mut objs)?;
        Ok(Self::remember(&mut self.inner.lock().unwrap(), objs))
    }

    /// Every row of a model, in its default order.
    pub fn all(&self, model: &'static Model) -> GResult<Vec<i64>> {
        if let Some(ids) = self.inner.lock().unwrap().whole.get(model.table) {
            return Ok(ids.clone());
        }
        let ids = self.query(model, Condition::all())?;
        self.inner.lock().unwrap().whole.insert(model.table, ids.clone());
        Ok(ids)
    }

    /// Ids of held objects of a model not yet loaded for a relation (this one first).
    fn pending(&self, relation: &'static str, model: &'static Model, first: i64) -> Vec<i64> {
        let inner = self.inner.lock().unwrap();
        let mut out = vec![first];
        if let Some(ids) = inner.known.get(model.table) {
            out.extend(
                ids.iter().copied().filter(|id| *id != first && !inner.loaded.contains(&(relation, model.table, *id))),
            );
        }
        out
    }

    fn is_loaded(&self, relation: &'static str, model: &'static Model, id: i64) -> bool {
        self.inner.lock().unwrap().loaded.contains(&(relation, model.table, id))
    }

    /// The object a foreign key points to.
    pub fn related(&self, obj: &Obj, field: &'static str) -> GResult<Option<Arc<Obj>>> {
        let Some(f) = obj.model.field(field) else { return Ok(None) };
        let Kind::Fk { to, .. } = f.kind else { return Ok(None) };
        let Some(id) = obj.int(field) else { return Ok(None) };
        let target = registry::model(to).expect("fk target");
        if let Some(o) = self.inner.lock().unwrap().objs.get(&(target.table, id)) {
            return Ok(Some(o.clone()));
        }
        // Load this FK's targets for every held object of the model at once.
        let wanted: Vec<i64> = {
            let inner = self.inner.lock().unwrap();
            let mut ids: Vec<i64> = inner
                .known
                .get(obj.model.table)
                .map(|ids| {
                    ids.iter()
                        .filter_map(|i| inner.objs.get(&(obj.model.table, *i)))
                        .filter_map(|o| o.int(field))
                        .filter(|t| {
                            !inner.objs.contains_key(&(target.table, *t)) && !inner.hidden.contains(&(target.table, *t))
                        })
                        .collect()
                })
                .unwrap_or_default();
            ids.push(id);
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        self.ensure(target, &wanted)?;
        Ok(self.inner.lock().unwrap().objs.get(&(target.table, id)).cloned())
    }

    /// Targets of a many-to-many field, in the target's default order.
    /// The first access loads every M2M field of the model, for every held
    /// object of it, in one statement.
    pub fn m2m(&self, obj: &Obj, field: &'static str) -> GResult<(&'static Model, Vec<i64>)> {
        let f = obj.model.field(field).expect("m2m field");
        let Kind::M2m { to, table, .. } = f.kind else { unreachable!() };
        let target = registry::model(to).expect("m2m target");
        if !self.is_loaded("m2m", obj.model, obj.id) {
            self.load_m2m(obj)?;
        }
        let ids = self.inner.lock().unwrap().m2m.get(&(table, obj.id)).cloned().unwrap_or_default();
        Ok((target, ids))
    }

    fn load_m2m(&self, obj: &Obj) -> GResult<()> {
        let ids = self.pending("m2m", obj.model, obj.id);
        let fields: Vec<(&'static str, &'static str, &'static str, &'static Model)> = obj
            .model
            .fields
            .iter()
            .filter_map(|f| match f.kind {
                Kind::M2m { to, table, src, dst } => Some((table, src, dst, registry::model(to).expect("m2m target"))),
                _ => None,
            })
            .collect();
        // Ids are integers from our own rows, so inlining them is safe and
        // keeps one statement whatever the number of fields.
        let id_list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = fields
            .iter()
            .enumerate()
            .map(|(i, (table, src, dst, _))| {
                format!(
                    "SELECT CAST({i} AS BIGINT) AS f, {src} AS s, {dst} AS d FROM {table} WHERE {src} IN ({id_list})"
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        self.budget.check()?;
        self.queries.fetch_add(1, Ordering::Relaxed);
        let backend = self.db.backend();
        let rows = self
            .handle
            .block_on(async {
                use sea_orm::ConnectionTrait;
                self.db.conn.query_all_raw(sea_orm::Statement::from_string(backend, sql)).await
            })
            .map_err(db_error)?;
        let mut links: HashMap<(usize, i64), Vec<i64>> = HashMap::new();
        let mut targets: HashMap<&'static str, (&'static Model, Vec<i64>)> = HashMap::new();
        for r in rows {
            let fi: i64 = r.try_get_by_index(0).map_err(db_error)?;
            let (s, d): (i64, i64) =
                (r.try_get_by_index(1).map_err(db_error)?, r.try_get_by_index(2).map_err(db_error)?);
            let fi = fi as usize;
            links.entry((fi, s)).or_default().push(d);
            let m = fields[fi].3;
            targets.entry(m.table).or_insert((m, vec![])).1.push(d);
        }
        let mut orders = HashMap::new();
        for (table, (m, mut t)) in targets {
            t.sort_unstable();
            t.dedup();
            self.ensure(m, &t)?;
            orders.insert(table, self.order_index(m, &t)?);
        }
        let mut inner = self.inner.lock().unwrap();
        for id in &ids {
            for (fi, (table, _, _, m)) in fields.iter().enumerate() {
                let mut t = links.remove(&(fi, *id)).unwrap_or_default();
                t.retain(|x| inner.objs.contains_key(&(m.table, *x)));
                if let Some(order) = orders.get(m.table) {
                    t.sort_by_key(|x| order.get(x).copied().unwrap_or(usize::MAX));
                }
                inner.m2m.insert((table, *id), t);
            }
            inner.loaded.insert(("m2m", obj.model.table, *id));
        }
        Ok(())
    }

    /// Position of each id in the model's default ordering (sorts in memory
    /// the way the database would).
    fn order_index(&self, model: &'static Model, ids: &[i64]) -> GResult<HashMap<i64, usize>> {
        let mut objs: Vec<Arc<Obj>> = {
            let inner = self.inner.lock().unwrap();
            ids.iter().filter_map(|i| inner.objs.get(&(model.table, *i)).cloned()).collect()
        };
        crate::order::sort(self, model, &mut objs)?;
        Ok(objs.iter().enumerate().map(|(i, o)| (o.id, i)).collect())
    }

    /// Rows of `child` whose `fk` points at `parent` (reverse relation).
    pub fn children(&self, parent: &Obj, child: &'static Model, fk: &'static str) -> GResult<Vec<i64>> {
        let col = child.field(fk).and_then(|f| f.column()).expect("fk column");
        let relation = leak_key(child.table, col);
        if !self.is_loaded(relation, parent.model, parent.id) {
            let ids = self.pending(relation, parent.model, parent.id);
            let found = self.query(child, Condition::all().add(Expr::col((child.table, col)).is_in(ids.clone())))?;
            let mut inner = self.inner.lock().unwrap();
            for id in &ids {
                inner.children.entry((child.table, col, *id)).or_default();
                inner.loaded.insert((relation, parent.model.table, *id));
            }
            for cid in found {
                let p = inner.objs.get(&(child.table, cid)).and_then(|o| o.int(fk));
                if let Some(p) = p {
                    inner.children.entry((child.table, col, p)).or_default().push(cid);
                }
            }
        }
        Ok(self.inner.lock().unwrap().children.get(&(child.table, col, parent.id)).cloned().unwrap_or_default())
    }

    pub fn tags(&self, obj: &Obj) -> GResult<Vec<i64>> {
        let tag = registry::model("extras.tag").unwrap();
        if !self.is_loaded("tags", obj.model, obj.id) {
            let ids = self.pending("tags", obj.model, obj.id);
            let all = self.all(tag)?;
            let visible: HashSet<i64> = all.iter().copied().collect();
            let ct = registry::ct_id(obj.model);
            let q = sea_query::Query::select()
                .columns(["object_id", "tag_id"])
                .from("extras_taggeditem")
                .and_where(Expr::col("content_type_id").eq(ct))
                .and_where(Expr::col("object_id").is_in(ids.clone()))
                // Tags come in the order they were attached, as in Peering Manager.
                .order_by("id", sea_query::Order::Asc)
                .to_owned();
            self.budget.check()?;
            self.queries.fetch_add(1, Ordering::Relaxed);
            let rows = self
                .handle
                .block_on(async {
                    use sea_orm::ConnectionTrait;
                    self.db.conn.query_all(&q).await
                })
                .map_err(db_error)?;
            let mut inner = self.inner.lock().unwrap();
            for id in &ids {
                inner.tags.entry((obj.model.table, *id)).or_default();
                inner.loaded.insert(("tags", obj.model.table, *id));
            }
            for r in rows {
                let (o, t): (i64, i64) =
                    (r.try_get_by_index(0).map_err(db_error)?, r.try_get_by_index(1).map_err(db_error)?);
                if visible.contains(&t) {
                    inner.tags.entry((obj.model.table, o)).or_default().push(t);
                }
            }
        }
        Ok(self.inner.lock().unwrap().tags.get(&(obj.model.table, obj.id)).cloned().unwrap_or_default())
    }

    pub fn config_context(&self, obj: &Obj) -> GResult<Json> {
        if !obj.model.features.config_context {
            return Ok(Json::Null);
        }
        if !self.is_loaded("config_context", obj.model, obj.id) {
            let ids = self.pending("config_context", obj.model, obj.id);
            let objs: Vec<Obj> = {
                let inner = self.inner.lock().unwrap();
                ids.iter().filter_map(|i| inner.objs.get(&(obj.model.table, *i)).map(|o| (**o).clone())).collect()
            };
            let merged = self.block_on(load::config_contexts(&self.db.conn, obj.model, &objs))?;
            let mut inner = self.inner.lock().unwrap();
            for (id, v) in merged {
                inner.contexts.insert((obj.model.table, id), v);
            }
            for id in &ids {
                inner.loaded.insert(("config_context", obj.model.table, *id));
            }
        }
        Ok(self.inner.lock().unwrap().contexts.get(&(obj.model.table, obj.id)).cloned().unwrap_or(Json::Null))
    }

    /// `str(obj)`: the model's display, with the rows it needs from the graph.
    pub fn display(&self, obj: &Obj) -> GResult<String> {
        let mut cache = Cache::default();
        for dep in obj.model.display_deps {
            let mut current: Vec<Arc<Obj>> = vec![Arc::new(obj.clone())];
            for hop in dep.split('.') {
                let mut next = Vec::new();
                for o in &current {
                    if let Some(t) = self.related(o, leak(hop))? {
                        cache.put((*t).clone());
                        next.push(t);
                    }
                }
                current = next;
            }
        }
        Ok(View::new(obj, &cache).display())
    }

    /// Sort ids of a model the way its default ordering does.
    pub fn sorted(&self, model: &'static Model, mut ids: Vec<i64>) -> GResult<Vec<i64>> {
        ids.sort_unstable();
        ids.dedup();
        let order = self.order_index(model, &ids)?;
        ids.sort_by_key(|i| order.get(i).copied().unwrap_or(usize::MAX));
        Ok(ids)
    }

    pub fn obj(&self, model: &'static Model, id: i64) -> Option<Arc<Obj>> {
        self.inner.lock().unwrap().objs.get(&(model.table, id)).cloned()
    }
}

/// Relation keys are `&'static str`; a few dozen distinct ones exist.
fn leak_key(table: &str, col: &str) -> &'static str {
    leak(&format!("{table}.{col}"))
}

pub fn leak(s: &str) -> &'static str {
    static CACHE: Mutex<Option<HashMap<String, &'static str>>> = Mutex::new(None);
    let mut guard = CACHE.lock().unwrap();
    let map = guard.get_or_insert_with(HashMap::new);
    if let Some(v) = map.get(s) {
        return v;
    }
    let v: &'static str = Box::leak(s.to_string().into_boxed_str());
    map.insert(s.to_string(), v);
    v
}
