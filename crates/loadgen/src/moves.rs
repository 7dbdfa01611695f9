//! `moves`: stage moves per second through the API.
//!
//! Prepare (untimed): page through open deals and deal them out round-robin to the workers, so
//! no two workers ever touch the same deal. Measure: each worker takes its deals one at a time,
//! asks `GET /deals/{id}/moves` where the deal can go, picks a forward move (or Lost when every
//! forward move is blocked), `POST`s it and repeats with the new version until the deal is
//! closed. Only the `POST` is timed; moves/s is successful `POST`s over the wall time.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use hdrhistogram::Histogram;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::http::{Api, back_off, describe, snippet, transport_kind};
use crate::stats::{self, CpuMeter, Errors, Live, r3};
use crate::{Common, MovesArgs, Outcome};

#[derive(Deserialize)]
struct DealPage {
    items: Vec<DealRow>,
    next_cursor: Option<i64>,
}

#[derive(Deserialize)]
struct DealRow {
    id: i64,
}

#[derive(Deserialize)]
struct MoveOptions {
    current_node: String,
    version: i64,
    items: Vec<MoveOption>,
}

#[derive(Deserialize)]
struct MoveOption {
    to: String,
    route: Route,
    #[serde(default)]
    missing: Vec<Missing>,
    blocked: bool,
    needs_override: bool,
    needs_lost_reason: bool,
}

#[derive(Deserialize)]
struct Missing {
    /// `{"step": id}` or `{"field": name}`.
    requires: serde_json::Value,
}

/// The untimed request that satisfies one missing criterion, if the load generator knows how.
fn fill_request(missing: &Missing, version: i64) -> Option<(bool, serde_json::Value)> {
    if let Some(step) = missing.requires.get("step") {
        return Some((false, json!({ "step": step, "done": true, "version": version })));
    }
    let value = match missing.requires.get("field")?.as_str()? {
        "amount" => json!({ "amount": { "minor": 8_800_000, "currency": "CNY" } }),
        "expected_close_date" => json!({ "expected_close_date": "2027-06-30" }),
        "needs_summary" => json!({ "needs_summary": "load test: needs recorded" }),
        _ => return None,
    };
    let mut body = value;
    body["version"] = json!(version);
    Some((true, body))
}

/// A blocked forward option to a node not yet visited whose every missing criterion can be filled.
fn fillable<'a>(items: &'a [MoveOption], visited: &[String]) -> Option<&'a MoveOption> {
    items.iter().find(|o| {
        o.blocked
            && !o.needs_lost_reason
            && !visited.contains(&o.to)
            && o.missing.iter().all(|m| fill_request(m, 0).is_some())
    })
}

#[derive(Deserialize)]
struct Route {
    edges: Vec<String>,
}

#[derive(Deserialize)]
struct MoveResult {
    deal: MovedDeal,
}

#[derive(Deserialize)]
struct MovedDeal {
    version: i64,
    status: String,
}

/// What one worker saw.
struct WorkerReport {
    post_hist: Histogram<u64>,
    get_hist: Histogram<u64>,
    moves: u64,
    gets: u64,
    overrides: u64,
    to_lost: u64,
    deals_touched: u64,
    closed_won: u64,
    closed_lost: u64,
    /// Deals that had no way out at all (every option blocked and no Lost route), or were no
    /// longer open when the worker reached them.
    stuck: u64,
    not_open: u64,
    capped: u64,
    /// The version from `GET /moves` differed from the one our last `POST` returned:
    /// something else changed the deal (should be 0).
    foreign_changes: u64,
    /// Untimed step ticks and field fills that opened a gate.
    fills: u64,
    errors: Errors,
    /// When this worker ran out of deals, if before the deadline.
    exhausted_at: Option<Duration>,
}

