//! Variants: the distinct activity sequences of the cases, with how many cases follow each.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::EventLog;

/// Variants refer to activities by id (into `activities`) rather than repeating names: a large
/// log has tens of thousands of variants of ten or more steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variants {
    pub cases: u64,
    /// Activity names by id.
    pub activities: Vec<String>,
    /// Most frequent first; ties by the sequence of names (element-wise, a prefix first).
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variant {
    pub sequence: Vec<u32>,
    pub count: u64,
}

impl Variants {
    /// The names of a variant's activities.
    pub fn names<'a>(&'a self, v: &'a Variant) -> impl Iterator<Item = &'a str> + 'a {
        v.sequence.iter().map(|&a| self.activities[a as usize].as_str())
    }
}

pub fn variants(log: &EventLog) -> Variants {
    let offsets = log.case_offsets();
    let acts = log.activity_column();
    // Two halves counted in parallel (hashing the sequences is most of the work), then merged.
    let cases = log.cases();
    let count_range = |r: std::ops::Range<usize>| {
        let mut m: FxHashMap<&[u32], u64> = FxHashMap::default();
        for c in r {
            let seq = &acts[offsets[c]..offsets[c + 1]];
            if !seq.is_empty() {
                *m.entry(seq).or_insert(0) += 1;
            }
        }
        m
    };
    let (mut left, right) = rayon::join(|| count_range(0..cases / 2), || count_range(cases / 2..cases));
    for (k, v) in right {
        *left.entry(k).or_insert(0) += v;
    }

    // Order activities by name once, then compare sequences by those ranks.
    let n = log.activities().len();
    let mut by_name: Vec<u32> = (0..n as u32).collect();
    by_name.sort_by(|&a, &b| log.activity_name(a).cmp(log.activity_name(b)));
    let mut rank = vec![0u32; n];
    for (r, &a) in by_name.iter().enumerate() {
        rank[a as usize] = r as u32;
    }
    let mut list: Vec<(&[u32], u64)> = left.into_iter().collect();
    list.par_sort_unstable_by(|(sx, cx), (sy, cy)| {
        cy.cmp(cx).then_with(|| sx.iter().map(|&a| rank[a as usize]).cmp(sy.iter().map(|&a| rank[a as usize])))
    });
    Variants {
        cases: list.iter().map(|(_, c)| c).sum(),
        activities: (0..n as u32).map(|a| log.activity_name(a).to_string()).collect(),
        variants: list.into_iter().map(|(s, count)| Variant { sequence: s.to_vec(), count }).collect(),
    }
}
