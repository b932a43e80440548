//! Change-log records (spec §7.1): Django-style snapshots before and after
//! each change, written in the same transaction as the change itself.

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use sea_query::{Expr, ExprTrait, Query};
use serde_json::{Map, Value as Json};

use crate::error::AppResult;
use crate::model::Kind;
use crate::object::{Cache, Obj, Val, View};
use crate::registry;
use crate::write::{Actor, Pending};

const CENSORED: &str = "*************";
const CHANGED: &str = "***CHANGED***";

fn base_snapshot(obj: &Obj) -> Map<String, Json> {
    let mut out = Map::new();
    for f in obj.model.columns() {
        if !f.snapshot || matches!(f.kind, Kind::Id) {
            continue;
        }
        let v = obj.get(f.name);
        let j = match (f.kind, v) {
            // Peering Manager stores array fields as JSON-encoded strings (spec §13).
            (Kind::IntList | Kind::CidrList | Kind::StrList, Val::Json(j)) => Json::String(j.to_string()),
            _ => v.to_json(),
        };
        out.insert(f.name.to_string(), j);
    }
    out
}

async fn tag_names<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<Vec<Json>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let q = Query::select()
        .column("name")
        .from("extras_tag")
        .and_where(Expr::col("id").is_in(ids.to_vec()))
        .order_by("name", sea_query::Order::Asc)
        .to_owned();
    Ok(db.query_all(&q).await?.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).map(Json::String).collect())
}

async fn related_ids<C: ConnectionTrait>(
    db: &C,
    table: &'static str,
    src: &'static str,
    dst: &'static str,
    id: i64,
) -> AppResult<Vec<i64>> {
    let q = Query::select()
        .column(dst)
        .from(table)
        .and_where(Expr::col(src).eq(id))
        .order_by(dst, sea_query::Order::Asc)
        .to_owned();
    Ok(db.query_all(&q).await?.iter().filter_map(|r| r.try_get_by_index::<i64>(0).ok()).collect())
}

/// Snapshot of a row as stored (relations read from the database).
pub async fn snapshot_stored<C: ConnectionTrait>(db: &C, obj: &Obj) -> AppResult<Json> {
    let mut out = base_snapshot(obj);
    for f in obj.model.fields {
        match f.kind {
            Kind::M2m { table, src, dst, .. } | Kind::ContentTypes { table, src, dst } => {
                let ids = related_ids(db, table, src, dst, obj.id).await?;
                out.insert(f.name.into(), Json::from(ids));
            }
            Kind::Tags => {
                let ct = registry::ct_id(obj.model);
                let q = Query::select()
                    .column("tag_id")
                    .from("extras_taggeditem")
                    .and_where(Expr::col("content_type_id").eq(ct))
                    .and_where(Expr::col("object_id").eq(obj.id))
                    .to_owned();
                let ids: Vec<i64> = db.query_all(&q).await?.iter().filter_map(|r| r.try_get_by_index(0).ok()).collect();
                out.insert("tags".into(), Json::Array(tag_names(db, &ids).await?));
            }
            _ => {}
        }
    }
    Ok(censor(obj, Json::Object(out)))
}

/// Snapshot of a row just inserted, from what was written.
pub async fn snapshot_pending<C: ConnectionTrait>(db: &C, p: &Pending) -> AppResult<Json> {
    let mut out = base_snapshot(&p.obj);
    for f in p.model.fields {
        match f.kind {
            Kind::M2m { .. } | Kind::ContentTypes { .. } => {
                let mut ids = p.m2m.get(f.name).cloned().unwrap_or_default();
                ids.sort();
                out.insert(f.name.into(), Json::from(ids));
            }
            Kind::Tags => {
                let ids = p.tags.clone().unwrap_or_default();
                out.insert("tags".into(), Json::Array(tag_names(db, &ids).await?));
            }
            _ => {}
        }
    }
    Ok(censor(&p.obj, Json::Object(out)))
}

/// Secrets never reach the change log in clear.
fn censor(obj: &Obj, mut snap: Json) -> Json {
    for f in obj.model.fields.iter().filter(|f| f.secret) {
        if let Some(v) = snap.get_mut(f.name)
            && !Json::is_null(v)
            && v != ""
        {
            *v = Json::String(CENSORED.into());
        }
    }
    snap
}

/// Mark censored secrets that changed, so the log still says *that* they changed.
fn mark_changed(obj: &Obj, pre: &Option<Json>, post: &mut Option<Json>, raw_pre: Option<&Obj>) {
    let (Some(post), Some(_)) = (post.as_mut(), pre) else { return };
    let Some(old) = raw_pre else { return };
    for f in obj.model.fields.iter().filter(|f| f.secret) {
        if old.get(f.name) != obj.get(f.name)
            && let Some(v) = post.get_mut(f.name)
            && !Json::is_null(v)
        {
            *v = Json::String(CHANGED.into());
        }
    }
}

pub async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor<'_>,
    obj: &Obj,
    action: &str,
    pre: Option<Json>,
    post: Option<Json>,
) -> AppResult<()> {
    record_with_old(txn, actor, obj, None, action, pre, post).await
}

pub async fn record_with_old(
    txn: &DatabaseTransaction,
    actor: &Actor<'_>,
    obj: &Obj,
    old: Option<&Obj>,
    action: &str,
    pre: Option<Json>,
    mut post: Option<Json>,
) -> AppResult<()> {
    mark_changed(obj, &pre, &mut post, old);
    let mut cache = Cache::default();
    crate::load::prepare(txn, &mut cache, obj.model, vec![obj.clone()], crate::load::Mode::Nested).await?;
    let repr: String = View::new(obj, &cache).display().chars().take(200).collect();
    let q = Query::insert()
        .into_table("core_objectchange")
        .columns([
            "time",
            "user_id",
            "user_name",
            "request_id",
            "action",
            "changed_object_type_id",
            "changed_object_id",
            "object_repr",
            "prechange_data",
            "postchange_data",
        ])
        .values_panic([
            chrono::Utc::now().into(),
            actor.user_id.into(),
            actor.user_name.clone().into(),
            actor.request_id.to_string().into(),
            action.into(),
            registry::ct_id(obj.model).into(),
            obj.id.into(),
            repr.into(),
            pre.map(|p| p.to_string()).into(),
            post.map(|p| p.to_string()).into(),
        ])
        .to_owned();
    txn.execute(&q).await?;
    Ok(())
}