pub async fn run(api: Api, common: Common, args: MovesArgs) -> Result<Outcome> {
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    println!("salesflow-load moves → {} (as {})", common.base_url, common.caller);

    // Prepare: collect open deal ids.
    let prep_start = Instant::now();
    let ids = tokio::time::timeout(args.prepare_timeout, collect_open_deals(&api, args.deals, common.quiet)).await;
    let ids = match ids {
        Ok(r) => r?,
        Err(_) => bail!("the prepare phase took longer than --prepare-timeout {:?}", args.prepare_timeout),
    };
    println!(
        "prepare:           {} open deals collected in {:.1}s (untimed)",
        ids.len(),
        prep_start.elapsed().as_secs_f64()
    );
    if ids.is_empty() {
        bail!("no open deals to move");
    }
    let workers = args.concurrency.min(ids.len());
    if workers < args.concurrency {
        println!("warning: only {} deals, so only {workers} workers", ids.len());
    }
    let mut shares: Vec<Vec<i64>> = vec![Vec::with_capacity(ids.len() / workers + 1); workers];
    for (i, id) in ids.into_iter().enumerate() {
        shares[i % workers].push(id);
    }

    // Measure.
    let live = Arc::new(Live::default());
    let args = Arc::new(args);
    let start = Instant::now();
    let deadline = start + common.duration;
    let cpu = CpuMeter::start(common.server_pid);
    let ticker = (!common.quiet).then(|| stats::progress(live.clone(), start, "moves", "GET options"));
    let handles: Vec<_> = shares
        .into_iter()
        .map(|deals| tokio::spawn(worker(api.clone(), args.clone(), deals, start, deadline, live.clone())))
        .collect();
    let mut reports = Vec::with_capacity(handles.len());
    for h in handles {
        reports.push(h.await?);
    }
    let wall = start.elapsed();
    let (own_cpu, server_cpu) = cpu.finish(wall);
    live.done.store(true, Ordering::Relaxed);
    if let Some(t) = ticker {
        t.abort();
    }

    // Combine.
    let mut post_hist = stats::histogram();
    let mut get_hist = stats::histogram();
    let mut errors = Errors::default();
    let (mut moves, mut gets, mut overrides, mut to_lost, mut touched, mut won, mut lost) = (0, 0, 0, 0, 0, 0, 0);
    let (mut stuck, mut not_open, mut capped, mut foreign) = (0, 0, 0, 0);
    let mut exhausted: Vec<Duration> = Vec::new();
    let mut fills = 0u64;
    for r in reports {
        post_hist.add(&r.post_hist)?;
        get_hist.add(&r.get_hist)?;
        errors.merge(r.errors);
        moves += r.moves;
        gets += r.gets;
        overrides += r.overrides;
        to_lost += r.to_lost;
        touched += r.deals_touched;
        won += r.closed_won;
        lost += r.closed_lost;
        stuck += r.stuck;
        not_open += r.not_open;
        capped += r.capped;
        foreign += r.foreign_changes;
        fills += r.fills;
        exhausted.extend(r.exhausted_at);
    }
    let secs = wall.as_secs_f64();
    let moves_per_sec = moves as f64 / secs;
    let gets_per_sec = gets as f64 / secs;
    let requests_per_sec = (moves + gets + errors.total()) as f64 / secs;
    let post = stats::quantiles(&post_hist);
    let get = stats::quantiles(&get_hist);

    println!();
    println!("== moves: {workers} workers, {:.1}s measured ==", secs);
    println!(
        "stage moves:       {moves}  ({moves_per_sec:.0}/s)   [{overrides} with override_reason, {to_lost} to Lost]"
    );
    println!("GET options:       {gets}  ({gets_per_sec:.0}/s)");
    println!("gate fills:        {fills} untimed step ticks / field edits that opened a forward gate");
    println!(
        "all requests:      {requests_per_sec:.0}/s (GET + POST, i.e. one full move cycle every {:.2} ms per worker)",
        if moves > 0 { secs * 1000.0 * workers as f64 / moves as f64 } else { 0.0 }
    );
    println!("POST move latency: {}", post.line());
    println!("GET opts latency:  {}", get.line());
    println!(
        "deals:             {touched} touched, {won} won, {lost} lost, {stuck} with no allowed move, {not_open} already closed, {capped} hit --max-moves-per-deal"
    );
    if foreign > 0 {
        println!(
            "warning: {foreign} time(s) a deal's version changed between our POST and the next GET — something else is moving these deals"
        );
    }
    if !exhausted.is_empty() {
        let first = exhausted.iter().min().copied().unwrap_or_default().as_secs_f64();
        let planned = common.duration.as_secs_f64();
        println!(
            "warning: {} of {workers} workers ran out of deals (the first after {first:.1}s); the run lasted {secs:.1}s of the planned {planned:.0}s{} — collect more with --deals or use a bigger database",
            exhausted.len(),
            if first < secs * 0.95 {
                ", and moves/s is understated because fewer workers were busy towards the end"
            } else {
                ""
            },
        );
    }
    errors.print();
    stats::print_cpu(own_cpu, server_cpu);
    let met = errors.total() == 0 && moves_per_sec >= 2000.0;
    println!("target (≥ 2000 moves/s, 0 errors): {}", if met { "met" } else { "NOT met" });

    let summary = stats::ordered_json(&[
        ("bench", json!("moves")),
        ("moves", json!(moves)),
        ("to_lost", json!(to_lost)),
        ("gate_fills", json!(fills)),
        ("moves_per_sec", json!(r3(moves_per_sec))),
        ("requests_per_sec", json!(r3(requests_per_sec))),
        ("get_options_per_sec", json!(r3(gets_per_sec))),
        ("errors", json!(errors.total())),
        ("errors_by_kind", json!(errors.json())),
        ("p50_ms", json!(r3(post.p50_ms))),
        ("p90_ms", json!(r3(post.p90_ms))),
        ("p99_ms", json!(r3(post.p99_ms))),
        ("max_ms", json!(r3(post.max_ms))),
        ("get_p99_ms", json!(r3(get.p99_ms))),
        ("concurrency", json!(workers)),
        ("duration_s", json!(r3(secs))),
        ("deals_touched", json!(touched)),
        ("deals_closed", json!(won + lost)),
        ("workers_out_of_deals", json!(exhausted.len())),
        ("generator_cpu_pct", json!(own_cpu.map(r3))),
        ("server_cpu_pct", json!(server_cpu.map(r3))),
        ("target_met", json!(met)),
    ]);
    println!("{summary}");
    Ok(Outcome { errors: errors.total() })
}

