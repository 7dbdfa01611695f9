//! A process's analytics as the API and the pages serve them: the deals the caller may read,
//! filtered, loaded into the engine (`salesflow-analytics`), and the engine's results put
//! together with the process drawing (heat map) and the deals stuck in a stage.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use salesflow_analytics::{
    Analysis, AnalysisConfig, BottleneckConfig, Conformance, ConformanceModel, EventLog, LogBuilder, LostAtStage,
    Outcome, OutcomeConfig, Segment, TrendBucket,
};
use salesflow_domain::Error;
use salesflow_domain::guard::Guarded;
use salesflow_domain::ids::{DealId, ProcessId, TeamId, UserId};
use salesflow_domain::process::{NodeKind, ProcessDefinition};
use salesflow_domain::records::{Channel, DealStatus, Team};
use salesflow_domain::store::{DealFacts, EventMark, ProcessVersion, StageEntry};
use salesflow_flowchart::svg::{EdgeOverlay, NodeOverlay, Overlay};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// The filters and comparisons of an analytics request.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    /// Deals created on or after this day (the caller's time zone).
    pub from: Option<NaiveDate>,
    /// Deals created on or before this day.
    pub to: Option<NaiveDate>,
    /// Only this owner's deals.
    pub owner: Option<i64>,
    /// Only deals owned by this team's members or manager.
    pub team: Option<i64>,
    /// Only deals from this source channel (`trade_show`, `referral`, …).
    pub channel: Option<String>,
    /// Only deals whose account is in this region.
    pub region: Option<String>,
    /// Only deals running on this process version; also the version drawn and checked against.
    pub version: Option<i32>,
    /// Compare the version analysed with this one.
    pub compare_version: Option<i32>,
}

/// One period's outcome: deals created in `[from, to)`.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub outcome: Outcome,
}

/// One process version's numbers, for comparing two.
#[derive(Debug, Clone, Serialize)]
pub struct VersionNumbers {
    pub version: i32,
    pub outcome: Outcome,
    /// Median days in each stage, by stage name.
    pub median_days: BTreeMap<String, Option<f64>>,
    pub top_bottleneck: Option<String>,
}

/// An open deal that has been in its stage longer than the stage's SLA (or, without one, than
/// the stage's median stay).
#[derive(Debug, Clone, Serialize)]
pub struct StuckDeal {
    pub deal_id: i64,
    pub title: String,
    pub node: String,
    pub stage: String,
    pub days_in_stage: f64,
    /// The limit it is past, in days.
    pub limit_days: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Segments {
    pub channel: Vec<Segment>,
    pub owner: Vec<Segment>,
    pub team: Vec<Segment>,
    pub region: Vec<Segment>,
    pub version: Vec<Segment>,
}

/// Everything the analytics page shows, from the deals the caller may read.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub process_id: i64,
    pub process_name: String,
    /// The version drawn, named by and checked against.
    pub version: i32,
    pub filters: AnalyticsQuery,
    pub as_of: DateTime<Utc>,
    /// Won amounts and the pipeline are summed in this currency (the most common one among
    /// the deals); deals in other currencies count everywhere but in the sums.
    pub value_currency: Option<String>,
    pub outcome: Outcome,
    pub current_period: Period,
    pub previous_period: Period,
    pub analysis: Analysis,
    pub conformance: Conformance,
    pub lost_by_stage: Vec<LostAtStage>,
    pub segments: Segments,
    /// Deals started per week (weeks start on Monday, UTC).
    pub trend: Vec<TrendBucket>,
    pub version_comparison: Option<[VersionNumbers; 2]>,
    pub stuck: Vec<StuckDeal>,
    /// The top bottleneck as a sentence, in English and Chinese.
    pub headline_en: Option<String>,
    pub headline_zh: Option<String>,
}

