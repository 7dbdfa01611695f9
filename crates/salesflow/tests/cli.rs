//! The binary as an operator uses it: validate files, generate demo data, serve.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use salesflow_domain::clock::{Clock, SystemClock};
use salesflow_domain::records::{NewAccount, Role};

fn salesflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_salesflow"))
}

fn templates_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../domain/templates")
}

#[test]
fn process_validate_accepts_templates_and_names_problems() {
    for entry in std::fs::read_dir(templates_dir()).unwrap() {
        let path = entry.unwrap().path();
        let out = salesflow().args(["process", "validate"]).arg(&path).output().unwrap();
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("is valid"));
    }
    let mut def: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(templates_dir().join("seed-five-stage.en.json")).unwrap())
            .unwrap();
    def["edges"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({ "id": "zombie", "from": "won", "to": "signing", "label": "again" }));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(&file, def.to_string()).unwrap();
    let out = salesflow().args(["process", "validate"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("edge zombie") && err.contains("terminal"), "{err}");
    std::fs::write(&file, "{ not json").unwrap();
    let out = salesflow().args(["process", "validate"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn demo_then_serve_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let out = salesflow().args(["demo", "--deals", "300", "--seed", "3"]).env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let printed = |label: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("`{label}` is printed: {stdout}"))
            .trim()
            .to_string()
    };
    let token = printed("admin API token (shown once): ");
    let password = printed("password of every demo user (shown once): ");
    assert!(stdout.contains("selling showcase: 14 products, 2 price books"), "{stdout}");

    // The showcase deals, from the store: (deal, language of its process, quote statuses, contracts).
    let store = salesflow_store::connect(&url).await.unwrap();
    let mut showcase = Vec::new();
    for p in store.list_processes().await.unwrap().into_iter().filter(|p| p.key.starts_with("seed-five-stage")) {
        for d in store.open_deals_on(p.id, p.published_version.unwrap()).await.unwrap() {
            let quotes: Vec<String> =
                store.quotes(d.id).await.unwrap().iter().map(|q| q.status.as_str().to_string()).collect();
            let contracts = store.contracts(d.id).await.unwrap().len();
            if !quotes.is_empty() {
                showcase.push((d.id.0, p.locale.clone(), quotes, contracts));
            }
        }
    }
    drop(store);
    let with = |locale: &str| {
        showcase.iter().find(|(_, l, _, _)| l == locale).unwrap_or_else(|| panic!("a {locale} deal with a quote"))
    };
    let (zh_deal, en_deal) = (with("zh-CN").0, with("en").0);
    assert!(showcase.iter().any(|(_, _, q, _)| q.iter().any(|s| s == "sent")), "a sent quote: {showcase:?}");
    let contract_deal = showcase.iter().find(|(_, _, _, c)| *c == 1).expect("a deal with a contract").0;

    let mut server = salesflow()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first.split("serving on ").nth(1).expect("prints where it serves").trim().to_string();
    let http = reqwest::Client::new();
    let api = |path: String| {
        let req = http.get(format!("{base}{path}")).bearer_auth(&token);
        async move { req.send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let deals = api("/api/v1/deals?status=open&limit=10".into()).await;
    let products = api("/api/v1/products".into()).await;
    let contracts = api(format!("/api/v1/deals/{contract_deal}/contracts")).await;

    // Demo users sign in with the printed password (the form's CSRF cookie and field first).
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let sign_in = |email: &'static str| {
        let (client, base, password) = (no_redirects.clone(), base.clone(), password.clone());
        async move {
            let form = client.get(format!("{base}/login")).send().await.unwrap();
            let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
            let page = form.text().await.unwrap();
            let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
            let fields = [("email", email), ("password", password.as_str()), ("_csrf", csrf.as_str())];
            client.post(format!("{base}/login")).header("cookie", cookie).form(&fields).send().await.unwrap()
        }
    };
    let page = |session: String, path: String| {
        let req = no_redirects.get(format!("{base}{path}")).header("cookie", session);
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let session =
        |res: &reqwest::Response| res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let signed_in = sign_in("admin@salesflow.example.com").await;
    let zh_page = page(session(&signed_in), format!("/deals/{zh_deal}")).await;
    // The English side's manager reads her team's deals in English.
    let sarah = sign_in("sarah.mitchell@salesflow.example.com").await;
    let en_page = page(session(&sarah), format!("/deals/{en_deal}")).await;
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(deals["items"].as_array().unwrap().len(), 10, "{deals}");
    assert_eq!(signed_in.status(), reqwest::StatusCode::SEE_OTHER, "the printed password signs in");
    assert!(signed_in.headers()["set-cookie"].to_str().unwrap().starts_with("sf_session="));

    let skus: Vec<&str> = products["items"].as_array().unwrap().iter().map(|p| p["sku"].as_str().unwrap()).collect();
    assert_eq!(skus.len(), 14, "{skus:?}");
    for sku in ["SF-CRM-BAS-CN", "SF-CRM-STD-CN", "SF-CRM-PRO-CN", "SF-PKG-STD-CN", "SF-CRM-PRO-US", "SF-SVC-CARE-US"] {
        assert!(skus.contains(&sku), "{sku} in {skus:?}");
    }
    let contract = &contracts["items"][0];
    assert_eq!(contract["status"], "signed", "{contracts}");
    assert_eq!(contract["milestones"].as_array().unwrap().len(), 3, "{contract}");
    for want in ["产品推荐", "上线周期", "2025 年交付报告", "data-quote=\"1\""] {
        assert!(zh_page.contains(want), "`{want}` on the zh deal page {zh_deal}");
    }
    for want in ["Recommended products", "Live within", "Delivery report 2025", "data-quote=\"1\""] {
        assert!(en_page.contains(want), "`{want}` on the English deal page {en_deal}");
    }
}

#[tokio::test]
async fn demo_on_postgres_leaves_sequences_ready() {
    let Some(url) = salesflow_testkit::fresh_postgres_url() else { return };
    let out = salesflow().args(["demo", "--deals", "200", "--seed", "5"]).env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("selling showcase: 14 products, 2 price books, 4 playbooks"), "{stdout}");
    let store = salesflow_store::connect(&url).await.unwrap();
    assert_eq!(store.list_products().await.unwrap().len(), 14);
    let before = store.max_ids().await.unwrap();
    assert!(before.deal >= 200 && before.event > before.deal);
    let owner = store.list_users().await.unwrap().into_iter().find(|u| u.role == Role::Rep).unwrap();
    let account = NewAccount {
        name: "Contoso".into(),
        industry: String::new(),
        region: String::new(),
        website: String::new(),
        customer_group: String::new(),
        owner_id: None,
    };
    let created = store.create_account(&account, owner.id, SystemClock.now()).await.unwrap();
    assert!(created.id.0 > before.account, "new ids continue after imported ones");
}

/// Kills the server when the test ends, also when it panics.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// `target/browser-artifacts/<name>/` (under `CARGO_TARGET_DIR` when set), emptied for this run.
fn browser_artifacts(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_relative() { workspace_root().join(t) } else { t })
        .unwrap_or_else(|| workspace_root().join("target"));
    let dir = target.join("browser-artifacts").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One browser test at a time: each starts its own server and Chromium on two shared cores.
static BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What the browser test needs that is not there (`.ci/run` installs all of it).
fn browser_prerequisites_missing(browser_dir: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !Path::new("/usr/bin/chromium").exists() {
        missing.push("/usr/bin/chromium (apt-get install chromium)".to_string());
    }
    if Command::new("node").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        missing.push("node on the PATH".to_string());
    }
    if !browser_dir.join("node_modules/playwright-core").is_dir() {
        missing.push("tests/browser/node_modules (npm ci --prefix tests/browser)".to_string());
    }
    missing
}

