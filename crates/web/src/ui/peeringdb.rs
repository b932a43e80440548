//! "3rd Party → PeeringDB": what the cache holds, the last synchronisations
//! with their per-object changes, and (for staff) Update and Clear; plus the
//! "Synchronise with PeeringDB" bulk action of the AS list.

use pm_db::models::peering::AUTONOMOUS_SYSTEM;
use pm_db::models::peeringdb::SYNCHRONISATION;
use pm_db::object::Val;
use pm_db::{AppError, load};
use pm_peeringdb::autonomous::{self, Who};
use pm_peeringdb::namespaces::NAMESPACES;
use sea_query::{Condition, Expr, ExprTrait};
use serde_json::{Value as Json, json};

use super::render::esc;
use super::{Ctx, UiResult, redirect};

fn is_staff(ctx: &Ctx) -> bool {
    ctx.req.principal.user.as_ref().is_some_and(|u| u.is_staff || u.is_superuser)
}

fn when(v: &Val) -> String {
    match v {
        Val::Time(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        _ => String::new(),
    }
}

/// `/peeringdb/` (GET: the page; POST `_action=update|clear`: staff only).
pub async fn page(ctx: &mut Ctx) -> UiResult {
    if ctx.is_post() {
        let form = ctx.form()?;
        if !is_staff(ctx) {
            return Err(pm_db::error::permission_denied());
        }
        match form.get("_action") {
            Some("update") => {
                let sync = pm_db::registry::model("peeringdb.synchronisation").expect("registered");
                let job = pm_jobs::NewJob {
                    object_type: Some(pm_db::registry::ct_id(sync)),
                    user_id: ctx.user_id(),
                    serial_key: Some(pm_peeringdb::JOB_NAME.into()),
                    ..pm_jobs::NewJob::new(pm_peeringdb::JOB_NAME, json!({}))
                };
                use pm_jobs::JobQueue;
                let id = pm_jobs::SqlQueue::new(ctx.db().clone()).enqueue(job).await?;
                // `serve --no-worker` with no `worker` process: say so, or the
                // job would wait silently.
                let (level, hint) = if pm_jobs::workers_running(ctx.db()).await == 0 {
                    (
                        "warning",
                        " No job worker is running: start <code>peering-manager worker</code> (or <code>serve</code> without <code>--no-worker</code>) to run it.",
                    )
                } else {
                    ("success", " Its page follows the download live; refresh this page when it is done.")
                };
                ctx.flash(level, format!("Synchronisation queued as <a href=\"/core/jobs/{id}/\">job {id}</a>.{hint}"))
                    .await;
            }
            Some("clear") => {
                pm_peeringdb::flush::flush(ctx.db()).await?;
                ctx.flash("success", "PeeringDB cache cleared.".into()).await;
            }
            _ => return Err(AppError::BadRequest("Unknown action.".into())),
        }
        return Ok(redirect("/peeringdb/"));
    }
    let stats = pm_peeringdb::stats::statistics(ctx.db()).await?;
    let counts: Vec<Json> = NAMESPACES
        .iter()
        .map(|ns| {
            let m = ns.model;
            let api = m.has_api().then(|| m.api_list_path());
            json!({"label": super::meta::title(m.verbose_plural), "tag": ns.tag, "count": stats[format!("{}-count", ns.tag)], "api": api})
        })
        .collect();
    let syncs =
        load::fetch(&ctx.db().conn, &SYNCHRONISATION, Condition::all(), &[("time", true), ("id", true)], Some(50), 0)
            .await?;
    let rows: Vec<Json> = syncs
        .iter()
        .map(|s| {
            json!({"id": s.id, "time": when(s.get("time")), "created": s.int("created"), "updated": s.int("updated"), "deleted": s.int("deleted")})
        })
        .collect();
    let page = json!({
        "title": "PeeringDB",
        "counts": counts,
        "syncs": rows,
        "last": rows.first(),
        "total": stats["sync-count"],
        "staff": is_staff(ctx),
    });
    ctx.render("peeringdb.html", page).await
}

/// `/peeringdb/synchronisations/<id>/`: counts per namespace and the objects changed.
pub async fn synchronisation(ctx: &mut Ctx, id: i64) -> UiResult {
    let cond = Condition::all().add(Expr::col(("peeringdb_synchronisation", "id")).eq(id));
    let s = load::fetch(&ctx.db().conn, &SYNCHRONISATION, cond, &[], Some(1), 0)
        .await?
        .pop()
        .ok_or_else(|| pm_db::error::not_found(&SYNCHRONISATION))?;
    let changes = match s.get("changes") {
        Val::Json(j) => j.clone(),
        _ => json!({}),
    };
    let namespaces: Vec<Json> = NAMESPACES
        .iter()
        .filter_map(|ns| {
            let c = changes["namespaces"].get(ns.tag)?;
            let total = c["created"].as_u64()? + c["updated"].as_u64()? + c["deleted"].as_u64()?;
            (total > 0)
                .then(|| json!({"tag": ns.tag, "label": super::meta::title(ns.model.verbose_plural), "counts": c}))
        })
        .collect();
    let page = json!({
        "title": format!("Synchronisation of {}", when(s.get("time"))),
        "sync": {"id": s.id, "time": when(s.get("time")), "created": s.int("created"), "updated": s.int("updated"), "deleted": s.int("deleted")},
        "namespaces": namespaces,
        "objects": changes["objects"],
        "omitted": changes["omitted"],
        "failed": changes["failed"],
    });
    ctx.render("peeringdb_sync.html", page).await
}

/// Bulk action of the AS list: refresh the selected ASes from the cache.
pub async fn sync_autonomous_systems(ctx: &mut Ctx, ids: Vec<i64>, back: &str) -> UiResult {
    let Some(scope) = ctx.perms().scope(&AUTONOMOUS_SYSTEM, "change") else {
        return Err(pm_db::error::permission_denied());
    };
    let cond = Condition::all().add(scope).add(Expr::col((AUTONOMOUS_SYSTEM.table, "id")).is_in(ids));
    let allowed: Vec<i64> =
        load::fetch(&ctx.db().conn, &AUTONOMOUS_SYSTEM, cond, &[], None, 0).await?.iter().map(|o| o.id).collect();
    let who = Who { user_id: ctx.user_id(), user_name: ctx.req.principal.user_name(), request_id: ctx.req.rid.0 };
    let settings = ctx.req.state.settings.clone();
    let out = autonomous::synchronise_as(ctx.db(), &settings, &who, ctx.perms(), Some(&allowed)).await?;
    let t = autonomous::tally(&out);
    let mut msg =
        format!("{} autonomous system(s) updated from PeeringDB, {} already up to date", t.updated, t.unchanged);
    if t.not_found > 0 {
        msg.push_str(&format!(", {} not in the PeeringDB cache", t.not_found));
    }
    if t.private > 0 {
        msg.push_str(&format!(", {} private", t.private));
    }
    if t.failed > 0 {
        msg.push_str(&format!(", {} refused", t.failed));
    }
    ctx.flash(if t.failed > 0 { "warning" } else { "success" }, format!("{}.", esc(&msg))).await;
    Ok(redirect(back))
}
