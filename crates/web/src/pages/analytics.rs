//! The analytics page (`/analytics`): a process's funnel, time in stage, lost reasons, trend,
//! segments and bottleneck, the heat-mapped flowchart and the deals stuck in each stage, over
//! the deals the caller may read. The numbers come from the same report as the API; charts
//! are drawn by `static/js/analytics.js` with the vendored ECharts from data in an attribute.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use salesflow_analytics::{Outcome, Segment};
use salesflow_domain::currency::Currency;
use salesflow_domain::records::Channel;
use serde::Deserialize;
use serde_json::json;

use super::crm::Opt;
use super::{Chrome, Ctx, error_page, render};
use crate::AppState;
use crate::analytics::{self, AnalyticsQuery, Report};
use crate::i18n::Locale;
use crate::i18n::analytics::Analytics;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default().get("/analytics", page)
}

/// The form's fields as typed (empty means "any").
#[derive(Debug, Default, Deserialize)]
struct Form {
    #[serde(default)]
    process: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    compare_version: String,
}

struct Kpi {
    label: &'static str,
    now: String,
    before: String,
}

struct SegmentRow {
    value: String,
    cases: u64,
    won: u64,
    lost: u64,
    open: u64,
    win_rate: String,
    median_days: String,
    won_value: String,
}

struct SegmentTable {
    title: &'static str,
    rows: Vec<SegmentRow>,
}

struct LostRow {
    stage: String,
    lost: u64,
    reasons: String,
}

struct StuckRow {
    id: i64,
    title: String,
    node: String,
    stage: String,
    days: String,
    limit: String,
}

struct MoveRow {
    from: String,
    to: String,
    count: u64,
}

struct VersionRow {
    version: i32,
    cases: u64,
    win_rate: String,
    median_days: String,
    top: String,
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Analytics,
    form: Form,
    process_opts: Vec<Opt>,
    owner_opts: Vec<Opt>,
    team_opts: Vec<Opt>,
    channel_opts: Vec<Opt>,
    version_opts: Vec<Opt>,
    compare_opts: Vec<Opt>,
    error: Option<String>,
    body: Option<Body>,
    time_zone: String,
    /// Viewers write nothing, so they get no import form.
    can_import: bool,
}

struct Body {
    process_id: i64,
    query: String,
    export_query: String,
    headline: Option<String>,
    cases: u64,
    kpis: Vec<Kpi>,
    heat_map: String,
    charts: String,
    segments: Vec<SegmentTable>,
    lost: Vec<LostRow>,
    stuck: Vec<StuckRow>,
    conforming: String,
    moves: Vec<MoveRow>,
    skipped: Vec<(String, u64)>,
    versions: Vec<VersionRow>,
}

fn opt_num<T: std::str::FromStr>(v: &str, field: &str) -> Result<Option<T>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse().map(Some).map_err(|_| format!("{field}: `{v}`"))
}

fn query_of(f: &Form) -> Result<AnalyticsQuery, String> {
    let text = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    Ok(AnalyticsQuery {
        from: opt_num(&f.from, "from")?,
        to: opt_num(&f.to, "to")?,
        owner: opt_num(&f.owner, "owner")?,
        team: opt_num(&f.team, "team")?,
        channel: text(&f.channel),
        region: text(&f.region),
        version: opt_num(&f.version, "version")?,
        compare_version: opt_num(&f.compare_version, "compare_version")?,
    })
}

