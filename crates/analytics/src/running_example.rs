//! The running example of process mining (van der Aalst, *Process Mining*, Table 1.1): 6 cases,
//! 42 events, in pm4py's `running-example.csv`. The expected values below are counted by hand
//! from the table and match the book's directly-follows graph.

use crate::*;

/// (case, activity, timestamp, resource), in the file's order.
pub(crate) const ROWS: [(&str, &str, &str, &str); 42] = [
    ("3", "register request", "2010-12-30 14:32:00+01:00", "Pete"),
    ("3", "examine casually", "2010-12-30 15:06:00+01:00", "Mike"),
    ("3", "check ticket", "2010-12-30 16:34:00+01:00", "Ellen"),
    ("3", "decide", "2011-01-06 09:18:00+01:00", "Sara"),
    ("3", "reinitiate request", "2011-01-06 12:18:00+01:00", "Sara"),
    ("3", "examine thoroughly", "2011-01-06 13:06:00+01:00", "Sean"),
    ("3", "check ticket", "2011-01-08 11:43:00+01:00", "Pete"),
    ("3", "decide", "2011-01-09 09:55:00+01:00", "Sara"),
    ("3", "pay compensation", "2011-01-15 10:45:00+01:00", "Ellen"),
    ("2", "register request", "2010-12-30 11:32:00+01:00", "Mike"),
    ("2", "check ticket", "2010-12-30 12:12:00+01:00", "Mike"),
    ("2", "examine casually", "2010-12-30 14:16:00+01:00", "Sean"),
    ("2", "decide", "2011-01-05 11:22:00+01:00", "Sara"),
    ("2", "pay compensation", "2011-01-08 12:05:00+01:00", "Ellen"),
    ("1", "register request", "2010-12-30 11:02:00+01:00", "Pete"),
    ("1", "examine thoroughly", "2010-12-31 10:06:00+01:00", "Sue"),
    ("1", "check ticket", "2011-01-05 15:12:00+01:00", "Mike"),
    ("1", "decide", "2011-01-06 11:18:00+01:00", "Sara"),
    ("1", "reject request", "2011-01-07 14:24:00+01:00", "Pete"),
    ("6", "register request", "2011-01-06 15:02:00+01:00", "Mike"),
    ("6", "examine casually", "2011-01-06 16:06:00+01:00", "Ellen"),
    ("6", "check ticket", "2011-01-07 16:22:00+01:00", "Mike"),
    ("6", "decide", "2011-01-07 16:52:00+01:00", "Sara"),
    ("6", "pay compensation", "2011-01-16 11:47:00+01:00", "Mike"),
    ("5", "register request", "2011-01-06 09:02:00+01:00", "Ellen"),
    ("5", "examine casually", "2011-01-07 10:16:00+01:00", "Mike"),
    ("5", "check ticket", "2011-01-08 11:22:00+01:00", "Pete"),
    ("5", "decide", "2011-01-10 13:28:00+01:00", "Sara"),
    ("5", "reinitiate request", "2011-01-11 16:18:00+01:00", "Sara"),
    ("5", "check ticket", "2011-01-14 14:33:00+01:00", "Ellen"),
    ("5", "examine casually", "2011-01-16 15:50:00+01:00", "Mike"),
    ("5", "decide", "2011-01-19 11:18:00+01:00", "Sara"),
    ("5", "reinitiate request", "2011-01-20 12:48:00+01:00", "Sara"),
    ("5", "examine casually", "2011-01-21 09:06:00+01:00", "Sue"),
    ("5", "check ticket", "2011-01-21 11:34:00+01:00", "Pete"),
    ("5", "decide", "2011-01-23 13:12:00+01:00", "Sara"),
    ("5", "reject request", "2011-01-24 14:56:00+01:00", "Mike"),
    ("4", "register request", "2011-01-06 15:02:00+01:00", "Pete"),
    ("4", "check ticket", "2011-01-07 12:06:00+01:00", "Mike"),
    ("4", "examine thoroughly", "2011-01-08 14:43:00+01:00", "Sean"),
    ("4", "decide", "2011-01-09 12:02:00+01:00", "Sara"),
    ("4", "reject request", "2011-01-12 15:44:00+01:00", "Ellen"),
];

pub(crate) fn log() -> EventLog {
    let ts = |s: &str| time::parse_timestamp(s).unwrap();
    EventLog::from_rows(ROWS.iter().map(|&(c, a, t, r)| (c, a, ts(t), Some(r))))
}

