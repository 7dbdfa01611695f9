//! Performance DFG, ours against pm4py's `discover_performance_dfg`, on a receipt.csv-like log
//! of about 1.6 M events: receipt.csv's 1,434 cases replicated with new case ids into
//! `/tmp/receipt-x187.csv`, then both tools load that same file and compute.
//!
//! `cargo run --release -p salesflow-analytics --example dfg_vs_pm4py [-- RECEIPT.csv [COPIES]]`
//!
//! Needs python3 with pm4py (`pip install -r crates/analytics/tests/requirements.txt`).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use salesflow_analytics::csv::read_csv;
use salesflow_analytics::performance_dfg;

const RUNS: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let source = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/eventlogs/receipt.csv"));
    let copies: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(187);
    let big = PathBuf::from(format!("/tmp/receipt-x{copies}.csv"));
    replicate(&source, &big, copies)?;

    let best = |f: &mut dyn FnMut()| {
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .expect("runs")
    };
    let mut log = None;
    let load = best(&mut || log = Some(read_csv(BufReader::new(std::fs::File::open(&big).unwrap())).unwrap().0));
    let log = log.expect("loaded");
    let mut dfg = None;
    let compute = best(&mut || dfg = Some(performance_dfg(&log)));
    let dfg = dfg.expect("computed");
    println!("ours:  {} events, {} cases, {} edges", log.events(), log.cases(), dfg.edges.len());

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/dfg_vs_pm4py.py");
    let out = Command::new("python3").arg(script).arg(&big).arg("3").output()?;
    if !out.status.success() {
        eprintln!("pm4py run failed (is pm4py installed?):\n{}", String::from_utf8_lossy(&out.stderr));
        std::process::exit(1);
    }
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let secs = |k: &str| Duration::from_secs_f64(theirs[k].as_f64().expect("seconds"));
    let (their_load, their_dfg) = (secs("load_s"), secs("dfg_s"));

    // Same answer before comparing speed: every edge's mean within 1 ms.
    let means = theirs["mean"].as_object().expect("means");
    assert_eq!(means.len(), dfg.edges.len(), "edge count");
    for e in &dfg.edges {
        let theirs = means[&format!("{}\u{2192}{}", e.from, e.to)].as_f64().expect("mean");
        let ours = e.performance.as_ref().expect("performance").mean;
        assert!((ours - theirs).abs() < 1e-3, "{} → {}: {ours} vs {theirs}", e.from, e.to);
    }

    println!("pm4py {}: {} events", theirs["pm4py"].as_str().unwrap_or("?"), theirs["events"]);
    println!("best of runs        ours        pm4py      pm4py / ours");
    for (what, o, p) in [("load CSV", load, their_load), ("performance DFG", compute, their_dfg)] {
        println!("{what:<18} {:>9.1} ms {:>9.1} ms {:>9.1}×", ms(o), ms(p), p.as_secs_f64() / o.as_secs_f64());
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Writes `copies` copies of the log, each case id suffixed with `-r{copy}` (a new case).
fn replicate(source: &Path, target: &Path, copies: usize) -> std::io::Result<()> {
    let mut lines = BufReader::new(std::fs::File::open(source)?).lines();
    let header = lines.next().expect("header")?;
    let case_col = header.split(',').position(|h| h == "case:concept:name").expect("case column");
    let rows: Vec<String> = lines.collect::<Result<_, _>>()?;
    let mut out = BufWriter::new(std::fs::File::create(target)?);
    writeln!(out, "{header}")?;
    for copy in 0..copies {
        for row in &rows {
            // receipt.csv has no quoted commas, so splitting on ',' is exact here.
            let cells: Vec<&str> = row.split(',').collect();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                if i == case_col {
                    write!(out, "{cell}-r{copy}")?;
                } else {
                    out.write_all(cell.as_bytes())?;
                }
            }
            out.write_all(b"\n")?;
        }
    }
    out.flush()
}
