//! The event-log export: every stage a deal entered, as pm4py-column CSV or as XES, streamed a
//! page of deals at a time so a large process never sits in memory whole.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use salesflow_domain::access::Scope;
use salesflow_domain::guard::{Guarded, Origin};
use salesflow_domain::ids::{DealId, ProcessId, UserId};
use salesflow_domain::store::{DealFacts, ProcessVersion, StageEntry};
use serde::Deserialize;

use crate::AppState;
use crate::analytics::{AnalyticsQuery, PAGE, Selection};
use crate::auth::Caller;
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::{ApiError, ApiResult, Problem};

/// The export's format and the filters of the analytics report.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `csv` (default) or `xes`.
    pub format: Option<String>,
    /// Deals created on or after this day (the caller's time zone).
    pub from: Option<chrono::NaiveDate>,
    /// Deals created on or before this day.
    pub to: Option<chrono::NaiveDate>,
    pub owner: Option<i64>,
    pub team: Option<i64>,
    pub channel: Option<String>,
    pub region: Option<String>,
    pub version: Option<i32>,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Xes,
}

const CSV_HEADER: [&str; 11] = [
    "case:concept:name",
    "concept:name",
    "time:timestamp",
    "org:resource",
    "case:process_version",
    "node",
    "case:owner",
    "case:channel",
    "case:region",
    "case:status",
    "case:lost_reason",
];

/// The process's event log for process-mining tools: one row (CSV) or event (XES) per stage a
/// deal entered, over the deals the caller may read and the filters select. CSV has pm4py's
/// column names, case attributes as `case:…`, UTF-8 with a byte-order mark (so spreadsheet
/// programs show Chinese names); XES has the concept, time and org extensions. Times are UTC.
#[utoipa::path(get, path = "/api/v1/processes/{id}/event-log", tag = "processes", params(("id" = i64, Path), ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 200, content_type = "application/xml", body = String),
        (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn export(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let format = match q.format.as_deref() {
        None | Some("csv") => Format::Csv,
        Some("xes") => Format::Xes,
        Some(other) => {
            return Err(ApiError::field(
                axum::http::StatusCode::BAD_REQUEST,
                "format",
                format!("`{other}` is not csv or xes"),
            ));
        }
    };
    let process = ProcessId(id);
    let tz = c.user.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let filters = AnalyticsQuery {
        from: q.from,
        to: q.to,
        owner: q.owner,
        team: q.team,
        channel: q.channel,
        region: q.region,
        version: q.version,
        compare_version: None,
    };
    let selection = Selection::parse(&filters, &s.store.list_teams().await?, tz)?;
    let versions: HashMap<i32, Arc<ProcessVersion>> =
        s.store.process_versions(process).await?.into_iter().map(|v| (v.version, Arc::new(v))).collect();
    if versions.is_empty() {
        return Err(salesflow_domain::Error::not_found("process", process).into());
    }
    let users: HashMap<UserId, String> = s.store.list_users().await?.into_iter().map(|u| (u.id, u.name)).collect();
    // The first page is read before answering, so that a refusal is still a problem response.
    let first = c.guarded(&s).event_log_page(process, None, PAGE, |f| selection.keeps(f)).await?;
    let mut out = Writer { format, versions, users };
    let head = out.page(true, &first.0, &first.1);
    let state = Paging { s, scope: c.scope, origin: c.origin, process, selection, after: first.2, out };
    let rest = futures_util::stream::unfold(Some(state), |st| async move {
        let mut st = st?;
        let after = st.after?;
        let page = Guarded::new(&*st.s.store, &st.scope, &st.origin)
            .event_log_page(st.process, Some(after), PAGE, |f| st.selection.keeps(f))
            .await;
        match page {
            Ok((facts, entries, last)) => {
                st.after = last;
                let chunk = st.out.page(false, &facts, &entries);
                Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), Some(st)))
            }
            Err(e) => {
                tracing::error!(error = %e, "event-log export stopped");
                Some((Err(std::io::Error::other(e.to_string())), None))
            }
        }
    });
    let tail = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(match format {
        Format::Csv => "",
        Format::Xes => salesflow_analytics::xes_write::FOOTER,
    }))]);
    use futures_util::StreamExt;
    let body = futures_util::stream::iter([Ok(Bytes::from(head))]).chain(rest).chain(tail);
    let (kind, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Xes => ("application/xml; charset=utf-8", "xes"),
    };
    let disposition = format!("attachment; filename=\"process-{id}-event-log.{ext}\"");
    Ok((
        [(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, disposition)],
        Body::from_stream(body),
    )
        .into_response())
}

