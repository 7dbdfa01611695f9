//! The event log as columns.
//!
//! Events are stored sorted by case, then by timestamp, then by the order they were given in
//! (a stable sort, as pm4py's `format_dataframe` does), in a CSR layout: case `c` owns the
//! events `case_offsets[c]..case_offsets[c + 1]` of every column. Activities and resources are
//! interned to `u32` ids, so one event costs 16 bytes (activity 4, timestamp 8, resource 4)
//! plus its case's share of the offsets and the case-id text.
//!
//! Cases keep the order in which they first appeared; nothing in the analytics depends on it.

use std::ops::Range;

use std::hash::BuildHasher;

use chrono::{DateTime, FixedOffset, Utc};
use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};

/// The resource id of an event without a resource.
pub const NO_RESOURCE: u32 = u32::MAX;

/// A timestamp as the engine stores it: microseconds since the Unix epoch, UTC. Durations are
/// differences of instants, so a log whose rows carry different time zones is computed right.
pub trait IntoMicros {
    fn into_micros(self) -> i64;
}

impl IntoMicros for i64 {
    fn into_micros(self) -> i64 {
        self
    }
}

impl IntoMicros for DateTime<Utc> {
    fn into_micros(self) -> i64 {
        self.timestamp_micros()
    }
}

impl IntoMicros for DateTime<FixedOffset> {
    fn into_micros(self) -> i64 {
        self.timestamp_micros()
    }
}

/// A case identifier as given. Cases are identified by their text, as in pm4py (which turns
/// every case id into a string): `CaseKey::Int(3)` and `CaseKey::Str("3")` are the same case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKey<'a> {
    Int(i64),
    Str(&'a str),
}

impl From<i64> for CaseKey<'_> {
    fn from(v: i64) -> Self {
        CaseKey::Int(v)
    }
}

impl<'a> From<&'a str> for CaseKey<'a> {
    fn from(v: &'a str) -> Self {
        CaseKey::Str(v)
    }
}

impl<'a> From<&'a String> for CaseKey<'a> {
    fn from(v: &'a String) -> Self {
        CaseKey::Str(v)
    }
}

/// Names to dense `u32` ids, in order of first appearance.
#[derive(Debug, Clone)]
pub struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    /// Callers pass the same few string slices over and over (static names, the same column
    /// buffer): a cache keyed by the slice's address, confirmed by comparing the text, skips
    /// hashing for most events.
    recent: [(usize, u32); 64],
}

impl Default for Interner {
    fn default() -> Self {
        Self { ids: FxHashMap::default(), names: Vec::new(), recent: [(0, u32::MAX); 64] }
    }
}

impl Interner {
    #[inline]
    pub fn intern(&mut self, name: &str) -> u32 {
        let addr = name.as_ptr() as usize;
        let slot = addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (usize::BITS - 6);
        let (cached, id) = self.recent[slot];
        if cached == addr && id != u32::MAX && *self.names[id as usize] == *name {
            return id;
        }
        let id = self.intern_slow(name);
        self.recent[slot] = (addr, id);
        id
    }

    fn intern_slow(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("more than 2^32 distinct names");
        self.ids.insert(name.into(), id);
        self.names.push(name.into());
        id
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn heap_bytes(&self) -> usize {
        let text: usize = self.names.iter().map(|n| n.len()).sum();
        // Each name is held twice (map key and list) plus the map's slots.
        2 * text + self.names.capacity() * 16 + self.ids.capacity() * 24
    }
}

/// The case ids, concatenated into one string (no allocation per case), with a hash index
/// over them that is built when first needed.
#[derive(Debug, Clone, Default)]
struct CaseIds {
    text: String,
    /// Case `c` is `text[ends[c - 1]..ends[c]]`.
    ends: Vec<usize>,
    /// (hash, case): keeping the hash spares re-hashing on growth and most text comparisons.
    index: Option<HashTable<(u64, u32)>>,
}

fn case_slice<'t>(text: &'t str, ends: &[usize], c: u32) -> &'t str {
    let c = c as usize;
    let start = if c == 0 { 0 } else { ends[c - 1] };
    &text[start..ends[c]]
}

