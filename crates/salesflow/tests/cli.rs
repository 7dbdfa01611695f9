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
    let deals: serde_json::Value = http
        .get(format!("{base}/api/v1/deals?status=open&limit=10"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // The demo admin signs in with the printed password (the form's CSRF cookie and field first).
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = no_redirects.get(format!("{base}/login")).send().await.unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let page = form.text().await.unwrap();
    let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let fields = [("email", "admin@salesflow.example.com"), ("password", password.as_str()), ("_csrf", csrf.as_str())];
    let signed_in =
        no_redirects.post(format!("{base}/login")).header("cookie", cookie).form(&fields).send().await.unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(deals["items"].as_array().unwrap().len(), 10, "{deals}");
    assert_eq!(signed_in.status(), reqwest::StatusCode::SEE_OTHER, "the printed password signs in");
    assert!(signed_in.headers()["set-cookie"].to_str().unwrap().starts_with("sf_session="));
}

#[tokio::test]
async fn demo_on_postgres_leaves_sequences_ready() {
    let Some(url) = salesflow_testkit::fresh_postgres_url() else { return };
    let out = salesflow().args(["demo", "--deals", "200", "--seed", "5"]).env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = salesflow_store::connect(&url).await.unwrap();
    let before = store.max_ids().await.unwrap();
    assert!(before.deal >= 200 && before.event > before.deal);
    let owner = store.list_users().await.unwrap().into_iter().find(|u| u.role == Role::Rep).unwrap();
    let account = NewAccount {
        name: "Contoso".into(),
        industry: String::new(),
        region: String::new(),
        website: String::new(),
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

/// `target/browser-artifacts/` (under `CARGO_TARGET_DIR` when set), emptied for this run.
fn browser_artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_relative() { workspace_root().join(t) } else { t })
        .unwrap_or_else(|| workspace_root().join("target"));
    let dir = target.join("browser-artifacts");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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

/// The pages in Chromium, like a user: `tests/browser/scenario.mjs` signs in as a demo rep,
/// turns a new lead into a deal and takes it across the board to Won through a hard and a soft
/// gate, then checks the same screens in English. Screenshots, the scenario's output and the
/// server's log go to `target/browser-artifacts/`.
#[test]
fn browser_scenario_on_demo_data() {
    let root = workspace_root();
    let browser_dir = root.join("tests/browser");
    let missing = browser_prerequisites_missing(&browser_dir);
    if !missing.is_empty() {
        let what = missing.join(", ");
        assert!(std::env::var_os("CI").is_none(), "the browser test needs {what} (CI is set: not skipped)");
        eprintln!("browser test skipped: missing {what}");
        return;
    }
    let artifacts = browser_artifacts();

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("browser.db").display());
    let out = salesflow().args(["demo", "--deals", "40", "--seed", "9"]).env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password of every demo user (shown once): "))
        .unwrap_or_else(|| panic!("the demo password is printed: {stdout}"))
        .trim()
        .to_string();

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

    let started = Instant::now();
    let mut scenario = Command::new("node")
        .arg(browser_dir.join("scenario.mjs"))
        .args([base.as_str(), password.as_str()])
        .arg(&artifacts)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (scenario.stdout.take().unwrap(), scenario.stderr.take().unwrap());
    let out = std::thread::spawn(move || std::io::read_to_string(&mut out).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(&mut err).unwrap_or_default());
    let status = loop {
        if let Some(status) = scenario.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(600) {
            let _ = scenario.kill();
            let _ = scenario.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = format!("{}{}", out.join().unwrap(), err.join().unwrap());
    std::fs::write(artifacts.join("scenario.log"), &output).unwrap();
    drop(server);
    match status {
        Some(s) if s.success() => {
            for shot in ["board-zh.png", "deal-zh.png", "board-en.png", "deal-en.png"] {
                assert!(artifacts.join(shot).is_file(), "the scenario saved {shot}\n{output}");
            }
        }
        Some(s) => {
            panic!("the browser scenario failed ({s}); screenshots and server.log in {}\n{output}", artifacts.display())
        }
        None => panic!("the browser scenario did not finish within 10 minutes\n{output}"),
    }
}

/// The analytics page and the heat-mapped flowchart in Chromium, in both languages:
/// `tests/browser/analytics.mjs` signs in as a demo manager, checks the bottleneck sentence,
/// the heat map, the charts and segments, follows a stuck deal from a clicked stage, filters,
/// and switches to English. Screenshots and logs go to `target/browser-artifacts/`.
#[test]
fn browser_analytics_on_demo_data() {
    let root = workspace_root();
    let browser_dir = root.join("tests/browser");
    let missing = browser_prerequisites_missing(&browser_dir);
    if !missing.is_empty() {
        let what = missing.join(", ");
        assert!(std::env::var_os("CI").is_none(), "the browser test needs {what} (CI is set: not skipped)");
        eprintln!("browser test skipped: missing {what}");
        return;
    }
    let artifacts = browser_artifacts();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("analytics.db").display());
    let out = salesflow().args(["demo", "--deals", "400", "--seed", "11"]).env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password of every demo user (shown once): "))
        .unwrap_or_else(|| panic!("the demo password is printed: {stdout}"))
        .trim()
        .to_string();
    let log = std::fs::File::create(artifacts.join("server-analytics.log")).unwrap();
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
    std::thread::spawn(move || lines.for_each(drop));
    let out = Command::new("node")
        .arg(browser_dir.join("analytics.mjs"))
        .args([base.as_str(), password.as_str()])
        .arg(&artifacts)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    std::fs::write(artifacts.join("analytics.log"), &output).unwrap();
    drop(server);
    assert!(out.status.success(), "the analytics browser test failed; artefacts in {}\n{output}", artifacts.display());
    for shot in ["analytics-zh.png", "heatmap-zh.png", "analytics-en.png", "heatmap-en.png"] {
        assert!(artifacts.join(shot).is_file(), "the test saved {shot}\n{output}");
    }
}