struct Paging {
    s: AppState,
    scope: Scope,
    origin: Origin,
    process: ProcessId,
    selection: Selection,
    after: Option<DealId>,
    out: Writer,
}

struct Writer {
    format: Format,
    versions: HashMap<i32, Arc<ProcessVersion>>,
    users: HashMap<UserId, String>,
}

impl Writer {
    fn activity<'a>(&'a self, e: &'a StageEntry) -> &'a str {
        self.versions.get(&e.process_version).and_then(|v| v.definition.node(&e.node)).map_or(&e.node, |n| &n.name)
    }

    /// One page of deals as text; the first page starts with the header.
    fn page(&mut self, first: bool, facts: &[DealFacts], entries: &[StageEntry]) -> String {
        let by_deal: HashMap<i64, &DealFacts> = facts.iter().map(|f| (f.deal_id.0, f)).collect();
        match self.format {
            Format::Csv => self.csv(first, &by_deal, entries),
            Format::Xes => self.xes(first, facts, entries),
        }
    }

    fn attributes(&self, f: &DealFacts) -> [(&'static str, String); 5] {
        [
            ("owner", self.users.get(&f.owner_id).cloned().unwrap_or_default()),
            ("channel", f.channel.map(|c| c.as_str().to_string()).unwrap_or_default()),
            ("region", f.account_region.clone()),
            ("status", f.status.as_str().to_string()),
            ("lost_reason", f.lost_reason.clone().unwrap_or_default()),
        ]
    }

    fn csv(&self, first: bool, by_deal: &HashMap<i64, &DealFacts>, entries: &[StageEntry]) -> String {
        let bom: &[u8] = if first { "\u{feff}".as_bytes() } else { b"" };
        let mut w = csv::Writer::from_writer(bom.to_vec());
        if first {
            let _ = w.write_record(CSV_HEADER);
        }
        for e in entries {
            let Some(f) = by_deal.get(&e.deal_id.0) else { continue };
            let resource = self.users.get(&e.actor_id).map(String::as_str).unwrap_or_default();
            let at = e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let (case, version) = (e.deal_id.to_string(), e.process_version.to_string());
            let attrs = self.attributes(f);
            let mut row =
                vec![case.as_str(), self.activity(e), at.as_str(), resource, version.as_str(), e.node.as_str()];
            row.extend(attrs.iter().map(|(_, v)| v.as_str()));
            let _ = w.write_record(row);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    fn xes(&self, first: bool, facts: &[DealFacts], entries: &[StageEntry]) -> String {
        use salesflow_analytics::xes_write;
        let mut out = String::new();
        if first {
            out.push_str(xes_write::HEADER);
        }
        let mut at = 0;
        for f in facts {
            while at < entries.len() && entries[at].deal_id < f.deal_id {
                at += 1;
            }
            let start = at;
            while at < entries.len() && entries[at].deal_id == f.deal_id {
                at += 1;
            }
            let attrs = self.attributes(f);
            let version = f.process_version.to_string();
            let mut pairs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            pairs.push(("process_version", &version));
            let events = entries[start..at].iter().map(|e| {
                (self.activity(e), e.occurred_at.timestamp_micros(), self.users.get(&e.actor_id).map(String::as_str))
            });
            xes_write::write_trace(&mut out, &f.deal_id.to_string(), &pairs, events);
        }
        out
    }
}