async fn collect_open_deals(api: &Api, want: usize, quiet: bool) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(want.min(1_000_000));
    let mut cursor: Option<i64> = None;
    let mut last_report = Instant::now();
    while ids.len() < want {
        let mut path = String::from("/api/v1/deals?status=open&limit=200");
        if let Some(c) = cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: DealPage = api.get_json(&path).await?;
        ids.extend(page.items.iter().map(|d| d.id).take(want - ids.len()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        if !quiet && last_report.elapsed() >= Duration::from_secs(2) {
            eprintln!("  prepare: {} deals…", ids.len());
            last_report = Instant::now();
        }
    }
    Ok(ids)
}

/// The option to take, given the nodes this deal already passed through in this run.
/// Forward (not Lost, not blocked) to a node not yet visited, preferring ones without an
/// override; else Lost, to close the deal; else any allowed move (going back round a loop).
fn choose<'a>(items: &'a [MoveOption], visited: &[String]) -> Option<&'a MoveOption> {
    let forward = || items.iter().filter(|o| !o.blocked && !o.needs_lost_reason);
    forward()
        .filter(|o| !visited.contains(&o.to))
        .min_by_key(|o| o.needs_override)
        .or_else(|| items.iter().find(|o| o.needs_lost_reason && !o.blocked))
        .or_else(|| forward().min_by_key(|o| o.needs_override))
}