fn hash_text(text: &str) -> u64 {
    FxBuildHasher.hash_one(text)
}

impl CaseIds {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, c: usize) -> &str {
        case_slice(&self.text, &self.ends, c as u32)
    }

    /// The case with this text, added at the end when new.
    fn find_or_add(&mut self, text: &str) -> u32 {
        let Self { text: all, ends, index } = self;
        let index = index.get_or_insert_with(|| {
            let mut table = HashTable::with_capacity(ends.len());
            for c in 0..ends.len() as u32 {
                let h = hash_text(case_slice(all, ends, c));
                table.insert_unique(h, (h, c), |e| e.0);
            }
            table
        });
        let h = hash_text(text);
        if let Some(&(_, c)) = index.find(h, |&(eh, c)| eh == h && case_slice(all, ends, c) == text) {
            return c;
        }
        let c = u32::try_from(ends.len()).expect("more than 2^32 cases");
        all.push_str(text);
        ends.push(all.len());
        index.insert_unique(h, (h, c), |e| e.0);
        c
    }

    /// Only `append` needs the index again: drop it until then.
    fn finish(&mut self) {
        self.index = None;
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }

    fn index_bytes(&self) -> usize {
        self.index.as_ref().map_or(0, |t| t.capacity() * (std::mem::size_of::<(u64, u32)>() + 1))
    }
}

/// One case-level attribute (pm4py's `case:*` columns, XES trace attributes): a value per case.
#[derive(Debug, Clone)]
pub struct CaseAttribute {
    pub name: String,
    values: Interner,
    /// Value id per case, `u32::MAX` when the case has none.
    column: Vec<u32>,
}

impl CaseAttribute {
    pub fn get(&self, case: usize) -> Option<&str> {
        match self.column.get(case) {
            Some(&v) if v != u32::MAX => Some(self.values.name(v)),
            _ => None,
        }
    }
}

/// The columnar event log. Build it with [`EventLog::from_rows`] or a [`LogBuilder`].
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    activities: Interner,
    resources: Interner,
    case_ids: CaseIds,
    /// `cases + 1` entries; the events of case `c` are `case_offsets[c]..case_offsets[c + 1]`.
    case_offsets: Vec<usize>,
    activity: Vec<u32>,
    timestamp: Vec<i64>,
    resource: Vec<u32>,
    case_attributes: Vec<CaseAttribute>,
}

impl EventLog {
    /// Builds the columns from `(case, activity, timestamp, resource)` rows in any order.
    /// Cost: O(n) when the rows come grouped by case and in time order (the usual export),
    /// O(n + Σ k log k) over cases of k events that need sorting otherwise.
    ///
    /// ```
    /// use salesflow_analytics::EventLog;
    /// let log = EventLog::from_rows([
    ///     ("deal-1", "lead", 0_i64, Some("ann")),
    ///     ("deal-1", "quote", 3_600_000_000, None),
    /// ]);
    /// assert_eq!((log.cases(), log.events()), (1, 2));
    /// ```
    pub fn from_rows<'a, C, T, I>(rows: I) -> Self
    where
        C: Into<CaseKey<'a>>,
        T: IntoMicros,
        I: IntoIterator<Item = (C, &'a str, T, Option<&'a str>)>,
    {
        let rows = rows.into_iter();
        let mut b = LogBuilder::with_capacity(rows.size_hint().0);
        for (case, activity, ts, resource) in rows {
            b.push(case, activity, ts, resource);
        }
        b.build()
    }

