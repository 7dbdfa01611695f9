//! How cases end: won, lost or still open; win rate, cycle time and won value, overall, by a
//! case attribute (segment) and by period; and where lost cases were lost, with their reasons.
//!
//! A case is won when it reaches a won activity, lost when it reaches a lost activity (the first
//! of either decides), open otherwise. Its cycle time runs from its first event to that one.

use serde::Serialize;

use crate::EventLog;
use crate::stats::quantile_sorted;

/// Which activities end a case, and which case attributes carry its value and lost reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutcomeConfig {
    pub won_activities: Vec<String>,
    pub lost_activities: Vec<String>,
    /// A case attribute holding the case's value as a decimal number (e.g. `"12500.00"`).
    pub value_attribute: Option<String>,
    /// A case attribute holding why a lost case was lost.
    pub lost_reason_attribute: Option<String>,
}

/// The ending of one group of cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcome {
    pub cases: u64,
    pub won: u64,
    pub lost: u64,
    pub open: u64,
    /// won / (won + lost); `None` while nothing has closed.
    pub win_rate: Option<f64>,
    /// Median and mean cycle time of the closed cases, in seconds.
    pub median_cycle_seconds: Option<f64>,
    pub mean_cycle_seconds: Option<f64>,
    /// Sum of the value attribute over won cases.
    pub won_value: f64,
    /// Sum of the value attribute over open cases (the pipeline).
    pub open_value: f64,
}

/// One value of a case attribute and the outcome of its cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub value: String,
    pub outcome: Outcome,
}

/// Lost cases by the last stage they were in before Lost, with the reasons given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostAtStage {
    pub activity: String,
    pub lost: u64,
    /// Reason and count, most frequent first (ties by reason).
    pub reasons: Vec<(String, u64)>,
}

/// Cases started in one period and how many of them have been won or lost so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendBucket {
    /// Start of the period, microseconds since the epoch.
    pub start: i64,
    pub started: u64,
    pub won: u64,
    pub lost: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum End {
    Won,
    Lost,
    Open,
}

struct Ends {
    won: Vec<bool>,
    lost: Vec<bool>,
}

impl Ends {
    fn new(log: &EventLog, cfg: &OutcomeConfig) -> Self {
        let n = log.activities().len();
        let flags = |names: &[String]| {
            let mut f = vec![false; n];
            names.iter().filter_map(|s| log.activity_id(s)).for_each(|a| f[a as usize] = true);
            f
        };
        Self { won: flags(&cfg.won_activities), lost: flags(&cfg.lost_activities) }
    }

    /// The case's ending, the index of its ending event and its cycle time in microseconds.
    fn of(&self, log: &EventLog, c: usize) -> (End, usize, Option<i64>) {
        let acts = log.case_activities(c);
        let ts = log.case_timestamps(c);
        for (i, &a) in acts.iter().enumerate() {
            let end = if self.won[a as usize] {
                End::Won
            } else if self.lost[a as usize] {
                End::Lost
            } else {
                continue;
            };
            return (end, i, Some(ts[i] - ts[0]));
        }
        (End::Open, acts.len(), None)
    }
}

