//! Funnel over an ordered list of stages.
//!
//! * strict: a case counts for stage i when it reached stages 0..=i in that order (as a
//!   subsequence of its events: other activities and repeats in between are allowed). Greedy
//!   matching of the earliest occurrence is enough to decide a subsequence.
//! * any-stage: a case counts for stage i when it ever reached stage i, whatever came before.
//!
//! Conversions are from the previous stage: strict `strict[i] / strict[i-1]`; any-stage the
//! share of cases that reached stage i-1 which also reached stage i (bounded by 1 even when
//! cases skip stages).

use serde::Serialize;

use crate::{EventLog, split_cases};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funnel {
    pub cases: u64,
    pub stages: Vec<FunnelStage>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelStage {
    pub stage: String,
    pub strict: u64,
    pub any: u64,
    /// `strict / cases`.
    pub strict_share: f64,
    /// `any / cases`.
    pub any_share: f64,
    /// From the previous stage; `None` for the first stage or when the previous had no case.
    pub strict_conversion: Option<f64>,
    pub any_conversion: Option<f64>,
}

pub fn funnel(log: &EventLog, stages: &[&str]) -> Funnel {
    let k = stages.len();
    // Activity id → the stage it stands for (the first, should a name be listed twice).
    let mut stage_of = vec![usize::MAX; log.activities().len()];
    let ids: Vec<Option<u32>> = stages.iter().map(|s| log.activity_id(s)).collect();
    for (i, id) in ids.iter().enumerate().rev() {
        if let Some(a) = id {
            stage_of[*a as usize] = i;
        }
    }
    let acts = log.activity_column();
    let offsets = log.case_offsets();
    // Per half of the cases: (cases, strict, any, reached both i-1 and i).
    let count = |range: std::ops::Range<usize>| {
        let (mut strict, mut any, mut both) = (vec![0u64; k], vec![0u64; k], vec![0u64; k]);
        let mut reached = vec![false; k];
        let mut cases = 0u64;
        for c in range {
            let events = &acts[offsets[c]..offsets[c + 1]];
            if events.is_empty() {
                continue;
            }
            cases += 1;
            reached.iter_mut().for_each(|r| *r = false);
            let mut next = 0;
            for &a in events {
                if next < k && ids[next] == Some(a) {
                    next += 1;
                }
                let s = stage_of[a as usize];
                if s != usize::MAX {
                    reached[s] = true;
                }
            }
            strict[..next].iter_mut().for_each(|x| *x += 1);
            for s in 0..k {
                if reached[s] {
                    any[s] += 1;
                    if s > 0 && reached[s - 1] {
                        both[s] += 1;
                    }
                }
            }
        }
        (cases, strict, any, both)
    };
    let (l, r) = split_cases(log, count);
    let add = |x: Vec<u64>, y: Vec<u64>| x.iter().zip(&y).map(|(a, b)| a + b).collect::<Vec<u64>>();
    let (cases, strict, any, both) = (l.0 + r.0, add(l.1, r.1), add(l.2, r.2), add(l.3, r.3));
    let ratio = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
    let stages = (0..k)
        .map(|i| FunnelStage {
            stage: stages[i].to_string(),
            strict: strict[i],
            any: any[i],
            strict_share: ratio(strict[i], cases).unwrap_or(0.0),
            any_share: ratio(any[i], cases).unwrap_or(0.0),
            strict_conversion: if i == 0 { None } else { ratio(strict[i], strict[i - 1]) },
            any_conversion: if i == 0 { None } else { ratio(both[i], any[i - 1]) },
        })
        .collect();
    Funnel { cases, stages }
}
