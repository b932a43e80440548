//! The operations every model supports, as the API and UI call them:
//! list, retrieve, create, update and delete (single or bulk).

use sea_query::{Condition, Expr, ExprTrait};
use serde_json::Value as Json;

use crate::Db;
use crate::auth::Perms;
use crate::error::{AppError, AppResult, FieldErrors, not_found, permission_denied};
use crate::load::{self, Mode};
use crate::model::Model;
use crate::object::{Cache, Obj};
use crate::query::filter;
use crate::write::{self, Actor};

pub struct Page {
    pub count: i64,
    pub objs: Vec<Obj>,
    pub cache: Cache,
}

/// Rows the user may view, filtered by `params`, one page of them.
pub async fn list(
    db: &Db,
    perms: &Perms,
    model: &'static Model,
    params: &[(String, String)],
    limit: Option<u64>,
    offset: u64,
    mode: Mode,
) -> AppResult<Page> {
    let scope = perms.scope(model, "view").ok_or_else(permission_denied)?;
    let cond = filter::condition(&db.conn, model, params).await?.add(scope);
    let ordering_param = params.iter().find(|(k, _)| k == "ordering").map(|(_, v)| v.as_str());
    let ordering = filter::ordering(model, ordering_param)?;
    let count = load::count(&db.conn, model, cond.clone()).await?;
    let objs =
        if limit == Some(0) { vec![] } else { load::fetch(&db.conn, model, cond, &ordering, limit, offset).await? };
    let mut cache = Cache::default();
    load::prepare(&db.conn, &mut cache, model, objs.clone(), mode).await?;
    Ok(Page { count, objs, cache })
}

pub async fn retrieve(db: &Db, perms: &Perms, model: &'static Model, id: i64, mode: Mode) -> AppResult<(Obj, Cache)> {
    let scope = perms.scope(model, "view").ok_or_else(permission_denied)?;
    let obj = load::get(&db.conn, model, id, scope).await?.ok_or_else(|| not_found(model))?;
    let mut cache = Cache::default();
    load::prepare(&db.conn, &mut cache, model, vec![obj.clone()], mode).await?;
    Ok((obj, cache))
}

/// Re-read written rows for the response, in the order given.
pub async fn reload(db: &Db, model: &'static Model, ids: &[i64], mode: Mode) -> AppResult<(Vec<Obj>, Cache)> {
    let cond = Condition::all().add(Expr::col((model.table, "id")).is_in(ids.to_vec()));
    let mut objs = load::fetch(&db.conn, model, cond, &[("id", false)], None, 0).await?;
    objs.sort_by_key(|o| ids.iter().position(|i| *i == o.id));
    let mut cache = Cache::default();
    load::prepare(&db.conn, &mut cache, model, objs.clone(), mode).await?;
    Ok((objs, cache))
}

fn require(perms: &Perms, model: &'static Model, action: &str) -> AppResult<()> {
    let deletable = action == "delete" && model.access == crate::model::Access::ReadDelete;
    if !(model.writable() || deletable) {
        return Err(AppError::MethodNotAllowed("Method not allowed on this endpoint.".into()));
    }
    if perms.allows(model, action) { Ok(()) } else { Err(permission_denied()) }
}

/// Collect per-item errors; a bulk request fails as a whole.
fn finish(errors: Vec<FieldErrors>, bulk: bool) -> AppResult<()> {
    if errors.iter().all(|e| e.is_empty()) {
        return Ok(());
    }
    if bulk {
        Err(AppError::BulkValidation(errors))
    } else {
        Err(AppError::Validation(errors.into_iter().next().unwrap()))
    }
}

/// Create one object per item, all or none.
pub async fn create(
    db: &Db,
    actor: &Actor<'_>,
    model: &'static Model,
    items: &[Json],
    bulk: bool,
) -> AppResult<Vec<i64>> {
    require(actor.perms, model, "add")?;
    let w = db.begin_write().await?;
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    for item in items {
        let p = write::prepare(&w.txn, model, item, None, actor).await?;
        if !p.errors.is_empty() {
            errors.push(p.errors);
            continue;
        }
        match write::insert(&w.txn, actor, p).await {
            Ok(id) => {
                ids.push(id);
                errors.push(FieldErrors::new());
            }
            Err(AppError::Validation(e)) => errors.push(e),
            Err(e) => return Err(e),
        }
    }
    finish(errors, bulk)?;
    // --- webhook events: queued in this transaction, run after it commits ---
    crate::webhooks::queue_events(&w.txn, actor, model, "create", &ids).await?;
    // --- end webhook events ---
    w.commit().await?;
    Ok(ids)
}

