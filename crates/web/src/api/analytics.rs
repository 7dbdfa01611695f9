//! A process's analytics as JSON, and its flowchart as a heat map.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use salesflow_domain::ids::ProcessId;

use crate::AppState;
use crate::analytics::{self, AnalyticsQuery};
use crate::auth::Caller;
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::{ApiResult, Problem};

fn time_zone(c: &Caller) -> chrono_tz::Tz {
    c.user.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
}

/// The process's analytics over the deals the caller may read: outcome (win rate, cycle time,
/// won value), this period against the previous one, funnel (strict and any order), time in
/// stage with open stays censored, directly-follows graph with durations, variants, rework,
/// conformance with the drawn version, lost deals and reasons per stage, segments (channel,
/// owner, team, region, version), weekly trend, the bottleneck ranking with its sentence in
/// English and Chinese, deals stuck past their stage's limit, and optionally two versions side
/// by side. Durations are in seconds.
#[utoipa::path(get, path = "/api/v1/processes/{id}/analytics", tag = "analytics",
    params(("id" = i64, Path), AnalyticsQuery),
    responses((status = 200, body = Object, description = "The report (see the description)"),
        (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn report(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Json<analytics::Report>> {
    let loaded = analytics::load(&s, &c, ProcessId(id), &q, time_zone(&c)).await?;
    let now = s.clock.now();
    let report = tokio::task::spawn_blocking(move || analytics::report(&loaded, &q, now))
        .await
        .map_err(|e| salesflow_domain::Error::Storage(format!("analytics task: {e}")))?;
    Ok(Json(report))
}

/// The flowchart of the version analysed as a heat map: each stage filled from pale yellow to
/// deep red by its bottleneck score and captioned with the conversion into it and its median
/// days, each edge as wide as the moves along it. Same filters as the report; captions in the
/// caller's language.
#[utoipa::path(get, path = "/api/v1/processes/{id}/analytics/heatmap.svg", tag = "analytics",
    params(("id" = i64, Path), AnalyticsQuery),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn heatmap(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<impl IntoResponse> {
    let svg = heatmap_svg(&s, &c, id, q).await?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg))
}

pub(crate) async fn heatmap_svg(s: &AppState, c: &Caller, id: i64, q: AnalyticsQuery) -> ApiResult<String> {
    let loaded = analytics::load(s, c, ProcessId(id), &q, time_zone(c)).await?;
    let report = analytics::report(&loaded, &q, s.clock.now());
    let def = &loaded.reference.definition;
    let overlay = analytics::heat_overlay(&report, def, !c.user.locale.starts_with("en"));
    Ok(salesflow_flowchart::svg::render(def, &salesflow_flowchart::layout(def), &overlay))
}
