//! Time in stage: for each event, the time from entering its activity to the case's next event.
//!
//! A case whose last event is not a terminal activity (Won, Lost, …) is still open: the time in
//! its last stage is not known yet, only that it is at least `as_of − entered`. Such stays are
//! *censored*: counted separately and left out of count/mean/median/p90, which describe
//! finished stays only. The Kaplan–Meier median uses both (it would be biased low to drop them,
//! and biased the other way to treat them as finished).

use serde::Serialize;

use crate::EventLog;
use crate::transitions::{ActivityDurations, Transitions};

const SECONDS_PER_MICRO: f64 = 1e-6;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageTimeOptions {
    /// Activities that close a case. When empty, every case is taken as finished (a historical
    /// log such as an export for process mining) and nothing is censored.
    pub terminal_activities: Vec<String>,
    /// A case attribute and value that also close a case (e.g. `("outcome", "lost")`).
    pub closed_attribute: Option<(String, String)>,
    /// "Now" for open cases, µs since the epoch; defaults to the log's latest timestamp.
    pub as_of: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTimes {
    /// The instant open stays were measured up to (µs), when any case is open.
    pub as_of: Option<i64>,
    pub open_cases: u64,
    /// In order of the activities' first appearance in the log.
    pub activities: Vec<StageTime>,
}

/// Durations in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTime {
    pub activity: String,
    /// Finished stays.
    pub count: u64,
    pub total_seconds: f64,
    pub mean_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
    /// 90th percentile, linear interpolation (numpy's default).
    pub p90_seconds: Option<f64>,
    /// Stays of open cases in this activity, not counted above.
    pub censored: u64,
    /// Kaplan–Meier median over finished and censored stays: the first time the estimated
    /// share still in the stage falls to one half. `None` when it never does.
    pub km_median_seconds: Option<f64>,
}

impl StageTimes {
    pub fn get(&self, activity: &str) -> Option<&StageTime> {
        self.activities.iter().find(|s| s.activity == activity)
    }
}

pub fn stage_times(log: &EventLog, opts: &StageTimeOptions) -> StageTimes {
    let mut t = Transitions::build(log);
    let open = open_stays(log, opts);
    let (_, durations) = t.summarize(log.activities().len(), false, Some(&open.per_activity));
    from_durations(log, &durations, &open)
}

/// The running stays of open cases, per activity, ascending (µs).
pub(crate) struct OpenStays {
    pub as_of: Option<i64>,
    pub cases: u64,
    pub per_activity: Vec<Vec<i64>>,
}

pub(crate) fn open_stays(log: &EventLog, opts: &StageTimeOptions) -> OpenStays {
    let n = log.activities().len();
    let mut per_activity = vec![Vec::new(); n];
    let mut terminal = vec![false; n];
    for name in &opts.terminal_activities {
        if let Some(a) = log.activity_id(name) {
            terminal[a as usize] = true;
        }
    }
    if opts.terminal_activities.is_empty() {
        return OpenStays { as_of: None, cases: 0, per_activity };
    }
    let closed_by = opts.closed_attribute.as_ref().and_then(|(k, v)| Some((log.case_attribute(k)?, v.as_str())));
    let closed = |c| closed_by.is_some_and(|(col, v)| col.get(c) == Some(v));
    let as_of = opts.as_of.or_else(|| log.max_timestamp()).unwrap_or(0);
    let (acts, ts) = (log.activity_column(), log.timestamp_column());
    let mut cases = 0;
    for (c, w) in log.case_offsets().windows(2).enumerate() {
        if w[1] > w[0] && !terminal[acts[w[1] - 1] as usize] && !closed(c) {
            let last = w[1] - 1;
            per_activity[acts[last] as usize].push((as_of - ts[last]).max(0));
            cases += 1;
        }
    }
    for v in &mut per_activity {
        v.sort_unstable();
    }
    OpenStays { as_of: Some(as_of), cases, per_activity }
}

pub(crate) fn from_durations(log: &EventLog, durations: &[ActivityDurations], open: &OpenStays) -> StageTimes {
    let secs = |x: f64| x * SECONDS_PER_MICRO;
    let activities = durations
        .iter()
        .enumerate()
        .filter(|(a, d)| d.moments.is_some() || !open.per_activity[*a].is_empty())
        .map(|(a, d)| StageTime {
            activity: log.activity_name(a as u32).to_string(),
            count: d.moments.map_or(0, |m| m.count),
            total_seconds: d.moments.map_or(0.0, |m| secs(m.sum as f64)),
            mean_seconds: d.moments.map(|m| secs(m.mean())),
            median_seconds: d.median.map(secs),
            p90_seconds: d.p90.map(secs),
            censored: open.per_activity[a].len() as u64,
            km_median_seconds: d.km_median.map(|x| secs(x as f64)),
        })
        .collect();
    StageTimes { as_of: open.as_of, open_cases: open.cases, activities }
}