async fn worker(
    api: Api,
    args: Arc<MovesArgs>,
    deals: Vec<i64>,
    start: Instant,
    deadline: Instant,
    live: Arc<Live>,
) -> WorkerReport {
    let mut r = WorkerReport {
        post_hist: stats::histogram(),
        get_hist: stats::histogram(),
        moves: 0,
        gets: 0,
        overrides: 0,
        to_lost: 0,
        deals_touched: 0,
        closed_won: 0,
        closed_lost: 0,
        stuck: 0,
        not_open: 0,
        capped: 0,
        foreign_changes: 0,
        fills: 0,
        errors: Errors::default(),
        exhausted_at: None,
    };
    let fail = |r: &mut WorkerReport, kind: String, sample: String| {
        live.errors.fetch_add(1, Ordering::Relaxed);
        r.errors.add(kind, || sample);
    };
    let mut finished_all = true;
    'deals: for id in deals {
        if Instant::now() >= deadline {
            finished_all = false;
            break;
        }
        r.deals_touched += 1;
        let moves_path = format!("/api/v1/deals/{id}/moves");
        let mut visited: Vec<String> = Vec::new();
        let mut our_version: Option<i64> = None;
        let mut moves_here = 0u32;
        loop {
            if Instant::now() >= deadline {
                finished_all = false;
                break 'deals;
            }
            if moves_here >= args.max_moves_per_deal {
                r.capped += 1;
                continue 'deals;
            }
            // Where can it go?
            let t = match api.get(&moves_path).await {
                Ok(t) => t,
                Err(e) => {
                    fail(
                        &mut r,
                        format!("GET /moves transport: {}", transport_kind(&e)),
                        format!("GET {moves_path}: {}", describe(&e)),
                    );
                    back_off().await;
                    continue 'deals;
                }
            };
            if t.status != StatusCode::OK {
                fail(
                    &mut r,
                    format!("GET /moves {}", t.status.as_u16()),
                    format!("GET {moves_path} → {}: {}", t.status, snippet(&t.body, 400)),
                );
                continue 'deals;
            }
            stats::record(&mut r.get_hist, t.elapsed);
            r.gets += 1;
            live.secondary.fetch_add(1, Ordering::Relaxed);
            let opts: MoveOptions = match serde_json::from_slice(&t.body) {
                Ok(o) => o,
                Err(e) => {
                    fail(
                        &mut r,
                        "GET /moves bad JSON".into(),
                        format!("GET {moves_path}: {e}: {}", snippet(&t.body, 300)),
                    );
                    continue 'deals;
                }
            };
            if our_version.is_some_and(|v| v != opts.version) {
                r.foreign_changes += 1;
            }
            if visited.is_empty() {
                visited.push(opts.current_node.clone());
            }
            if opts.items.is_empty() {
                // Closed (by someone else, or between prepare and now).
                r.not_open += 1;
                continue 'deals;
            }
            let clean_forward =
                opts.items.iter().any(|o| !o.blocked && !o.needs_lost_reason && !visited.contains(&o.to));
            if args.fill_gates
                && !clean_forward
                && let Some(target) = fillable(&opts.items, &visited)
            {
                {
                    // Untimed: tick the steps and fill the fields the gate asks for, then look again.
                    let mut version = opts.version;
                    for m in &target.missing {
                        let Some((is_patch, mut body)) = fill_request(m, version) else { continue };
                        body["version"] = json!(version);
                        let bytes = serde_json::to_vec(&body).expect("a JSON value serialises");
                        let (path, sent) = if is_patch {
                            (format!("/api/v1/deals/{id}"), api.patch_json(&format!("/api/v1/deals/{id}"), bytes).await)
                        } else {
                            (
                                format!("/api/v1/deals/{id}/steps"),
                                api.post_json(&format!("/api/v1/deals/{id}/steps"), bytes).await,
                            )
                        };
                        match sent {
                            Ok(t) if t.status == StatusCode::OK => {
                                r.fills += 1;
                                match serde_json::from_slice::<MovedDeal>(&t.body) {
                                    Ok(d) => version = d.version,
                                    Err(e) => {
                                        fail(&mut r, "fill bad JSON".into(), format!("{path}: {e}"));
                                        continue 'deals;
                                    }
                                }
                            }
                            Ok(t) => {
                                fail(
                                    &mut r,
                                    format!("fill {}", t.status.as_u16()),
                                    format!("{path} → {}: {}", t.status, snippet(&t.body, 300)),
                                );
                                continue 'deals;
                            }
                            Err(e) => {
                                fail(
                                    &mut r,
                                    format!("fill transport: {}", transport_kind(&e)),
                                    format!("{path}: {}", describe(&e)),
                                );
                                continue 'deals;
                            }
                        }
                    }
                    our_version = Some(version);
                    continue;
                }
            }
            let Some(choice) = choose(&opts.items, &visited) else {
                r.stuck += 1;
                continue 'deals;
            };
            let mut body = json!({ "to": choice.to, "version": opts.version });
            if let Some(edge) = choice.route.edges.last() {
                body["edge"] = json!(edge);
            }
            if choice.needs_override {
                body["override_reason"] = json!(args.override_reason);
            }
            if choice.needs_lost_reason {
                body["lost_reason"] = json!(args.lost_reason);
            }
            let body = serde_json::to_vec(&body).expect("a JSON value serialises");
            if Instant::now() >= deadline {
                finished_all = false;
                break 'deals;
            }
            // The move itself: gate check + event append. This is what is timed.
            let t = match api.post_json(&moves_path, body).await {
                Ok(t) => t,
                Err(e) => {
                    fail(
                        &mut r,
                        format!("POST /moves transport: {}", transport_kind(&e)),
                        format!("POST {moves_path}: {}", describe(&e)),
                    );
                    back_off().await;
                    continue 'deals;
                }
            };
            if t.status != StatusCode::CREATED {
                fail(
                    &mut r,
                    format!("POST /moves {}", t.status.as_u16()),
                    format!("POST {moves_path} (to {}) → {}: {}", choice.to, t.status, snippet(&t.body, 400)),
                );
                continue 'deals;
            }
            stats::record(&mut r.post_hist, t.elapsed);
            r.moves += 1;
            moves_here += 1;
            live.ok.fetch_add(1, Ordering::Relaxed);
            if choice.needs_override {
                r.overrides += 1;
            }
            if choice.needs_lost_reason {
                r.to_lost += 1;
            }
            let moved: MoveResult = match serde_json::from_slice(&t.body) {
                Ok(m) => m,
                Err(e) => {
                    fail(
                        &mut r,
                        "POST /moves bad JSON".into(),
                        format!("POST {moves_path}: {e}: {}", snippet(&t.body, 300)),
                    );
                    continue 'deals;
                }
            };
            our_version = Some(moved.deal.version);
            visited.push(choice.to.clone());
            match moved.deal.status.as_str() {
                "open" => {}
                "won" => {
                    r.closed_won += 1;
                    continue 'deals;
                }
                _ => {
                    r.closed_lost += 1;
                    continue 'deals;
                }
            }
        }
    }
    if finished_all && Instant::now() < deadline {
        r.exhausted_at = Some(start.elapsed());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(to: &str, blocked: bool, needs_override: bool, lost: bool) -> MoveOption {
        MoveOption {
            to: to.into(),
            route: Route { edges: vec![format!("e_{to}")] },
            missing: Vec::new(),
            blocked,
            needs_override,
            needs_lost_reason: lost,
        }
    }

    #[test]
    fn fills_steps_and_known_fields_only() {
        let step = Missing { requires: json!({ "step": "send_quote" }) };
        let amount = Missing { requires: json!({ "field": "amount" }) };
        let contact = Missing { requires: json!({ "field": "contact" }) };
        assert_eq!(fill_request(&step, 3), Some((false, json!({ "step": "send_quote", "done": true, "version": 3 }))));
        assert!(fill_request(&amount, 3).is_some_and(|(patch, body)| patch && body["amount"]["currency"] == "CNY"));
        assert_eq!(fill_request(&contact, 3), None);
        let mut blocked = opt("b", true, false, false);
        blocked.missing = vec![step];
        let mut unfillable = opt("c", true, false, false);
        unfillable.missing = vec![contact];
        let items = vec![opt("lost", false, false, true), unfillable, blocked];
        assert_eq!(fillable(&items, &["a".into()]).unwrap().to, "b");
        assert!(fillable(&items, &["a".into(), "b".into()]).is_none());
    }

    #[test]
    fn prefers_unvisited_forward_without_override() {
        let items = vec![opt("lost", false, false, true), opt("b", false, true, false), opt("c", false, false, false)];
        assert_eq!(choose(&items, &["a".into()]).unwrap().to, "c");
    }

    #[test]
    fn takes_override_when_no_clean_forward() {
        let items = vec![opt("lost", false, false, true), opt("b", false, true, false), opt("c", true, false, false)];
        assert_eq!(choose(&items, &["a".into()]).unwrap().to, "b");
    }

    #[test]
    fn falls_back_to_lost_when_blocked_or_only_backwards() {
        let items = vec![opt("lost", false, false, true), opt("b", true, false, false)];
        assert_eq!(choose(&items, &["a".into()]).unwrap().to, "lost");
        let items = vec![opt("lost", false, false, true), opt("a", false, false, false)];
        assert_eq!(choose(&items, &["a".into()]).unwrap().to, "lost");
    }

    #[test]
    fn goes_back_when_there_is_no_lost_route() {
        let items = vec![opt("a", false, false, false), opt("z", true, false, false)];
        assert_eq!(choose(&items, &["a".into()]).unwrap().to, "a");
        let items = vec![opt("z", true, false, false)];
        assert!(choose(&items, &["a".into()]).is_none());
    }
}