/// The loaded inputs, before any engine call.
pub struct Loaded {
    pub reference: Arc<ProcessVersion>,
    versions: HashMap<i32, Arc<ProcessVersion>>,
    entries: Vec<StageEntry>,
    /// Each deal's rows in `entries`.
    ranges: HashMap<i64, Range<usize>>,
    facts: Vec<DealFacts>,
    users: HashMap<UserId, String>,
    teams: Vec<Team>,
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::field(axum::http::StatusCode::BAD_REQUEST, field, message)
}

/// The filters that select deals, parsed and checked.
pub struct Selection {
    owner: Option<UserId>,
    team_members: Option<Vec<UserId>>,
    channel: Option<Channel>,
    region: Option<String>,
    version: Option<i32>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

impl Selection {
    /// Checks the filters (each refusal names its field); dates are days in `tz`.
    pub fn parse(q: &AnalyticsQuery, teams: &[Team], tz: chrono_tz::Tz) -> ApiResult<Self> {
        let channel = match q.channel.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(Channel::parse(c).ok_or_else(|| bad("channel", format!("unknown channel `{c}`")))?),
            None => None,
        };
        if let (Some(f), Some(t)) = (q.from, q.to)
            && f > t
        {
            return Err(bad("to", "must not be before `from`"));
        }
        let team_members = match q.team {
            Some(t) => {
                let team =
                    teams.iter().find(|x| x.id == TeamId(t)).ok_or_else(|| bad("team", format!("no team {t}")))?;
                Some(team.members.iter().copied().chain(team.manager_id).collect())
            }
            None => None,
        };
        let day = |d: NaiveDate| tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")).earliest();
        Ok(Selection {
            owner: q.owner.map(UserId),
            team_members,
            channel,
            region: q.region.clone().filter(|r| !r.is_empty()),
            version: q.version,
            from: q.from.and_then(day).map(|t| t.with_timezone(&Utc)),
            to: q.to.and_then(|d| d.succ_opt()).and_then(day).map(|t| t.with_timezone(&Utc)),
        })
    }

    pub fn keeps(&self, f: &DealFacts) -> bool {
        self.owner.is_none_or(|o| f.owner_id == o)
            && self.team_members.as_ref().is_none_or(|m| m.contains(&f.owner_id))
            && self.channel.is_none_or(|c| f.channel == Some(c))
            && self.region.as_deref().is_none_or(|r| f.account_region == r)
            && self.version.is_none_or(|v| f.process_version == v)
            && self.from.is_none_or(|t| f.created_at >= t)
            && self.to.is_none_or(|t| f.created_at < t)
    }
}

/// Deals read from the store a page at a time.
pub const PAGE: u32 = 5_000;

/// The deals of a process as one scope sees them, kept between requests and brought up to date
/// from the events appended since the last look: only deals with new events are read again
/// (with their facts and stage entries), so a request after a few moves costs a few queries
/// instead of reading the whole process. A slot is read afresh when it is older than
/// [`FRESH_FOR`] (changes without an event — shares, account regions — show up by then) or when
/// more than [`REFRESH_LIMIT`] deals changed at once.
///
/// Memory is bounded: at most [`CACHE_SLOTS`] snapshots, together estimated at no more than the
/// budget (`salesflow serve --analytics-cache-mb`); beyond either, the least recently used
/// snapshots are dropped (a request still holding one finishes with it).
pub struct Cache {
    slots: std::sync::Mutex<Slots>,
    budget_bytes: usize,
}

#[derive(Default)]
struct Slots {
    by_key: HashMap<(i64, String), Kept>,
    /// Bumped on every use: the order of last use.
    clock: u64,
}

struct Kept {
    slot: Slot,
    last_used: u64,
    bytes: usize,
}

/// One (process, scope)'s snapshot; a request holds it while it refreshes and copies it.
type Slot = Arc<tokio::sync::Mutex<Snapshot>>;

/// At most this many (process, scope) snapshots are kept.
pub const CACHE_SLOTS: usize = 8;
/// The default memory budget of all snapshots together.
pub const DEFAULT_BUDGET_MB: usize = 1024;
const REFRESH_LIMIT: usize = 1_000;
pub const FRESH_FOR: Duration = Duration::minutes(10);

