//! The customer's side of a quote: reached by the link's token alone, no sign-in. An unknown
//! token is 404; an expired, superseded or already answered quote is 409 and says which.

use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use salesflow_domain::guard::{CustomerAnswer, CustomerDesk, CustomerQuote};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{origin_of, token_hash};
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiResult, Problem};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// The key of the option accepted.
    pub option: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub reason: String,
}

/// The quote as the customer sees it; the visit is recorded in the deal's history.
#[utoipa::path(get, path = "/api/v1/public/quotes/{token}", tag = "customer", params(("token" = String, Path)),
    security(()), responses((status = 200, body = CustomerQuote), (status = 404, body = Problem)))]
pub async fn view(
    parts: Parts,
    State(s): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<CustomerQuote>> {
    let origin = origin_of(&parts);
    Ok(Json(CustomerDesk::new(&*s.store, &origin).view(&token_hash(&token), s.clock.now()).await?))
}

/// Accepts one option; the deal moves along its `accepted` edge. Answering twice is refused.
#[utoipa::path(post, path = "/api/v1/public/quotes/{token}/accept", tag = "customer", params(("token" = String, Path)),
    security(()), request_body = Acceptance,
    responses((status = 200, body = CustomerAnswer), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn accept(
    parts: Parts,
    State(s): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(a): ApiJson<Acceptance>,
) -> ApiResult<Json<CustomerAnswer>> {
    let origin = origin_of(&parts);
    Ok(Json(CustomerDesk::new(&*s.store, &origin).accept(&token_hash(&token), &a.option, s.clock.now()).await?))
}

/// Rejects the quote with a reason; the deal moves along its `rejected` edge and the rep gets
/// the next lower tier as a new draft version.
#[utoipa::path(post, path = "/api/v1/public/quotes/{token}/reject", tag = "customer", params(("token" = String, Path)),
    security(()), request_body = Rejection,
    responses((status = 200, body = CustomerAnswer), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reject(
    parts: Parts,
    State(s): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(r): ApiJson<Rejection>,
) -> ApiResult<Json<CustomerAnswer>> {
    let origin = origin_of(&parts);
    Ok(Json(CustomerDesk::new(&*s.store, &origin).reject(&token_hash(&token), &r.reason, s.clock.now()).await?))
}
