//! Bottleneck ranking: which stage costs the most, with the reasons spelled out.
//!
//! Three components, each in 0..=1, so that a reader can check the score by hand:
//! * `time_share` — the stage's share of all finished time in the log (the sum over cases of
//!   first-to-last event time; every finished stay belongs to exactly one stage);
//! * `sla_overrun` — how far the median stay exceeds the stage's SLA: `median / sla − 1`,
//!   clamped to 0..=1 (0 within the SLA or when no SLA is given; 1 at twice the SLA or more);
//! * `drop_off` — of the cases that reached the stage, the share that was lost from it (their
//!   last stage before the lost event, or before the end of a case marked lost).
//!
//! `score = w_time · time_share + w_sla · sla_overrun + w_drop · drop_off`, weights 0.5 / 0.25 /
//! 0.25 by default. Terminal activities (won, lost) are not ranked.

use serde::Serialize;

use crate::edges::EdgeIndex;
use crate::rework::{CaseCounts, case_counts};
use crate::stage_time::{StageTimeOptions, StageTimes, from_durations, open_stays};
use crate::transitions::Transitions;
use crate::{EventLog, split_cases};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BottleneckConfig {
    /// Expected time per activity (the stage SLA), in seconds.
    pub sla_seconds: Vec<(String, f64)>,
    /// Activities that mean the case was lost (`lost`, `Lost`, `丢单`).
    pub lost_activities: Vec<String>,
    /// A case attribute marking lost cases, e.g. `("outcome", "lost")`.
    pub lost_attribute: Option<(String, String)>,
    /// Other activities that close a case (`won`). With the lost activities they decide which
    /// cases are still open, and none of them is ranked.
    pub terminal_activities: Vec<String>,
    /// "Now" for open cases (µs); defaults to the log's latest timestamp.
    pub as_of: Option<i64>,
    pub weights: Weights,
}

impl BottleneckConfig {
    /// The options for [`crate::stage_times`] that agree with this configuration.
    pub fn stage_time_options(&self) -> StageTimeOptions {
        let mut terminal = self.terminal_activities.clone();
        terminal.extend(self.lost_activities.iter().cloned());
        StageTimeOptions {
            terminal_activities: terminal,
            closed_attribute: self.lost_attribute.clone(),
            as_of: self.as_of,
        }
    }

