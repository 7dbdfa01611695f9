//! The analytics engine: a columnar event log and the process-mining computations over it —
//! directly-follows graph (frequency and performance), variants, funnel, time in stage with
//! censoring, rework, and an explained bottleneck ranking. No I/O: the optional readers
//! (feature `formats`, on by default) parse CSV and XES from any reader the caller opens.
//!
//! Every computation is a pure function of `&EventLog` returning a serialisable struct; the
//! counts agree exactly with pm4py and the durations within a millisecond (see
//! `tests/pm4py.rs`). [`analyze`] computes everything at once, sharing the intermediate work.
//!
//! ```
//! use salesflow_analytics::{EventLog, performance_dfg};
//! let day = 86_400_000_000_i64;
//! let log = EventLog::from_rows([
//!     ("1", "lead", 0, None),
//!     ("1", "quote", 2 * day, None),
//!     ("2", "lead", 0, None),
//!     ("2", "quote", 4 * day, None),
//! ]);
//! let dfg = performance_dfg(&log);
//! let e = dfg.edge("lead", "quote").unwrap();
//! assert_eq!((e.frequency, e.performance.as_ref().unwrap().median), (2, 3.0 * 86_400.0));
//! ```

use std::ops::Range;

use serde::Serialize;

mod bottleneck;
mod conformance;
#[cfg(feature = "formats")]
pub mod csv;
mod dfg;
pub mod domain;
mod edges;
mod funnel;
mod log;
mod outcomes;
#[cfg(feature = "formats")]
mod read;
mod rework;
#[cfg(test)]
mod running_example;
mod stage_time;
mod stats;
pub mod time;
mod transitions;
mod variants;
#[cfg(feature = "formats")]
pub mod xes;
#[cfg(feature = "formats")]
pub mod xes_write;

pub use bottleneck::{Bottleneck, BottleneckConfig, Bottlenecks, Weights, bottlenecks};
pub use conformance::{Conformance, ConformanceModel, DisallowedMove, SkippedStage, conformance};
pub use dfg::{ActivityCount, Dfg, DfgEdge, EdgePerformance, dfg, performance_dfg, start_end};
pub use funnel::{Funnel, FunnelStage, funnel};
pub use log::{CaseAttribute, CaseKey, EventLog, Interner, IntoMicros, LogBuilder, NO_RESOURCE};
pub use outcomes::{
    LostAtStage, Outcome, OutcomeConfig, Segment, TrendBucket, lost_reasons, outcomes, segments, trend,
};
#[cfg(feature = "formats")]
pub use read::{ReadError, ReadReport};
pub use rework::{ActivityRework, PairRework, Rework, rework};
pub use stage_time::{StageTime, StageTimeOptions, StageTimes, stage_times};
pub use variants::{Variant, Variants, variants};

/// What [`analyze`] needs beyond the log.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisConfig {
    /// The stages of the funnel, in order (activity names).
    pub funnel_stages: Vec<String>,
    /// Terminal and lost activities, SLAs, "now": also decide which stays are censored.
    pub bottleneck: BottleneckConfig,
    /// How many repeated pairs the rework report lists.
    pub top_pairs: usize,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self { funnel_stages: Vec::new(), bottleneck: BottleneckConfig::default(), top_pairs: 10 }
    }
}

/// Everything the engine computes, from one call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub dfg: Dfg,
    pub variants: Variants,
    pub funnel: Funnel,
    pub stage_times: StageTimes,
    pub rework: Rework,
    pub bottlenecks: Bottlenecks,
}

/// The full recompute. Equal to calling [`performance_dfg`], [`variants`], [`funnel`],
/// [`stage_times`], [`rework`] and [`bottlenecks`] one by one, but the transition durations are
/// bucketed once and the per-case passes run side by side on the available cores.
pub fn analyze(log: &EventLog, cfg: &AnalysisConfig) -> Analysis {
    let stage_opts = cfg.bottleneck.stage_time_options();
    let edge_index = edges::EdgeIndex::for_log(log);
    let stages: Vec<&str> = cfg.funnel_stages.iter().map(String::as_str).collect();
    let ((edge_stats, durations, open), (variants, (funnel, counts, lost))) = rayon::join(
        || {
            let open = stage_time::open_stays(log, &stage_opts);
            let mut t = transitions::Transitions::build(log);
            let (e, d) = t.summarize(log.activities().len(), true, Some(&open.per_activity));
            (e, d, open)
        },
        || {
            rayon::join(
                || variants::variants(log),
                || {
                    let (f, (c, l)) = rayon::join(
                        || funnel::funnel(log, &stages),
                        || {
                            rayon::join(
                                || rework::case_counts(log, &edge_index),
                                || bottleneck::lost_from(log, &cfg.bottleneck),
                            )
                        },
                    );
                    (f, c, l)
                },
            )
        },
    );
    let stage_times = stage_time::from_durations(log, &durations, &open);
    let bottlenecks = bottleneck::rank(log, &cfg.bottleneck, &stage_times, &counts, &lost);
    Analysis {
        dfg: dfg::from_edge_stats(log, &edge_stats),
        variants,
        funnel,
        rework: rework::from_counts(log, &edge_index, &counts, cfg.top_pairs),
        stage_times,
        bottlenecks,
    }
}

/// Runs `f` on the two halves of the cases in parallel (2 cores is the target machine).
pub(crate) fn split_cases<T: Send>(log: &EventLog, f: impl Fn(Range<usize>) -> T + Sync) -> (T, T) {
    let (n, mid) = (log.cases(), log.cases() / 2);
    rayon::join(|| f(0..mid), || f(mid..n))
}
