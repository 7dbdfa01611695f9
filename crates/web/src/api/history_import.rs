//! Importing past deals from an event log (CSV with a column mapping, or XES): the file is
//! parsed here, every row checked, and the deals planned and written all together by the
//! domain (`Guarded::import_history`) — or nothing, with every bad row named.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use salesflow_domain::currency::Currency;
use salesflow_domain::history::{HistoryCase, HistoryRow, RowError};
use salesflow_domain::ids::ProcessId;
use salesflow_domain::records::Channel;
use salesflow_domain::{Error, FieldError};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::{ApiError, ApiResult, Problem};

/// At most this many bytes of event log per request.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// The format, the version the deals run on, the time zone of timestamps without one, and which
/// CSV columns (XES trace attributes, without `case:`) hold what. Defaults are pm4py's names.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `csv` or `xes`; by default from the content type (`text/csv` or an XML type).
    pub format: Option<String>,
    /// The process version the deals run on (default: the newest published).
    pub version: Option<i32>,
    /// IANA time zone of timestamps written without an offset (default: the caller's).
    pub time_zone: Option<String>,
    /// Column of the case id (default `case:concept:name`).
    pub case: Option<String>,
    /// Column of the stage entered, by node name or id (default `concept:name`).
    pub activity: Option<String>,
    /// Column of the time (default `time:timestamp`).
    pub timestamp: Option<String>,
    /// Column of who did it, a user's email or name (default `org:resource`).
    pub resource: Option<String>,
    /// Deal columns (defaults `case:title`, `case:account`, `case:owner`, `case:amount`,
    /// `case:currency`, `case:channel`, `case:lost_reason`, `case:region`).
    pub title: Option<String>,
    pub account: Option<String>,
    pub owner: Option<String>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub channel: Option<String>,
    pub lost_reason: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    pub process_id: i64,
    pub version: i32,
    pub deals: usize,
    pub events: usize,
}

struct Columns {
    case: String,
    activity: String,
    timestamp: String,
    resource: String,
    deal: [(&'static str, String); 8],
}

impl Columns {
    fn of(q: &ImportQuery) -> Self {
        let pick = |v: &Option<String>, d: &str| v.clone().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| d.into());
        Columns {
            case: pick(&q.case, "case:concept:name"),
            activity: pick(&q.activity, "concept:name"),
            timestamp: pick(&q.timestamp, "time:timestamp"),
            resource: pick(&q.resource, "org:resource"),
            deal: [
                ("title", pick(&q.title, "case:title")),
                ("account", pick(&q.account, "case:account")),
                ("owner", pick(&q.owner, "case:owner")),
                ("amount", pick(&q.amount, "case:amount")),
                ("currency", pick(&q.currency, "case:currency")),
                ("channel", pick(&q.channel, "case:channel")),
                ("lost_reason", pick(&q.lost_reason, "case:lost_reason")),
                ("region", pick(&q.region, "case:region")),
            ],
        }
    }
}

/// A timestamp with its own offset, or a local time in `tz` (RFC 3339, `YYYY-MM-DD HH:MM[:SS[.f]]`,
/// or a bare date at midnight).
pub fn parse_time(text: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%:z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    let local =
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .or_else(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))?;
    tz.from_local_datetime(&local).earliest().map(|d| d.with_timezone(&Utc))
}

/// Deal-level values of one case, checked (`errors` gets the bad ones).
fn case_fields(line: usize, values: &BTreeMap<&str, String>, errors: &mut Vec<RowError>) -> HistoryCase {
    let text = |k: &str| values.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let mut err = |field: &str, message: String| errors.push(RowError { line, field: field.into(), message });
    let currency = match text("currency") {
        Some(c) => match Currency::parse(&c.to_ascii_uppercase()) {
            Ok(c) => c,
            Err(e) => {
                err("currency", e);
                Currency::CNY
            }
        },
        None => Currency::CNY,
    };
    let amount = text("amount").and_then(|a| match crate::pages::crm::parse_amount(&a, currency) {
        Ok(m) => m,
        Err(_) => {
            err("amount", format!("`{a}` is not an amount in {}", currency.code()));
            None
        }
    });
    let channel = text("channel").and_then(|c| {
        let parsed = Channel::parse(&c);
        if parsed.is_none() {
            err("channel", format!("unknown channel `{c}`"));
        }
        parsed
    });
    HistoryCase {
        title: text("title"),
        account: text("account"),
        owner: text("owner"),
        amount,
        channel,
        lost_reason: text("lost_reason"),
        region: text("region"),
    }
}