const HOUR: f64 = 3_600.0;

fn names(v: &Variants, i: usize) -> Vec<&str> {
    v.names(&v.variants[i]).collect()
}

#[test]
fn columns() {
    let log = log();
    assert_eq!((log.cases(), log.events(), log.activities().len(), log.resources().len()), (6, 42, 8, 6));
    // Cases in order of first appearance: "3" is the file's first.
    assert_eq!(log.case_id(0), "3");
    assert_eq!(log.case_activities(0).len(), 9);
}

#[test]
fn directly_follows_graph() {
    let dfg = dfg(&log());
    let expected = [
        ("register request", "examine casually", 3),
        ("register request", "check ticket", 2),
        ("register request", "examine thoroughly", 1),
        ("examine casually", "check ticket", 4),
        ("examine casually", "decide", 2),
        ("examine thoroughly", "check ticket", 2),
        ("examine thoroughly", "decide", 1),
        ("check ticket", "decide", 6),
        ("check ticket", "examine casually", 2),
        ("check ticket", "examine thoroughly", 1),
        ("decide", "reinitiate request", 3),
        ("decide", "pay compensation", 3),
        ("decide", "reject request", 3),
        ("reinitiate request", "examine thoroughly", 1),
        ("reinitiate request", "check ticket", 1),
        ("reinitiate request", "examine casually", 1),
    ];
    assert_eq!(dfg.edges.len(), expected.len());
    for (a, b, f) in expected {
        assert_eq!(dfg.edge(a, b).map(|e| e.frequency), Some(f), "{a} → {b}");
    }
    assert_eq!(dfg.edges[0].from, "check ticket");
    let count = |v: &[ActivityCount]| v.iter().map(|c| (c.activity.clone(), c.count)).collect::<Vec<_>>();
    assert_eq!(count(&dfg.start_activities), [("register request".into(), 6)]);
    assert_eq!(count(&dfg.end_activities), [("pay compensation".into(), 3), ("reject request".into(), 3)]);
}

#[test]
fn performance_of_an_edge() {
    let dfg = performance_dfg(&log());
    // decide → reinitiate request: 3 h (case 3), 26 h 50 min and 25 h 30 min (case 5).
    let p = dfg.edge("decide", "reinitiate request").unwrap().performance.clone().unwrap();
    assert_eq!(p.min, 3.0 * HOUR);
    assert_eq!(p.max, 26.0 * HOUR + 50.0 * 60.0);
    assert_eq!(p.median, 25.5 * HOUR);
    assert_eq!(p.sum, 55.0 * HOUR + 20.0 * 60.0);
    assert!((p.mean - p.sum / 3.0).abs() < 1e-6);
    // Same frequencies as the frequency-only graph.
    let plain = dfg::dfg(&log());
    for e in &plain.edges {
        assert_eq!(dfg.edge(&e.from, &e.to).unwrap().frequency, e.frequency);
    }
    // An even count: the median is the mean of the two middle values (pandas).
    let p = dfg.edge("examine casually", "decide").unwrap().performance.clone().unwrap();
    assert_eq!(p.median, p.mean);
}

#[test]
fn variants_are_the_six_cases() {
    let v = variants(&log());
    assert_eq!((v.cases, v.variants.len()), (6, 6));
    assert!(v.variants.iter().all(|x| x.count == 1));
    // Ties are ordered by the sequence of names.
    assert_eq!(names(&v, 0), ["register request", "check ticket", "examine casually", "decide", "pay compensation"]);
    assert_eq!(names(&v, 5), ["register request", "examine thoroughly", "check ticket", "decide", "reject request"]);
    // Two cases that share a sequence make one variant of count 2.
    let mut rows: Vec<_> = ROWS.iter().map(|&(c, a, t, _)| (c, a, time::parse_timestamp(t).unwrap(), None)).collect();
    rows.extend([("7", "register request", 0, None), ("7", "examine thoroughly", 1, None)]);
    rows.extend([("7", "check ticket", 2, None), ("7", "decide", 3, None), ("7", "reject request", 4, None)]);
    let v = variants(&EventLog::from_rows(rows));
    assert_eq!((v.variants.len(), v.variants[0].count), (6, 2));
    assert_eq!(names(&v, 0)[1], "examine thoroughly");
}

