//! The engine at the product's target size: 1,000,000 deals, about 10,000,000 stage events.
//!
//! `cargo bench -p salesflow-analytics --bench engine`
//!
//! Times (a) building the columns from rows, (b) the full recompute (`analyze`: performance
//! DFG, variants, funnel, time in stage with censoring, rework, bottlenecks), (c) the
//! performance DFG alone, plus each computation on its own; prints the column store's bytes per
//! event first. Target: (b) ≤ 1 s on 2 cores. (j)–(m) time the outcome computations the
//! analytics report adds: outcomes, lost reasons per stage, weekly trend, conformance.
//!
//! The log is generated here, deterministically: a sales process of 11 activities with the
//! seed's loop (quote rejected → tiered offer → negotiation → quote again), repeated needs
//! analysis, losses from every stage, and about 8 % of the deals still open.

use std::sync::LazyLock;

use salesflow_analytics::{AnalysisConfig, BottleneckConfig, EventLog, StageTimeOptions};

const CASES: u32 = 1_000_000;
const DAY: i64 = 86_400_000_000;

const ACTIVITIES: [&str; 11] = [
    "lead",
    "qualified",
    "contacted",
    "needs analysis",
    "proposal",
    "quote",
    "negotiation",
    "tiered offer",
    "contract",
    "won",
    "lost",
];
const RESOURCES: [&str; 8] = ["ann", "bo", "chen", "dara", "eli", "fang", "gus", "hui"];
const LOST: u8 = 10;
const WON: u8 = 9;

/// SplitMix64: small, fast, and the same numbers on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }

    /// Exponentially distributed, mean `mean` (µs).
    fn exp(&mut self, mean: i64) -> i64 {
        let u = ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        (-u.ln() * mean as f64) as i64
    }
}

/// One row, compactly: case, activity, timestamp (µs), resource.
type Row = (u32, u8, i64, u8);

fn generate() -> Vec<Row> {
    let mut rng = Rng(7);
    let mut rows = Vec::with_capacity(10_200_000);
    // Mean stay per activity (days): negotiation is the slow one.
    let stay = [1, 2, 3, 4, 3, 2, 9, 2, 5, 0, 0].map(|d: i64| d * DAY + DAY / 4);
    for case in 0..CASES {
        let mut t = 1_600_000_000 * 1_000_000 + (case as i64) * 25_000_000;
        let mut push = |rng: &mut Rng, act: u8, t: &mut i64| {
            rows.push((case, act, *t, (rng.next() % RESOURCES.len() as u64) as u8));
            *t += rng.exp(stay[act as usize]);
        };
        // Early stages, each with a chance to be skipped, to lose the deal, or to stop there
        // (still open); needs analysis is sometimes done again after another contact.
        let mut outcome = None;
        'walk: {
            for act in 0..=4u8 {
                if act > 0 && act != 3 && rng.chance(0.12) {
                    continue;
                }
                push(&mut rng, act, &mut t);
                while act == 3 && rng.chance(0.27) {
                    push(&mut rng, 2, &mut t);
                    push(&mut rng, 3, &mut t);
                }
                if rng.chance(0.015) {
                    break 'walk;
                }
                if act > 0 && rng.chance(0.04) {
                    outcome = Some(LOST);
                    break 'walk;
                }
            }
            // quote → negotiation, looping through the tiered offer (or straight back to a new
            // quote) when the quote is rejected.
            let mut rounds = 0;
            loop {
                push(&mut rng, 5, &mut t);
                push(&mut rng, 6, &mut t);
                if rng.chance(0.015) {
                    break 'walk;
                }
                rounds += 1;
                if rounds < 6 && rng.chance(0.45) {
                    if rng.chance(0.7) {
                        push(&mut rng, 7, &mut t);
                    }
                    continue;
                }
                break;
            }
            if rng.chance(0.25) {
                outcome = Some(LOST);
                break 'walk;
            }
            push(&mut rng, 8, &mut t);
            if rng.chance(0.1) {
                // Contract terms renegotiated.
                push(&mut rng, 6, &mut t);
                push(&mut rng, 8, &mut t);
            }
            outcome = Some(if rng.chance(0.9) { WON } else { LOST });
        }
        if let Some(end) = outcome {
            push(&mut rng, end, &mut t);
        }
    }
    rows
}

static ROWS: LazyLock<Vec<Row>> = LazyLock::new(generate);
static LOG: LazyLock<EventLog> = LazyLock::new(|| build(&ROWS));

fn build(rows: &[Row]) -> EventLog {
    EventLog::from_rows(
        rows.iter().map(|&(c, a, t, r)| (i64::from(c), ACTIVITIES[a as usize], t, Some(RESOURCES[r as usize]))),
    )
}

