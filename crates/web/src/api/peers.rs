//! API actions that read the PeeringDB cache: available peers, linking and
//! prefixes of an IXP, shared IXPs and facilities of an AS (spec §5.11).

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pm_db::load::Mode;
use pm_db::model::Model;
use pm_db::models::{peering, peeringdb as pdb};
use pm_db::object::{Cache, Obj};
use pm_db::{AppError, ops, peeringdb};
use serde_json::{Value as Json, json};

use crate::api::resource::{Shape, base_url, check_read, check_write, render};
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::AppState;

/// Objects rendered the way their own endpoint renders them, as a plain array.
pub async fn rendered(
    state: &AppState,
    p: &Principal,
    headers: &HeaderMap,
    model: &'static Model,
    objs: Vec<Obj>,
    mode: Mode,
) -> ApiResult<Json> {
    let mut cache = Cache::default();
    pm_db::load::prepare(&state.db.conn, &mut cache, model, objs.clone(), mode).await?;
    let shape = Shape { params: vec![], mode, fields: None, exclude: None };
    Ok(Json::Array(render(state, p, &base_url(headers), &cache, &objs, &shape).await?))
}

async fn ixp(state: &AppState, p: &Principal, id: i64) -> ApiResult<Obj> {
    check_read(state, p)?;
    Ok(ops::retrieve(&state.db, &p.perms, &peering::INTERNET_EXCHANGE, id, Mode::Brief).await?.0)
}

/// `GET …/internet-exchanges/{id}/available-peers/`: NetworkIXLan records (§3.2).
pub async fn available_peers(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let ixp = ixp(&state, &p, id).await?;
    let peers =
        visible(&state, &p, &pdb::NETWORK_IXLAN, peeringdb::available_peers(&state.db.conn, &ixp, false).await?)
            .await?;
    let out = rendered(&state, &p, &headers, &pdb::NETWORK_IXLAN, peers, Mode::Full).await?;
    Ok(axum::Json(out).into_response())
}

/// `POST …/internet-exchanges/{id}/link-to-peeringdb/`: 200 linked, 503 not linkable.
pub async fn link_to_peeringdb(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    check_write(&p)?;
    check_read(&state, &p)?;
    // Linking changes this IXP: change on it, within the caller's constraints.
    pm_db::auth::object_for(&state.db.conn, &p.perms, &peering::INTERNET_EXCHANGE, id, "change").await?;
    let w = state.db.begin_write().await?;
    let linked = peeringdb::link_ixp(&w.txn, id).await?;
    w.commit().await?;
    Ok(match linked {
        Some(_) => StatusCode::OK.into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    })
}

/// `GET …/internet-exchanges/{id}/prefixes/` (deprecated): the IXLan's prefixes.
pub async fn prefixes(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let ixp = ixp(&state, &p, id).await?;
    let ixlans: Vec<i64> = ixp.int("peeringdb_ixlan").into_iter().collect();
    let mut by = peeringdb::prefixes_by_ixlan(&state.db.conn, &ixlans).await?;
    let out = ixlans.first().and_then(|l| by.remove(l)).unwrap_or_else(|| json!({}));
    Ok(axum::Json(out).into_response())
}

/// The AS, its PeeringDB network, the caller's context AS and its network:
/// 503 when the caller has no affiliated context AS.
async fn both_networks(state: &AppState, p: &Principal, id: i64) -> ApiResult<(Option<Obj>, Obj, Option<Obj>)> {
    check_read(state, p)?;
    let asm = &peering::AUTONOMOUS_SYSTEM;
    let (asys, _) = ops::retrieve(&state.db, &p.perms, asm, id, Mode::Brief).await?;
    let context = context_as(state, p).await?.ok_or_else(|| {
        AppError::ServiceUnavailable("User did not choose an affiliated autonomous system as context.".into())
    })?;
    let net = peeringdb::network_by_asn(&state.db.conn, asys.int("asn").unwrap_or(0)).await?;
    let context_net = peeringdb::network_by_asn(&state.db.conn, context.int("asn").unwrap_or(0)).await?;
    Ok((net, context, context_net))
}

/// The caller's `context.as` preference, when it names an affiliated AS.
pub async fn context_as(state: &AppState, p: &Principal) -> ApiResult<Option<Obj>> {
    let Some(user) = &p.user else { return Ok(None) };
    let prefs = pm_db::session::preferences(&state.db.conn, user.id).await?;
    let Some(id) = pm_db::session::get_pref(&prefs, "context.as").and_then(Json::as_i64) else { return Ok(None) };
    let found = pm_db::load::get(&state.db.conn, &peering::AUTONOMOUS_SYSTEM, id, sea_query::Condition::all()).await?;
    Ok(found.filter(|a| a.bool("affiliated")))
}

/// The objects among `ids` the caller may view, in the order given.
async fn fetch_ids(state: &AppState, p: &Principal, model: &'static Model, ids: &[i64]) -> ApiResult<Vec<Obj>> {
    use sea_query::ExprTrait;
    let Some(scope) = p.perms.scope(model, "view") else { return Ok(vec![]) };
    let cond =
        sea_query::Condition::all().add(scope).add(sea_query::Expr::col((model.table, "id")).is_in(ids.to_vec()));
    let mut objs = pm_db::load::fetch(&state.db.conn, model, cond, &[], None, 0).await?;
    objs.sort_by_key(|o| ids.iter().position(|i| *i == o.id));
    Ok(objs)
}

/// Only the objects the caller may view (cache records too have permissions).
async fn visible(state: &AppState, p: &Principal, model: &'static Model, objs: Vec<Obj>) -> ApiResult<Vec<Obj>> {
    let ids: Vec<i64> = objs.iter().map(|o| o.id).collect();
    let allowed: std::collections::HashSet<i64> =
        fetch_ids(state, p, model, &ids).await?.iter().map(|o| o.id).collect();
    Ok(objs.into_iter().filter(|o| allowed.contains(&o.id)).collect())
}

/// `GET …/autonomous-systems/{id}/shared-ixps/`: our IXPs (context AS) shared in PeeringDB.
pub async fn shared_ixps(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (net, context, context_net) = both_networks(&state, &p, id).await?;
    let ids = match (net, context_net) {
        (Some(a), Some(b)) => peeringdb::shared_ixps(&state.db.conn, a.id, b.id, context.id).await?,
        _ => vec![],
    };
    let objs = fetch_ids(&state, &p, &peering::INTERNET_EXCHANGE, &ids).await?;
    let out = rendered(&state, &p, &headers, &peering::INTERNET_EXCHANGE, objs, Mode::Nested).await?;
    Ok(axum::Json(out).into_response())
}

/// `GET …/autonomous-systems/{id}/shared-facilities/`: PeeringDB facilities of both networks.
pub async fn shared_facilities(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (net, _, context_net) = both_networks(&state, &p, id).await?;
    let ids = match (net, context_net) {
        (Some(a), Some(b)) => peeringdb::shared_facilities(&state.db.conn, a.id, b.id).await?,
        _ => vec![],
    };
    let objs = fetch_ids(&state, &p, &pdb::FACILITY, &ids).await?;
    let out = rendered(&state, &p, &headers, &pdb::FACILITY, objs, Mode::Full).await?;
    Ok(axum::Json(out).into_response())
}
