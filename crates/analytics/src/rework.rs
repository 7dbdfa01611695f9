//! Rework and loops: cases that do an activity more than once, and the directly-follows pairs
//! that repeat within a case (a → b, later a → b again: the loop "negotiation → quote →
//! negotiation → quote" repeats both pairs).

use serde::Serialize;

use crate::edges::EdgeIndex;
use crate::{EventLog, split_cases};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rework {
    pub cases: u64,
    /// Cases with at least one repeated activity.
    pub cases_with_rework: u64,
    /// Activities that some case repeats; most repeating cases first, ties by name.
    pub activities: Vec<ActivityRework>,
    /// The `top` pairs repeated within a case; most cases first, ties by (from, to).
    pub top_pairs: Vec<PairRework>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityRework {
    pub activity: String,
    /// Cases in which the activity occurs at all.
    pub reached: u64,
    /// Cases in which it occurs twice or more.
    pub cases_repeating: u64,
    /// `cases_repeating / reached`.
    pub repeat_share: f64,
    /// Occurrences beyond each case's first, summed over cases.
    pub extra_occurrences: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairRework {
    pub from: String,
    pub to: String,
    /// Cases in which a → b happens twice or more.
    pub cases: u64,
    pub extra_occurrences: u64,
}

/// Per-activity and per-pair counts by id: the pass that rework and the bottleneck ranking
/// (which needs `reached`) share.
pub(crate) struct CaseCounts {
    pub cases: u64,
    pub cases_with_rework: u64,
    pub reached: Vec<u64>,
    pub repeating: Vec<u64>,
    pub extra: Vec<u64>,
    pub pair_cases: Vec<u64>,
    pub pair_extra: Vec<u64>,
}

impl CaseCounts {
    fn new(activities: usize, pairs: usize) -> Self {
        Self {
            cases: 0,
            cases_with_rework: 0,
            reached: vec![0; activities],
            repeating: vec![0; activities],
            extra: vec![0; activities],
            pair_cases: vec![0; pairs],
            pair_extra: vec![0; pairs],
        }
    }

    fn add(mut self, o: Self) -> Self {
        self.cases += o.cases;
        self.cases_with_rework += o.cases_with_rework;
        for (dst, src) in [
            (&mut self.reached, o.reached),
            (&mut self.repeating, o.repeating),
            (&mut self.extra, o.extra),
            (&mut self.pair_cases, o.pair_cases),
            (&mut self.pair_extra, o.pair_extra),
        ] {
            dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
        }
        self
    }
}

pub(crate) fn case_counts(log: &EventLog, edges: &EdgeIndex) -> CaseCounts {
    let n = log.activities().len();
    let acts = log.activity_column();
    let offsets = log.case_offsets();
    let (left, right) = split_cases(log, |range| {
        let mut out = CaseCounts::new(n, edges.len());
        // Per-case occurrence counters, reset through the list of what the case touched.
        let mut seen = vec![0u32; n];
        let mut seen_pair = vec![0u32; edges.len()];
        let (mut touched, mut touched_pairs) = (Vec::new(), Vec::new());
        for c in range {
            let events = &acts[offsets[c]..offsets[c + 1]];
            if events.is_empty() {
                continue;
            }
            out.cases += 1;
            let mut repeated = false;
            for (i, &a) in events.iter().enumerate() {
                let a = a as usize;
                seen[a] += 1;
                match seen[a] {
                    1 => {
                        touched.push(a);
                        out.reached[a] += 1;
                    }
                    2 => {
                        out.repeating[a] += 1;
                        out.extra[a] += 1;
                        repeated = true;
                    }
                    _ => out.extra[a] += 1,
                }
                if let Some(&b) = events.get(i + 1) {
                    let e = edges.id(a as u32, b);
                    seen_pair[e] += 1;
                    match seen_pair[e] {
                        1 => touched_pairs.push(e),
                        2 => {
                            out.pair_cases[e] += 1;
                            out.pair_extra[e] += 1;
                        }
                        _ => out.pair_extra[e] += 1,
                    }
                }
            }
            out.cases_with_rework += u64::from(repeated);
            touched.drain(..).for_each(|a| seen[a] = 0);
            touched_pairs.drain(..).for_each(|e| seen_pair[e] = 0);
        }
        out
    });
    left.add(right)
}

pub fn rework(log: &EventLog, top: usize) -> Rework {
    let edges = EdgeIndex::for_log(log);
    let counts = case_counts(log, &edges);
    from_counts(log, &edges, &counts, top)
}

pub(crate) fn from_counts(log: &EventLog, edges: &EdgeIndex, c: &CaseCounts, top: usize) -> Rework {
    let mut activities: Vec<ActivityRework> = (0..c.reached.len())
        .filter(|&a| c.repeating[a] > 0)
        .map(|a| ActivityRework {
            activity: log.activity_name(a as u32).to_string(),
            reached: c.reached[a],
            cases_repeating: c.repeating[a],
            repeat_share: c.repeating[a] as f64 / c.reached[a] as f64,
            extra_occurrences: c.extra[a],
        })
        .collect();
    activities.sort_by(|x, y| y.cases_repeating.cmp(&x.cases_repeating).then_with(|| x.activity.cmp(&y.activity)));
    let mut pairs: Vec<PairRework> = (0..c.pair_cases.len())
        .filter(|&e| c.pair_cases[e] > 0)
        .map(|e| {
            let (a, b) = edges.pair(e);
            PairRework {
                from: log.activity_name(a).to_string(),
                to: log.activity_name(b).to_string(),
                cases: c.pair_cases[e],
                extra_occurrences: c.pair_extra[e],
            }
        })
        .collect();
    pairs.sort_by(|x, y| y.cases.cmp(&x.cases).then_with(|| (&x.from, &x.to).cmp(&(&y.from, &y.to))));
    pairs.truncate(top);
    Rework { cases: c.cases, cases_with_rework: c.cases_with_rework, activities, top_pairs: pairs }
}