impl Default for Cache {
    fn default() -> Self {
        Self::with_budget_mb(DEFAULT_BUDGET_MB)
    }
}

impl Cache {
    pub fn with_budget_mb(mb: usize) -> Self {
        Cache { slots: Default::default(), budget_bytes: mb.saturating_mul(1 << 20) }
    }

    fn slot(&self, process: ProcessId, scope: &salesflow_domain::access::Scope) -> ((i64, String), Slot) {
        self.slot_keyed((process.0, format!("{scope:?}")))
    }

    fn slot_keyed(&self, key: (i64, String)) -> ((i64, String), Slot) {
        let mut slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        slots.clock += 1;
        let now = slots.clock;
        let kept =
            slots.by_key.entry(key.clone()).or_insert_with(|| Kept { slot: Slot::default(), last_used: 0, bytes: 0 });
        kept.last_used = now;
        let slot = kept.slot.clone();
        Self::evict(&mut slots, self.budget_bytes, &key);
        (key, slot)
    }

    /// Records a snapshot's size after a refresh and drops others beyond the limits.
    fn sized(&self, key: &(i64, String), bytes: usize) {
        let mut slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(kept) = slots.by_key.get_mut(key) {
            kept.bytes = bytes;
        }
        Self::evict(&mut slots, self.budget_bytes, key);
    }

    /// Least recently used first, never `keep` (the snapshot in use).
    fn evict(slots: &mut Slots, budget: usize, keep: &(i64, String)) {
        loop {
            let total: usize = slots.by_key.values().map(|k| k.bytes).sum();
            if slots.by_key.len() <= CACHE_SLOTS && total <= budget {
                return;
            }
            let victim = slots.by_key.iter().filter(|(k, _)| *k != keep).min_by_key(|(_, v)| v.last_used);
            match victim.map(|(k, _)| k.clone()) {
                Some(k) => {
                    slots.by_key.remove(&k);
                }
                None => return,
            }
        }
    }

    /// The snapshots kept and their estimated bytes, least recently used first.
    pub fn kept(&self) -> Vec<((i64, String), usize)> {
        let slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut kept: Vec<_> = slots.by_key.iter().map(|(k, v)| (k.clone(), v.bytes, v.last_used)).collect();
        kept.sort_by_key(|(_, _, used)| *used);
        kept.into_iter().map(|(k, b, _)| (k, b)).collect()
    }
}

#[derive(Default)]
pub struct Snapshot {
    facts: BTreeMap<i64, DealFacts>,
    entries: HashMap<i64, Vec<StageEntry>>,
    /// The highest event id reflected.
    high_water: i64,
    /// Event ids at or below the high-water mark not yet seen, and since when: a transaction
    /// that took its id before another's committed after it (PostgreSQL hands out ids before
    /// commit), or one rolled back. Looked for again at every refresh for [`PENDING_FOR`].
    pending: Pending,
    loaded_at: Option<DateTime<Utc>>,
}

/// Missing event ids and since when they are missing.
type Pending = Vec<(i64, DateTime<Utc>)>;

/// How long a missing event id is looked for before it counts as rolled back.
const PENDING_FOR: Duration = Duration::minutes(2);
/// At a full load, the ids this far below the highest are checked for ones not yet visible.
const RECENT_WINDOW: i64 = 2_000;
/// More missing ids than this: read everything afresh instead.
const PENDING_LIMIT: usize = 10_000;

