use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use salesflow_domain::Error;
use salesflow_domain::FieldError;
use salesflow_domain::ids::ProcessId;
use salesflow_domain::migration::{MigrationRequest, MigrationSummary};
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

/// Closes a published version to new deals (they enter the newest published version that is
/// not retired); the deals on it stay until migrated.
#[utoipa::path(post, path = "/api/v1/processes/{id}/versions/{version}/retire", tag = "processes",
    params(("id" = i64, Path), ("version" = i32, Path)),
    responses((status = 200, body = ProcessVersion), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn retire(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, v)): ApiPath<(i64, i32)>,
) -> ApiResult<Json<ProcessVersion>> {
    Ok(Json(c.guarded(&s).retire(ProcessId(id), v, s.clock.now()).await?))
}

/// What moving the open deals of `from_version` to `to_version` would do: the mapping (stages
/// left out are suggested by id, then by name), how many deals land on each new stage and which
/// deals miss exit criteria of their new stage. Admins only; nothing is written.
#[utoipa::path(post, path = "/api/v1/processes/{id}/migrations/preview", tag = "processes",
    params(("id" = i64, Path)), request_body = MigrationRequest,
    responses((status = 200, body = MigrationSummary), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn preview_migration(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<MigrationRequest>,
) -> ApiResult<Json<MigrationSummary>> {
    Ok(Json(c.guarded(&s).preview_migration(ProcessId(id), &req, s.clock.now()).await?))
}

/// Moves every open deal of `from_version` to `to_version` (published) by the mapping, which
/// must name every stage of `from_version`. One transaction; each deal gets a `migrated` event.
#[utoipa::path(post, path = "/api/v1/processes/{id}/migrations", tag = "processes",
    params(("id" = i64, Path)), request_body = MigrationRequest,
    responses((status = 200, body = MigrationSummary), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn migrate(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<MigrationRequest>,
) -> ApiResult<Json<MigrationSummary>> {
    Ok(Json(c.guarded(&s).migrate_deals(ProcessId(id), &req, s.clock.now()).await?))
}

/// Where a node's box goes in the server's layered layout.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NodeBox {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LayoutAnswer {
    pub width: f64,
    pub height: f64,
    pub nodes: std::collections::BTreeMap<String, NodeBox>,
}

/// The layered left-to-right layout, for a definition being edited (the editor's auto-layout):
/// stored `positions` are ignored, every node is placed afresh. (Drawings of a definition whose
/// every node has a position follow the positions instead.) A definition whose edges name
/// unknown or duplicate nodes is refused with its issues.
#[utoipa::path(post, path = "/api/v1/processes/layout", tag = "processes", request_body = ProcessDefinition,
    responses((status = 200, body = LayoutAnswer), (status = 422, body = Problem)))]
pub async fn layout(_c: Caller, ApiJson(def): ApiJson<ProcessDefinition>) -> ApiResult<Json<LayoutAnswer>> {
    let structural: Vec<_> = def
        .validate()
        .into_iter()
        .filter(|i| matches!(i.code, "duplicate_node_id" | "edge_unknown_node" | "no_nodes"))
        .collect();
    if !structural.is_empty() {
        return Err(Error::ProcessInvalid(structural).into());
    }
    let laid = salesflow_flowchart::layout::auto(&def);
    let nodes = laid
        .nodes
        .iter()
        .map(|(id, r)| (id.clone(), NodeBox { x: r.x, y: r.y, width: r.width, height: r.height }))
        .collect();
    Ok(Json(LayoutAnswer { width: laid.width, height: laid.height, nodes }))
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

// ---------------------------------------------------------------------------------------------
// The flowchart as pictures and exchange files, and BPMN import.

/// The definition of one version, laid out.
async fn laid_out(s: &AppState, id: i64, v: i32) -> ApiResult<(Arc<ProcessVersion>, salesflow_flowchart::Layout)> {
    let version = s.store.process_version(ProcessId(id), v).await?;
    let layout = salesflow_flowchart::layout(&version.definition);
    Ok((version, layout))
}

/// A file name made of ASCII letters, digits, `.`, `_` and `-` only (for Content-Disposition).
fn file_name(key: &str, version: i32, ext: &str) -> String {
    let safe: String =
        key.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' }).collect();
    let safe = safe.trim_matches(|c| c == '.' || c == '-');
    let safe = if safe.is_empty() { "process" } else { safe };
    format!("{safe}-v{version}.{ext}")
}

fn attachment(name: &str) -> String {
    format!("attachment; filename=\"{name}\"")
}

/// The version's flowchart as a standalone SVG (no scripts, no external references).
#[utoipa::path(get, path = "/api/v1/processes/{id}/versions/{version}/diagram.svg", tag = "processes",
    params(("id" = i64, Path), ("version" = i32, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = Problem)))]
pub async fn diagram_svg(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath((id, v)): ApiPath<(i64, i32)>,
) -> ApiResult<impl IntoResponse> {
    let (version, layout) = laid_out(&s, id, v).await?;
    let svg = salesflow_flowchart::svg::render(&version.definition, &layout, &Default::default());
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg))
}

/// The system's fonts, loaded once (Chinese text needs a CJK font such as fonts-wqy-microhei).
fn fonts() -> Arc<salesflow_flowchart::png::fontdb::Database> {
    static FONTS: std::sync::OnceLock<Arc<salesflow_flowchart::png::fontdb::Database>> = std::sync::OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = salesflow_flowchart::png::fontdb::Database::new();
            db.load_system_fonts();
            Arc::new(db)
        })
        .clone()
}

