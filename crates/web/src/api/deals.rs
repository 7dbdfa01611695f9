use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use salesflow_domain::ids::{AccountId, DealId, ProcessId, UserId};
use salesflow_domain::records::{
    Channel, Deal, DealEvent, DealFilter, DealPatch, DealStatus, MoveRequest, NewDeal, StepToggle,
};
use salesflow_domain::stage_move::{self, MoveOption};
use salesflow_domain::store::{DealSummary, DealTotals};
use serde::{Deserialize, Serialize};

use super::{Paging, page_type};
use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::problem::{ApiResult, Problem};

page_type!(DealPage, DealSummary);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DealQuery {
    owner: Option<i64>,
    process: Option<i64>,
    /// The node id of the current stage.
    stage: Option<String>,
    status: Option<DealStatus>,
    channel: Option<Channel>,
    account: Option<i64>,
    /// Text in the title.
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MoveOptions {
    pub current_node: String,
    pub version: i64,
    pub items: Vec<MoveOption>,
}

/// A completed move: the deal as it is now and the event that records it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MoveResult {
    pub deal: Deal,
    pub event: DealEvent,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventList {
    pub items: Vec<DealEvent>,
}

#[utoipa::path(get, path = "/api/v1/deals", tag = "deals", params(DealQuery),
    responses((status = 200, body = DealPage), (status = 400, body = Problem)))]
pub async fn list(c: Caller, State(s): State<AppState>, ApiQuery(q): ApiQuery<DealQuery>) -> ApiResult<Json<DealPage>> {
    let page = Paging { limit: q.limit, cursor: q.cursor }.page()?;
    Ok(Json(c.guarded(&s).list_deals(&q.filter(), page).await?.into()))
}

impl DealQuery {
    fn filter(self) -> DealFilter {
        DealFilter {
            owner: self.owner.map(UserId),
            process: self.process.map(ProcessId),
            stage: self.stage,
            status: self.status,
            channel: self.channel,
            account: self.account.map(AccountId),
            text: self.q,
        }
    }
}

/// Count, amount and probability-weighted amount (per currency) of the deals the same query
/// lists — only those the caller may see.
#[utoipa::path(get, path = "/api/v1/deals/totals", tag = "deals", params(DealQuery),
    responses((status = 200, body = DealTotals), (status = 400, body = Problem)))]
pub async fn totals(
    c: Caller,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<DealQuery>,
) -> ApiResult<Json<DealTotals>> {
    Ok(Json(c.guarded(&s).deal_totals(&q.filter()).await?))
}

/// Creates a deal at the entry stage of the process's latest published version.
#[utoipa::path(post, path = "/api/v1/deals", tag = "deals", request_body = NewDeal,
    responses((status = 201, body = Deal), (status = 422, body = Problem)))]
pub async fn create(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(new): ApiJson<NewDeal>,
) -> ApiResult<(StatusCode, Json<Deal>)> {
    Ok((StatusCode::CREATED, Json(c.guarded(&s).create_deal(&new, s.clock.now()).await?)))
}

#[utoipa::path(get, path = "/api/v1/deals/{id}", tag = "deals", params(("id" = i64, Path)),
    responses((status = 200, body = Deal), (status = 404, body = Problem)))]
pub async fn get(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Deal>> {
    Ok(Json(c.guarded(&s).deal(DealId(id), s.clock.now()).await?))
}

/// Changes fields; amount, probability, close date and owner changes each append an event.
#[utoipa::path(patch, path = "/api/v1/deals/{id}", tag = "deals", params(("id" = i64, Path)), request_body = DealPatch,
    responses((status = 200, body = Deal), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<DealPatch>,
) -> ApiResult<Json<Deal>> {
    Ok(Json(c.guarded(&s).update_deal(DealId(id), &patch, s.clock.now()).await?))
}

/// Where the deal can go from here, and which exit criteria each way still needs.
#[utoipa::path(get, path = "/api/v1/deals/{id}/moves", tag = "deals", params(("id" = i64, Path)),
    responses((status = 200, body = MoveOptions), (status = 404, body = Problem)))]
pub async fn options(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<MoveOptions>> {
    let deal = c.guarded(&s).deal(DealId(id), s.clock.now()).await?;
    let version = s.store.process_version(deal.process_id, deal.process_version).await?;
    let items = stage_move::options(&version.definition, &deal);
    Ok(Json(MoveOptions { current_node: deal.current_node, version: deal.version, items }))
}

/// Moves the deal along an edge of its process. A failed gate lists every missing criterion
/// (422); a stale `version` gets 409; either way nothing changes.
#[utoipa::path(post, path = "/api/v1/deals/{id}/moves", tag = "deals", params(("id" = i64, Path)), request_body = MoveRequest,
    responses((status = 201, body = MoveResult), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn move_deal(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<MoveRequest>,
) -> ApiResult<(StatusCode, Json<MoveResult>)> {
    let (deal, event) = c.guarded(&s).move_deal(DealId(id), &req, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(MoveResult { deal, event })))
}

/// Ticks or unticks a step of the current stage's checklist.
#[utoipa::path(post, path = "/api/v1/deals/{id}/steps", tag = "deals", params(("id" = i64, Path)), request_body = StepToggle,
    responses((status = 200, body = Deal), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn toggle_step(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(t): ApiJson<StepToggle>,
) -> ApiResult<Json<Deal>> {
    Ok(Json(c.guarded(&s).toggle_step(DealId(id), &t, s.clock.now()).await?))
}

/// The deal's append-only event log, oldest first.
#[utoipa::path(get, path = "/api/v1/deals/{id}/events", tag = "deals", params(("id" = i64, Path)),
    responses((status = 200, body = EventList), (status = 404, body = Problem)))]
pub async fn events(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<EventList>> {
    Ok(Json(EventList { items: c.guarded(&s).deal_events(DealId(id), s.clock.now()).await? }))
}
