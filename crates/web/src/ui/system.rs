//! Staff pages (spec §9.1 "Admin"): System (versions, database, workers) and
//! Background Tasks (jobs by type and status, live workers).

use pm_db::AppError;
use serde_json::{Value as Json, json};

use super::{Ctx, UiResult};
use crate::state::AppState;

const STATUSES: [&str; 6] = ["pending", "scheduled", "running", "completed", "errored", "failed"];

fn require_staff(ctx: &Ctx) -> Result<(), AppError> {
    match &ctx.req.principal.user {
        Some(u) if u.is_staff || u.is_superuser => Ok(()),
        _ => Err(AppError::PermissionDenied("This page is for staff users.".into())),
    }
}

fn time_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

/// The database server's version and the database's size in bytes.
async fn database(state: &AppState) -> (String, String, Option<i64>) {
    let db = &state.db;
    let (backend, version_sql, size_sql) = match db.backend() {
        sea_orm::DbBackend::Postgres => {
            ("PostgreSQL", "SHOW server_version", "SELECT pg_database_size(current_database())")
        }
        _ => (
            "SQLite",
            "SELECT sqlite_version()",
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        ),
    };
    let one = |sql: &'static str| async move { pm_jobs::sql::query_one(&db.conn, sql, vec![]).await.ok().flatten() };
    let version = one(version_sql).await.and_then(|r| r.try_get_by_index::<String>(0).ok()).unwrap_or_default();
    let size = one(size_sql).await.and_then(|r| r.try_get_by_index::<i64>(0).ok());
    (backend.to_string(), version, size)
}

pub async fn system(ctx: &mut Ctx) -> UiResult {
    require_staff(ctx)?;
    let (backend, version, size) = database(&ctx.req.state).await;
    let workers = pm_jobs::status::workers(ctx.db()).await;
    let counts = pm_jobs::status::job_counts(ctx.db()).await?;
    let waiting: i64 =
        counts.iter().filter(|c| c.status == "pending" || c.status == "scheduled").map(|c| c.count).sum();
    let page = json!({
        "title": "System",
        "system": {
            "version": crate::api::PM_VERSION,
            "implementation": format!("peering-manager-rs {}", env!("CARGO_PKG_VERSION")),
            "database": format!("{backend} {version}"),
            "database_size_mb": size.map(|s| format!("{:.1}", s as f64 / 1_048_576.0)),
            "workers": workers.len(),
            "waiting": waiting,
        },
    });
    ctx.render("system.html", page).await
}

pub async fn background_tasks(ctx: &mut Ctx) -> UiResult {
    require_staff(ctx)?;
    let counts = pm_jobs::status::job_counts(ctx.db()).await?;
    let mut types: Vec<String> = counts.iter().map(|c| c.name.clone()).collect();
    types.dedup();
    let link = |name: &str, status: &str| {
        format!("/core/jobs/?{}", serde_urlencoded::to_string([("name", name), ("status", status)]).unwrap_or_default())
    };
    let rows: Vec<Json> = types
        .iter()
        .map(|t| {
            let cells: Vec<Json> = STATUSES
                .iter()
                .map(|s| {
                    let n = counts.iter().find(|c| &c.name == t && c.status == *s).map(|c| c.count).unwrap_or(0);
                    json!({"count": n, "url": link(t, s)})
                })
                .collect();
            json!({"name": t, "cells": cells})
        })
        .collect();
    let workers: Vec<Json> = pm_jobs::status::workers(ctx.db())
        .await
        .iter()
        .map(|w| json!({"name": w.name, "started": time_of(w.started_ms), "expires": time_of(w.expires_ms), "running": w.running}))
        .collect();
    let page = json!({"title": "Background Tasks", "statuses": STATUSES, "rows": rows, "workers": workers});
    ctx.render("background_tasks.html", page).await
}
