//! Latency histograms, error tallies, CPU accounting and the progress line.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Latencies in microseconds, 1 µs to 10 min, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

pub fn record(h: &mut Histogram<u64>, d: Duration) {
    h.saturating_record((d.as_micros() as u64).max(1));
}

pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Round to 3 decimals for the JSON line.
pub fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub struct Quantiles {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

pub fn quantiles(h: &Histogram<u64>) -> Quantiles {
    if h.is_empty() {
        return Quantiles { count: 0, mean_ms: 0.0, p50_ms: 0.0, p90_ms: 0.0, p99_ms: 0.0, p999_ms: 0.0, max_ms: 0.0 };
    }
    Quantiles {
        count: h.len(),
        mean_ms: h.mean() / 1000.0,
        p50_ms: ms(h.value_at_quantile(0.50)),
        p90_ms: ms(h.value_at_quantile(0.90)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        p999_ms: ms(h.value_at_quantile(0.999)),
        max_ms: ms(h.max()),
    }
}

impl Quantiles {
    pub fn line(&self) -> String {
        format!(
            "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms  (mean {:.2} ms, n={})",
            self.p50_ms, self.p90_ms, self.p99_ms, self.p999_ms, self.max_ms, self.mean_ms, self.count
        )
    }
}

/// Failed requests by kind (`POST /moves 422`, `transport: timeout`, …) plus sample bodies: the
/// first few, and the first of every kind.
#[derive(Default)]
pub struct Errors {
    pub by_kind: BTreeMap<String, u64>,
    samples: Vec<(String, String)>,
}

pub const MAX_SAMPLES: usize = 5;
const MAX_KEPT: usize = 20;

impl Errors {
    pub fn add(&mut self, kind: String, sample: impl FnOnce() -> String) {
        let n = self.by_kind.entry(kind.clone()).or_default();
        *n += 1;
        if *n == 1 || self.samples.len() < MAX_SAMPLES {
            self.keep(kind, sample());
        }
    }

    fn keep(&mut self, kind: String, sample: String) {
        let first_of_kind = !self.samples.iter().any(|(k, _)| *k == kind);
        if self.samples.len() < MAX_SAMPLES || (first_of_kind && self.samples.len() < MAX_KEPT) {
            self.samples.push((kind, sample));
        }
    }

    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }

    pub fn merge(&mut self, other: Errors) {
        for (k, n) in other.by_kind {
            *self.by_kind.entry(k).or_default() += n;
        }
        for (k, s) in other.samples {
            self.keep(k, s);
        }
    }

    pub fn print(&self) {
        if self.by_kind.is_empty() {
            println!("errors:            0");
            return;
        }
        println!("errors:            {}", self.total());
        for (k, n) in &self.by_kind {
            println!("  {k:<28} {n}");
        }
        println!("first error bodies:");
        for (_, s) in &self.samples {
            println!("  - {s}");
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!(self.by_kind)
    }
}

/// Counters shared with the progress printer.
#[derive(Default)]
pub struct Live {
    pub ok: AtomicU64,
    pub secondary: AtomicU64,
    pub errors: AtomicU64,
    pub done: AtomicBool,
}

/// Prints one progress line per second on stderr until `live.done` is set.
pub fn progress(
    live: Arc<Live>,
    start: Instant,
    what: &'static str,
    secondary: &'static str,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(1), Duration::from_secs(1));
        let mut last = 0u64;
        loop {
            tick.tick().await;
            if live.done.load(Ordering::Relaxed) {
                break;
            }
            let ok = live.ok.load(Ordering::Relaxed);
            eprintln!(
                "  [{:>5.1}s] {what} {ok} ({}/s last second)  {secondary} {}  errors {}",
                start.elapsed().as_secs_f64(),
                ok - last,
                live.secondary.load(Ordering::Relaxed),
                live.errors.load(Ordering::Relaxed)
            );
            last = ok;
        }
    })
}

/// User + system CPU seconds of a process, from `/proc/<pid>/stat` (Linux only).
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may contain spaces) start with the state, field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every mainstream Linux configuration.
    Some((utime + stime) / 100.0)
}

/// CPU used by this generator and, if given, the server, over a measured phase.
pub struct CpuMeter {
    server_pid: Option<u32>,
    own: Option<f64>,
    server: Option<f64>,
}

impl CpuMeter {
    pub fn start(server_pid: Option<u32>) -> Self {
        Self { server_pid, own: cpu_seconds(None), server: server_pid.and_then(|p| cpu_seconds(Some(p))) }
    }

    /// `(generator %, server %)` of one core over `wall`.
    pub fn finish(&self, wall: Duration) -> (Option<f64>, Option<f64>) {
        let w = wall.as_secs_f64().max(1e-9);
        let own = self.own.zip(cpu_seconds(None)).map(|(a, b)| (b - a) / w * 100.0);
        let server =
            self.server.zip(self.server_pid.and_then(|p| cpu_seconds(Some(p)))).map(|(a, b)| (b - a) / w * 100.0);
        (own, server)
    }
}

pub fn print_cpu(own: Option<f64>, server: Option<f64>) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if let Some(o) = own {
        println!("generator CPU:     {o:.0}% of one core ({cores} cores on this machine)");
    }
    if let Some(s) = server {
        println!("server CPU:        {s:.0}% of one core");
    }
}

/// A one-line JSON object with its keys in the given order (`bench` first, for people reading it).
pub fn ordered_json(fields: &[(&str, serde_json::Value)]) -> String {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{v}", serde_json::Value::from(*k))).collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_first_few_and_first_of_each_kind() {
        let mut a = Errors::default();
        for i in 0..10 {
            a.add("409".into(), || format!("conflict {i}"));
        }
        a.add("422".into(), || "gate".into());
        let mut b = Errors::default();
        b.add("timeout".into(), || "slow".into());
        b.add("409".into(), || "conflict b".into());
        a.merge(b);
        assert_eq!(a.total(), 13);
        let kept: Vec<&str> = a.samples.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(kept, ["conflict 0", "conflict 1", "conflict 2", "conflict 3", "conflict 4", "gate", "slow"]);
        assert_eq!(
            ordered_json(&[("bench", serde_json::json!("x")), ("a", serde_json::json!(1.5))]),
            r#"{"bench":"x","a":1.5}"#
        );
    }
}