/// Keeping up with the log: from the events found since the high-water mark (and among the
/// pending ids), the deals of `process` to read again, the new mark and the ids still missing.
fn keep_up(
    found: &[EventMark],
    process: ProcessId,
    high_water: i64,
    pending: &[(i64, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> (Vec<DealId>, i64, Pending) {
    let seen: std::collections::HashSet<i64> = found.iter().map(|m| m.id).collect();
    let high = found.iter().map(|m| m.id).max().unwrap_or(high_water).max(high_water);
    let mut still: Pending =
        pending.iter().copied().filter(|(id, since)| !seen.contains(id) && now - *since < PENDING_FOR).collect();
    still.extend(((high_water + 1)..=high).filter(|id| !seen.contains(id)).map(|id| (id, now)));
    let mut deals: Vec<DealId> = found.iter().filter(|m| m.process == process).map(|m| m.deal).collect();
    deals.sort_unstable_by_key(|d| d.0);
    deals.dedup();
    (deals, high, still)
}

impl Snapshot {
    /// An estimate of the memory held: the records and their text.
    fn bytes(&self) -> usize {
        let fact = |f: &DealFacts| {
            std::mem::size_of::<DealFacts>()
                + f.title.len()
                + f.current_node.len()
                + f.account_region.len()
                + f.account_industry.len()
                + f.lost_reason.as_ref().map_or(0, String::len)
        };
        let entry = |e: &StageEntry| std::mem::size_of::<StageEntry>() + e.node.len();
        self.facts.values().map(|f| fact(f) + 16).sum::<usize>()
            + self.entries.values().map(|es| 32 + es.iter().map(entry).sum::<usize>()).sum::<usize>()
    }

    async fn refresh(&mut self, s: &AppState, g: &Guarded<'_>, id: ProcessId, now: DateTime<Utc>) -> ApiResult<()> {
        if let Some(at) = self.loaded_at
            && now - at < FRESH_FOR
        {
            let pending: Vec<i64> = self.pending.iter().map(|(id, _)| *id).collect();
            let found = s.store.events_since(self.high_water, &pending).await?;
            let (changed, high, still) = keep_up(&found, id, self.high_water, &self.pending, now);
            if changed.len() <= REFRESH_LIMIT && still.len() <= PENDING_LIMIT {
                for deal in changed {
                    // The first readable deal from this id on: the deal itself when the scope
                    // reaches it (a new deal of someone else's does not).
                    let (facts, entries, _) =
                        g.event_log_page(id, Some(DealId(deal.0 - 1)), 1, |f| f.deal_id == deal).await?;
                    self.entries.remove(&deal.0);
                    self.facts.remove(&deal.0);
                    for f in facts {
                        self.facts.insert(f.deal_id.0, f);
                    }
                    if !entries.is_empty() {
                        self.entries.insert(deal.0, entries);
                    }
                }
                self.high_water = high;
                self.pending = still;
                return Ok(());
            }
        }
        // From scratch. The high-water mark is taken first, then the ids just below it not yet
        // visible are noted as pending, then the deals are read: nothing written meanwhile, or
        // committed late, is lost.
        let high = s.store.max_ids().await?.event;
        let floor = (high - RECENT_WINDOW).max(0);
        let recent = s.store.events_since(floor, &[]).await?;
        let (_, _, pending) = keep_up(&recent, id, floor, &[], now);
        let pending: Pending = pending.into_iter().filter(|(p, _)| *p <= high).collect();
        let (mut facts, mut entries, mut after) = (BTreeMap::new(), HashMap::<i64, Vec<StageEntry>>::new(), None);
        loop {
            let (f, e, last) = g.event_log_page(id, after, PAGE, |_| true).await?;
            facts.extend(f.into_iter().map(|f| (f.deal_id.0, f)));
            for e in e {
                entries.entry(e.deal_id.0).or_default().push(e);
            }
            match last {
                Some(l) => after = Some(l),
                None => break,
            }
        }
        *self = Snapshot { facts, entries, high_water: high, pending, loaded_at: Some(now) };
        Ok(())
    }
}

/// Reads what the caller may see of a process and applies the filters that select deals.
pub async fn load(
    s: &AppState,
    caller: &Caller,
    id: ProcessId,
    q: &AnalyticsQuery,
    tz: chrono_tz::Tz,
) -> ApiResult<Loaded> {
    let teams = s.store.list_teams().await?;
    let selection = Selection::parse(q, &teams, tz)?;
    let all_versions = s.store.process_versions(id).await?;
    let versions: HashMap<i32, Arc<ProcessVersion>> =
        all_versions.into_iter().map(|v| (v.version, Arc::new(v))).collect();
    if versions.is_empty() {
        return Err(Error::not_found("process", id).into());
    }
    let reference = match q.version {
        Some(v) => versions.get(&v).cloned().ok_or_else(|| bad("version", format!("process has no version {v}")))?,
        None => match s.store.latest_published(id).await {
            Ok(v) => v,
            Err(_) => {
                versions.values().max_by_key(|v| v.version).cloned().ok_or_else(|| Error::not_found("process", id))?
            }
        },
    };
    if let Some(v) = q.compare_version
        && !versions.contains_key(&v)
    {
        return Err(bad("compare_version", format!("process has no version {v}")));
    }
    let (key, slot) = s.analytics.slot(id, &caller.scope);
    let mut snapshot = slot.lock().await;
    snapshot.refresh(s, &caller.guarded(s), id, s.clock.now()).await?;
    s.analytics.sized(&key, snapshot.bytes());
    let (mut facts, mut entries) = (Vec::new(), Vec::new());
    for f in snapshot.facts.values().filter(|f| selection.keeps(f)) {
        entries.extend(snapshot.entries.get(&f.deal_id.0).into_iter().flatten().cloned());
        facts.push(f.clone());
    }
    drop(snapshot);
    let mut ranges: HashMap<i64, Range<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        ranges.entry(e.deal_id.0).and_modify(|r| r.end = i + 1).or_insert(i..i + 1);
    }
    let users = s.store.list_users().await?.into_iter().map(|u| (u.id, u.name)).collect();
    Ok(Loaded { reference, versions, entries, ranges, facts, users, teams })
}

impl Loaded {
    fn definition(&self) -> &ProcessDefinition {
        &self.reference.definition
    }

    /// A node's name: from the version analysed when it has the node, else from the deal's
    /// own version, else the id.
    fn activity<'a>(&'a self, version: i32, node: &'a str) -> &'a str {
        if let Some(n) = self.definition().node(node) {
            return &n.name;
        }
        self.versions.get(&version).and_then(|v| v.definition.node(node)).map_or(node, |n| n.name.as_str())
    }

    fn value_currency(&self) -> Option<salesflow_domain::currency::Currency> {
        let mut counts: BTreeMap<&str, (usize, salesflow_domain::currency::Currency)> = BTreeMap::new();
        for m in self.facts.iter().filter_map(|f| f.amount.as_ref()) {
            counts.entry(m.currency.code()).or_insert((0, m.currency)).0 += 1;
        }
        counts.into_values().max_by_key(|(n, _)| *n).map(|(_, c)| c)
    }

    fn team_of(&self, user: UserId) -> &str {
        let member = self.teams.iter().find(|t| t.members.contains(&user));
        member.or_else(|| self.teams.iter().find(|t| t.manager_id == Some(user))).map_or("", |t| t.name.as_str())
    }

    /// The event log of the deals `keep` selects, with their segment attributes.
    fn log(&self, keep: impl Fn(&DealFacts) -> bool) -> EventLog {
        let currency = self.value_currency();
        let mut b = LogBuilder::with_capacity(self.entries.len());
        for f in self.facts.iter().filter(|f| keep(f)) {
            let Some(range) = self.ranges.get(&f.deal_id.0) else { continue };
            let case = f.deal_id.0;
            for e in &self.entries[range.clone()] {
                let actor = self.users.get(&e.actor_id).map(String::as_str);
                b.push(case, self.activity(e.process_version, &e.node), e.occurred_at, actor);
            }
            b.case_attribute(case, "owner", self.users.get(&f.owner_id).map_or("", String::as_str));
            b.case_attribute(case, "team", self.team_of(f.owner_id));
            b.case_attribute(case, "channel", f.channel.map_or("", |c| c.as_str()));
            b.case_attribute(case, "region", &f.account_region);
            b.case_attribute(case, "version", &f.process_version.to_string());
            if let Some(m) = f.amount.as_ref().filter(|m| Some(m.currency) == currency) {
                let major = m.minor as f64 / 10f64.powi(i32::from(m.currency.exponent()));
                b.case_attribute(case, "amount", &major.to_string());
            }
            if let Some(r) = &f.lost_reason {
                b.case_attribute(case, "lost_reason", r);
            }
        }
        b.build()
    }
}

fn week_origin() -> i64 {
    // 1970-01-05 was a Monday.
    4 * 86_400_000_000
}

/// Computes the whole report.
pub fn report(l: &Loaded, q: &AnalyticsQuery, now: DateTime<Utc>) -> Report {
    let def = l.definition();
    let outcome_cfg = OutcomeConfig::from_process(def);
    let mut bottleneck = BottleneckConfig::from_process(def);
    bottleneck.as_of = Some(now.timestamp_micros());
    let cfg = AnalysisConfig {
        funnel_stages: def.stages_in_order().iter().map(|n| n.name.clone()).collect(),
        bottleneck,
        top_pairs: 10,
    };
    let log = l.log(|_| true);
    let analysis = salesflow_analytics::analyze(&log, &cfg);
    let seg = |attr: &str| salesflow_analytics::segments(&log, &outcome_cfg, attr);
    let (current_period, previous_period) = periods(l, q, now, &outcome_cfg);
    let version_comparison = q.compare_version.map(|other| {
        let this = l.reference.version;
        [this, other].map(|v| {
            let log = l.log(|f| f.process_version == v);
            let a = salesflow_analytics::analyze(&log, &cfg);
            VersionNumbers {
                version: v,
                outcome: salesflow_analytics::outcomes(&log, &outcome_cfg),
                median_days: a
                    .stage_times
                    .activities
                    .iter()
                    .map(|s| (s.activity.clone(), s.median_seconds.map(|x| x / 86_400.0)))
                    .collect(),
                top_bottleneck: a.bottlenecks.ranking.first().map(|b| b.activity.clone()),
            }
        })
    });
    let top = analysis.bottlenecks.ranking.first();
    Report {
        process_id: l.reference.process_id.0,
        process_name: def.name.clone(),
        version: l.reference.version,
        filters: q.clone(),
        as_of: now,
        value_currency: l.value_currency().map(|c| c.code().to_string()),
        outcome: salesflow_analytics::outcomes(&log, &outcome_cfg),
        current_period,
        previous_period,
        conformance: salesflow_analytics::conformance(&log, &ConformanceModel::from_process(def)),
        lost_by_stage: salesflow_analytics::lost_reasons(&log, &outcome_cfg),
        segments: Segments {
            channel: seg("channel"),
            owner: seg("owner"),
            team: seg("team"),
            region: seg("region"),
            version: seg("version"),
        },
        trend: salesflow_analytics::trend(&log, &outcome_cfg, week_origin(), 7 * 86_400_000_000),
        version_comparison,
        stuck: stuck(l, &analysis, now),
        headline_en: top.map(|b| b.explanation_en.clone()),
        headline_zh: top.map(|b| b.explanation_zh.clone()),
        analysis,
    }
}

/// This period and the one of equal length before it: the filter's dates, or the last 90 days.
fn periods(l: &Loaded, q: &AnalyticsQuery, now: DateTime<Utc>, cfg: &OutcomeConfig) -> (Period, Period) {
    let midnight = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"));
    let to = q.to.and_then(|d| d.succ_opt()).map_or(now, midnight);
    let from = q.from.map_or(to - Duration::days(90), midnight);
    let before = from - (to - from);
    let period = |a: DateTime<Utc>, b: DateTime<Utc>| Period {
        from: a,
        to: b,
        outcome: salesflow_analytics::outcomes(&l.log(|f| f.created_at >= a && f.created_at < b), cfg),
    };
    (period(from, to), period(before, from))
}

fn stuck(l: &Loaded, a: &Analysis, now: DateTime<Utc>) -> Vec<StuckDeal> {
    let def = l.definition();
    let mut out: Vec<StuckDeal> = l
        .facts
        .iter()
        .filter(|f| f.status == DealStatus::Open)
        .filter_map(|f| {
            let node = def.node(&f.current_node)?;
            let NodeKind::Stage(stage) = &node.kind else { return None };
            let days = (now - f.stage_entered_at).num_seconds() as f64 / 86_400.0;
            let limit = if stage.sla_days > 0 {
                f64::from(stage.sla_days)
            } else {
                a.stage_times.get(&node.name)?.median_seconds? / 86_400.0
            };
            (days > limit).then(|| StuckDeal {
                deal_id: f.deal_id.0,
                title: f.title.clone(),
                node: node.id.clone(),
                stage: node.name.clone(),
                days_in_stage: (days * 10.0).round() / 10.0,
                limit_days: limit,
            })
        })
        .collect();
    out.sort_by(|x, y| (y.days_in_stage / y.limit_days).total_cmp(&(x.days_in_stage / x.limit_days)));
    out
}

/// The heat-map overlay: each stage filled by its bottleneck score (pale to deep red) and
/// captioned with the conversion into it and its median days; each edge as wide as the number
/// of moves along it.
pub fn heat_overlay(report: &Report, def: &ProcessDefinition, zh: bool) -> Overlay {
    let mut overlay = Overlay::default();
    let b = &report.analysis.bottlenecks.ranking;
    let max_score = b.iter().map(|x| x.score).fold(0.0, f64::max);
    for node in def.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Stage(_))) {
        let score = b.iter().find(|x| x.activity == node.name).map_or(0.0, |x| x.score);
        let heat = if max_score > 0.0 { score / max_score } else { 0.0 };
        let conversion =
            report.analysis.funnel.stages.iter().find(|s| s.stage == node.name).and_then(|s| s.any_conversion);
        let median = report.analysis.stage_times.get(&node.name).and_then(|s| s.median_seconds).map(|s| s / 86_400.0);
        let mut parts = Vec::new();
        if let Some(c) = conversion {
            parts.push(if zh { format!("转化 {:.0}%", c * 100.0) } else { format!("conv. {:.0}%", c * 100.0) });
        }
        if let Some(m) = median {
            parts.push(if zh { format!("中位 {m:.1} 天") } else { format!("median {m:.1} d") });
        }
        let caption = (!parts.is_empty()).then(|| parts.join(" · "));
        overlay.nodes.insert(node.id.clone(), NodeOverlay { fill: Some(heat_colour(heat)), caption });
    }
    let freq: HashMap<(&str, &str), u64> =
        report.analysis.dfg.edges.iter().map(|e| ((e.from.as_str(), e.to.as_str()), e.frequency)).collect();
    let name = |id: &str| def.node(id).map_or("", |n| n.name.as_str());
    let is_decision = |id: &str| matches!(def.node(id).map(|n| &n.kind), Some(NodeKind::Decision));
    let volume = |from: &str, to: &str| -> u64 {
        let froms: Vec<&str> = if is_decision(from) {
            def.edges.iter().filter(|e| e.to == from).map(|e| e.from.as_str()).collect()
        } else {
            vec![from]
        };
        let tos: Vec<&str> = if is_decision(to) {
            def.edges.iter().filter(|e| e.from == to).map(|e| e.to.as_str()).collect()
        } else {
            vec![to]
        };
        froms
            .iter()
            .flat_map(|f| tos.iter().map(move |t| (*f, *t)))
            .map(|(f, t)| freq.get(&(name(f), name(t))).copied().unwrap_or(0))
            .sum()
    };
    let volumes: Vec<(String, u64)> = def.edges.iter().map(|e| (e.id.clone(), volume(&e.from, &e.to))).collect();
    let max = volumes.iter().map(|v| v.1).max().unwrap_or(0);
    for (id, v) in volumes {
        if max > 0 && v > 0 {
            let width = 1.0 + 11.0 * v as f64 / max as f64;
            overlay
                .edges
                .insert(id, EdgeOverlay { width: Some((width * 10.0).round() / 10.0), caption: Some(v.to_string()) });
        }
    }
    overlay
}