#[test]
fn funnel_strict_and_any() {
    let f = funnel(&log(), &["register request", "examine casually", "decide", "pay compensation", "not there"]);
    let got: Vec<_> = f.stages.iter().map(|s| (s.strict, s.any)).collect();
    assert_eq!(got, [(6, 6), (4, 4), (4, 6), (3, 3), (0, 0)]);
    assert_eq!(f.stages[1].strict_conversion, Some(4.0 / 6.0));
    assert_eq!(f.stages[2].any_conversion, Some(1.0));
    assert_eq!(f.stages[3].strict_conversion, Some(0.75));
    assert_eq!(f.stages[4].strict_conversion, Some(0.0));
}

#[test]
fn rework_and_loops() {
    let r = rework(&log(), 3);
    assert_eq!((r.cases, r.cases_with_rework), (6, 2));
    let get = |name: &str| r.activities.iter().find(|a| a.activity == name).unwrap();
    assert_eq!((get("check ticket").cases_repeating, get("check ticket").extra_occurrences), (2, 3));
    assert_eq!((get("examine casually").cases_repeating, get("examine casually").extra_occurrences), (1, 2));
    assert_eq!(get("decide").reached, 6);
    assert!(r.activities.iter().all(|a| a.activity != "register request"));
    let top = &r.top_pairs[0];
    assert_eq!((top.from.as_str(), top.to.as_str(), top.cases), ("check ticket", "decide", 2));
    assert_eq!(r.top_pairs.len(), 3);
}

#[test]
fn stage_times_and_censoring() {
    let log = log();
    let all_closed = stage_times(&log, &StageTimeOptions::default());
    let decide = all_closed.get("decide").unwrap();
    assert_eq!((decide.count, decide.censored), (9, 0));
    // Time in "decide" is the time to the next event, i.e. the edges leaving it.
    let dfg = performance_dfg(&log);
    let sum: f64 = dfg.edges.iter().filter(|e| e.from == "decide").map(|e| e.performance.as_ref().unwrap().sum).sum();
    assert!((decide.total_seconds - sum).abs() < 1e-6);
    assert!(all_closed.get("pay compensation").is_none());

    // Only "reject request" closes a case: the three paid cases are still open in their stage.
    let opts = StageTimeOptions { terminal_activities: vec!["reject request".into()], ..Default::default() };
    let open = stage_times(&log, &opts);
    assert_eq!(open.open_cases, 3);
    let pay = open.get("pay compensation").unwrap();
    assert_eq!((pay.count, pay.censored, pay.median_seconds, pay.km_median_seconds), (0, 3, None, None));
    assert_eq!(open.get("decide").unwrap().count, 9);
}

#[test]
fn bottleneck_ranking_explains_itself() {
    let log = log();
    let cfg = BottleneckConfig {
        lost_activities: vec!["reject request".into()],
        terminal_activities: vec!["pay compensation".into()],
        sla_seconds: vec![("decide".into(), 24.0 * HOUR)],
        ..BottleneckConfig::default()
    };
    let b = bottlenecks(&log, &cfg);
    assert_eq!(b.lost_cases, 3);
    let shares: f64 = b.ranking.iter().map(|x| x.time_share).sum();
    assert!((shares - 1.0).abs() < 1e-9);
    assert!(b.ranking.iter().all(|x| x.activity != "reject request" && x.activity != "pay compensation"));
    let decide = b.ranking.iter().find(|x| x.activity == "decide").unwrap();
    // Every rejected case was rejected right after "decide".
    assert_eq!((decide.reached, decide.lost, decide.drop_off), (6, 3, 0.5));
    let w = Weights::default();
    let score = w.time_share * decide.time_share + w.sla_overrun * decide.sla_overrun + w.drop_off * decide.drop_off;
    assert!((decide.score - score).abs() < 1e-12);
    assert_eq!(b.ranking[0].activity, "decide");
    assert!(decide.explanation_en.starts_with("Stage decide holds "), "{}", decide.explanation_en);
    assert!(decide.explanation_en.ends_with("and loses 50% of the deals that reach it."));
    assert!(decide.explanation_en.contains("its SLA of 1.0 days"), "{}", decide.explanation_en);
    assert!(decide.explanation_zh.contains("有 50% 在此流失"), "{}", decide.explanation_zh);
}