    fn tracks_losses(&self) -> bool {
        !self.lost_activities.is_empty() || self.lost_attribute.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Weights {
    pub time_share: f64,
    pub sla_overrun: f64,
    pub drop_off: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self { time_share: 0.5, sla_overrun: 0.25, drop_off: 0.25 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bottlenecks {
    /// Finished time over all cases, seconds: the denominator of `time_share`.
    pub total_seconds: f64,
    pub lost_cases: u64,
    pub weights: Weights,
    /// Highest score first; ties by name.
    pub ranking: Vec<Bottleneck>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bottleneck {
    pub activity: String,
    pub score: f64,
    pub time_share: f64,
    pub total_seconds: f64,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub sla_seconds: Option<f64>,
    /// `median / sla`.
    pub sla_ratio: Option<f64>,
    pub sla_overrun: f64,
    /// Cases that reached the stage.
    pub reached: u64,
    /// Cases lost from this stage.
    pub lost: u64,
    /// `lost / reached`.
    pub drop_off: f64,
    pub explanation_en: String,
    pub explanation_zh: String,
}

pub fn bottlenecks(log: &EventLog, cfg: &BottleneckConfig) -> Bottlenecks {
    let open = open_stays(log, &cfg.stage_time_options());
    let mut t = Transitions::build(log);
    let (_, durations) = t.summarize(log.activities().len(), false, Some(&open.per_activity));
    let stage_times = from_durations(log, &durations, &open);
    let counts = case_counts(log, &EdgeIndex::for_log(log));
    let lost = lost_from(log, cfg);
    rank(log, cfg, &stage_times, &counts, &lost)
}

/// Per activity, the cases lost from it; and the number of lost cases.
pub(crate) struct LostFrom {
    pub per_activity: Vec<u64>,
    pub cases: u64,
}

pub(crate) fn lost_from(log: &EventLog, cfg: &BottleneckConfig) -> LostFrom {
    let n = log.activities().len();
    let ids = |names: &[String]| {
        let mut flags = vec![false; n];
        names.iter().filter_map(|s| log.activity_id(s)).for_each(|a| flags[a as usize] = true);
        flags
    };
    let is_lost = ids(&cfg.lost_activities);
    let mut terminal = ids(&cfg.terminal_activities);
    terminal.iter_mut().zip(&is_lost).for_each(|(t, l)| *t |= l);
    let attr = cfg.lost_attribute.as_ref().and_then(|(k, v)| Some((log.case_attribute(k)?, v.as_str())));
    if !is_lost.contains(&true) && attr.is_none() {
        return LostFrom { per_activity: vec![0; n], cases: 0 };
    }
    let acts = log.activity_column();
    let (left, right) = split_cases(log, |range| {
        let mut per_activity = vec![0u64; n];
        let mut cases = 0;
        for c in range {
            let events = &acts[log.case_range(c)];
            let lost_at = events.iter().position(|&a| is_lost[a as usize]);
            let by_attr = attr.is_some_and(|(col, v)| col.get(c) == Some(v));
            let end = match (lost_at, by_attr) {
                (Some(p), _) => p,
                (None, true) => events.len(),
                (None, false) => continue,
            };
            cases += 1;
            if let Some(&a) = events[..end].iter().rev().find(|&&a| !terminal[a as usize]) {
                per_activity[a as usize] += 1;
            }
        }
        (per_activity, cases)
    });
    let per_activity = left.0.iter().zip(&right.0).map(|(a, b)| a + b).collect();
    LostFrom { per_activity, cases: left.1 + right.1 }
}

pub(crate) fn rank(
    log: &EventLog,
    cfg: &BottleneckConfig,
    stage_times: &StageTimes,
    counts: &CaseCounts,
    lost: &LostFrom,
) -> Bottlenecks {
    let w = cfg.weights;
    let total: f64 = stage_times.activities.iter().map(|s| s.total_seconds).sum();
    let closing: Vec<&String> = cfg.terminal_activities.iter().chain(&cfg.lost_activities).collect();
    let mut ranking: Vec<Bottleneck> = (0..log.activities().len())
        .filter(|&a| counts.reached[a] > 0)
        .map(|a| log.activity_name(a as u32))
        .filter(|name| !closing.iter().any(|t| t.as_str() == *name))
        .map(|name| {
            let a = log.activity_id(name).expect("from the log") as usize;
            let st = stage_times.get(name);
            let total_seconds = st.map_or(0.0, |s| s.total_seconds);
            let median = st.and_then(|s| s.median_seconds);
            let sla = cfg.sla_seconds.iter().find(|(k, _)| k == name).map(|(_, v)| *v).filter(|v| *v > 0.0);
            let sla_ratio = median.zip(sla).map(|(m, s)| m / s);
            let time_share = if total > 0.0 { total_seconds / total } else { 0.0 };
            let sla_overrun = sla_ratio.map_or(0.0, |r| (r - 1.0).clamp(0.0, 1.0));
            let drop_off = lost.per_activity[a] as f64 / counts.reached[a] as f64;
            let mut b = Bottleneck {
                activity: name.to_string(),
                score: w.time_share * time_share + w.sla_overrun * sla_overrun + w.drop_off * drop_off,
                time_share,
                total_seconds,
                median_seconds: median,
                p90_seconds: st.and_then(|s| s.p90_seconds),
                sla_seconds: sla,
                sla_ratio,
                sla_overrun,
                reached: counts.reached[a],
                lost: lost.per_activity[a],
                drop_off,
                explanation_en: String::new(),
                explanation_zh: String::new(),
            };
            b.explanation_en = explain_en(&b, cfg.tracks_losses());
            b.explanation_zh = explain_zh(&b, cfg.tracks_losses());
            b
        })
        .collect();
    ranking.sort_by(|x, y| y.score.total_cmp(&x.score).then_with(|| x.activity.cmp(&y.activity)));
    Bottlenecks { total_seconds: total, lost_cases: lost.cases, weights: w, ranking }
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn explain_en(b: &Bottleneck, losses: bool) -> String {
    let mut times = Vec::new();
    if let Some(m) = b.median_seconds {
        times.push(format!("median {}", duration_en(m)));
    }
    if let Some(p) = b.p90_seconds {
        times.push(format!("p90 {}", duration_en(p)));
    }
    if let (Some(r), Some(s)) = (b.sla_ratio, b.sla_seconds) {
        times.push(format!("{r:.1}× its SLA of {}", duration_en(s)));
    }
    let mut s = format!("Stage {} holds {} of cycle time", b.activity, percent(b.time_share));
    if !times.is_empty() {
        s += &format!(" ({})", times.join(", "));
    }
    if losses {
        s += &format!(" and loses {} of the deals that reach it", percent(b.drop_off));
    }
    s + "."
}

fn explain_zh(b: &Bottleneck, losses: bool) -> String {
    let mut times = Vec::new();
    if let Some(m) = b.median_seconds {
        times.push(format!("中位数 {}", duration_zh(m)));
    }
    if let Some(p) = b.p90_seconds {
        times.push(format!("P90 {}", duration_zh(p)));
    }
    if let (Some(r), Some(s)) = (b.sla_ratio, b.sla_seconds) {
        times.push(format!("为 SLA（{}）的 {r:.1} 倍", duration_zh(s)));
    }
    let mut s = format!("阶段「{}」占用了 {} 的周期时间", b.activity, percent(b.time_share));
    if !times.is_empty() {
        s += &format!("（{}）", times.join("，"));
    }
    if losses {
        s += &format!("，到达该阶段的商机中有 {} 在此流失", percent(b.drop_off));
    }
    s + "。"
}

/// A duration in the largest unit that keeps it at 1 or more.
fn scaled(seconds: f64) -> (f64, usize) {
    const UNITS: [f64; 4] = [86_400.0, 3_600.0, 60.0, 1.0];
    let i = UNITS.iter().position(|&u| seconds >= u).unwrap_or(3);
    (seconds / UNITS[i], i)
}

fn duration_en(seconds: f64) -> String {
    let (v, i) = scaled(seconds);
    let unit = ["days", "hours", "minutes", "seconds"][i];
    if i == 3 { format!("{v:.0} {unit}") } else { format!("{v:.1} {unit}") }
}

fn duration_zh(seconds: f64) -> String {
    let (v, i) = scaled(seconds);
    let unit = ["天", "小时", "分钟", "秒"][i];
    if i == 3 { format!("{v:.0} {unit}") } else { format!("{v:.1} {unit}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;

    #[test]
    fn lost_by_case_attribute_counts_against_the_last_stage() {
        let log = EventLog::from_rows_with_attributes(
            [
                ("a", "lead", 0, None),
                ("a", "quote", DAY, None),
                ("b", "lead", 0, None),
                ("b", "quote", 2 * DAY, None),
                ("b", "won", 3 * DAY, None),
            ],
            [("a", "outcome", "lost"), ("b", "outcome", "won")],
        );
        let cfg = BottleneckConfig {
            lost_attribute: Some(("outcome".into(), "lost".into())),
            terminal_activities: vec!["won".into()],
            ..Default::default()
        };
        let b = bottlenecks(&log, &cfg);
        assert_eq!(b.lost_cases, 1);
        let quote = b.ranking.iter().find(|x| x.activity == "quote").unwrap();
        assert_eq!((quote.reached, quote.lost, quote.drop_off), (2, 1, 0.5));
        let lead = b.ranking.iter().find(|x| x.activity == "lead").unwrap();
        assert_eq!((lead.lost, lead.time_share), (0, 3.0 / 4.0));
        // Case "a" has no closing event but is marked lost: closed, so nothing is censored.
        let times = crate::stage_times(&log, &cfg.stage_time_options());
        assert_eq!((times.open_cases, times.get("quote").unwrap().censored), (0, 0));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_en(12.0 * 86_400.0), "12.0 days");
        assert_eq!(duration_en(5_400.0), "1.5 hours");
        assert_eq!(duration_en(90.0), "1.5 minutes");
        assert_eq!(duration_en(42.0), "42 seconds");
        assert_eq!(duration_zh(30.0 * 86_400.0), "30.0 天");
    }
}