/// The rows and cases read, and the problems of the rows that could not be read.
type Parsed = (Vec<HistoryRow>, BTreeMap<String, HistoryCase>, Vec<RowError>);

fn parse_csv(bytes: &[u8], cols: &Columns, tz: chrono_tz::Tz) -> Result<Parsed, Vec<RowError>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let file_error = |field: &str, message: String| vec![RowError { line: 1, field: field.into(), message }];
    let headers = rdr.headers().map_err(|e| file_error("header", e.to_string()))?.clone();
    let index = |name: &str| headers.iter().position(|h| h.trim() == name);
    let mut missing = Vec::new();
    let mut required = |field: &str, name: &str| {
        let i = index(name);
        if i.is_none() {
            missing.push(RowError { line: 1, field: field.into(), message: format!("no column `{name}`") });
        }
        i.unwrap_or(0)
    };
    let (ci, ai, ti) =
        (required("case", &cols.case), required("activity", &cols.activity), required("timestamp", &cols.timestamp));
    if !missing.is_empty() {
        return Err(missing);
    }
    let ri = index(&cols.resource);
    let deal: Vec<(&str, Option<usize>)> = cols.deal.iter().map(|(k, name)| (*k, index(name))).collect();
    let (mut rows, mut cases, mut errors) =
        (Vec::new(), BTreeMap::<String, (usize, BTreeMap<&str, String>)>::new(), Vec::new());
    for (n, record) in rdr.records().enumerate() {
        let line = n + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { line, field: "row".into(), message: e.to_string() });
                continue;
            }
        };
        let get = |i: usize| record.get(i).unwrap_or("").to_string();
        let case = get(ci);
        let Some(at) = parse_time(&get(ti), tz) else {
            errors.push(RowError { line, field: "timestamp".into(), message: format!("`{}` is not a time", get(ti)) });
            continue;
        };
        let slot = cases.entry(case.clone()).or_insert_with(|| (line, BTreeMap::new()));
        for (k, i) in &deal {
            if let Some(i) = i {
                let v = get(*i);
                if !v.trim().is_empty() {
                    slot.1.entry(*k).or_insert(v);
                }
            }
        }
        let resource = ri.map(get).filter(|r| !r.trim().is_empty());
        rows.push(HistoryRow { line, case, activity: get(ai), at, resource });
    }
    let cases =
        cases.into_iter().map(|(case, (line, values))| (case, case_fields(line, &values, &mut errors))).collect();
    Ok((rows, cases, errors))
}

fn parse_xes(bytes: &[u8], cols: &Columns) -> Result<Parsed, Vec<RowError>> {
    let (log, report) = salesflow_analytics::xes::read_xes(bytes)
        .map_err(|e| vec![RowError { line: 0, field: "file".into(), message: e.to_string() }])?;
    if report.skipped > 0 {
        let message = format!("{} events or traces lack a case id, activity or time", report.skipped);
        return Err(vec![RowError { line: 0, field: "file".into(), message }]);
    }
    let strip = |name: &str| name.strip_prefix("case:").unwrap_or(name).to_string();
    let (mut rows, mut cases, mut errors) = (Vec::new(), BTreeMap::new(), Vec::new());
    for c in 0..log.cases() {
        let range = log.case_range(c);
        let line = range.start + 1;
        let mut values: BTreeMap<&str, String> = BTreeMap::new();
        for (k, name) in &cols.deal {
            if let Some(v) = log.case_attribute(&strip(name)).and_then(|a| a.get(c)) {
                values.insert(k, v.to_string());
            }
        }
        cases.insert(log.case_id(c).to_string(), case_fields(line, &values, &mut errors));
        for i in range {
            let r = log.resource_column()[i];
            rows.push(HistoryRow {
                line: i + 1,
                case: log.case_id(c).to_string(),
                activity: log.activity_name(log.activity_column()[i]).to_string(),
                at: DateTime::from_timestamp_micros(log.timestamp_column()[i]).unwrap_or_default(),
                resource: (r != salesflow_analytics::NO_RESOURCE).then(|| log.resources().name(r).to_string()),
            });
        }
    }
    Ok((rows, cases, errors))
}

