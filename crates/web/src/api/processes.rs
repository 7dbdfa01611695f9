use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use salesflow_domain::Error;
use salesflow_domain::ids::ProcessId;
use salesflow_domain::process::{ProcessDefinition, ProcessIssue};
use salesflow_domain::store::{ProcessSummary, ProcessVersion};
use salesflow_domain::templates;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiError, ApiResult, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProcessList {
    pub items: Vec<ProcessSummary>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionList {
    pub items: Vec<ProcessVersion>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateList {
    pub items: Vec<ProcessDefinition>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Validation {
    pub valid: bool,
    pub issues: Vec<ProcessIssue>,
}

/// Starts the next version as a draft: a copy of `from_version` (default: the latest) or the
/// given `definition`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDraft {
    pub from_version: Option<i32>,
    pub definition: Option<ProcessDefinition>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Instantiate {
    /// Key of the new process; defaults to the template's key.
    pub key: Option<String>,
    /// Publish version 1 right away.
    #[serde(default)]
    pub publish: bool,
}

#[utoipa::path(get, path = "/api/v1/processes", tag = "processes", responses((status = 200, body = ProcessList)))]
pub async fn list(_c: Caller, State(s): State<AppState>) -> ApiResult<Json<ProcessList>> {
    Ok(Json(ProcessList { items: s.store.list_processes().await? }))
}

/// Creates a process whose version 1 is a draft with this definition.
#[utoipa::path(post, path = "/api/v1/processes", tag = "processes", request_body = ProcessDefinition,
    responses((status = 201, body = ProcessVersion), (status = 422, body = Problem)))]
pub async fn create(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(def): ApiJson<ProcessDefinition>,
) -> ApiResult<(StatusCode, Json<ProcessVersion>)> {
    Ok((StatusCode::CREATED, Json(c.guarded(&s).create_process(&def, s.clock.now()).await?)))
}

/// Checks a definition without storing it; every problem names its node or edge.
#[utoipa::path(post, path = "/api/v1/processes/validate", tag = "processes", request_body = ProcessDefinition,
    responses((status = 200, body = Validation), (status = 422, body = Problem)))]
pub async fn validate(_c: Caller, ApiJson(def): ApiJson<ProcessDefinition>) -> Json<Validation> {
    let issues = def.validate();
    Json(Validation { valid: issues.is_empty(), issues })
}

/// Every version of a process.
#[utoipa::path(get, path = "/api/v1/processes/{id}", tag = "processes", params(("id" = i64, Path)),
    responses((status = 200, body = VersionList), (status = 404, body = Problem)))]
pub async fn get(_c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<VersionList>> {
    Ok(Json(VersionList { items: s.store.process_versions(ProcessId(id)).await? }))
}

#[utoipa::path(get, path = "/api/v1/processes/{id}/versions/{version}", tag = "processes",
    params(("id" = i64, Path), ("version" = i32, Path)),
    responses((status = 200, body = ProcessVersion), (status = 404, body = Problem)))]
pub async fn version(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath((id, v)): ApiPath<(i64, i32)>,
) -> ApiResult<Json<ProcessVersion>> {
    Ok(Json((*s.store.process_version(ProcessId(id), v).await?).clone()))
}

/// Replaces a draft's definition. Published versions are immutable (409).
#[utoipa::path(put, path = "/api/v1/processes/{id}/versions/{version}", tag = "processes",
    params(("id" = i64, Path), ("version" = i32, Path)), request_body = ProcessDefinition,
    responses((status = 200, body = ProcessVersion), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn save_draft(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, v)): ApiPath<(i64, i32)>,
    ApiJson(def): ApiJson<ProcessDefinition>,
) -> ApiResult<Json<ProcessVersion>> {
    Ok(Json(c.guarded(&s).save_draft(ProcessId(id), v, &def, s.clock.now()).await?))
}

