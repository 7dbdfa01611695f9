//! `salesflow-load`: a load generator for a salesflow server running on this machine.
//!
//! Two benchmarks, each bounded by `--duration`:
//!
//! * `moves` — stage moves per second through the API (`GET` then `POST /api/v1/deals/{id}/moves`),
//!   each worker owning a disjoint set of open deals so moves never conflict;
//! * `list` — latency of filtered, keyset-paginated deal lists under many concurrent clients.
//!
//! Traffic never leaves the machine: the base URL must name a loopback host, proxies from the
//! environment are ignored and redirects are not followed. Results are printed as text and as a
//! final one-line JSON summary on stdout; the exit code is 1 when any request failed, 2 when the
//! run could not start.

mod http;
mod list;
mod moves;
mod stats;

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "salesflow-load", version, about = "Load generator for a salesflow server on loopback")]
struct Cli {
    /// Base URL of the server; its host must be loopback (127.x.x.x, localhost or [::1]).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// API token, sent as `Authorization: Bearer …`.
    #[arg(long, global = true, env = "SALESFLOW_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// How long the measured phase runs (e.g. `30s`, `2m`, `500ms`; a bare number is seconds).
    #[arg(long, global = true, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Per-request timeout.
    #[arg(long, global = true, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Tokio worker threads for the generator (0 = one per CPU). The generator shares the
    /// machine with the server, so fewer threads leave more CPU to the server.
    #[arg(long, global = true, default_value_t = 0)]
    threads: usize,
    /// Also report the CPU time this process (the server) used during the measured phase.
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// No progress lines on stderr.
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Stage moves per second (gate check + event append), deals partitioned across workers.
    Moves(MovesArgs),
    /// Latency of filtered keyset pages of deals under concurrent clients.
    List(ListArgs),
}

#[derive(Args, Clone)]
pub struct MovesArgs {
    /// How many open deals to collect in the (untimed) prepare phase.
    #[arg(long, default_value_t = 100_000)]
    pub deals: usize,
    /// Concurrent workers; each owns a disjoint share of the deals.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Sent as `override_reason` when a move only misses soft criteria.
    #[arg(long, default_value = "load test")]
    pub override_reason: String,
    /// Sent as `lost_reason` when a deal can only go to Lost.
    #[arg(long, default_value = "load test")]
    pub lost_reason: String,
    /// Give up on a deal after this many moves (guards against cycles through decisions).
    #[arg(long, default_value_t = 64)]
    pub max_moves_per_deal: u32,
    /// Upper bound on the prepare phase.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    pub prepare_timeout: Duration,
    /// When a forward move is blocked only by unticked steps or empty fields (amount, close
    /// date, needs summary), tick and fill them first (untimed) so that the timed move passes
    /// a real gate check instead of falling back to Lost.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub fill_gates: bool,
}

#[derive(Args, Clone)]
pub struct ListArgs {
    /// Concurrent clients, each looping until the duration is over.
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// Page size.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Probability of following `next_cursor` for 1–3 more pages after a first page.
    #[arg(long, default_value_t = 0.5)]
    pub follow: f64,
    /// Untimed warm-up before the measured duration (requests run but are not recorded).
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Seed for the filter choices (client i uses seed + i).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Filter mix as `name=weight,…` from: open, owner_open, stage_open, owner, channel,
    /// channel_open. Default: open=15,owner_open=25,stage_open=25,owner=15,channel=10,channel_open=10.
    #[arg(long)]
    pub mix: Option<String>,
    /// Mean pause of a client between requests (uniform between 0.5× and 1.5×); 0 = closed loop
    /// with no think time, where 100 clients and p99 ≤ 20 ms imply ≥ 5,000 requests/s.
    #[arg(long, default_value = "0ms", value_parser = parse_duration)]
    pub think: Duration,
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a duration like 30s, 2m or 500ms"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        u => return Err(format!("unknown unit `{u}` in `{s}` (use ms, s, m or h)")),
    };
    if !(secs.is_finite() && secs >= 0.0) {
        return Err(format!("`{s}` is not a valid duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// What a finished benchmark hands back to `main`.
pub struct Outcome {
    pub errors: u64,
}

fn main() {
    let cli = Cli::parse();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if cli.threads > 0 {
        rt.worker_threads(cli.threads);
    }
    let rt = match rt.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(outcome) if outcome.errors == 0 => {}
        Ok(outcome) => {
            eprintln!("{} request(s) failed", outcome.errors);
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}

async fn run(cli: Cli) -> Result<Outcome> {
    let Some(token) = cli.token.clone().filter(|t| !t.trim().is_empty()) else {
        bail!("no API token: pass --token or set SALESFLOW_TOKEN");
    };
    if cli.duration.is_zero() {
        bail!("--duration must be more than zero");
    }
    let pool = match &cli.bench {
        Bench::Moves(a) => a.concurrency,
        Bench::List(a) => a.clients,
    };
    let target = http::Target::new(&cli.base_url).await?;
    let api = http::Api::new(&target, token.trim(), pool, cli.timeout)?;
    // Fail fast, with a clear message, on a wrong URL or token.
    let me = api.get_json::<serde_json::Value>("/api/v1/me").await.context("checking the token with GET /api/v1/me")?;
    let common = Common {
        duration: cli.duration,
        quiet: cli.quiet,
        server_pid: cli.server_pid,
        base_url: target.base.clone(),
        caller: me.get("email").and_then(|e| e.as_str()).unwrap_or("?").to_string(),
    };
    match cli.bench {
        Bench::Moves(args) => moves::run(api, common, args).await,
        Bench::List(args) => list::run(api, common, args).await,
    }
}

/// Settings every benchmark uses.
pub struct Common {
    pub duration: Duration,
    pub quiet: bool,
    pub server_pid: Option<u32>,
    pub base_url: String,
    pub caller: String,
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("3 parsecs").is_err());
        assert!(parse_duration("s").is_err());
    }
}
