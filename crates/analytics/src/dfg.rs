//! Directly-follows graph: how often activity b directly follows a within a case, and how long
//! that step took (pm4py's `discover_dfg` and `discover_performance_dfg`), with the start and
//! end activities of the cases.

use serde::Serialize;

use crate::EventLog;
use crate::edges::{EdgeIndex, for_each_transition};
use crate::transitions::{EdgeStats, Transitions};

const SECONDS_PER_MICRO: f64 = 1e-6;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dfg {
    pub cases: u64,
    pub events: u64,
    /// By frequency, most frequent first; ties by (from, to).
    pub edges: Vec<DfgEdge>,
    /// By count, largest first; ties by name.
    pub start_activities: Vec<ActivityCount>,
    pub end_activities: Vec<ActivityCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DfgEdge {
    pub from: String,
    pub to: String,
    pub frequency: u64,
    /// Present in a performance DFG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance: Option<EdgePerformance>,
}

/// Time between the two events of an edge, in seconds (the count is the edge's frequency).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgePerformance {
    pub mean: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    /// Sample standard deviation; `None` for a single observation (pandas gives NaN).
    pub stdev: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityCount {
    pub activity: String,
    pub count: u64,
}

impl Dfg {
    pub fn edge(&self, from: &str, to: &str) -> Option<&DfgEdge> {
        self.edges.iter().find(|e| e.from == from && e.to == to)
    }
}

/// The frequency DFG: one pass over the activity column, no durations.
pub fn dfg(log: &EventLog) -> Dfg {
    let edges = EdgeIndex::for_log(log);
    let mut count = vec![0u64; edges.len()];
    for_each_transition(log, |_, a, b| count[edges.id(a, b)] += 1);
    let list = (0..edges.len())
        .filter(|&e| count[e] > 0)
        .map(|e| {
            let (a, b) = edges.pair(e);
            edge(log, a, b, count[e], None)
        })
        .collect();
    assemble(log, list)
}

/// The performance DFG: frequencies plus mean, median, min, max, sum and stdev per edge.
pub fn performance_dfg(log: &EventLog) -> Dfg {
    let mut t = Transitions::build(log);
    let (stats, _) = t.summarize(log.activities().len(), true, None);
    from_edge_stats(log, &stats)
}

pub(crate) fn from_edge_stats(log: &EventLog, stats: &[EdgeStats]) -> Dfg {
    let list = stats.iter().map(|s| edge(log, s.from, s.to, s.moments.count, Some(performance(s)))).collect();
    assemble(log, list)
}

fn performance(s: &EdgeStats) -> EdgePerformance {
    let m = &s.moments;
    EdgePerformance {
        mean: m.mean() * SECONDS_PER_MICRO,
        median: s.median * SECONDS_PER_MICRO,
        min: m.min as f64 * SECONDS_PER_MICRO,
        max: m.max as f64 * SECONDS_PER_MICRO,
        sum: m.sum as f64 * SECONDS_PER_MICRO,
        stdev: s.stdev.map(|x| x * SECONDS_PER_MICRO),
    }
}

fn edge(log: &EventLog, a: u32, b: u32, frequency: u64, performance: Option<EdgePerformance>) -> DfgEdge {
    DfgEdge { from: log.activity_name(a).into(), to: log.activity_name(b).into(), frequency, performance }
}

fn assemble(log: &EventLog, mut edges: Vec<DfgEdge>) -> Dfg {
    edges.sort_by(|x, y| y.frequency.cmp(&x.frequency).then_with(|| (&x.from, &x.to).cmp(&(&y.from, &y.to))));
    let (start_activities, end_activities) = start_end(log);
    Dfg { cases: non_empty_cases(log), events: log.events() as u64, edges, start_activities, end_activities }
}

pub(crate) fn non_empty_cases(log: &EventLog) -> u64 {
    log.case_offsets().windows(2).filter(|w| w[1] > w[0]).count() as u64
}

/// First and last activity of every case, counted.
pub fn start_end(log: &EventLog) -> (Vec<ActivityCount>, Vec<ActivityCount>) {
    let n = log.activities().len();
    let (mut start, mut end) = (vec![0u64; n], vec![0u64; n]);
    let acts = log.activity_column();
    for w in log.case_offsets().windows(2) {
        if w[1] > w[0] {
            start[acts[w[0]] as usize] += 1;
            end[acts[w[1] - 1] as usize] += 1;
        }
    }
    (counts(log, &start), counts(log, &end))
}

pub(crate) fn counts(log: &EventLog, per_activity: &[u64]) -> Vec<ActivityCount> {
    let mut out: Vec<ActivityCount> = per_activity
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(a, &count)| ActivityCount { activity: log.activity_name(a as u32).into(), count })
        .collect();
    out.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| x.activity.cmp(&y.activity)));
    out
}
