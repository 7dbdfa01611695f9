use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use salesflow_domain::ids::{AccountId, UserId};
use salesflow_domain::records::{Account, AccountFilter, AccountPatch, NewAccount};
use serde::Deserialize;

use super::{Paging, page_type};
use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::problem::{ApiResult, Problem};

page_type!(AccountPage, Account);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccountQuery {
    owner: Option<i64>,
    /// Text in the name.
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", params(AccountQuery),
    responses((status = 200, body = AccountPage), (status = 400, body = Problem)))]
pub async fn list(
    c: Caller,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> ApiResult<Json<AccountPage>> {
    let page = Paging { limit: q.limit, cursor: q.cursor }.page()?;
    let filter = AccountFilter { owner: q.owner.map(UserId), text: q.q };
    Ok(Json(c.guarded(&s).list_accounts(&filter, page).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = NewAccount,
    responses((status = 201, body = Account), (status = 422, body = Problem)))]
pub async fn create(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(new): ApiJson<NewAccount>,
) -> ApiResult<(StatusCode, Json<Account>)> {
    Ok((StatusCode::CREATED, Json(c.guarded(&s).create_account(&new, s.clock.now()).await?)))
}

#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = Account), (status = 404, body = Problem)))]
pub async fn get(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Account>> {
    Ok(Json(c.guarded(&s).account(AccountId(id), s.clock.now()).await?))
}

#[utoipa::path(patch, path = "/api/v1/accounts/{id}", tag = "accounts", params(("id" = i64, Path)), request_body = AccountPatch,
    responses((status = 200, body = Account), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<AccountPatch>,
) -> ApiResult<Json<Account>> {
    Ok(Json(c.guarded(&s).update_account(AccountId(id), &patch, s.clock.now()).await?))
}