    /// Like [`EventLog::from_rows`], with `(case, attribute, value)` triples for the cases.
    pub fn from_rows_with_attributes<'a, C, D, T, I, J>(rows: I, attributes: J) -> Self
    where
        C: Into<CaseKey<'a>>,
        D: Into<CaseKey<'a>>,
        T: IntoMicros,
        I: IntoIterator<Item = (C, &'a str, T, Option<&'a str>)>,
        J: IntoIterator<Item = (D, &'a str, &'a str)>,
    {
        let mut b = LogBuilder::new();
        for (case, activity, ts, resource) in rows {
            b.push(case, activity, ts, resource);
        }
        for (case, name, value) in attributes {
            b.case_attribute(case, name, value);
        }
        b.build()
    }

    /// Adds events of new or existing cases, keeping the layout sorted.
    ///
    /// Cost: when every row belongs to a case the log has not seen, the events go to the end of
    /// the columns: O(k log k) for k rows (amortised). When any row belongs to an existing
    /// case, that case's events must move, so the columns are rebuilt: O(n + k log k). The
    /// first append also indexes the case ids, O(cases), and keeps that index (about 20 bytes a
    /// case) for later appends. Batch appends to existing cases rather than adding one event at
    /// a time.
    pub fn append<'a, C, T, I>(&mut self, rows: I)
    where
        C: Into<CaseKey<'a>>,
        T: IntoMicros,
        I: IntoIterator<Item = (C, &'a str, T, Option<&'a str>)>,
    {
        let old_cases = self.cases();
        let mut pending: Vec<Pending> = Vec::new();
        let mut key_buf = String::new();
        for (case, activity, ts, resource) in rows {
            let case = self.case_ids.find_or_add(case_text(case.into(), &mut key_buf));
            pending.push(Pending {
                case,
                seq: pending.len() as u32,
                activity: self.activities.intern(activity),
                timestamp: ts.into_micros(),
                resource: resource.map_or(NO_RESOURCE, |r| self.resources.intern(r)),
            });
        }
        for attr in &mut self.case_attributes {
            attr.column.resize(self.case_ids.len(), u32::MAX);
        }
        if pending.is_empty() {
            return;
        }
        // Sort new events by (case, time, arrival); old events stay ahead of new ones on ties.
        pending.sort_unstable_by_key(|p| (p.case, p.timestamp, p.seq));
        if pending[0].case as usize >= old_cases {
            self.push_new_cases(&pending);
        } else {
            self.merge(&pending);
        }
    }

    fn push_new_cases(&mut self, pending: &[Pending]) {
        for (i, p) in pending.iter().enumerate() {
            if i > 0 && pending[i - 1].case != p.case {
                self.case_offsets.push(self.activity.len());
            }
            self.activity.push(p.activity);
            self.timestamp.push(p.timestamp);
            self.resource.push(p.resource);
        }
        self.case_offsets.push(self.activity.len());
    }

    fn merge(&mut self, pending: &[Pending]) {
        let total = self.activity.len() + pending.len();
        let mut activity = Vec::with_capacity(total);
        let mut timestamp = Vec::with_capacity(total);
        let mut resource = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(self.case_ids.len() + 1);
        offsets.push(0);
        let mut p = 0;
        for case in 0..self.case_ids.len() {
            let old = if case < self.cases() { self.case_range(case) } else { 0..0 };
            let new_start = p;
            while p < pending.len() && pending[p].case as usize == case {
                p += 1;
            }
            let new = &pending[new_start..p];
            // Two sorted runs: a merge that takes the old event first on equal timestamps.
            let (mut i, mut j) = (old.start, 0);
            while i < old.end || j < new.len() {
                let take_old = j == new.len() || (i < old.end && self.timestamp[i] <= new[j].timestamp);
                if take_old {
                    activity.push(self.activity[i]);
                    timestamp.push(self.timestamp[i]);
                    resource.push(self.resource[i]);
                    i += 1;
                } else {
                    activity.push(new[j].activity);
                    timestamp.push(new[j].timestamp);
                    resource.push(new[j].resource);
                    j += 1;
                }
            }
            offsets.push(activity.len());
        }
        self.activity = activity;
        self.timestamp = timestamp;
        self.resource = resource;
        self.case_offsets = offsets;
    }