#[utoipa::path(post, path = "/api/v1/processes/{id}/versions", tag = "processes", params(("id" = i64, Path)), request_body = NewDraft,
    responses((status = 201, body = ProcessVersion), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn new_draft(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NewDraft>,
) -> ApiResult<(StatusCode, Json<ProcessVersion>)> {
    let id = ProcessId(id);
    let definition = match (req.definition, req.from_version) {
        (Some(def), None) => def,
        (None, from) => {
            let versions = s.store.process_versions(id).await?;
            let wanted = from.unwrap_or_else(|| versions.iter().map(|v| v.version).max().unwrap_or(1));
            versions
                .into_iter()
                .find(|v| v.version == wanted)
                .ok_or_else(|| Error::invalid("from_version", format!("process {id} has no version {wanted}")))?
                .definition
        }
        (Some(_), Some(_)) => {
            return Err(Error::invalid("from_version", "give either from_version or definition, not both").into());
        }
    };
    Ok((StatusCode::CREATED, Json(c.guarded(&s).new_draft(id, &definition, s.clock.now()).await?)))
}

/// Validates and freezes a draft; deals can then enter it.
#[utoipa::path(post, path = "/api/v1/processes/{id}/versions/{version}/publish", tag = "processes",
    params(("id" = i64, Path), ("version" = i32, Path)),
    responses((status = 200, body = ProcessVersion), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn publish(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, v)): ApiPath<(i64, i32)>,
) -> ApiResult<Json<ProcessVersion>> {
    Ok(Json(c.guarded(&s).publish(ProcessId(id), v, s.clock.now()).await?))
}

/// The process's event log for process-mining tools: one row per stage a deal entered, with
/// pm4py's column names, as UTF-8 CSV with a byte-order mark (so spreadsheet programs show
/// Chinese names).
#[utoipa::path(get, path = "/api/v1/processes/{id}/event-log", tag = "processes", params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem)))]
pub async fn event_log(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<impl IntoResponse> {
    let entries = c.guarded(&s).stage_entries(ProcessId(id)).await?;
    let users: HashMap<_, _> = s.store.list_users().await?.into_iter().map(|u| (u.id, u.name)).collect();
    let mut names: HashMap<i32, Arc<ProcessVersion>> = HashMap::new();
    let mut out = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let header =
        ["case:concept:name", "concept:name", "time:timestamp", "org:resource", "case:process_version", "node"];
    out.write_record(header).map_err(csv_error)?;
    for e in entries {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(e.process_version) {
            slot.insert(s.store.process_version(ProcessId(id), e.process_version).await?);
        }
        let activity = names[&e.process_version].definition.node(&e.node).map(|n| n.name.as_str()).unwrap_or(&e.node);
        let resource = users.get(&e.actor_id).map(String::as_str).unwrap_or_default();
        let at = e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let (case, version) = (e.deal_id.to_string(), e.process_version.to_string());
        out.write_record([case.as_str(), activity, at.as_str(), resource, version.as_str(), e.node.as_str()])
            .map_err(csv_error)?;
    }
    let body = out.into_inner().map_err(|e| csv_error(e.into_error().into()))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body))
}

fn csv_error(e: csv::Error) -> ApiError {
    Error::Storage(format!("writing CSV: {e}")).into()
}

/// The shipped templates: the seed's five-stage process and others, in zh-CN and English.
#[utoipa::path(get, path = "/api/v1/process-templates", tag = "processes", responses((status = 200, body = TemplateList)))]
pub async fn templates(_c: Caller) -> Json<TemplateList> {
    Json(TemplateList { items: templates::all() })
}

/// Creates a process from a template.
#[utoipa::path(post, path = "/api/v1/process-templates/{key}/instantiate", tag = "processes",
    params(("key" = String, Path)), request_body = Instantiate,
    responses((status = 201, body = ProcessVersion), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn instantiate(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(key): ApiPath<String>,
    ApiJson(req): ApiJson<Instantiate>,
) -> ApiResult<(StatusCode, Json<ProcessVersion>)> {
    let mut def = templates::get(&key).ok_or_else(|| Error::not_found("template", &key))?;
    if let Some(k) = req.key {
        def.key = k;
    }
    let now = s.clock.now();
    let mut created = c.guarded(&s).create_process(&def, now).await?;
    if req.publish {
        created = c.guarded(&s).publish(created.process_id, created.version, now).await?;
    }
    Ok((StatusCode::CREATED, Json(created)))
}