/// The version's flowchart as a PNG image (twice the SVG's size), rasterised on the server with
/// the system's fonts.
#[utoipa::path(get, path = "/api/v1/processes/{id}/versions/{version}/diagram.png", tag = "processes",
    params(("id" = i64, Path), ("version" = i32, Path)),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = 404, body = Problem)))]
pub async fn diagram_png(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath((id, v)): ApiPath<(i64, i32)>,
) -> ApiResult<impl IntoResponse> {
    let (version, layout) = laid_out(&s, id, v).await?;
    let svg = salesflow_flowchart::svg::render(&version.definition, &layout, &Default::default());
    let png = tokio::task::spawn_blocking(move || salesflow_flowchart::png::from_svg(&svg, fonts()))
        .await
        .map_err(|e| Error::Storage(format!("rendering the PNG: {e}")))?
        .map_err(Error::Storage)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png))
}

/// The version's flowchart as Mermaid (`flowchart LR`), for Markdown documents and wikis.
#[utoipa::path(get, path = "/api/v1/processes/{id}/versions/{version}/flowchart.mmd", tag = "processes",
    params(("id" = i64, Path), ("version" = i32, Path)),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = Problem)))]
pub async fn flowchart_mermaid(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath((id, v)): ApiPath<(i64, i32)>,
) -> ApiResult<impl IntoResponse> {
    let version = s.store.process_version(ProcessId(id), v).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        salesflow_flowchart::mermaid::export(&version.definition),
    ))
}

/// The version's flowchart as a diagrams.net (draw.io) file, laid out.
#[utoipa::path(get, path = "/api/v1/processes/{id}/versions/{version}/flowchart.drawio", tag = "processes",
    params(("id" = i64, Path), ("version" = i32, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 404, body = Problem)))]
pub async fn flowchart_drawio(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath((id, v)): ApiPath<(i64, i32)>,
) -> ApiResult<impl IntoResponse> {
    let (version, layout) = laid_out(&s, id, v).await?;
    let body = salesflow_flowchart::drawio::export(&version.definition, &layout);
    let disposition = attachment(&file_name(&version.definition.key, v, "drawio"));
    Ok(([(header::CONTENT_TYPE, "application/xml".to_string()), (header::CONTENT_DISPOSITION, disposition)], body))
}

/// The version as BPMN 2.0 XML with diagram interchange (opens laid out in bpmn.io and Camunda
/// Modeler; stage details travel in extension elements, so it imports back unchanged).
#[utoipa::path(get, path = "/api/v1/processes/{id}/versions/{version}/flowchart.bpmn", tag = "processes",
    params(("id" = i64, Path), ("version" = i32, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 404, body = Problem)))]
pub async fn flowchart_bpmn(
    _c: Caller,
    State(s): State<AppState>,
    ApiPath((id, v)): ApiPath<(i64, i32)>,
) -> ApiResult<impl IntoResponse> {
    let (version, layout) = laid_out(&s, id, v).await?;
    let body = salesflow_flowchart::bpmn::export(&version.definition, &layout);
    let disposition = attachment(&file_name(&version.definition.key, v, "bpmn"));
    Ok(([(header::CONTENT_TYPE, "application/xml".to_string()), (header::CONTENT_DISPOSITION, disposition)], body))
}

/// Creates a process (version 1, a draft) from a BPMN 2.0 document: the subset salesflow
/// represents (tasks, exclusive gateways, end events, sequence flows). Anything else is
/// refused with one error per element (`field` is the element's id). At most 2 MB.
#[utoipa::path(post, path = "/api/v1/processes/import/bpmn", tag = "processes",
    request_body(content = String, content_type = "application/xml", description = "A BPMN 2.0 document"),
    responses((status = 201, body = ProcessVersion), (status = 403, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn import_bpmn(
    c: Caller,
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<ProcessVersion>)> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if !matches!(mime.as_str(), "application/xml" | "text/xml" | "application/bpmn+xml") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            format!("send the BPMN document as application/xml or text/xml, not `{content_type}`"),
        ));
    }
    let limit = salesflow_flowchart::bpmn::MAX_BYTES;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request body too large",
            format!("a BPMN document may be at most {} MB", limit / (1024 * 1024)),
        )
    };
    if headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > limit)
    {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| too_large())?;
    let xml = std::str::from_utf8(&bytes)
        .map_err(|e| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "body", format!("not UTF-8: {e}")))?;
    let def = salesflow_flowchart::bpmn::import(xml).map_err(|problems| {
        let detail = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bpmn-unsupported",
            "The BPMN document cannot be imported",
            detail,
        );
        e.0.errors = problems.into_iter().map(|p| FieldError::new(p.element, p.message)).collect();
        e
    })?;
    let issues = def.validate();
    if !issues.is_empty() {
        return Err(Error::ProcessInvalid(issues).into());
    }
    Ok((StatusCode::CREATED, Json(c.guarded(&s).create_process(&def, s.clock.now()).await?)))
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn download_names_are_ascii() {
        assert_eq!(file_name("seed-five-stage.zh-CN", 3, "drawio"), "seed-five-stage.zh-CN-v3.drawio");
        assert_eq!(file_name("报价\"; x=1", 1, "bpmn"), "x-1-v1.bpmn");
        assert_eq!(file_name("流程", 2, "bpmn"), "process-v2.bpmn");
    }
}