fn invalid(errors: Vec<RowError>) -> ApiError {
    Error::Invalid(
        errors.into_iter().map(|e| FieldError::new(format!("rows[{}].{}", e.line, e.field), e.message)).collect(),
    )
    .into()
}

/// Imports past deals of the process from an event log, all or nothing: CSV (UTF-8, header row,
/// columns mapped by the query) or XES. Each case becomes a deal on the version, entering the
/// stages its events name (by node name or id) at their times; the last one decides whether it
/// is open, won or lost. Every bad row is reported as `rows[<line>].<field>`; nothing is written
/// then. At most 64 MB.
#[utoipa::path(post, path = "/api/v1/processes/{id}/import", tag = "processes", params(("id" = i64, Path), ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The event log (CSV or XES)"),
    responses((status = 201, body = ImportResult), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn import(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<ImportResult>)> {
    let mime = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let xes = match q.format.as_deref() {
        Some("xes") => true,
        Some("csv") => false,
        Some(other) => {
            return Err(ApiError::field(StatusCode::BAD_REQUEST, "format", format!("`{other}` is not csv or xes")));
        }
        None => mime.contains("xml"),
    };
    let tz: chrono_tz::Tz = match &q.time_zone {
        Some(z) => z
            .parse()
            .map_err(|_| ApiError::field(StatusCode::BAD_REQUEST, "time_zone", format!("unknown time zone `{z}`")))?,
        None => c.user.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai),
    };
    let process = ProcessId(id);
    let version = match q.version {
        Some(v) => s.store.process_version(process, v).await?,
        None => s.store.latest_published(process).await?,
    };
    if version.status != salesflow_domain::store::VersionStatus::Published {
        return Err(ApiError::field(StatusCode::BAD_REQUEST, "version", "deals run on published versions only"));
    }
    let bytes = axum::body::to_bytes(body, MAX_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request body too large",
            "an event log may be at most 64 MB",
        )
    })?;
    let cols = Columns::of(&q);
    let (rows, cases, mut errors) =
        if xes { parse_xes(&bytes, &cols) } else { parse_csv(&bytes, &cols, tz) }.map_err(invalid)?;
    if !errors.is_empty() {
        // Report the rows the domain would refuse too, so that one round of fixes is enough.
        let users = s.store.list_users().await?;
        let may_own = |u: &salesflow_domain::records::User| c.scope.can_assign_to(u.id);
        let start = salesflow_domain::store::MaxIds::default();
        let now = s.clock.now();
        // Accounts do not change which rows are refused: none are looked up for this report.
        let known_accounts = std::collections::BTreeMap::new();
        let importer = salesflow_domain::history::Importer {
            users: &users,
            default_owner: c.user.id,
            may_own: &may_own,
            known_accounts: &known_accounts,
        };
        if let Err(more) = salesflow_domain::history::plan(&version, rows, &cases, &importer, start, now) {
            errors.extend(more);
        }
        errors.sort_by_key(|e| e.line);
        return Err(invalid(errors));
    }
    // Imports take their ids after the highest ones written: one at a time, so two at once
    // do not collide.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let turn = ONE_AT_A_TIME.lock().await;
    let (deals, events) = c.guarded(&s).import_history(&version, rows, &cases, s.clock.now()).await?;
    drop(turn);
    Ok((StatusCode::CREATED, Json(ImportResult { process_id: id, version: version.version, deals, events })))
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_with_and_without_offsets() {
        let sh = chrono_tz::Asia::Shanghai;
        let utc = |t: &str| parse_time(t, sh).map(|d| d.to_rfc3339());
        assert_eq!(utc("2024-05-01 09:00:00").as_deref(), Some("2024-05-01T01:00:00+00:00"));
        assert_eq!(utc("2024-05-01T09:00:00+02:00").as_deref(), Some("2024-05-01T07:00:00+00:00"));
        assert_eq!(utc("2024-05-01 09:00:00.5+00:00").as_deref(), Some("2024-05-01T09:00:00.500+00:00"));
        assert_eq!(utc("2024-05-02").as_deref(), Some("2024-05-01T16:00:00+00:00"));
        assert_eq!(utc("yesterday"), None);
    }
}
