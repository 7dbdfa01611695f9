//! Ids for directly-follows pairs (a, b), ordered source-major so that all edges leaving one
//! activity form one contiguous range of ids.
//!
//! With up to [`DENSE_LIMIT`] activities the id is simply `a * n + b` (at most 1 M slots, a few
//! MB of counters): no hashing in the hot loops. Logs with more distinct activities (free-text
//! activity names) get compact ids from a hash map instead of an n² table.

use std::ops::Range;

use rustc_hash::FxHashMap;

use crate::EventLog;

pub(crate) const DENSE_LIMIT: usize = 1024;

pub(crate) enum EdgeIndex {
    Dense { n: usize },
    Sparse { ids: FxHashMap<(u32, u32), u32>, pairs: Vec<(u32, u32)>, source_start: Vec<usize> },
}

impl EdgeIndex {
    pub fn for_log(log: &EventLog) -> Self {
        let n = log.activities().len();
        if n <= DENSE_LIMIT {
            return EdgeIndex::Dense { n };
        }
        let mut seen: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        for_each_transition(log, |_, a, b| {
            seen.entry((a, b)).or_insert(0);
        });
        let mut pairs: Vec<(u32, u32)> = seen.into_keys().collect();
        pairs.sort_unstable();
        let ids = pairs.iter().enumerate().map(|(i, &p)| (p, i as u32)).collect();
        let mut source_start = vec![0usize; n + 1];
        for &(a, _) in &pairs {
            source_start[a as usize + 1] += 1;
        }
        for a in 0..n {
            source_start[a + 1] += source_start[a];
        }
        EdgeIndex::Sparse { ids, pairs, source_start }
    }

    /// Number of ids (dense: n², including pairs that never occur).
    pub fn len(&self) -> usize {
        match self {
            EdgeIndex::Dense { n } => n * n,
            EdgeIndex::Sparse { pairs, .. } => pairs.len(),
        }
    }

    #[inline]
    pub fn id(&self, a: u32, b: u32) -> usize {
        match self {
            EdgeIndex::Dense { n } => a as usize * n + b as usize,
            EdgeIndex::Sparse { ids, .. } => ids[&(a, b)] as usize,
        }
    }

    pub fn pair(&self, id: usize) -> (u32, u32) {
        match self {
            EdgeIndex::Dense { n } => ((id / n) as u32, (id % n) as u32),
            EdgeIndex::Sparse { pairs, .. } => pairs[id],
        }
    }

    /// The ids of the edges leaving activity `a`.
    pub fn leaving(&self, a: usize) -> Range<usize> {
        match self {
            EdgeIndex::Dense { n } => a * n..(a + 1) * n,
            EdgeIndex::Sparse { source_start, .. } => source_start[a]..source_start[a + 1],
        }
    }
}

/// Calls `f(event_index, a, b)` for every directly-follows pair within a case, where
/// `event_index` is the index of `a`'s event.
#[inline]
pub(crate) fn for_each_transition(log: &EventLog, mut f: impl FnMut(usize, u32, u32)) {
    let acts = log.activity_column();
    let offsets = log.case_offsets();
    for w in offsets.windows(2) {
        for i in w[0]..w[1].saturating_sub(1) {
            f(i, acts[i], acts[i + 1]);
        }
    }
}
