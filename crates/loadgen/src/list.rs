//! `list`: latency of filtered, keyset-paginated deal lists under concurrent clients.
//!
//! Setup discovers real owner ids (`GET /users`) and process/stage pairs (`GET /processes`, then
//! each published version's definition). Each client then loops: pick a filter at random from a
//! realistic mix, fetch its first page and, half the time, follow `next_cursor` for 1–3 more
//! pages. Every request's latency (to the last byte of the body) goes into an HDR histogram.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Result, bail};
use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;

use crate::http::{Api, back_off, describe, snippet, transport_kind};
use crate::stats::{self, CpuMeter, Errors, Live, r3};
use crate::{Common, ListArgs, Outcome};

const CHANNELS: [&str; 8] =
    ["social_media", "trade_show", "advertising", "telemarketing", "website_form", "referral", "import", "other"];

/// Filter kinds: the name `--mix` uses, the default share of first pages, and the query shape.
const KINDS: [(Kind, &str, u32, &str); 6] = [
    (Kind::Open, "open", 15, "status=open"),
    (Kind::OwnerOpen, "owner_open", 25, "owner=…&status=open"),
    (Kind::ProcessStageOpen, "stage_open", 25, "process=…&stage=…&status=open"),
    (Kind::Owner, "owner", 15, "owner=…"),
    (Kind::Channel, "channel", 10, "channel=…"),
    (Kind::ChannelOpen, "channel_open", 10, "channel=…&status=open"),
];

/// The filter mix: `KINDS` with their default weights, or `--mix name=weight,…`.
fn mix(spec: Option<&str>) -> Result<Vec<(Kind, u32, &'static str)>> {
    let Some(spec) = spec else {
        return Ok(KINDS.iter().map(|(k, _, w, l)| (*k, *w, *l)).collect());
    };
    let mut out = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, weight) = match item.split_once('=') {
            Some((n, w)) => (
                n.trim(),
                w.trim().parse::<u32>().map_err(|_| anyhow::anyhow!("--mix: `{w}` is not a whole-number weight"))?,
            ),
            None => (item, 1),
        };
        let Some((k, _, _, l)) = KINDS.iter().find(|(_, n, _, _)| *n == name) else {
            let names: Vec<&str> = KINDS.iter().map(|(_, n, _, _)| *n).collect();
            bail!("--mix: unknown filter `{name}`; known: {}", names.join(", "));
        };
        if weight > 0 {
            out.push((*k, weight, *l));
        }
    }
    if out.is_empty() {
        bail!("--mix selects no filter");
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    OwnerOpen,
    ProcessStageOpen,
    Owner,
    Channel,
    ChannelOpen,
}

#[derive(Deserialize)]
struct Users {
    items: Vec<UserRow>,
}