/// From a pale yellow (0) to a deep red (1).
fn heat_colour(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", lerp(254.0, 220.0), lerp(243.0, 38.0), lerp(199.0, 38.0))
}

#[cfg(test)]
mod tests {
    use super::{CACHE_SLOTS, Cache, PENDING_FOR, heat_colour, keep_up};
    use chrono::{DateTime, Utc};
    use salesflow_domain::ids::{DealId, ProcessId};
    use salesflow_domain::store::EventMark;

    fn mark(id: i64, deal: i64, process: i64) -> EventMark {
        EventMark { id, deal: DealId(deal), process: ProcessId(process) }
    }

    #[test]
    fn an_event_committed_late_below_the_mark_is_still_found() {
        let t0: DateTime<Utc> = "2026-11-27T08:00:00Z".parse().unwrap();
        let p = ProcessId(1);
        // Ids 11 and 13 are visible; 12 is still being written (or was rolled back).
        let (deals, high, pending) = keep_up(&[mark(11, 5, 1), mark(13, 6, 2)], p, 10, &[], t0);
        assert_eq!((deals, high), (vec![DealId(5)], 13), "only this process's deals");
        assert_eq!(pending, vec![(12, t0)]);
        // Next look: 12 has committed, for a deal of this process; it is found by its id.
        let t1 = t0 + chrono::Duration::seconds(5);
        let (deals, high, pending) = keep_up(&[mark(12, 7, 1), mark(14, 5, 1)], p, 13, &pending, t1);
        assert_eq!((deals, high, pending), (vec![DealId(5), DealId(7)], 14, vec![]));
        // An id never seen is given up after a while.
        let (_, _, pending) = keep_up(&[mark(16, 5, 1)], p, 14, &[], t1);
        assert_eq!(pending, vec![(15, t1)]);
        let later = t1 + PENDING_FOR;
        let (_, high, pending) = keep_up(&[], p, 16, &pending, later);
        assert_eq!((high, pending), (16, vec![]), "rolled back");
    }