    pub fn cases(&self) -> usize {
        self.case_offsets.len().saturating_sub(1)
    }

    pub fn events(&self) -> usize {
        self.activity.len()
    }

    /// The events of case `c`, as indices into the columns.
    pub fn case_range(&self, c: usize) -> Range<usize> {
        self.case_offsets[c]..self.case_offsets[c + 1]
    }

    pub fn case_offsets(&self) -> &[usize] {
        &self.case_offsets
    }

    pub fn case_id(&self, c: usize) -> &str {
        self.case_ids.get(c)
    }

    /// Activity id per event.
    pub fn activity_column(&self) -> &[u32] {
        &self.activity
    }

    /// Timestamp per event, microseconds since the epoch (UTC).
    pub fn timestamp_column(&self) -> &[i64] {
        &self.timestamp
    }

    /// Resource id per event, [`NO_RESOURCE`] when absent.
    pub fn resource_column(&self) -> &[u32] {
        &self.resource
    }

    pub fn activities(&self) -> &Interner {
        &self.activities
    }

    pub fn resources(&self) -> &Interner {
        &self.resources
    }

    pub fn activity_name(&self, id: u32) -> &str {
        self.activities.name(id)
    }

    pub fn activity_id(&self, name: &str) -> Option<u32> {
        self.activities.get(name)
    }

    pub fn case_activities(&self, c: usize) -> &[u32] {
        &self.activity[self.case_range(c)]
    }

    pub fn case_timestamps(&self, c: usize) -> &[i64] {
        &self.timestamp[self.case_range(c)]
    }

    pub fn case_attributes(&self) -> &[CaseAttribute] {
        &self.case_attributes
    }

    pub fn case_attribute(&self, name: &str) -> Option<&CaseAttribute> {
        self.case_attributes.iter().find(|a| a.name == name)
    }

    /// The latest timestamp in the log (the default "now" for open cases).
    pub fn max_timestamp(&self) -> Option<i64> {
        self.timestamp.iter().copied().max()
    }

    /// Bytes held by the per-event and per-case columns (what grows with the log): the three
    /// event columns, the case offsets, the case ids and the case attributes.
    pub fn column_bytes(&self) -> usize {
        self.activity.capacity() * 4
            + self.timestamp.capacity() * 8
            + self.resource.capacity() * 4
            + self.case_offsets.capacity() * std::mem::size_of::<usize>()
            + self.case_ids.heap_bytes()
            + self.case_attributes.iter().map(|a| a.column.capacity() * 4 + a.values.heap_bytes()).sum::<usize>()
    }

    /// Every heap byte the log holds: the columns, the interners and the append index.
    pub fn heap_bytes(&self) -> usize {
        self.column_bytes() + self.activities.heap_bytes() + self.resources.heap_bytes() + self.case_ids.index_bytes()
    }
}

struct Pending {
    case: u32,
    seq: u32,
    activity: u32,
    timestamp: i64,
    resource: u32,
}

/// The text of a case key; integers are formatted into `buf`, so no allocation per row.
fn case_text<'k>(key: CaseKey<'k>, buf: &'k mut String) -> &'k str {
    match key {
        CaseKey::Str(s) => s,
        CaseKey::Int(v) => {
            use std::fmt::Write;
            buf.clear();
            write!(buf, "{v}").expect("writing to a String");
            buf.as_str()
        }
    }
}