#[derive(Deserialize)]
struct UserRow {
    id: i64,
    role: String,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct Processes {
    items: Vec<ProcessRow>,
}

#[derive(Deserialize)]
struct ProcessRow {
    id: i64,
    published_version: Option<i32>,
}

#[derive(Deserialize)]
struct ProcessVersion {
    definition: Definition,
}

#[derive(Deserialize)]
struct Definition {
    nodes: Vec<NodeRow>,
}

#[derive(Deserialize)]
struct NodeRow {
    id: String,
    kind: String,
}

#[derive(Deserialize)]
struct Page {
    items: Vec<IgnoredAny>,
    next_cursor: Option<i64>,
}

/// What the filters can be built from.
struct Universe {
    owners: Vec<i64>,
    stages: Vec<(i64, String)>,
}

impl Universe {
    /// The mix, less the kinds this database has nothing to build from.
    fn usable(&self, mix: Vec<(Kind, u32, &'static str)>) -> Vec<(Kind, u32, &'static str)> {
        mix.into_iter()
            .filter(|(k, _, _)| match k {
                Kind::OwnerOpen | Kind::Owner => !self.owners.is_empty(),
                Kind::ProcessStageOpen => !self.stages.is_empty(),
                _ => true,
            })
            .collect()
    }

    /// The query (without limit and cursor) for a random filter of `kind`.
    fn query(&self, kind: Kind, rng: &mut SmallRng) -> String {
        let owner = |rng: &mut SmallRng| self.owners[rng.gen_range(0..self.owners.len())];
        let channel = |rng: &mut SmallRng| CHANNELS[rng.gen_range(0..CHANNELS.len())];
        match kind {
            Kind::Open => "status=open".into(),
            Kind::OwnerOpen => format!("owner={}&status=open", owner(rng)),
            Kind::ProcessStageOpen => {
                let (p, s) = &self.stages[rng.gen_range(0..self.stages.len())];
                format!("process={p}&stage={}&status=open", encode(s))
            }
            Kind::Owner => format!("owner={}", owner(rng)),
            Kind::Channel => format!("channel={}", channel(rng)),
            Kind::ChannelOpen => format!("channel={}&status=open", channel(rng)),
        }
    }
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn discover(api: &Api) -> Result<Universe> {
    let users: Users = api.get_json("/api/v1/users").await?;
    let active: Vec<&UserRow> = users.items.iter().filter(|u| u.active).collect();
    let mut owners: Vec<i64> = active.iter().filter(|u| u.role == "rep" || u.role == "manager").map(|u| u.id).collect();
    if owners.is_empty() {
        owners = active.iter().map(|u| u.id).collect();
    }
    let processes: Processes = api.get_json("/api/v1/processes").await?;
    let mut stages = Vec::new();
    for p in &processes.items {
        let Some(v) = p.published_version else { continue };
        let version: ProcessVersion = api.get_json(&format!("/api/v1/processes/{}/versions/{v}", p.id)).await?;
        stages.extend(version.definition.nodes.into_iter().filter(|n| n.kind == "stage").map(|n| (p.id, n.id)));
    }
    Ok(Universe { owners, stages })
}

struct ClientReport {
    /// Per filter kind, every page.
    by_kind: Vec<Histogram<u64>>,
    first: Histogram<u64>,
    next: Histogram<u64>,
    requests: u64,
    rows: u64,
    empty_first_pages: u64,
    first_pages: u64,
    /// Per filter kind: first pages, and how many of them were empty.
    kind_first: Vec<(u64, u64)>,
    errors: Errors,
}

pub async fn run(api: Api, common: Common, args: ListArgs) -> Result<Outcome> {
    if args.clients == 0 {
        bail!("--clients must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.follow) {
        bail!("--follow must be between 0 and 1");
    }
    let mix = mix(args.mix.as_deref())?;
    println!("salesflow-load list → {} (as {})", common.base_url, common.caller);
    let universe = Arc::new(discover(&api).await?);
    let kinds = universe.usable(mix);
    if kinds.is_empty() {
        bail!("none of the chosen filters can be built: no owners or no process stages found");
    }
    println!(
        "setup:             {} owners, {} process/stage pairs; filter mix: {}",
        universe.owners.len(),
        universe.stages.len(),
        kinds.iter().map(|(_, w, l)| format!("{l} {w}")).collect::<Vec<_>>().join(", ")
    );
    if !args.warmup.is_zero() {
        println!("warm-up:           {:.1}s (not recorded)", args.warmup.as_secs_f64());
    }

    let live = Arc::new(Live::default());
    let start = Instant::now();
    let measure_start = start + args.warmup;
    let deadline = measure_start + common.duration;
    let ticker = (!common.quiet).then(|| stats::progress(live.clone(), start, "requests", "pages followed"));
    let kinds = Arc::new(kinds);
    let handles: Vec<_> = (0..args.clients)
        .map(|i| {
            let rng = SmallRng::seed_from_u64(args.seed.wrapping_add(i as u64));
            tokio::spawn(client(
                api.clone(),
                universe.clone(),
                kinds.clone(),
                args.clone(),
                rng,
                measure_start,
                deadline,
                live.clone(),
            ))
        })
        .collect();
    // CPU is measured from the end of the warm-up.
    tokio::time::sleep_until(measure_start.into()).await;
    let cpu = CpuMeter::start(common.server_pid);
    let mut reports = Vec::with_capacity(handles.len());
    for h in handles {
        reports.push(h.await?);
    }
    let wall = measure_start.elapsed();
    let (own_cpu, server_cpu) = cpu.finish(wall);
    live.done.store(true, Ordering::Relaxed);
    if let Some(t) = ticker {
        t.abort();
    }

    let mut all = stats::histogram();
    let mut first = stats::histogram();
    let mut next = stats::histogram();
    let mut by_kind: Vec<Histogram<u64>> = kinds.iter().map(|_| stats::histogram()).collect();
    let mut errors = Errors::default();
    let (mut requests, mut rows, mut empty, mut first_pages) = (0u64, 0u64, 0u64, 0u64);
    let mut kind_first = vec![(0u64, 0u64); kinds.len()];
    for r in reports {
        for (acc, (n, e)) in kind_first.iter_mut().zip(&r.kind_first) {
            acc.0 += n;
            acc.1 += e;
        }
        for (acc, h) in by_kind.iter_mut().zip(&r.by_kind) {
            acc.add(h)?;
            all.add(h)?;
        }
        first.add(&r.first)?;
        next.add(&r.next)?;
        errors.merge(r.errors);
        requests += r.requests;
        rows += r.rows;
        empty += r.empty_first_pages;
        first_pages += r.first_pages;
    }
    let secs = wall.as_secs_f64();
    let rps = requests as f64 / secs;
    let q = stats::quantiles(&all);

    println!();
    println!(
        "== list: {} clients, limit {}, think {} ms, {:.1}s measured ==",
        args.clients,
        args.limit,
        args.think.as_millis(),
        secs
    );
    println!(
        "requests:          {requests}  ({rps:.0}/s), {:.1} rows/page on average",
        if requests > 0 { rows as f64 / requests as f64 } else { 0.0 }
    );
    println!("latency (all):     {}", q.line());
    println!("  first pages:     {}", stats::quantiles(&first).line());
    println!("  cursor pages:    {}", stats::quantiles(&next).line());
    println!("by filter (every page; 'empty' = first pages with no rows):");
    for (((_, _, label), h), (n, e)) in kinds.iter().zip(&by_kind).zip(&kind_first) {
        println!(
            "  {label:<30} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  n={:<7} empty {e}/{n}",
            stats::ms(h.value_at_quantile(0.5)),
            stats::ms(h.value_at_quantile(0.99)),
            stats::ms(h.max()),
            h.len()
        );
    }
    if first_pages > 0 && empty * 10 > first_pages {
        println!("note: {empty} of {first_pages} first pages were empty — the filters may not match much data");
    }
    errors.print();
    stats::print_cpu(own_cpu, server_cpu);
    let met = errors.total() == 0 && q.count > 0 && q.p99_ms <= 20.0;
    println!("target (p99 ≤ 20 ms at 100 clients, 0 errors): {}", if met { "met" } else { "NOT met" });

    let summary = stats::ordered_json(&[
        ("bench", json!("list")),
        ("clients", json!(args.clients)),
        ("limit", json!(args.limit)),
        ("think_ms", json!(args.think.as_millis() as u64)),
        ("requests", json!(requests)),
        ("req_per_sec", json!(r3(rps))),
        ("errors", json!(errors.total())),
        ("errors_by_kind", json!(errors.json())),
        ("p50_ms", json!(r3(q.p50_ms))),
        ("p90_ms", json!(r3(q.p90_ms))),
        ("p99_ms", json!(r3(q.p99_ms))),
        ("p999_ms", json!(r3(q.p999_ms))),
        ("max_ms", json!(r3(q.max_ms))),
        ("duration_s", json!(r3(secs))),
        ("generator_cpu_pct", json!(own_cpu.map(r3))),
        ("server_cpu_pct", json!(server_cpu.map(r3))),
        ("target_met", json!(met)),
    ]);
    println!("{summary}");
    Ok(Outcome { errors: errors.total() })
}

#[allow(clippy::too_many_arguments)]
async fn client(
    api: Api,
    universe: Arc<Universe>,
    kinds: Arc<Vec<(Kind, u32, &'static str)>>,
    args: ListArgs,
    mut rng: SmallRng,
    measure_start: Instant,
    deadline: Instant,
    live: Arc<Live>,
) -> ClientReport {
    let mut r = ClientReport {
        by_kind: kinds.iter().map(|_| stats::histogram()).collect(),
        first: stats::histogram(),
        next: stats::histogram(),
        requests: 0,
        rows: 0,
        empty_first_pages: 0,
        first_pages: 0,
        kind_first: vec![(0, 0); kinds.len()],
        errors: Errors::default(),
    };
    let total_weight: u32 = kinds.iter().map(|(_, w, _)| w).sum();
    while Instant::now() < deadline {
        // Pick a filter kind by weight, then its parameters.
        let mut pick = rng.gen_range(0..total_weight);
        let ki = kinds
            .iter()
            .position(|(_, w, _)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .unwrap_or(0);
        let filter = universe.query(kinds[ki].0, &mut rng);
        let pages = if rng.gen_bool(args.follow) { 1 + rng.gen_range(1..=3) } else { 1 };
        let mut cursor: Option<i64> = None;
        for page in 0..pages {
            let sent = Instant::now();
            if sent >= deadline {
                break;
            }
            let measured = sent >= measure_start;
            let mut path = format!("/api/v1/deals?{filter}&limit={}", args.limit);
            if let Some(c) = cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let t = match api.get(&path).await {
                Ok(t) => t,
                Err(e) => {
                    if measured {
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        r.errors.add(format!("GET /deals transport: {}", transport_kind(&e)), || {
                            format!("GET {path}: {}", describe(&e))
                        });
                    }
                    back_off().await;
                    break;
                }
            };
            if t.status != StatusCode::OK {
                if measured {
                    live.errors.fetch_add(1, Ordering::Relaxed);
                    r.errors.add(format!("GET /deals {}", t.status.as_u16()), || {
                        format!("GET {path} → {}: {}", t.status, snippet(&t.body, 400))
                    });
                }
                break;
            }
            let parsed: Result<Page, _> = serde_json::from_slice(&t.body);
            if measured {
                stats::record(&mut r.by_kind[ki], t.elapsed);
                stats::record(if page == 0 { &mut r.first } else { &mut r.next }, t.elapsed);
                r.requests += 1;
                live.ok.fetch_add(1, Ordering::Relaxed);
                if page > 0 {
                    live.secondary.fetch_add(1, Ordering::Relaxed);
                }
            }
            let p = match parsed {
                Ok(p) => p,
                Err(e) => {
                    if measured {
                        live.errors.fetch_add(1, Ordering::Relaxed);
                        r.errors.add("GET /deals bad JSON".into(), || {
                            format!("GET {path}: {e}: {}", snippet(&t.body, 300))
                        });
                    }
                    break;
                }
            };
            if measured {
                r.rows += p.items.len() as u64;
                if page == 0 {
                    r.first_pages += 1;
                    r.kind_first[ki].0 += 1;
                    if p.items.is_empty() {
                        r.empty_first_pages += 1;
                        r.kind_first[ki].1 += 1;
                    }
                }
            }
            if !args.think.is_zero() {
                tokio::time::sleep(args.think.mul_f64(rng.gen_range(0.5..1.5))).await;
            }
            match p.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn parses_mixes() {
        assert_eq!(super::mix(None).unwrap().len(), 6);
        let m = super::mix(Some("owner=3, open")).unwrap();
        assert_eq!(m.iter().map(|(_, w, l)| (*w, *l)).collect::<Vec<_>>(), [(3, "owner=…"), (1, "status=open")]);
        assert!(super::mix(Some("nope=1")).is_err());
        assert!(super::mix(Some("open=0")).is_err());
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode("needs_analysis"), "needs_analysis");
        assert_eq!(encode("a b&c"), "a%20b%26c");
        assert_eq!(encode("需求"), "%E9%9C%80%E6%B1%82");
    }
}
