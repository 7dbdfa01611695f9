//! Every directly-follows transition's duration, bucketed by edge — the one intermediate that
//! the performance DFG, the time in stage and the bottleneck ranking share.
//!
//! The time an event's activity "holds" a case is the gap to the case's next event, which is
//! exactly the duration of the DFG edge leaving that event. Buckets are laid out source-major,
//! so the bucket of edge (a, b) is one slice and all edges leaving `a` together are another:
//! the edge medians and the per-activity quantiles are selections over contiguous slices.

use rayon::prelude::*;

use crate::EventLog;
use crate::edges::{EdgeIndex, for_each_transition};
use crate::stats::{Moments, km_median, quantile_sorted, quantiles_in_place, sort_durations, stdev};

pub(crate) struct Transitions {
    pub edges: EdgeIndex,
    /// `edges.len() + 1` offsets into `durations`.
    pub bucket: Vec<usize>,
    /// Durations in µs, grouped by edge.
    pub durations: Vec<i64>,
}

/// Statistics of one edge (µs).
#[derive(Debug, Clone)]
pub(crate) struct EdgeStats {
    pub from: u32,
    pub to: u32,
    pub moments: Moments,
    pub median: f64,
    pub stdev: Option<f64>,
}

/// Statistics of all durations leaving one activity (µs).
#[derive(Debug, Clone)]
pub(crate) struct ActivityDurations {
    pub moments: Option<Moments>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub km_median: Option<i64>,
}

impl Transitions {
    pub fn build(log: &EventLog) -> Self {
        let edges = EdgeIndex::for_log(log);
        let mut bucket = vec![0usize; edges.len() + 1];
        for_each_transition(log, |_, a, b| bucket[edges.id(a, b) + 1] += 1);
        for e in 0..edges.len() {
            bucket[e + 1] += bucket[e];
        }
        let ts = log.timestamp_column();
        let mut cursor = bucket.clone();
        // Every slot is written exactly once below; zeroing is a cheap memset by comparison.
        let mut durations = vec![0i64; bucket[edges.len()]];
        for_each_transition(log, |i, a, b| {
            let slot = &mut cursor[edges.id(a, b)];
            durations[*slot] = ts[i + 1] - ts[i];
            *slot += 1;
        });
        Self { edges, bucket, durations }
    }

    /// Edge statistics, then (when `censored` is given: one ascending list per activity of the
    /// durations still running) per-activity statistics. Both reorder the buckets, so they are
    /// computed in one go; sources are independent and run in parallel.
    pub fn summarize(
        &mut self,
        activities: usize,
        want_edges: bool,
        censored: Option<&[Vec<i64>]>,
    ) -> (Vec<EdgeStats>, Vec<ActivityDurations>) {
        let (edges, bucket) = (&self.edges, &self.bucket);
        let results: Vec<(Vec<EdgeStats>, Option<ActivityDurations>)> =
            per_source(edges, bucket, &mut self.durations, activities)
                .into_par_iter()
                .map(|(a, slice)| {
                    let ids = edges.leaving(a);
                    let base = bucket[ids.start];
                    let mut edge_stats = Vec::new();
                    if want_edges {
                        for e in ids {
                            let v = &mut slice[bucket[e] - base..bucket[e + 1] - base];
                            let Some(moments) = Moments::of(v) else { continue };
                            let (from, to) = edges.pair(e);
                            let sd = stdev(v, &moments);
                            let median = quantiles_in_place(v, &[0.5])[0];
                            edge_stats.push(EdgeStats { from, to, moments, median, stdev: sd });
                        }
                    }
                    let activity = censored.map(|c| activity_durations(slice, &c[a]));
                    (edge_stats, activity)
                })
                .collect();
        let mut edge_stats = Vec::new();
        let mut per_activity = Vec::new();
        for (e, a) in results {
            edge_stats.extend(e);
            per_activity.extend(a);
        }
        (edge_stats, per_activity)
    }
}

/// Splits the duration buffer into one mutable slice per source activity.
fn per_source<'a>(
    edges: &EdgeIndex,
    bucket: &[usize],
    mut rest: &'a mut [i64],
    activities: usize,
) -> Vec<(usize, &'a mut [i64])> {
    let mut consumed = 0;
    let mut out = Vec::with_capacity(activities);
    for a in 0..activities {
        let end = bucket[edges.leaving(a).end];
        let (head, tail) = rest.split_at_mut(end - consumed);
        out.push((a, head));
        rest = tail;
        consumed = end;
    }
    out
}

fn activity_durations(v: &mut [i64], censored: &[i64]) -> ActivityDurations {
    let moments = Moments::of(v);
    if censored.is_empty() {
        let q = quantiles_in_place(v, &[0.5, 0.9]);
        // Without censoring the Kaplan–Meier curve is the empirical one.
        return ActivityDurations {
            moments,
            median: q.first().copied(),
            p90: q.get(1).copied(),
            km_median: km_from_quantile(v),
        };
    }
    // Censored observations need the finished ones in order for the survival curve.
    sort_durations(v);
    ActivityDurations {
        moments,
        median: quantile_sorted(v, 0.5),
        p90: quantile_sorted(v, 0.9),
        km_median: km_median(v, censored),
    }
}

/// The Kaplan–Meier median without censoring: the smallest value with at least half of the
/// observations at or below it (the ⌈n/2⌉-th smallest), found by selection.
fn km_from_quantile(v: &mut [i64]) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    let k = v.len().div_ceil(2) - 1;
    Some(*v.select_nth_unstable(k).1)
}
