use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use salesflow_domain::ids::{LeadId, UserId};
use salesflow_domain::records::{
    Channel, ConvertLead, Duplicate, DuplicateKeys, Lead, LeadFilter, LeadPatch, LeadStatus, NewLead, Qualification,
};
use salesflow_domain::store::Conversion;
use serde::{Deserialize, Serialize};

use super::{Paging, page_type};
use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::problem::{ApiResult, Problem};

page_type!(LeadPage, Lead);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LeadQuery {
    owner: Option<i64>,
    status: Option<LeadStatus>,
    channel: Option<Channel>,
    /// Text in the name, company or email.
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<i64>,
}

/// A lead with what looks like the same person or company already on file.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LeadWithDuplicates {
    pub lead: Lead,
    pub duplicates: Vec<Duplicate>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DuplicateList {
    pub items: Vec<Duplicate>,
}

fn keys(lead: &Lead) -> DuplicateKeys {
    DuplicateKeys::of(lead.email.as_deref(), lead.phone.as_deref(), Some(&lead.company))
}

#[utoipa::path(get, path = "/api/v1/leads", tag = "leads", params(LeadQuery),
    responses((status = 200, body = LeadPage), (status = 400, body = Problem)))]
pub async fn list(
    _c: Caller,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<LeadQuery>,
) -> ApiResult<Json<LeadPage>> {
    let page = Paging { limit: q.limit, cursor: q.cursor }.page()?;
    let filter = LeadFilter { owner: q.owner.map(UserId), status: q.status, channel: q.channel, text: q.q };
    Ok(Json(s.store.list_leads(&filter, page).await?.into()))
}

/// Creates a lead and reports likely duplicates (by normalised email, phone and company).
#[utoipa::path(post, path = "/api/v1/leads", tag = "leads", request_body = NewLead,
    responses((status = 201, body = LeadWithDuplicates), (status = 422, body = Problem)))]
pub async fn create(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(new): ApiJson<NewLead>,
) -> ApiResult<(StatusCode, Json<LeadWithDuplicates>)> {
    let owner = new.owner_id.unwrap_or(c.user.id);
    let lead = s.store.create_lead(&new, owner, s.clock.now()).await?;
    let duplicates = s.store.find_duplicates(&keys(&lead), Some(lead.id)).await?;
    Ok((StatusCode::CREATED, Json(LeadWithDuplicates { lead, duplicates })))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = i64, Path)),
    responses((status = 200, body = Lead), (status = 404, body = Problem)))]
pub async fn get(_c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Lead>> {
    Ok(Json(s.store.lead(LeadId(id)).await?))
}

#[utoipa::path(patch, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = i64, Path)), request_body = LeadPatch,
    responses((status = 200, body = Lead), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<LeadPatch>,
) -> ApiResult<Json<Lead>> {
    Ok(Json(s.store.update_lead(LeadId(id), &patch, s.clock.now()).await?))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}/duplicates", tag = "leads", params(("id" = i64, Path)),
    responses((status = 200, body = DuplicateList), (status = 404, body = Problem)))]
pub async fn duplicates(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DuplicateList>> {
    let lead = s.store.lead(LeadId(id)).await?;
    Ok(Json(DuplicateList { items: s.store.find_duplicates(&keys(&lead), Some(lead.id)).await? }))
}

async fn qualification(s: &AppState, id: i64, to: LeadStatus, q: &Qualification) -> ApiResult<Json<Lead>> {
    Ok(Json(s.store.set_lead_status(LeadId(id), to, q, s.clock.now()).await?))
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/contacted", tag = "leads", params(("id" = i64, Path)), request_body = Qualification,
    responses((status = 200, body = Lead), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn contacted(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<Qualification>,
) -> ApiResult<Json<Lead>> {
    qualification(&s, id, LeadStatus::Contacted, &q).await
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/qualify", tag = "leads", params(("id" = i64, Path)), request_body = Qualification,
    responses((status = 200, body = Lead), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn qualify(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<Qualification>,
) -> ApiResult<Json<Lead>> {
    qualification(&s, id, LeadStatus::Qualified, &q).await
}

/// Disqualifies a lead; `reason` is required.
#[utoipa::path(post, path = "/api/v1/leads/{id}/disqualify", tag = "leads", params(("id" = i64, Path)), request_body = Qualification,
    responses((status = 200, body = Lead), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn disqualify(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<Qualification>,
) -> ApiResult<Json<Lead>> {
    qualification(&s, id, LeadStatus::Disqualified, &q).await
}

/// Converts a qualified lead into account (created or matched), contact and deal, in one transaction.
#[utoipa::path(post, path = "/api/v1/leads/{id}/convert", tag = "leads", params(("id" = i64, Path)), request_body = ConvertLead,
    responses((status = 201, body = Conversion), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn convert(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ConvertLead>,
) -> ApiResult<(StatusCode, Json<Conversion>)> {
    let conversion = s.store.convert_lead(LeadId(id), &req, &c.actor(), s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(conversion)))
}