#[test]
fn analyze_equals_the_parts() {
    let log = log();
    let cfg = AnalysisConfig {
        funnel_stages: vec!["register request".into(), "decide".into()],
        bottleneck: BottleneckConfig { lost_activities: vec!["reject request".into()], ..Default::default() },
        top_pairs: 5,
    };
    let a = analyze(&log, &cfg);
    assert_eq!(a.dfg, performance_dfg(&log));
    assert_eq!(a.variants, variants(&log));
    assert_eq!(a.funnel, funnel(&log, &["register request", "decide"]));
    assert_eq!(a.stage_times, stage_times(&log, &cfg.bottleneck.stage_time_options()));
    assert_eq!(a.rework, rework(&log, 5));
    assert_eq!(a.bottlenecks, bottlenecks(&log, &cfg.bottleneck));
}

#[test]
fn order_of_rows_and_appending_do_not_matter() {
    let ts = |s: &str| time::parse_timestamp(s).unwrap();
    let whole = log();
    let reversed = EventLog::from_rows(ROWS.iter().rev().map(|&(c, a, t, r)| (c, a, ts(t), Some(r))));
    let mut appended = EventLog::from_rows(ROWS[..20].iter().map(|&(c, a, t, r)| (c, a, ts(t), Some(r))));
    // Rows 20.. hold new cases and the rest of case "1" (rows 14..19 started it).
    let mut tail: Vec<_> = ROWS[20..].iter().map(|&(c, a, t, r)| (c, a, ts(t), Some(r))).collect();
    tail.swap(0, 10);
    appended.append(tail);
    for other in [&reversed, &appended] {
        assert_eq!(performance_dfg(other), performance_dfg(&whole));
        assert_eq!(variants(other).variants.len(), 6);
        assert_eq!(other.events(), 42);
    }
    let mut split = EventLog::from_rows(ROWS[..17].iter().map(|&(c, a, t, r)| (c, a, ts(t), Some(r))));
    split.append(ROWS[17..].iter().map(|&(c, a, t, r)| (c, a, ts(t), Some(r))));
    assert_eq!(performance_dfg(&split), performance_dfg(&whole));
    assert_eq!(split.case_activities(2), whole.case_activities(2));
}

#[test]
fn empty_and_tiny_logs() {
    let empty = EventLog::from_rows(std::iter::empty::<(&str, &str, i64, Option<&str>)>());
    let cfg = AnalysisConfig {
        funnel_stages: vec!["a".into()],
        bottleneck: BottleneckConfig { lost_activities: vec!["lost".into()], ..Default::default() },
        top_pairs: 3,
    };
    let a = analyze(&empty, &cfg);
    assert_eq!((a.dfg.cases, a.variants.variants.len(), a.funnel.cases), (0, 0, 0));
    assert!(a.bottlenecks.ranking.is_empty());
    let one = EventLog::from_rows([("x", "a", 5_i64, None)]);
    let a = analyze(&one, &cfg);
    assert_eq!((a.dfg.cases, a.dfg.edges.len(), a.funnel.stages[0].strict), (1, 0, 1));
    // Its only case is open in "a", with zero time so far.
    assert_eq!(a.stage_times.get("a").map(|s| (s.count, s.censored)), Some((0, 1)));
}

#[test]
fn kaplan_meier_uses_open_stays() {
    let day = 86_400_000_000_i64;
    // Four finished stays in "q" (1, 2, 3, 10 days) and two deals still in "q" for 4 days.
    let mut rows = Vec::new();
    for (i, d) in [1, 2, 3, 10].into_iter().enumerate() {
        rows.push((i as i64, "q", 0, None));
        rows.push((i as i64, "won", d * day, None));
    }
    rows.extend([(8, "q", 6 * day, None), (9, "q", 6 * day, None)]);
    let log = EventLog::from_rows(rows);
    let opts =
        StageTimeOptions { terminal_activities: vec!["won".into()], as_of: Some(10 * day), ..Default::default() };
    let q = stage_times(&log, &opts).get("q").cloned().unwrap();
    assert_eq!((q.count, q.censored), (4, 2));
    assert_eq!(q.median_seconds, Some(2.5 * 86_400.0));
    // S(1)=5/6, S(2)=4/6, S(3)=3/6 → 0.5 at 3 days (the open stays are still at risk then).
    assert_eq!(q.km_median_seconds, Some(3.0 * 86_400.0));
}
