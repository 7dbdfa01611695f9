//! Teams: who a manager manages and what a viewer may read.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use salesflow_domain::ids::TeamId;
use salesflow_domain::records::{NewTeam, Team, TeamPatch};
use serde::Serialize;

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiResult, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct TeamList {
    pub items: Vec<Team>,
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "users", responses((status = 200, body = TeamList)))]
pub async fn list(c: Caller, State(s): State<AppState>) -> ApiResult<Json<TeamList>> {
    Ok(Json(TeamList { items: c.guarded(&s).teams().await? }))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = Team), (status = 404, body = Problem)))]
pub async fn get(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Team>> {
    Ok(Json(c.guarded(&s).team(TeamId(id)).await?))
}

/// Creates a team (admins only).
#[utoipa::path(post, path = "/api/v1/teams", tag = "users", request_body = NewTeam,
    responses((status = 201, body = Team), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(new): ApiJson<NewTeam>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let team = c.guarded(&s).create_team(&new, s.clock.now()).await?;
    s.tokens.clear();
    Ok((StatusCode::CREATED, Json(team)))
}

/// Renames a team, changes its manager or replaces its members (admins only).
#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "users", params(("id" = i64, Path)), request_body = TeamPatch,
    responses((status = 200, body = Team), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<TeamPatch>,
) -> ApiResult<Json<Team>> {
    let team = c.guarded(&s).update_team(TeamId(id), &patch, s.clock.now()).await?;
    s.tokens.clear();
    Ok(Json(team))
}

#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    c.guarded(&s).delete_team(TeamId(id), s.clock.now()).await?;
    s.tokens.clear();
    Ok(StatusCode::NO_CONTENT)
}