/// One browser script (`tests/browser/<name>.mjs`) against a fresh demo database served by the
/// real binary. The script gets the server's address, the demo users' password (after the admin
/// API token when `with_token`) and the artefacts folder `target/browser-artifacts/<name>/`,
/// which keeps the screenshots, the script's output (`<name>.log`) and the server's log.
struct BrowserRun<'a> {
    name: &'a str,
    deals: u32,
    seed: u32,
    with_token: bool,
    shots: &'a [&'a str],
}

impl BrowserRun<'_> {
    fn run(&self) {
        let _one_at_a_time = BROWSER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let browser_dir = workspace_root().join("tests/browser");
        let missing = browser_prerequisites_missing(&browser_dir);
        if !missing.is_empty() {
            let what = missing.join(", ");
            assert!(std::env::var_os("CI").is_none(), "the browser test needs {what} (CI is set: not skipped)");
            eprintln!("browser test {} skipped: missing {what}", self.name);
            return;
        }
        let artifacts = browser_artifacts(self.name);

        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("browser.db").display());
        let (deals, seed) = (self.deals.to_string(), self.seed.to_string());
        let out = salesflow().args(["demo", "--deals", &deals, "--seed", &seed]).env("DATABASE_URL", &url).output();
        let out = out.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let printed = |prefix: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("`{prefix}` is printed: {stdout}"))
                .trim()
                .to_string()
        };
        let password = printed("password of every demo user (shown once): ");

        let log = std::fs::File::create(artifacts.join("server.log")).unwrap();
        let mut server = Running(
            salesflow()
                .args(["serve", "--addr", "127.0.0.1:0"])
                .env("DATABASE_URL", &url)
                .stdout(Stdio::piped())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let base = first.split("serving on ").nth(1).expect("prints where it serves").trim().to_string();
        // Keep reading what the server prints so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));

        let mut args = vec![base];
        if self.with_token {
            args.push(printed("admin API token (shown once): "));
        }
        args.push(password);
        let started = Instant::now();
        let mut script = Command::new("node")
            .arg(browser_dir.join(format!("{}.mjs", self.name)))
            .args(&args)
            .arg(&artifacts)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (mut out, mut err) = (script.stdout.take().unwrap(), script.stderr.take().unwrap());
        let out = std::thread::spawn(move || std::io::read_to_string(&mut out).unwrap_or_default());
        let err = std::thread::spawn(move || std::io::read_to_string(&mut err).unwrap_or_default());
        let status = loop {
            if let Some(status) = script.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > Duration::from_secs(600) {
                let _ = script.kill();
                let _ = script.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let output = format!("{}{}", out.join().unwrap(), err.join().unwrap());
        std::fs::write(artifacts.join(format!("{}.log", self.name)), &output).unwrap();
        drop(server);
        let name = self.name;
        match status {
            Some(s) if s.success() => {
                for shot in self.shots {
                    assert!(artifacts.join(shot).is_file(), "{name}.mjs saved {shot}\n{output}");
                }
            }
            Some(s) => panic!("{name}.mjs failed ({s}); screenshots and logs in {}\n{output}", artifacts.display()),
            None => panic!("{name}.mjs did not finish within 10 minutes\n{output}"),
        }
    }
}

/// The pages in Chromium, like a user: `tests/browser/scenario.mjs` signs in as a demo rep,
/// turns a new lead into a deal and takes it across the board to Won through a hard and a soft
/// gate, then checks the same screens in English.
#[test]
fn browser_scenario_on_demo_data() {
    let shots = ["board-zh.png", "deal-zh.png", "board-en.png", "deal-en.png"];
    BrowserRun { name: "scenario", deals: 40, seed: 9, with_token: false, shots: &shots }.run();
}

/// The flowchart editor (`tests/browser/editor.mjs`): as the admin, a stage added to the seed
/// process between recommendation and quotation, its dangling error seen and fixed, published,
/// open deals migrated after the preview, the new flowchart on a deal's page; then the English
/// seed process in English.
#[test]
fn browser_editor_on_demo_data() {
    let shots = [
        "editor-criteria-zh.png",
        "editor-zh.png",
        "editor-moved-zh.png",
        "flowchart-zh.png",
        "editor-en.png",
        "flowchart-en.png",
        "deal-flowchart-zh.png",
    ];
    BrowserRun { name: "editor", deals: 40, seed: 5, with_token: false, shots: &shots }.run();
}

/// The customer's quote page and the deal page's selling panels (`tests/browser/quote.mjs`): a
/// quote rejected on its public link, the lower tier accepted, the deal page in both languages.
#[test]
fn browser_quote_pages_on_demo_data() {
    let shots = [
        "quote-zh.png",
        "quote-en.png",
        "quote-rejected-zh.png",
        "quote-accepted-zh.png",
        "deal-selling-zh.png",
        "deal-selling-en.png",
        "deal-needs-error-zh.png",
        "deal-draft-zh.png",
        "deal-approved-zh.png",
        "deal-sent-zh.png",
        "price-book-error-zh.png",
        "price-books-zh.png",
        "deal-contract-zh.png",
        "deal-contract-en.png",
        "deal-draft-edit-zh.png",
        "deal-draft-edited-zh.png",
        "deal-quote-changes-zh.png",
    ];
    BrowserRun { name: "quote", deals: 20, seed: 3, with_token: true, shots: &shots }.run();
}

/// The analytics page and the heat-mapped flowchart in both languages
/// (`tests/browser/analytics.mjs`): as a demo manager, the bottleneck sentence, the heat map, the
/// charts and segments, a stuck deal followed from a clicked stage, a filter, an event-log import
/// through the page form, then English.
#[test]
fn browser_analytics_on_demo_data() {
    let shots = ["analytics-zh.png", "heatmap-zh.png", "analytics-en.png", "heatmap-en.png"];
    BrowserRun { name: "analytics", deals: 400, seed: 11, with_token: false, shots: &shots }.run();
}

/// The event log the server exports, read by pm4py (PyPI, AGPL: run only as an outside check),
/// gives exactly the directly-follows graph, start and end activities, variants and case counts
/// of the server's own analytics report, and the same edge durations within a millisecond. The
/// log is the demo's seed process as `GET …/event-log` writes it, CSV and XES.
#[tokio::test]
async fn exported_demo_log_agrees_with_pm4py() {
    let script = workspace_root().join("crates/analytics/tests/pm4py_check.py");
    let pm4py = Command::new("python3").args(["-c", "import pm4py"]).output();
    if !pm4py.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(std::env::var_os("CI").is_none(), "pm4py is missing (CI is set: not skipped)");
        eprintln!("pm4py check skipped: python3 -m pip install -r crates/analytics/tests/requirements.txt");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let out = salesflow().args(["demo", "--deals", "600", "--seed", "21"]).env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let token = stdout
        .lines()
        .find_map(|l| l.strip_prefix("admin API token (shown once): "))
        .unwrap_or_else(|| panic!("the admin token is printed: {stdout}"))
        .trim()
        .to_string();
    let mut server = Running(
        salesflow()
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("DATABASE_URL", &url)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first.split("serving on ").nth(1).expect("prints where it serves").trim().to_string();
    std::thread::spawn(move || lines.for_each(drop));

    let http = reqwest::Client::new();
    let get = |path: String| {
        let req = http.get(format!("{base}{path}")).bearer_auth(&token);
        async move {
            let res = req.send().await.unwrap();
            assert!(res.status().is_success(), "{path}: {}", res.status());
            res.bytes().await.unwrap()
        }
    };
    let processes: serde_json::Value = serde_json::from_slice(&get("/api/v1/processes".into()).await).unwrap();
    let process = processes["items"]
        .as_array()
        .or(processes.as_array())
        .and_then(|p| p.iter().find(|p| p["key"] == "seed-five-stage.zh-CN"))
        .unwrap_or_else(|| panic!("the seed process is listed: {processes}"))["id"]
        .as_i64()
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&get(format!("/api/v1/processes/{process}/analytics")).await).unwrap();
    let ours = &report["analysis"];
    assert!(ours["dfg"]["cases"].as_u64().unwrap() > 100, "a log worth comparing: {}", ours["dfg"]["cases"]);

    for format in ["csv", "xes"] {
        let file = dir.path().join(format!("demo.{format}"));
        std::fs::write(&file, get(format!("/api/v1/processes/{process}/event-log?format={format}")).await).unwrap();
        let out = Command::new("python3").arg(&script).arg(&file).output().unwrap();
        assert!(out.status.success(), "pm4py on our {format}: {}", String::from_utf8_lossy(&out.stderr));
        let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        compare_with_pm4py(format, ours, &theirs);
    }
    drop(server);
}

/// Our report's `analysis` (DFG and variants) against `pm4py_check.py`'s answer.
fn compare_with_pm4py(file: &str, ours: &serde_json::Value, theirs: &serde_json::Value) {
    use std::collections::BTreeMap;
    let dfg = &ours["dfg"];
    assert_eq!(dfg["cases"], theirs["cases"], "{file}: cases");
    assert_eq!(dfg["events"], theirs["events"], "{file}: events");

    let edge_key = |a: &serde_json::Value, b: &serde_json::Value| {
        (a.as_str().unwrap().to_string(), b.as_str().unwrap().to_string())
    };
    let our_edges: BTreeMap<_, _> =
        dfg["edges"].as_array().unwrap().iter().map(|e| (edge_key(&e["from"], &e["to"]), e)).collect();
    let their_freq: BTreeMap<_, _> =
        theirs["dfg"].as_array().unwrap().iter().map(|e| (edge_key(&e[0], &e[1]), e[2].as_u64().unwrap())).collect();
    let our_freq: BTreeMap<_, _> =
        our_edges.iter().map(|(k, e)| (k.clone(), e["frequency"].as_u64().unwrap())).collect();
    assert_eq!(our_freq, their_freq, "{file}: DFG frequencies");

    let counts = |v: &serde_json::Value| -> BTreeMap<String, u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| (c["activity"].as_str().unwrap().into(), c["count"].as_u64().unwrap()))
            .collect()
    };
    let their_counts = |v: &serde_json::Value| -> BTreeMap<String, u64> {
        v.as_object().unwrap().iter().map(|(k, c)| (k.clone(), c.as_u64().unwrap())).collect()
    };
    assert_eq!(counts(&dfg["start_activities"]), their_counts(&theirs["start"]), "{file}: start activities");
    assert_eq!(counts(&dfg["end_activities"]), their_counts(&theirs["end"]), "{file}: end activities");

    let names: Vec<&str> =
        ours["variants"]["activities"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let our_variants: BTreeMap<Vec<String>, u64> = ours["variants"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let seq = v["sequence"].as_array().unwrap().iter().map(|i| names[i.as_u64().unwrap() as usize].to_string());
            (seq.collect(), v["count"].as_u64().unwrap())
        })
        .collect();
    let their_variants: BTreeMap<Vec<String>, u64> = theirs["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (v[0].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect(), v[1].as_u64().unwrap())
        })
        .collect();
    assert_eq!(our_variants, their_variants, "{file}: variants");

    for e in theirs["performance"].as_array().unwrap() {
        let (key, stats) = (edge_key(&e[0], &e[1]), &e[2]);
        let perf = &our_edges[&key]["performance"];
        for stat in ["mean", "median", "min", "max"] {
            let (mine, theirs) = (perf[stat].as_f64().unwrap(), stats[stat].as_f64().unwrap());
            assert!((mine - theirs).abs() <= 0.001, "{file}: {key:?} {stat}: ours {mine} s, pm4py {theirs} s");
        }
    }
    println!(
        "{file}: {} cases, {} events, {} edges, {} variants identical to pm4py {}",
        dfg["cases"],
        dfg["events"],
        our_edges.len(),
        our_variants.len(),
        theirs["pm4py"]
    );
}