/// Collects rows one by one (the CSV and XES readers use it), then sorts them into columns.
#[derive(Debug, Default)]
pub struct LogBuilder {
    activities: Interner,
    resources: Interner,
    case_ids: CaseIds,
    /// The previous row's case: exports list a case's events together, so most rows skip the
    /// case lookup.
    last_int: Option<(i64, u32)>,
    last_str: Option<u32>,
    key_buf: String,
    case: Vec<u32>,
    activity: Vec<u32>,
    timestamp: Vec<i64>,
    resource: Vec<u32>,
    attributes: Vec<CaseAttribute>,
}

impl LogBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(events: usize) -> Self {
        Self {
            case: Vec::with_capacity(events),
            activity: Vec::with_capacity(events),
            timestamp: Vec::with_capacity(events),
            resource: Vec::with_capacity(events),
            ..Self::default()
        }
    }

    fn case_index<'a>(&mut self, key: impl Into<CaseKey<'a>>) -> u32 {
        let key = key.into();
        match (key, self.last_int, self.last_str) {
            (CaseKey::Int(v), Some((last, c)), _) if last == v => return c,
            (CaseKey::Str(s), _, Some(c)) if self.case_ids.get(c as usize) == s => return c,
            _ => {}
        }
        let c = self.case_ids.find_or_add(case_text(key, &mut self.key_buf));
        match key {
            CaseKey::Int(v) => self.last_int = Some((v, c)),
            CaseKey::Str(_) => self.last_str = Some(c),
        }
        c
    }

    /// Adds one event.
    #[inline]
    pub fn push<'a>(
        &mut self,
        case: impl Into<CaseKey<'a>>,
        activity: &str,
        timestamp: impl IntoMicros,
        resource: Option<&str>,
    ) {
        let c = self.case_index(case);
        self.case.push(c);
        self.activity.push(self.activities.intern(activity));
        self.timestamp.push(timestamp.into_micros());
        self.resource.push(resource.map_or(NO_RESOURCE, |r| self.resources.intern(r)));
    }

    /// Sets a case attribute. The first value given for a case wins (CSV exports repeat it on
    /// every row of the case).
    pub fn case_attribute<'a>(&mut self, case: impl Into<CaseKey<'a>>, name: &str, value: &str) {
        let c = self.case_index(case) as usize;
        let attr = match self.attributes.iter().position(|a| a.name == name) {
            Some(i) => &mut self.attributes[i],
            None => {
                self.attributes.push(CaseAttribute {
                    name: name.to_string(),
                    values: Interner::default(),
                    column: Vec::new(),
                });
                self.attributes.last_mut().expect("just pushed")
            }
        };
        if attr.column.len() <= c {
            attr.column.resize(c + 1, u32::MAX);
        }
        if attr.column[c] == u32::MAX {
            attr.column[c] = attr.values.intern(value);
        }
    }

    pub fn events(&self) -> usize {
        self.activity.len()
    }

    /// Sorts the rows into the CSR layout.
    pub fn build(mut self) -> EventLog {
        let cases = self.case_ids.len();
        let n = self.activity.len();
        // Counting sort by case: stable, so rows of a case keep their given order.
        let mut offsets = vec![0usize; cases + 1];
        for &c in &self.case {
            offsets[c as usize + 1] += 1;
        }
        for c in 0..cases {
            offsets[c + 1] += offsets[c];
        }
        // Cases get indices in order of first appearance, so grouped input is already in place.
        let grouped = self.case.windows(2).all(|w| w[0] <= w[1]);
        let mut perm: Option<Vec<u32>> = None;
        if !grouped {
            let mut cursor = offsets.clone();
            let mut p = vec![0u32; n];
            for (i, &c) in self.case.iter().enumerate() {
                p[cursor[c as usize]] = i as u32;
                cursor[c as usize] += 1;
            }
            perm = Some(p);
        }
        // Within a case, a stable sort by timestamp (only for cases not already in order).
        for c in 0..cases {
            let r = offsets[c]..offsets[c + 1];
            let ts = &self.timestamp;
            let sorted = match &perm {
                Some(p) => p[r.clone()].windows(2).all(|w| ts[w[0] as usize] <= ts[w[1] as usize]),
                None => ts[r.clone()].windows(2).all(|w| w[0] <= w[1]),
            };
            if !sorted {
                let p = perm.get_or_insert_with(|| (0..n as u32).collect());
                p[r].sort_by_key(|&i| ts[i as usize]);
            }
        }
        if let Some(p) = perm {
            self.activity = p.iter().map(|&i| self.activity[i as usize]).collect();
            self.timestamp = p.iter().map(|&i| self.timestamp[i as usize]).collect();
            self.resource = p.iter().map(|&i| self.resource[i as usize]).collect();
        }
        for attr in &mut self.attributes {
            attr.column.resize(cases, u32::MAX);
        }
        self.case_ids.finish();
        // Growth by doubling can leave up to half of a column unused.
        self.activity.shrink_to_fit();
        self.timestamp.shrink_to_fit();
        self.resource.shrink_to_fit();
        EventLog {
            activities: self.activities,
            resources: self.resources,
            case_ids: self.case_ids,
            case_offsets: offsets,
            activity: self.activity,
            timestamp: self.timestamp,
            resource: self.resource,
            case_attributes: self.attributes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_by_case_then_time_keeping_ties_in_given_order() {
        let log = EventLog::from_rows([
            ("b", "x", 5_i64, None),
            ("a", "late", 9, None),
            ("a", "tie1", 1, Some("r")),
            ("b", "y", 1, None),
            ("a", "tie2", 1, None),
        ]);
        assert_eq!(log.cases(), 2);
        assert_eq!(log.case_id(0), "b");
        let names = |c| log.case_activities(c).iter().map(|&a| log.activity_name(a)).collect::<Vec<_>>();
        assert_eq!(names(0), ["y", "x"]);
        assert_eq!(names(1), ["tie1", "tie2", "late"]);
        assert_eq!(log.resource_column()[2], 0);
        assert_eq!(log.resource_column()[3], NO_RESOURCE);
    }

    #[test]
    fn int_and_text_case_ids_are_the_same_case() {
        let log = EventLog::from_rows([(CaseKey::Int(3), "a", 1_i64, None), (CaseKey::Str("3"), "b", 2, None)]);
        assert_eq!((log.cases(), log.case_id(0)), (1, "3"));
    }

    #[test]
    fn append_new_and_existing_cases() {
        let mut log = EventLog::from_rows([("a", "s", 10_i64, None), ("a", "t", 30, None), ("b", "s", 5, None)]);
        log.append([("c", "s", 1_i64, None), ("c", "t", 2, None)]);
        assert_eq!((log.cases(), log.events()), (3, 5));
        assert_eq!(log.case_timestamps(2), [1, 2]);
        // Into an existing case, between and on a tie: the old event stays first on a tie.
        log.append([("a", "u", 20_i64, None), ("a", "v", 30, None), ("d", "s", 0, None)]);
        assert_eq!(log.case_timestamps(0), [10, 20, 30, 30]);
        let names: Vec<_> = log.case_activities(0).iter().map(|&a| log.activity_name(a)).collect();
        assert_eq!(names, ["s", "u", "t", "v"]);
        assert_eq!(log.case_id(3), "d");
        assert_eq!(log.case_timestamps(3), [0]);
        assert_eq!(log.case_timestamps(1), [5]);
        assert_eq!(log.events(), 8);
    }

    #[test]
    fn case_attributes_first_value_wins() {
        let log = EventLog::from_rows_with_attributes(
            [("a", "s", 1_i64, None), ("b", "s", 1, None)],
            [("a", "outcome", "won"), ("a", "outcome", "lost")],
        );
        let attr = log.case_attribute("outcome").unwrap();
        assert_eq!((attr.get(0), attr.get(1)), (Some("won"), None));
    }
}
