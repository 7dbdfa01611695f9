//! Opening one record to one more user.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use salesflow_domain::ids::UserId;
use salesflow_domain::records::{RecordKind, Share};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::problem::{ApiResult, Problem};

#[derive(Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ShareTarget {
    pub record_kind: RecordKind,
    pub record_id: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    pub record_kind: RecordKind,
    pub record_id: i64,
    pub user_id: UserId,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ShareList {
    pub items: Vec<Share>,
}

/// Who a record is shared with.
#[utoipa::path(get, path = "/api/v1/shares", tag = "users", params(ShareTarget),
    responses((status = 200, body = ShareList), (status = 404, body = Problem)))]
pub async fn list(
    c: Caller,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ShareTarget>,
) -> ApiResult<Json<ShareList>> {
    Ok(Json(ShareList { items: c.guarded(&s).shares(q.record_kind, q.record_id, s.clock.now()).await? }))
}

/// Shares a record the caller may change with another user.
#[utoipa::path(post, path = "/api/v1/shares", tag = "users", request_body = NewShare,
    responses((status = 201, body = Share), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(req): ApiJson<NewShare>,
) -> ApiResult<(StatusCode, Json<Share>)> {
    let share = c.guarded(&s).share(req.record_kind, req.record_id, req.user_id, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(share)))
}

#[utoipa::path(delete, path = "/api/v1/shares/{record_kind}/{record_id}/{user_id}", tag = "users",
    params(("record_kind" = RecordKind, Path), ("record_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((kind, id, user)): ApiPath<(RecordKind, i64, i64)>,
) -> ApiResult<StatusCode> {
    c.guarded(&s).unshare(kind, id, UserId(user), s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
