//! The job page: status, who started it, the object it concerns, its
//! timestamps, progress, log and result, kept live by `pm.js` polling the
//! job's API URL while it is unfinished; Cancel (pending jobs) and Re-run.

use pm_db::load::Mode;
use pm_db::{AppError, ops, registry};
use pm_jobs::{JobQueue, SqlQueue};
use serde_json::{Value as Json, json};

use super::{Ctx, UiResult, meta, redirect, render};

fn job_model() -> &'static pm_db::model::Model {
    registry::model("core.job").expect("registered model")
}

/// Whether a job may still change (the page keeps polling).
pub fn unfinished(status: &str) -> bool {
    matches!(status, "pending" | "scheduled" | "running")
}

/// The `job` context of a job's main tab, from its API representation.
pub fn job_tab(ctx: &Ctx, id: i64, j: &Json) -> Json {
    let m = job_model();
    let status = j["status"]["value"].as_str().unwrap_or("");
    let object = j["object_type"].as_str().and_then(registry::model).and_then(|om| {
        let oid = j["object_id"].as_i64()?;
        let label = format!("{} #{oid}", meta::title(om.verbose));
        Some(json!({"label": label, "url": meta::object_url(om, oid)}))
    });
    let time = |k: &str| j[k].as_str().map(render::fmt_time_seconds);
    let log: Vec<Json> = j["data"]["main"]["log"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| {
                    json!({"time": e[0].as_str().map(render::fmt_time_seconds), "level": e[1],
                        "colour": render::choice_colour(e[1].as_str().unwrap_or("")), "message": e[4]})
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": id,
        "api_url": format!("/api/core/jobs/{id}/"),
        "name": j["name"],
        "job_id": j["job_id"],
        "status": status,
        "status_label": j["status"]["label"],
        "status_colour": render::choice_colour(status),
        "live": unfinished(status),
        "user": j["user"]["username"],
        "object": object,
        "created": time("created"),
        "started": time("started"),
        "completed": time("completed"),
        "progress": j["data"]["progress"],
        "log": log,
        "output": j["output"],
        "can_cancel": matches!(status, "pending" | "scheduled") && ctx.perms().allows(m, "change"),
        "can_rerun": !unfinished(status) && ctx.perms().allows(m, "add"),
    })
}

/// `POST /core/jobs/<id>/cancel/` (pending and scheduled jobs).
pub async fn cancel(ctx: &mut Ctx, id: i64) -> UiResult {
    ctx.form()?;
    let m = job_model();
    if !ctx.perms().allows(m, "change") {
        return Err(pm_db::error::permission_denied());
    }
    pm_db::auth::object_for(&ctx.db().conn, ctx.perms(), m, id, "change").await?;
    let q = SqlQueue::new(ctx.db().clone());
    if q.cancel(id, &ctx.req.principal.user_name()).await? {
        ctx.flash("success", "Job cancelled.".into()).await;
    } else {
        ctx.flash("warning", "The job had already started: only pending jobs can be cancelled.".into()).await;
    }
    Ok(redirect(&format!("/core/jobs/{id}/")))
}

/// `POST /core/jobs/<id>/rerun/`: a copy of the job, then its page.
pub async fn rerun(ctx: &mut Ctx, id: i64) -> UiResult {
    ctx.form()?;
    let m = job_model();
    if !ctx.perms().allows(m, "add") {
        return Err(pm_db::error::permission_denied());
    }
    let (old, _) = ops::retrieve(ctx.db(), ctx.perms(), m, id, Mode::Brief).await?;
    if unfinished(old.text("status")) {
        return Err(AppError::Conflict("The job has not finished yet.".into()));
    }
    crate::api::jobs::may_start(&ctx.req.state, &ctx.req.principal, &old).await?;
    let q = SqlQueue::new(ctx.db().clone());
    let new = q.rerun(id, ctx.user_id()).await?;
    ctx.flash("success", format!("Job queued again as #{new}.")).await;
    Ok(redirect(&format!("/core/jobs/{new}/")))
}
