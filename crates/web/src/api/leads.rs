use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use salesflow_domain::ids::{LeadId, UserId};
use salesflow_domain::records::{
    Channel, ConvertLead, Duplicate, Lead, LeadFilter, LeadPatch, LeadStatus, NewLead, Qualification,
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

#[utoipa::path(get, path = "/api/v1/leads", tag = "leads", params(LeadQuery),
    responses((status = 200, body = LeadPage), (status = 400, body = Problem)))]
pub async fn list(c: Caller, State(s): State<AppState>, ApiQuery(q): ApiQuery<LeadQuery>) -> ApiResult<Json<LeadPage>> {
    let page = Paging { limit: q.limit, cursor: q.cursor }.page()?;
    let filter = LeadFilter { owner: q.owner.map(UserId), status: q.status, channel: q.channel, text: q.q };
    Ok(Json(c.guarded(&s).list_leads(&filter, page).await?.into()))
}

/// Creates a lead and reports likely duplicates (by normalised email, phone and company).
#[utoipa::path(post, path = "/api/v1/leads", tag = "leads", request_body = NewLead,
    responses((status = 201, body = LeadWithDuplicates), (status = 422, body = Problem)))]
pub async fn create(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(new): ApiJson<NewLead>,
) -> ApiResult<(StatusCode, Json<LeadWithDuplicates>)> {
    let g = c.guarded(&s);
    let lead = g.create_lead(&new, s.clock.now()).await?;
    let duplicates = g.lead_duplicates(lead.id, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(LeadWithDuplicates { lead, duplicates })))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = i64, Path)),
    responses((status = 200, body = Lead), (status = 404, body = Problem)))]
pub async fn get(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Lead>> {
    Ok(Json(c.guarded(&s).lead(LeadId(id), s.clock.now()).await?))
}

#[utoipa::path(patch, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = i64, Path)), request_body = LeadPatch,
    responses((status = 200, body = Lead), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<LeadPatch>,
) -> ApiResult<Json<Lead>> {
    Ok(Json(c.guarded(&s).update_lead(LeadId(id), &patch, s.clock.now()).await?))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}/duplicates", tag = "leads", params(("id" = i64, Path)),
    responses((status = 200, body = DuplicateList), (status = 404, body = Problem)))]
pub async fn duplicates(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DuplicateList>> {
    Ok(Json(DuplicateList { items: c.guarded(&s).lead_duplicates(LeadId(id), s.clock.now()).await? }))
}

async fn qualification(c: &Caller, s: &AppState, id: i64, to: LeadStatus, q: &Qualification) -> ApiResult<Json<Lead>> {
    Ok(Json(c.guarded(s).set_lead_status(LeadId(id), to, q, s.clock.now()).await?))
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/contacted", tag = "leads", params(("id" = i64, Path)), request_body = Qualification,
    responses((status = 200, body = Lead), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn contacted(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<Qualification>,
) -> ApiResult<Json<Lead>> {
    qualification(&c, &s, id, LeadStatus::Contacted, &q).await
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/qualify", tag = "leads", params(("id" = i64, Path)), request_body = Qualification,
    responses((status = 200, body = Lead), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn qualify(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<Qualification>,
) -> ApiResult<Json<Lead>> {
    qualification(&c, &s, id, LeadStatus::Qualified, &q).await
}

/// Disqualifies a lead; `reason` is required.
#[utoipa::path(post, path = "/api/v1/leads/{id}/disqualify", tag = "leads", params(("id" = i64, Path)), request_body = Qualification,
    responses((status = 200, body = Lead), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn disqualify(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<Qualification>,
) -> ApiResult<Json<Lead>> {
    qualification(&c, &s, id, LeadStatus::Disqualified, &q).await
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
    let conversion = c.guarded(&s).convert_lead(LeadId(id), &req, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(conversion)))
}
