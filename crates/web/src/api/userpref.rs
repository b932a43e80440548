//! `/api/users/userpref/`: the caller's own preference tree.

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use pm_db::AppError;
use sea_orm::ConnectionTrait;
use sea_query::{Expr, ExprTrait, OnConflict, Query};
use serde_json::{Value as Json, json};

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::AppState;

fn user_id(p: &Principal) -> ApiResult<i64> {
    p.user
        .as_ref()
        .map(|u| u.id)
        .ok_or_else(|| AppError::Unauthenticated("Authentication credentials were not provided.".into()).into())
}

pub async fn load(state: &AppState, user: i64) -> ApiResult<Json> {
    let q = Query::select()
        .column("data")
        .from("users_userpreferences")
        .and_where(Expr::col("user_id").eq(user))
        .to_owned();
    let row = state.db.conn.query_one(&q).await.map_err(AppError::from)?;
    Ok(row
        .and_then(|r| r.try_get_by_index::<String>(0).ok())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_else(|| json!({})))
}

pub async fn get(State(state): State<AppState>, Extension(p): Extension<Principal>) -> ApiResult<Response> {
    let id = user_id(&p)?;
    Ok(axum::Json(load(&state, id).await?).into_response())
}

/// Deep-merge the body into the stored tree (lists are replaced).
pub async fn patch(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    body: Body,
) -> ApiResult<Response> {
    let id = user_id(&p)?;
    let input = crate::api::resource::read_json(&state, body).await?;
    if !input.is_object() {
        return Err(AppError::BadRequest("Expected a JSON object.".into()).into());
    }
    let mut data = load(&state, id).await?;
    pm_domain::merge::deep_merge(&mut data, &input, true, pm_domain::merge::ListMerge::Replace);
    let q = Query::insert()
        .into_table("users_userpreferences")
        .columns(["user_id", "data"])
        .values_panic([id.into(), data.to_string().into()])
        .on_conflict(OnConflict::column("user_id").update_column("data").to_owned())
        .to_owned();
    state.db.conn.execute(&q).await.map_err(AppError::from)?;
    Ok(axum::Json(data).into_response())
}