fn config() -> AnalysisConfig {
    let sla = [("qualified", 2), ("needs analysis", 5), ("quote", 3), ("negotiation", 7), ("contract", 5)];
    AnalysisConfig {
        funnel_stages: ["lead", "qualified", "needs analysis", "proposal", "quote", "negotiation", "contract", "won"]
            .map(String::from)
            .to_vec(),
        bottleneck: BottleneckConfig {
            sla_seconds: sla.iter().map(|&(a, d)| (a.to_string(), d as f64 * 86_400.0)).collect(),
            lost_activities: vec!["lost".into()],
            terminal_activities: vec!["won".into()],
            ..BottleneckConfig::default()
        },
        top_pairs: 10,
    }
}

fn main() {
    let log = &*LOG;
    println!(
        "log: {} cases, {} events, {} activities; columns {:.1} bytes/event ({:.0} MB), all heap {:.1} bytes/event",
        log.cases(),
        log.events(),
        log.activities().len(),
        log.column_bytes() as f64 / log.events() as f64,
        log.column_bytes() as f64 / 1e6,
        log.heap_bytes() as f64 / log.events() as f64,
    );
    let a = salesflow_analytics::analyze(log, &config());
    if let Some(top) = a.bottlenecks.ranking.first() {
        println!("top bottleneck: {}\n                {}", top.explanation_en, top.explanation_zh);
    }
    println!("variants: {}, open cases: {}", a.variants.variants.len(), a.stage_times.open_cases);
    divan::main();
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn a_build_columns(b: divan::Bencher) {
    let rows = &*ROWS;
    b.bench(|| build(rows));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn b_full_recompute(b: divan::Bencher) {
    let (log, cfg) = (&*LOG, config());
    b.bench(|| salesflow_analytics::analyze(log, &cfg));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn c_performance_dfg(b: divan::Bencher) {
    let log = &*LOG;
    b.bench(|| salesflow_analytics::performance_dfg(log));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn d_frequency_dfg(b: divan::Bencher) {
    let log = &*LOG;
    b.bench(|| salesflow_analytics::dfg(log));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn e_variants(b: divan::Bencher) {
    let log = &*LOG;
    b.bench(|| salesflow_analytics::variants(log));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn f_funnel(b: divan::Bencher) {
    let (log, cfg) = (&*LOG, config());
    let stages: Vec<&str> = cfg.funnel_stages.iter().map(String::as_str).collect();
    b.bench(|| salesflow_analytics::funnel(log, &stages));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn g_stage_times(b: divan::Bencher) {
    let (log, cfg) = (&*LOG, config());
    let opts: StageTimeOptions = cfg.bottleneck.stage_time_options();
    b.bench(|| salesflow_analytics::stage_times(log, &opts));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn h_rework(b: divan::Bencher) {
    let log = &*LOG;
    b.bench(|| salesflow_analytics::rework(log, 10));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn i_bottlenecks(b: divan::Bencher) {
    let (log, cfg) = (&*LOG, config());
    b.bench(|| salesflow_analytics::bottlenecks(log, &cfg.bottleneck));
}

fn outcome_config() -> salesflow_analytics::OutcomeConfig {
    salesflow_analytics::OutcomeConfig {
        won_activities: vec!["won".into()],
        lost_activities: vec!["lost".into()],
        ..Default::default()
    }
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn j_outcomes(b: divan::Bencher) {
    let (log, cfg) = (&*LOG, outcome_config());
    b.bench(|| salesflow_analytics::outcomes(log, &cfg));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn k_lost_reasons(b: divan::Bencher) {
    let (log, cfg) = (&*LOG, outcome_config());
    b.bench(|| salesflow_analytics::lost_reasons(log, &cfg));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn l_weekly_trend(b: divan::Bencher) {
    let (log, cfg) = (&*LOG, outcome_config());
    b.bench(|| salesflow_analytics::trend(log, &cfg, 0, 7 * DAY));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn m_conformance(b: divan::Bencher) {
    let log = &*LOG;
    let pairs = [
        ("lead", "qualified"),
        ("qualified", "contacted"),
        ("contacted", "needs analysis"),
        ("needs analysis", "proposal"),
        ("proposal", "quote"),
        ("quote", "negotiation"),
        ("negotiation", "tiered offer"),
        ("tiered offer", "negotiation"),
        ("negotiation", "contract"),
        ("contract", "won"),
    ];
    let model = salesflow_analytics::ConformanceModel {
        starts: vec!["lead".into()],
        allowed: pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        main_path: ["lead", "qualified", "contacted", "needs analysis", "proposal", "quote", "negotiation", "contract"]
            .map(String::from)
            .to_vec(),
    };
    b.bench(|| salesflow_analytics::conformance(log, &model));
}
