//! Demo data: users, the shipped process templates (published), generated history, and the
//! selling showcase (`showcase.rs`).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use salesflow_domain::clock::{Clock, SystemClock};
use salesflow_domain::records::{AuditAction, NewApiToken, NewAuditEntry, NewTeam, TokenScope, User};
use salesflow_domain::store::{ProcessVersion, Store};
use salesflow_domain::templates;

pub struct Report {
    /// The admin, their API token and the demo users' password, shown once.
    pub admin: Option<(User, String, String)>,
    pub deals: u64,
    pub events: u64,
    pub seconds: f64,
    /// The selling showcase, when this run added it (a database without a catalog).
    pub showcase: Option<crate::showcase::Showcase>,
}

impl Report {
    pub fn print(&self) {
        println!(
            "demo data: {} deals, {} events in {:.1}s ({:.0} events/s)",
            self.deals,
            self.events,
            self.seconds,
            self.events as f64 / self.seconds.max(0.001)
        );
        if let Some(s) = &self.showcase {
            println!(
                "selling showcase: {} products, {} price books, {} playbooks; {} deals with needs, {} quotes ({} sent), {} contracts, {} objections",
                s.products, s.price_books, s.playbooks, s.deals, s.quotes, s.sent, s.contracts, s.objections
            );
        }
        if let Some((admin, token, password)) = &self.admin {
            println!("admin: {} <{}>", admin.name, admin.email);
            println!("password of every demo user (shown once): {password}");
            println!("admin API token (shown once): {token}");
        }
    }
}

/// A read-write API token for `user`, without expiry; the secret is returned once.
pub async fn issue_token(store: &Arc<dyn Store>, user: &User, label: &str) -> Result<String> {
    let token = salesflow_web::auth::new_token();
    let new = NewApiToken {
        user_id: user.id,
        token_hash: salesflow_web::auth::token_hash(&token),
        label: label.into(),
        scope: TokenScope::ReadWrite,
        expires_at: None,
    };
    let now = SystemClock.now();
    let created = store.create_api_token(&new, now).await?;
    store.append_audit(&cli_audit(AuditAction::TokenCreated, "api_token", created.id.0, label, now)).await?;
    Ok(token)
}

/// An audit entry for something done on the command line (no signed-in actor).
pub fn cli_audit(action: AuditAction, kind: &str, id: i64, detail: &str, now: DateTime<Utc>) -> NewAuditEntry {
    NewAuditEntry {
        at: now,
        actor_id: None,
        action,
        subject_kind: kind.into(),
        subject_id: Some(id),
        address: "command line".into(),
        detail: detail.into(),
        old_value: None,
        new_value: None,
    }
}

/// A readable random password: 16 characters from an alphabet without look-alikes.
pub fn new_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// Published versions of every shipped template, creating and publishing them when missing.
async fn template_processes(store: &Arc<dyn Store>) -> Result<Vec<Arc<ProcessVersion>>> {
    let now = SystemClock.now();
    let existing = store.list_processes().await?;
    let mut out = Vec::new();
    for def in templates::all() {
        let id = match existing.iter().find(|p| p.key == def.key) {
            Some(p) if p.published_version.is_some() => p.id,
            Some(p) => store.publish(p.id, p.latest_version, now).await?.process_id,
            None => {
                let v = store.create_process(&def, now).await?;
                store.publish(v.process_id, v.version, now).await?.process_id
            }
        };
        out.push(store.latest_published(id).await?);
    }
    Ok(out)
}

/// Fills the store with `deals` deals of history. Users are created only when there are none.
pub async fn demo(store: &Arc<dyn Store>, deals: u64, seed: u64, progress: bool) -> Result<Report> {
    let started = Instant::now();
    let now = SystemClock.now();
    let mut users = store.list_users().await?;
    let mut admin = None;
    if users.is_empty() {
        let password = new_password();
        let hash = salesflow_web::auth::password::hash(&password).await?;
        for mut u in salesflow_demo::demo_users() {
            u.password_hash = Some(hash.clone());
            let user = store.create_user(&u, now).await?;
            store.append_audit(&cli_audit(AuditAction::Create, "user", user.id.0, "demo data", now)).await?;
            users.push(user);
        }
        for (name, manager, members) in salesflow_demo::demo_teams() {
            let id = |email: &str| users.iter().find(|u| u.email == email).map(|u| u.id);
            let team = NewTeam {
                name: name.into(),
                manager_id: id(manager),
                members: members.into_iter().filter_map(id).collect(),
            };
            let team = store.create_team(&team, now).await?;
            store.append_audit(&cli_audit(AuditAction::PermissionChanged, "team", team.id.0, "demo data", now)).await?;
        }
        let token = issue_token(store, &users[0], "demo").await?;
        admin = Some((users[0].clone(), token, password));
    }
    let processes = template_processes(store).await?;
    let world =
        salesflow_demo::World { users, processes: processes.clone(), start: store.max_ids().await?, now, months: 12 };
    let mut generator = salesflow_demo::Generator::new(world, deals, seed);
    let bar = if progress { ProgressBar::new(deals) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} deals ({per_sec}, eta {eta}) {msg}",
        )
        .expect("static template"),
    );
    // Generation (CPU) overlaps with writing (database): a bounded channel keeps one batch ahead.
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let producer = tokio::task::spawn_blocking(move || {
        while let Some(batch) = generator.next_batch(5_000) {
            if tx.blocking_send(batch).is_err() {
                break;
            }
        }
        generator.events_done()
    });
    let mut written = 0u64;
    while let Some(batch) = rx.recv().await {
        store.import_history(&batch).await?;
        written += batch.deals.len() as u64;
        bar.set_position(written);
        bar.set_message(format!("{} events", batch.events.last().map(|e| e.id).unwrap_or(0)));
    }
    let events = producer.await?;
    bar.set_message("finishing (indexes, statistics)…");
    store.finish_import().await?;
    bar.set_message("selling showcase…");
    let showcase = crate::showcase::add(store, &processes).await?;
    bar.finish_and_clear();
    Ok(Report { admin, deals: written, events, seconds: started.elapsed().as_secs_f64(), showcase })
}
