//! The `salesflow` binary: wires the store, the web layer and the demo generator together.
//! With no arguments it serves on 127.0.0.1:8080, filling an empty database with demo data.

mod cli;
mod seed;
mod showcase;

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use salesflow_domain::clock::{Clock, SystemClock};
use salesflow_domain::records::{AuditAction, NewUser};
use salesflow_domain::store::Store;

use cli::{Cli, Command, ProcessCommand, TokenCommand, UserCommand};

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "salesflow=info,warn".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve(cli::Serve::default())) {
        Command::Process { command: ProcessCommand::Validate { file } } => validate_file(&file),
        Command::Serve(args) => {
            let store = open(&cli.database_url).await?;
            if args.demo_if_empty && store.list_users().await?.is_empty() {
                println!("The database is empty: adding demo data (both languages)…");
                let report = seed::demo(&store, 400, 42, false).await?;
                report.print();
            }
            serve(store, &args).await
        }
        Command::Migrate => {
            let store = open(&cli.database_url).await?;
            println!("migrations applied: {:?}", store.applied_migrations().await?);
            Ok(())
        }
        Command::Demo { deals, seed: s } => {
            let store = open(&cli.database_url).await?;
            let report = seed::demo(&store, deals, s, true).await?;
            report.print();
            Ok(())
        }
        Command::User { command: UserCommand::Add { name, email, role, locale, time_zone } } => {
            let store = open(&cli.database_url).await?;
            let role = salesflow_domain::records::Role::parse(&role)
                .with_context(|| format!("role must be admin, manager, rep or viewer, not `{role}`"))?;
            // The password comes from the environment (never the command line, which other
            // users of the machine can see), or is generated and printed once.
            let (password, generated) = match std::env::var("SALESFLOW_PASSWORD") {
                Ok(p) if !p.is_empty() => (p, false),
                _ => (seed::new_password(), true),
            };
            salesflow_web::auth::password::check_new("SALESFLOW_PASSWORD", &password)?;
            let password_hash = Some(salesflow_web::auth::password::hash(&password).await?);
            let now = SystemClock.now();
            let user = store.create_user(&NewUser { name, email, locale, time_zone, role, password_hash }, now).await?;
            store.append_audit(&seed::cli_audit(AuditAction::Create, "user", user.id.0, "command line", now)).await?;
            let token = seed::issue_token(&store, &user, "cli").await?;
            println!("user {} <{}> created as {}", user.id, user.email, role.as_str());
            if generated {
                println!("password (shown once): {password}");
            }
            println!("API token (shown once): {token}");
            Ok(())
        }
        Command::Token { command: TokenCommand::Create { email, label } } => {
            let store = open(&cli.database_url).await?;
            let user = store.user_by_email(&email).await?.with_context(|| format!("no user with email {email}"))?;
            let token = seed::issue_token(&store, &user, &label).await?;
            println!("API token for {} (shown once): {token}", user.email);
            Ok(())
        }
    }
}

async fn open(url: &str) -> Result<Arc<dyn Store>> {
    let store = salesflow_store::connect(url).await.with_context(|| format!("opening {}", redact(url)))?;
    store.migrate().await?;
    Ok(store)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &url[..scheme], &url[at..]),
        _ => url.to_string(),
    }
}

async fn serve(store: Arc<dyn Store>, args: &cli::Serve) -> Result<()> {
    let addr = args.addr.as_str();
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    // A closed stdout (piped into `head`, a supervisor gone) must not stop the server.
    let banner = format!(
        "salesflow ({}) is serving on http://{local}\n  Sign in:   http://{local}/login\n  API docs:  http://{local}/api/docs\n  OpenAPI:   http://{local}/api/openapi.json\n",
        store.backend()
    );
    let mut out = std::io::stdout();
    let _ = out.write_all(banner.as_bytes()).and_then(|_| out.flush());
    let auth = salesflow_web::auth::AuthConfig {
        secure_cookies: args.secure_cookies,
        trusted_proxies: args.trusted_proxies.clone(),
        ..Default::default()
    };
    // Sessions abandoned without signing out, and failed sign-ins past the throttling window,
    // are removed every ten minutes.
    let (sessions, idle, window) = (store.clone(), auth.session_idle, auth.throttle_window);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            let now = SystemClock.now();
            if let Err(e) = sessions.delete_expired_sessions(now, now - idle).await {
                tracing::warn!(error = %e, "removing expired sessions failed");
            }
            if let Err(e) = sessions.prune_login_failures(now - window).await {
                tracing::warn!(error = %e, "removing old sign-in failures failed");
            }
        }
    });
    let selling = salesflow_web::SellingConfig {
        approval_threshold_bp: args.discount_approval_percent,
        public_url: args.public_url.clone(),
    };
    let state = salesflow_web::AppState::with_auth(store, Arc::new(SystemClock), auth)
        .with_selling(selling)
        .with_analytics_budget_mb(args.analytics_cache_mb);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    salesflow_web::serve(listener, state, shutdown).await?;
    Ok(())
}

fn validate_file(file: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let def: salesflow_domain::process::ProcessDefinition = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{}: not a process definition: {e}", file.display());
            std::process::exit(2);
        }
    };
    let issues = def.validate();
    if issues.is_empty() {
        println!("{}: `{}` is valid ({} nodes, {} edges)", file.display(), def.key, def.nodes.len(), def.edges.len());
        Ok(())
    } else {
        for i in &issues {
            let at = i.node.as_ref().map(|n| format!("node {n}")).or(i.edge.as_ref().map(|e| format!("edge {e}")));
            eprintln!("{}: {}{}", file.display(), at.map(|a| format!("{a}: ")).unwrap_or_default(), i.message);
        }
        eprintln!("{} problem(s)", issues.len());
        std::process::exit(1);
    }
}
