//! PeeringDB actions: the cache endpoints (statistics, update, clear; staff
//! only) and refreshing autonomous systems from the cache.

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pm_db::models::peering::AUTONOMOUS_SYSTEM;
use pm_db::{AppError, registry};
use pm_jobs::{JobQueue, NewJob, SqlQueue};
use pm_peeringdb::autonomous::{self, Outcome, Who};
use serde_json::{Value as Json, json};

use crate::api::jobs::job_response;
use crate::auth::{Principal, RequestId};
use crate::error::ApiResult;
use crate::state::AppState;

/// The cache belongs to administrators (`is_staff`, or superusers).
fn require_staff(p: &Principal, write: bool) -> ApiResult<()> {
    let Some(user) = &p.user else {
        return Err(AppError::Unauthenticated("Authentication credentials were not provided.".into()).into());
    };
    if write && !p.write_enabled {
        return Err(AppError::PermissionDenied("This token does not have write permission.".into()).into());
    }
    if !(user.is_staff || user.is_superuser) {
        return Err(AppError::PermissionDenied("You do not have permission to perform this action.".into()).into());
    }
    Ok(())
}

/// `GET /api/peeringdb/cache/statistics/`
pub async fn statistics(State(state): State<AppState>, Extension(p): Extension<Principal>) -> ApiResult<Response> {
    require_staff(&p, false)?;
    Ok(axum::Json(pm_peeringdb::stats::statistics(&state.db).await?).into_response())
}

/// Queue a synchronisation job for this user; the job's id.
pub async fn queue_sync(state: &AppState, p: &Principal) -> ApiResult<i64> {
    let sync = registry::model("peeringdb.synchronisation").expect("registered");
    let job = NewJob {
        object_type: Some(registry::ct_id(sync)),
        user_id: p.user.as_ref().map(|u| u.id),
        // Two syncs at once would only download everything twice.
        serial_key: Some(pm_peeringdb::JOB_NAME.into()),
        ..NewJob::new(pm_peeringdb::JOB_NAME, json!({}))
    };
    Ok(SqlQueue::new(state.db.clone()).enqueue(job).await?)
}

/// `POST /api/peeringdb/cache/update-local/` → 202 with the job.
pub async fn update_local(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require_staff(&p, true)?;
    let id = queue_sync(&state, &p).await?;
    job_response(&state, &p, &headers, id, StatusCode::ACCEPTED).await
}

/// `POST /api/peeringdb/cache/clear-local/` → `{"status": "success"}` (synchronous).
pub async fn clear_local(State(state): State<AppState>, Extension(p): Extension<Principal>) -> ApiResult<Response> {
    require_staff(&p, true)?;
    pm_peeringdb::flush::flush(&state.db).await?;
    Ok(axum::Json(json!({"status": "success"})).into_response())
}

fn who(p: &Principal, rid: RequestId) -> Who {
    Who { user_id: p.user.as_ref().map(|u| u.id), user_name: p.user_name(), request_id: rid.0 }
}

fn require_change(p: &Principal) -> ApiResult<()> {
    if p.user.is_none() {
        return Err(AppError::Unauthenticated("Authentication credentials were not provided.".into()).into());
    }
    if !p.write_enabled {
        return Err(AppError::PermissionDenied("This token does not have write permission.".into()).into());
    }
    if !p.perms.allows(&AUTONOMOUS_SYSTEM, "change") {
        return Err(AppError::PermissionDenied("You do not have permission to perform this action.".into()).into());
    }
    Ok(())
}

/// `POST /api/peering/autonomous-systems/{id}/sync-with-peeringdb/`: 200 when
/// synchronised (or private), 204 when PeeringDB has no such network.
pub async fn sync_autonomous_system(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    require_change(&p)?;
    // Change on this AS, within the caller's constraints; the update runs as the caller.
    pm_db::auth::object_for(&state.db.conn, &p.perms, &AUTONOMOUS_SYSTEM, id, "change").await?;
    let out = autonomous::synchronise_as(&state.db, &state.settings, &who(&p, rid), &p.perms, Some(&[id])).await?;
    Ok(match out.first().map(|(_, o)| o) {
        Some(Outcome::Synced(_) | Outcome::Private) => StatusCode::OK.into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `POST /api/peering/autonomous-systems/sync-with-peeringdb/`: every AS the
/// caller may change (or the ids given as a JSON list), with a tally.
pub async fn sync_autonomous_systems(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    body: Body,
) -> ApiResult<Response> {
    require_change(&p)?;
    let bytes = axum::body::to_bytes(body, state.config.max_body_bytes)
        .await
        .map_err(|_| AppError::BadRequest("Request body too large.".into()))?;
    let wanted: Option<Vec<i64>> = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<Json>(&bytes) {
            Ok(Json::Array(ids)) => Some(ids.iter().filter_map(Json::as_i64).collect()),
            Ok(Json::Object(o)) if o.is_empty() => None,
            _ => {
                return Err(AppError::BadRequest("Expected a list of autonomous system ids, or nothing.".into()).into());
            }
        }
    };
    let ids = allowed_ids(&state, &p, wanted).await?;
    let out = autonomous::synchronise_as(&state.db, &state.settings, &who(&p, rid), &p.perms, Some(&ids)).await?;
    let t = autonomous::tally(&out);
    Ok(axum::Json(json!({
        "updated": t.updated, "unchanged": t.unchanged, "private": t.private,
        "not_found": t.not_found, "failed": t.failed,
    }))
    .into_response())
}

/// The AS ids the caller may change, among `wanted` (all when None).
pub async fn allowed_ids(state: &AppState, p: &Principal, wanted: Option<Vec<i64>>) -> ApiResult<Vec<i64>> {
    let scope = p.perms.scope(&AUTONOMOUS_SYSTEM, "change").ok_or_else(pm_db::error::permission_denied)?;
    let mut cond = sea_query::Condition::all().add(scope);
    if let Some(ids) = wanted {
        use sea_query::ExprTrait;
        cond = cond.add(sea_query::Expr::col((AUTONOMOUS_SYSTEM.table, "id")).is_in(ids));
    }
    let objs = pm_db::load::fetch(&state.db.conn, &AUTONOMOUS_SYSTEM, cond, &[("id", false)], None, 0).await?;
    Ok(objs.iter().map(|o| o.id).collect())
}