    #[test]
    fn the_cache_drops_the_least_recently_used_beyond_its_budget_or_slots() {
        let cache = Cache::with_budget_mb(1);
        let key = |p: i64| (p, "scope".to_string());
        let (a, _) = cache.slot_keyed(key(1));
        cache.sized(&a, 400_000);
        let (b, _) = cache.slot_keyed(key(2));
        cache.sized(&b, 400_000);
        cache.slot_keyed(key(1));
        // A third snapshot passes the megabyte: the least recently used (2) goes, not 1.
        let (c, _) = cache.slot_keyed(key(3));
        cache.sized(&c, 400_000);
        let kept: Vec<i64> = cache.kept().into_iter().map(|((p, _), _)| p).collect();
        assert_eq!(kept, [1, 3]);
        // One snapshot larger than the whole budget is still kept while in use.
        cache.sized(&c, 5 << 20);
        assert_eq!(cache.kept().into_iter().map(|((p, _), _)| p).collect::<Vec<_>>(), [3]);

        let many = Cache::with_budget_mb(1024);
        for p in 0..(CACHE_SLOTS as i64 + 3) {
            many.slot_keyed(key(p));
        }
        let kept: Vec<i64> = many.kept().into_iter().map(|((p, _), _)| p).collect();
        assert_eq!(kept, (3..CACHE_SLOTS as i64 + 3).collect::<Vec<_>>(), "the first ones dropped");
    }

    #[test]
    fn heat_runs_from_pale_to_red() {
        assert_eq!(heat_colour(0.0), "#fef3c7");
        assert_eq!(heat_colour(1.0), "#dc2626");
        assert_eq!(heat_colour(7.0), "#dc2626");
    }
}