fn value_of(log: &EventLog, cfg: &OutcomeConfig, c: usize) -> f64 {
    cfg.value_attribute
        .as_deref()
        .and_then(|a| log.case_attribute(a))
        .and_then(|col| col.get(c))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

fn outcome_of(log: &EventLog, cfg: &OutcomeConfig, ends: &Ends, cases: impl Iterator<Item = usize>) -> Outcome {
    let mut o = Outcome::default();
    let mut cycles = Vec::new();
    for c in cases {
        o.cases += 1;
        let (end, _, cycle) = ends.of(log, c);
        match end {
            End::Won => {
                o.won += 1;
                o.won_value += value_of(log, cfg, c);
            }
            End::Lost => o.lost += 1,
            End::Open => {
                o.open += 1;
                o.open_value += value_of(log, cfg, c);
            }
        }
        cycles.extend(cycle);
    }
    let closed = o.won + o.lost;
    o.win_rate = (closed > 0).then(|| o.won as f64 / closed as f64);
    cycles.sort_unstable();
    let secs = |us: f64| us / 1e6;
    o.median_cycle_seconds = quantile_sorted(&cycles, 0.5).map(secs);
    o.mean_cycle_seconds =
        (!cycles.is_empty()).then(|| secs(cycles.iter().map(|&v| v as f64).sum::<f64>() / cycles.len() as f64));
    o
}

/// The outcome of every case in the log.
pub fn outcomes(log: &EventLog, cfg: &OutcomeConfig) -> Outcome {
    outcome_of(log, cfg, &Ends::new(log, cfg), 0..log.cases())
}

/// The outcome per value of a case attribute, most cases first (ties by value). Cases without
/// the attribute are grouped under `""`. An attribute the log lacks gives no segments.
pub fn segments(log: &EventLog, cfg: &OutcomeConfig, attribute: &str) -> Vec<Segment> {
    let Some(col) = log.case_attribute(attribute) else { return Vec::new() };
    let mut groups: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for c in 0..log.cases() {
        groups.entry(col.get(c).unwrap_or("")).or_default().push(c);
    }
    let ends = Ends::new(log, cfg);
    let mut out: Vec<Segment> = groups
        .into_iter()
        .map(|(v, cases)| Segment { value: v.to_string(), outcome: outcome_of(log, cfg, &ends, cases.into_iter()) })
        .collect();
    out.sort_by(|a, b| b.outcome.cases.cmp(&a.outcome.cases).then_with(|| a.value.cmp(&b.value)));
    out
}

/// Lost cases per stage they were lost from (the last non-terminal activity before the lost
/// one), most lost first, each with its reasons.
pub fn lost_reasons(log: &EventLog, cfg: &OutcomeConfig) -> Vec<LostAtStage> {
    use std::collections::BTreeMap;
    let ends = Ends::new(log, cfg);
    let reason_col = cfg.lost_reason_attribute.as_deref().and_then(|a| log.case_attribute(a));
    let mut by_stage: BTreeMap<u32, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    for c in 0..log.cases() {
        let (end, at, _) = ends.of(log, c);
        if end != End::Lost {
            continue;
        }
        let acts = log.case_activities(c);
        let Some(&stage) = acts[..at].iter().rev().find(|&&a| !ends.won[a as usize] && !ends.lost[a as usize]) else {
            continue;
        };
        let slot = by_stage.entry(stage).or_default();
        slot.0 += 1;
        let reason = reason_col.and_then(|col| col.get(c)).unwrap_or("").trim();
        *slot.1.entry(reason.to_string()).or_default() += 1;
    }
    let mut out: Vec<LostAtStage> = by_stage
        .into_iter()
        .map(|(a, (lost, reasons))| {
            let mut reasons: Vec<(String, u64)> = reasons.into_iter().collect();
            reasons.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
            LostAtStage { activity: log.activity_name(a).to_string(), lost, reasons }
        })
        .collect();
    out.sort_by(|a, b| b.lost.cmp(&a.lost).then_with(|| a.activity.cmp(&b.activity)));
    out
}

/// Cases by the period their first event falls in: `bucket` microseconds wide, aligned on
/// `origin`. Periods without a started case in between are listed with zeros.
pub fn trend(log: &EventLog, cfg: &OutcomeConfig, origin: i64, bucket: i64) -> Vec<TrendBucket> {
    assert!(bucket > 0, "a trend needs a positive bucket width");
    let ends = Ends::new(log, cfg);
    let mut rows: std::collections::BTreeMap<i64, TrendBucket> = Default::default();
    for c in 0..log.cases() {
        let Some(&first) = log.case_timestamps(c).first() else { continue };
        let k = (first - origin).div_euclid(bucket);
        let b = rows.entry(k).or_insert(TrendBucket { start: origin + k * bucket, started: 0, won: 0, lost: 0 });
        b.started += 1;
        match ends.of(log, c).0 {
            End::Won => b.won += 1,
            End::Lost => b.lost += 1,
            End::Open => {}
        }
    }
    let (Some(&lo), Some(&hi)) = (rows.keys().next(), rows.keys().next_back()) else { return Vec::new() };
    (lo..=hi)
        .map(|k| rows.remove(&k).unwrap_or(TrendBucket { start: origin + k * bucket, started: 0, won: 0, lost: 0 }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LogBuilder;

    const DAY: i64 = 86_400_000_000;

    fn log() -> EventLog {
        let mut b = LogBuilder::new();
        // 1: won after 10 days; 2: lost at quote after 4 days; 3: open; 4: lost at lead.
        for (case, act, day) in [
            (1, "lead", 0),
            (1, "quote", 3),
            (1, "won", 10),
            (2, "lead", 1),
            (2, "quote", 2),
            (2, "lost", 5),
            (3, "lead", 8),
            (4, "lead", 9),
            (4, "lost", 11),
        ] {
            b.push(case as i64, act, day * DAY, None);
        }
        for (case, channel, value, reason) in
            [(1, "web", "100.5", ""), (2, "web", "50", "price"), (3, "fair", "20", ""), (4, "fair", "7", "timing")]
        {
            b.case_attribute(case as i64, "channel", channel);
            b.case_attribute(case as i64, "amount", value);
            if !reason.is_empty() {
                b.case_attribute(case as i64, "lost_reason", reason);
            }
        }
        b.build()
    }

    fn cfg() -> OutcomeConfig {
        OutcomeConfig {
            won_activities: vec!["won".into()],
            lost_activities: vec!["lost".into()],
            value_attribute: Some("amount".into()),
            lost_reason_attribute: Some("lost_reason".into()),
        }
    }

    #[test]
    fn outcome_counts_rates_and_cycle_times() {
        let o = outcomes(&log(), &cfg());
        assert_eq!((o.cases, o.won, o.lost, o.open), (4, 1, 2, 1));
        assert_eq!(o.win_rate, Some(1.0 / 3.0));
        // Cycles: 10, 4 and 2 days.
        assert_eq!(o.median_cycle_seconds, Some(4.0 * 86_400.0));
        assert_eq!(o.mean_cycle_seconds, Some(16.0 / 3.0 * 86_400.0));
        assert_eq!((o.won_value, o.open_value), (100.5, 20.0));
    }

    #[test]
    fn segments_split_by_attribute() {
        let s = segments(&log(), &cfg(), "channel");
        let names: Vec<_> = s.iter().map(|s| (s.value.as_str(), s.outcome.cases, s.outcome.win_rate)).collect();
        assert_eq!(names, [("fair", 2, Some(0.0)), ("web", 2, Some(0.5))]);
        assert!(segments(&log(), &cfg(), "region").is_empty());
    }

    #[test]
    fn lost_cases_by_stage_with_reasons() {
        let l = lost_reasons(&log(), &cfg());
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].activity.as_str(), l[0].lost, l[0].reasons.clone()), ("lead", 1, vec![("timing".into(), 1)]));
        assert_eq!((l[1].activity.as_str(), l[1].reasons.clone()), ("quote", vec![("price".into(), 1)]));
    }

    #[test]
    fn trend_buckets_fill_gaps() {
        let t = trend(&log(), &cfg(), 0, 4 * DAY);
        let rows: Vec<_> = t.iter().map(|b| (b.start / DAY, b.started, b.won, b.lost)).collect();
        assert_eq!(rows, [(0, 2, 1, 1), (4, 0, 0, 0), (8, 2, 0, 1)]);
    }
}
