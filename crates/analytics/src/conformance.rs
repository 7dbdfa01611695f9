//! Conformance against the drawn process: moves between activities that the drawing has no way
//! for, and stages of the main path a case went past without entering.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::EventLog;

/// What the drawing allows, in activity names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConformanceModel {
    /// The start activities a case may begin with (empty: any).
    pub starts: Vec<String>,
    /// Allowed directly-follows pairs (moves through decisions already collapsed).
    pub allowed: Vec<(String, String)>,
    /// The stages of the main path in order; entering a later one while an earlier one was
    /// never entered counts the earlier one as skipped.
    pub main_path: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conformance {
    pub cases: u64,
    /// Cases with no disallowed move, no disallowed start and no skipped stage.
    pub conforming_cases: u64,
    /// Disallowed moves, most frequent first.
    pub disallowed_moves: Vec<DisallowedMove>,
    /// Per main-path stage, the cases that skipped it.
    pub skipped: Vec<SkippedStage>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisallowedMove {
    /// `None` for a case starting at `to` where the drawing has no entry.
    pub from: Option<String>,
    pub to: String,
    pub count: u64,
    pub cases: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedStage {
    pub activity: String,
    pub cases: u64,
}

pub fn conformance(log: &EventLog, model: &ConformanceModel) -> Conformance {
    // Dense tables by activity id: one lookup per event, no hashing (≈10 M events a second).
    let n = log.activities().len();
    let id = |s: &str| log.activity_id(s).map(|a| a as usize);
    let mut allowed = vec![false; n * n];
    for (a, b) in &model.allowed {
        if let (Some(a), Some(b)) = (id(a), id(b)) {
            allowed[a * n + b] = true;
        }
    }
    let mut starts = vec![model.starts.is_empty(); n];
    model.starts.iter().filter_map(|s| id(s)).for_each(|a| starts[a] = true);
    let mut position = vec![usize::MAX; n];
    for (i, s) in model.main_path.iter().enumerate() {
        if let Some(a) = id(s) {
            position[a] = i;
        }
    }
    // Per disallowed pair: moves, cases; the last case counted, so a case counts once.
    let mut moves: Vec<(u64, u64, usize)> = vec![(0, 0, usize::MAX); n * n];
    let mut bad_starts: Vec<u64> = vec![0; n];
    let mut skipped = vec![0u64; model.main_path.len()];
    let mut entered = vec![false; model.main_path.len()];
    let mut conforming = 0;
    for c in 0..log.cases() {
        let acts = log.case_activities(c);
        let mut ok = true;
        if let Some(&first) = acts.first()
            && !starts[first as usize]
        {
            ok = false;
            bad_starts[first as usize] += 1;
        }
        for w in acts.windows(2) {
            let k = w[0] as usize * n + w[1] as usize;
            if !allowed[k] {
                ok = false;
                let m = &mut moves[k];
                m.0 += 1;
                if m.2 != c {
                    m.1 += 1;
                    m.2 = c;
                }
            }
        }
        entered.iter_mut().for_each(|e| *e = false);
        let mut furthest = None;
        for &a in acts {
            let p = position[a as usize];
            if p != usize::MAX {
                entered[p] = true;
                furthest = furthest.max(Some(p));
            }
        }
        if let Some(f) = furthest {
            for (p, hit) in entered[..f].iter().enumerate() {
                if !hit {
                    skipped[p] += 1;
                    ok = false;
                }
            }
        }
        conforming += u64::from(ok);
    }
    let mut found: BTreeMap<(u32, u32), (u64, u64)> = BTreeMap::new();
    for (k, &(count, cases, _)) in moves.iter().enumerate().filter(|(_, m)| m.0 > 0) {
        found.insert(((k / n) as u32, (k % n) as u32), (count, cases));
    }
    for (a, &count) in bad_starts.iter().enumerate().filter(|(_, c)| **c > 0) {
        found.insert((u32::MAX, a as u32), (count, count));
    }
    let moves = found;
    let name = |a: u32| log.activity_name(a).to_string();
    let mut disallowed_moves: Vec<DisallowedMove> = moves
        .into_iter()
        .map(|((a, b), (count, cases))| DisallowedMove {
            from: (a != u32::MAX).then(|| name(a)),
            to: name(b),
            count,
            cases,
        })
        .collect();
    disallowed_moves.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| (&x.from, &x.to).cmp(&(&y.from, &y.to))));
    Conformance {
        cases: log.cases() as u64,
        conforming_cases: conforming,
        disallowed_moves,
        skipped: model
            .main_path
            .iter()
            .zip(skipped)
            .map(|(a, cases)| SkippedStage { activity: a.clone(), cases })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disallowed_moves_and_skipped_stages() {
        let log = EventLog::from_rows([
            (1, "a", 0_i64, None),
            (1, "b", 1, None),
            (1, "c", 2, None),
            (2, "a", 0, None),
            (2, "c", 1, None),
            (2, "a", 2, None),
            (2, "c", 3, None),
            (3, "b", 0, None),
        ]);
        let s = |v: &str| v.to_string();
        let model = ConformanceModel {
            starts: vec![s("a")],
            allowed: vec![(s("a"), s("b")), (s("b"), s("c"))],
            main_path: vec![s("a"), s("b"), s("c")],
        };
        let c = conformance(&log, &model);
        assert_eq!((c.cases, c.conforming_cases), (3, 1));
        let moves: Vec<_> =
            c.disallowed_moves.iter().map(|m| (m.from.as_deref(), m.to.as_str(), m.count, m.cases)).collect();
        assert_eq!(moves, [(Some("a"), "c", 2, 1), (None, "b", 1, 1), (Some("c"), "a", 1, 1)]);
        let skipped: Vec<_> = c.skipped.iter().map(|s| (s.activity.as_str(), s.cases)).collect();
        assert_eq!(skipped, [("a", 1), ("b", 1), ("c", 0)]);
    }
}
