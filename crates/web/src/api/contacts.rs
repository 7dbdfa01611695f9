use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use salesflow_domain::ids::{AccountId, ContactId, UserId};
use salesflow_domain::records::{Contact, ContactFilter, ContactPatch, NewContact};
use serde::Deserialize;

use super::{Paging, page_type};
use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::problem::{ApiResult, Problem};

page_type!(ContactPage, Contact);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    owner: Option<i64>,
    account: Option<i64>,
    /// Text in the name or email.
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = ContactPage), (status = 400, body = Problem)))]
pub async fn list(
    c: Caller,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ContactQuery>,
) -> ApiResult<Json<ContactPage>> {
    let page = Paging { limit: q.limit, cursor: q.cursor }.page()?;
    let filter = ContactFilter { owner: q.owner.map(UserId), account: q.account.map(AccountId), text: q.q };
    Ok(Json(c.guarded(&s).list_contacts(&filter, page).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = NewContact,
    responses((status = 201, body = Contact), (status = 422, body = Problem)))]
pub async fn create(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(new): ApiJson<NewContact>,
) -> ApiResult<(StatusCode, Json<Contact>)> {
    Ok((StatusCode::CREATED, Json(c.guarded(&s).create_contact(&new, s.clock.now()).await?)))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = i64, Path)),
    responses((status = 200, body = Contact), (status = 404, body = Problem)))]
pub async fn get(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Contact>> {
    Ok(Json(c.guarded(&s).contact(ContactId(id), s.clock.now()).await?))
}

#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = i64, Path)), request_body = ContactPatch,
    responses((status = 200, body = Contact), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(c.guarded(&s).update_contact(ContactId(id), &patch, s.clock.now()).await?))
}