/// Update objects: PUT (`partial = false`) needs every required field, PATCH does not.
/// In bulk, ids the caller cannot change (or that do not exist) are skipped.
pub async fn update(
    db: &Db,
    actor: &Actor<'_>,
    model: &'static Model,
    items: &[(i64, Json)],
    partial: bool,
    bulk: bool,
) -> AppResult<Vec<i64>> {
    require(actor.perms, model, "change")?;
    let w = db.begin_write().await?;
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    for (id, item) in items {
        let old = match write::get_for(&w.txn, actor, model, *id, "change").await {
            Ok(o) => o,
            Err(AppError::NotFound(_)) if bulk => continue,
            Err(e) => return Err(e),
        };
        let mut p = write::prepare(&w.txn, model, item, Some(old), actor).await?;
        if !partial {
            for f in model.fields.iter().filter(|f| f.api && f.writable() && f.required) {
                if !p.is_given(f.name) && !(f.write_only) {
                    p.errors.add(f.name, "This field is required.");
                }
            }
        }
        if !p.errors.is_empty() {
            errors.push(p.errors);
            continue;
        }
        match write::update(&w.txn, actor, p).await {
            Ok(id) => {
                ids.push(id);
                errors.push(FieldErrors::new());
            }
            Err(AppError::Validation(e)) => errors.push(e),
            Err(e) => return Err(e),
        }
    }
    finish(errors, bulk)?;
    // --- webhook events: queued in this transaction, run after it commits ---
    crate::webhooks::queue_events(&w.txn, actor, model, "update", &ids).await?;
    // --- end webhook events ---
    w.commit().await?;
    Ok(ids)
}

pub async fn delete(db: &Db, actor: &Actor<'_>, model: &'static Model, ids: &[i64], bulk: bool) -> AppResult<usize> {
    require(actor.perms, model, "delete")?;
    let w = db.begin_write().await?;
    // --- webhook events: deleted objects are serialized now, delivered after commit ---
    if model.features.webhooks && !crate::webhooks::matching_webhooks(&w.txn, model, "delete").await?.is_empty() {
        let mut doomed = Vec::new();
        for id in ids {
            if write::get_for(&w.txn, actor, model, *id, "delete").await.is_ok() {
                doomed.push(*id);
            }
        }
        crate::webhooks::queue_events(&w.txn, actor, model, "delete", &doomed).await?;
    }
    // --- end webhook events ---
    let mut n = 0;
    for id in ids {
        let obj = match write::get_for(&w.txn, actor, model, *id, "delete").await {
            Ok(o) => o,
            Err(AppError::NotFound(_)) if bulk => continue,
            Err(e) => return Err(e),
        };
        write::delete(&w.txn, actor, obj).await?;
        n += 1;
    }
    w.commit().await?;
    Ok(n)
}

/// Remove change-log records older than the retention (0 keeps everything).
pub async fn housekeeping(db: &Db, settings: &crate::Settings) -> AppResult<(u64, u64)> {
    use sea_orm::ConnectionTrait;
    let mut removed = (0, 0);
    let now = chrono::Utc::now();
    if settings.changelog_retention_days > 0 {
        let cutoff = now - chrono::Duration::days(settings.changelog_retention_days);
        let q = sea_query::Query::delete()
            .from_table("core_objectchange")
            .and_where(Expr::col("time").lt(cutoff))
            .to_owned();
        removed.0 = db.conn.execute(&q).await?.rows_affected();
    }
    if settings.job_retention_days > 0 {
        let cutoff = now - chrono::Duration::days(settings.job_retention_days);
        // Only finished jobs: pending and running work is never lost to housekeeping.
        let q = sea_query::Query::delete()
            .from_table("core_job")
            .and_where(Expr::col("created").lt(cutoff))
            .and_where(Expr::col("status").is_in(["completed", "errored", "failed"]))
            .to_owned();
        removed.1 = db.conn.execute(&q).await?.rows_affected();
    }
    let q = sea_query::Query::delete().from_table("users_session").and_where(Expr::col("expires").lt(now)).to_owned();
    db.conn.execute(&q).await?;
    // Expired API tokens.
    let q = sea_query::Query::delete().from_table("users_token").and_where(Expr::col("expires").lt(now)).to_owned();
    db.conn.execute(&q).await?;
    Ok(removed)
}