async fn page(ctx: Ctx, State(s): State<AppState>, Query(mut form): Query<Form>) -> Response {
    let t = ctx.t.analytics;
    let processes = match s.store.list_processes().await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let published: Vec<_> = processes.iter().filter(|p| p.published_version.is_some()).collect();
    if form.process.trim().is_empty() {
        // The first process in the reader's language that holds deals they can see, then any
        // other that does, else the first in their language.
        let lang = ctx.locale.tag();
        let mut candidates: Vec<_> = published.clone();
        candidates.sort_by_key(|p| p.locale != lang);
        let g = ctx.guarded(&s);
        let mut pick = None;
        for p in &candidates {
            let filter = salesflow_domain::records::DealFilter { process: Some(p.id), ..Default::default() };
            if g.deal_totals(&filter).await.is_ok_and(|t| t.count > 0) {
                pick = Some(*p);
                break;
            }
        }
        let pick = pick.or(candidates.first().copied());
        form.process = pick.map(|p| p.id.0.to_string()).unwrap_or_default();
    }
    let users = s.store.list_users().await.unwrap_or_default();
    let teams = s.store.list_teams().await.unwrap_or_default();
    let crm = ctx.t.crm;
    let process_opts = published.iter().map(|p| Opt::new(p.id.0.to_string(), p.name.clone(), &form.process)).collect();
    let any = |mut v: Vec<Opt>| {
        v.insert(0, Opt { value: String::new(), label: t.any.into(), selected: false });
        v
    };
    let owner_opts = any(users.iter().map(|u| Opt::new(u.id.0.to_string(), u.name.clone(), &form.owner)).collect());
    let team_opts = any(teams.iter().map(|x| Opt::new(x.id.0.to_string(), x.name.clone(), &form.team)).collect());
    let channel_opts = any(Channel::ALL.iter().map(|c| Opt::new(c.as_str(), crm.channel(*c), &form.channel)).collect());
    let versions: Vec<i32> = match form.process.trim().parse::<i64>() {
        Ok(id) => s
            .store
            .process_versions(salesflow_domain::ids::ProcessId(id))
            .await
            .map(|v| v.into_iter().map(|v| v.version).collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let version_opts = any(versions.iter().map(|v| Opt::new(v.to_string(), format!("v{v}"), &form.version)).collect());
    let compare_opts =
        any(versions.iter().map(|v| Opt::new(v.to_string(), format!("v{v}"), &form.compare_version)).collect());

    let (mut error, mut body) = (None, None);
    match (form.process.trim().parse::<i64>(), query_of(&form)) {
        (Err(_), _) => error = Some(t.no_process.to_string()),
        (_, Err(e)) => error = Some(e),
        (Ok(id), Ok(q)) => match load_report(&ctx, &s, id, &q).await {
            Ok(b) => body = Some(b),
            Err(e) if e.0.status == 404 => {
                return error_page(&ctx, salesflow_domain::Error::not_found("process", id));
            }
            Err(e) => error = Some(e.0.detail.clone()),
        },
    }
    render(&AnalyticsPage {
        chrome: ctx.chrome("analytics"),
        t,
        form,
        process_opts,
        owner_opts,
        team_opts,
        channel_opts,
        version_opts,
        compare_opts,
        error,
        body,
        time_zone: ctx.tz.name().to_string(),
        can_import: ctx.user().role != salesflow_domain::records::Role::Viewer,
    })
}

async fn load_report(ctx: &Ctx, s: &AppState, id: i64, q: &AnalyticsQuery) -> Result<Body, crate::problem::ApiError> {
    let loaded = analytics::load(s, &ctx.caller, salesflow_domain::ids::ProcessId(id), q, ctx.tz).await?;
    let report = analytics::report(&loaded, q, s.clock.now());
    let def = &loaded.reference.definition;
    let zh = ctx.locale == Locale::ZhCn;
    let overlay = analytics::heat_overlay(&report, def, zh);
    // Inlined like the other pages' drawings: `data-flow-node` groups (see crm::processes).
    let heat_map = salesflow_flowchart::svg::render(def, &salesflow_flowchart::layout(def), &overlay)
        .replace("<g data-node=\"", "<g data-flow-node=\"")
        .replace("<g data-edge=\"", "<g data-flow-edge=\"");
    Ok(build(ctx, report, heat_map, id, q))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{:.0}%", v * 100.0))
}

fn days(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "–".into(), |s| format!("{:.1}", s / 86_400.0))
}

fn amount(v: f64, currency: Option<&str>, locale: Locale) -> String {
    match currency.and_then(|c| Currency::parse(c).ok()) {
        Some(c) => {
            let minor = (v * 10f64.powi(i32::from(c.exponent()))).round() as i64;
            super::format::money(&salesflow_domain::currency::Money { minor, currency: c }, locale)
        }
        None => format!("{v:.2}"),
    }
}

fn build(ctx: &Ctx, r: Report, heat_map: String, process_id: i64, q: &AnalyticsQuery) -> Body {
    let t = ctx.t.analytics;
    let zh = ctx.locale == Locale::ZhCn;
    let cur = r.value_currency.as_deref();
    let (now, before) = (&r.current_period.outcome, &r.previous_period.outcome);
    let kpi = |label, f: &dyn Fn(&Outcome) -> String| Kpi { label, now: f(now), before: f(before) };
    let kpis = vec![
        kpi(t.deals, &|o| o.cases.to_string()),
        kpi(t.win_rate, &|o| pct(o.win_rate)),
        kpi(t.median_cycle, &|o| format!("{} {}", days(o.median_cycle_seconds), t.days)),
        kpi(t.won_value, &|o| amount(o.won_value, cur, ctx.locale)),
    ];
    let channel_label = |v: &str| Channel::parse(v).map_or_else(|| v.to_string(), |c| ctx.t.crm.channel(c).to_string());
    let rows = |segs: &[Segment], label: &dyn Fn(&str) -> String| -> Vec<SegmentRow> {
        segs.iter()
            .map(|s| SegmentRow {
                value: if s.value.is_empty() { t.unknown.to_string() } else { label(&s.value) },
                cases: s.outcome.cases,
                won: s.outcome.won,
                lost: s.outcome.lost,
                open: s.outcome.open,
                win_rate: pct(s.outcome.win_rate),
                median_days: days(s.outcome.median_cycle_seconds),
                won_value: amount(s.outcome.won_value, cur, ctx.locale),
            })
            .collect()
    };
    let same = |v: &str| v.to_string();
    let segments = vec![
        SegmentTable { title: t.channel, rows: rows(&r.segments.channel, &channel_label) },
        SegmentTable { title: t.owner, rows: rows(&r.segments.owner, &same) },
        SegmentTable { title: t.team, rows: rows(&r.segments.team, &same) },
        SegmentTable { title: t.region, rows: rows(&r.segments.region, &same) },
        SegmentTable { title: t.version, rows: rows(&r.segments.version, &|v| format!("v{v}")) },
    ];
    let reason = |s: &str| if s.is_empty() { t.no_reason.to_string() } else { s.to_string() };
    let lost = r
        .lost_by_stage
        .iter()
        .map(|l| LostRow {
            stage: l.activity.clone(),
            lost: l.lost,
            reasons: l.reasons.iter().map(|(s, n)| format!("{} × {n}", reason(s))).collect::<Vec<_>>().join("；"),
        })
        .collect();
    let stuck = r
        .stuck
        .iter()
        .map(|d| StuckRow {
            id: d.deal_id,
            title: d.title.clone(),
            node: d.node.clone(),
            stage: d.stage.clone(),
            days: format!("{:.1}", d.days_in_stage),
            limit: format!("{:.1}", d.limit_days),
        })
        .collect();
    let c = &r.conformance;
    let conforming = format!("{} / {}", c.conforming_cases, c.cases);
    let moves = c
        .disallowed_moves
        .iter()
        .take(10)
        .map(|m| MoveRow { from: m.from.clone().unwrap_or_else(|| t.start.into()), to: m.to.clone(), count: m.count })
        .collect();
    let skipped = c.skipped.iter().filter(|s| s.cases > 0).map(|s| (s.activity.clone(), s.cases)).collect();
    let versions = r
        .version_comparison
        .iter()
        .flatten()
        .map(|v| VersionRow {
            version: v.version,
            cases: v.outcome.cases,
            win_rate: pct(v.outcome.win_rate),
            median_days: days(v.outcome.median_cycle_seconds),
            top: v.top_bottleneck.clone().unwrap_or_else(|| t.none.into()),
        })
        .collect();
    let query = serde_urlencoded::to_string(q).unwrap_or_default();
    let export = AnalyticsQuery { compare_version: None, ..q.clone() };
    let export_query = serde_urlencoded::to_string(&export).unwrap_or_default();
    Body {
        process_id,
        query,
        export_query,
        headline: if zh { r.headline_zh.clone() } else { r.headline_en.clone() },
        cases: r.outcome.cases,
        kpis,
        heat_map,
        charts: charts(t, &r, zh),
        segments,
        lost,
        stuck,
        conforming,
        moves,
        skipped,
        versions,
    }
}

/// The data the page script draws, with its labels in the page's language.
fn charts(t: &Analytics, r: &Report, zh: bool) -> String {
    let a = &r.analysis;
    let stages: Vec<&str> = a.funnel.stages.iter().map(|s| s.stage.as_str()).collect();
    let mut reasons: Vec<String> = Vec::new();
    for l in &r.lost_by_stage {
        for (reason, _) in &l.reasons {
            let label = if reason.is_empty() { t.no_reason.to_string() } else { reason.clone() };
            if !reasons.contains(&label) {
                reasons.push(label);
            }
        }
    }
    let lost_stages: Vec<&str> = r.lost_by_stage.iter().map(|l| l.activity.as_str()).collect();
    let lost_series: Vec<_> = reasons
        .iter()
        .map(|reason| {
            let counts: Vec<u64> = r
                .lost_by_stage
                .iter()
                .map(|l| {
                    l.reasons
                        .iter()
                        .filter(|(s, _)| (if s.is_empty() { t.no_reason } else { s.as_str() }) == reason)
                        .map(|x| x.1)
                        .sum()
                })
                .collect();
            json!({ "name": reason, "data": counts })
        })
        .collect();
    let d = |s: Option<f64>| s.map(|s| (s / 86_400.0 * 10.0).round() / 10.0);
    let week = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .map(|t| t.date_naive().format(if zh { "%m月%d日" } else { "%d %b" }).to_string())
            .unwrap_or_default()
    };
    json!({
        "labels": { "strict": t.strict, "any": t.any_order, "median": t.median_days, "p90": t.p90_days,
            "started": t.started, "won": t.won, "lost": t.lost },
        "funnel": { "stages": stages,
            "strict": a.funnel.stages.iter().map(|s| s.strict).collect::<Vec<_>>(),
            "any": a.funnel.stages.iter().map(|s| s.any).collect::<Vec<_>>() },
        "time": {
            "stages": stages,
            "median": stages.iter().map(|s| d(a.stage_times.get(s).and_then(|x| x.median_seconds))).collect::<Vec<_>>(),
            "p90": stages.iter().map(|s| d(a.stage_times.get(s).and_then(|x| x.p90_seconds))).collect::<Vec<_>>() },
        "lost": { "stages": lost_stages, "series": lost_series },
        "trend": { "weeks": r.trend.iter().map(|b| week(b.start)).collect::<Vec<_>>(),
            "started": r.trend.iter().map(|b| b.started).collect::<Vec<_>>(),
            "won": r.trend.iter().map(|b| b.won).collect::<Vec<_>>(),
            "lost": r.trend.iter().map(|b| b.lost).collect::<Vec<_>>() },
    })
    .to_string()
}
