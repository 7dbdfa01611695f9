use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use salesflow_domain::currency::Money;
use salesflow_domain::deal_update::{plan_patch, plan_step};
use salesflow_domain::ids::{ProcessId, UserId};
use salesflow_domain::process::NodeKind;
use salesflow_domain::records::{
    Deal, DealEvent, DealPatch, DealStatus, EventKind, LeadStatus, MoveRequest, StepToggle, User,
};
use salesflow_domain::stage_move::plan_move;
use salesflow_domain::store::{HistoryBatch, MaxIds, ProcessVersion, VersionStatus};
use salesflow_domain::templates;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 18, 7, 30, 0).unwrap()
}

fn start() -> MaxIds {
    MaxIds { account: 10, contact: 20, lead: 30, deal: 40, event: 50 }
}

fn world() -> World {
    let users = demo_users()
        .into_iter()
        .enumerate()
        .map(|(i, u)| User {
            id: UserId(i as i64 + 1),
            name: u.name,
            email: u.email,
            locale: u.locale,
            time_zone: u.time_zone,
            role: u.role,
            active: true,
        })
        .collect();
    let published = now() - Duration::days(400);
    let processes = templates::all()
        .into_iter()
        .enumerate()
        .map(|(i, definition)| {
            Arc::new(ProcessVersion {
                process_id: ProcessId(i as i64 + 1),
                version: 1,
                status: VersionStatus::Published,
                definition,
                created_at: published,
                published_at: Some(published),
                retired_at: None,
            })
        })
        .collect();
    World { users, processes, start: start(), now: now(), months: 12 }
}

fn generate(deals: u64, seed: u64, per_batch: usize) -> Vec<HistoryBatch> {
    let mut g = Generator::new(world(), deals, seed);
    let mut out = Vec::new();
    while let Some(b) = g.next_batch(per_batch) {
        out.push(b);
    }
    assert_eq!(g.deals_done(), deals);
    assert_eq!(g.events_done(), out.iter().map(|b| b.events.len() as u64).sum::<u64>());
    out
}

fn merged(batches: &[HistoryBatch]) -> HistoryBatch {
    let mut all = HistoryBatch::default();
    for b in batches {
        all.accounts.extend(b.accounts.iter().cloned());
        all.contacts.extend(b.contacts.iter().cloned());
        all.leads.extend(b.leads.iter().cloned());
        all.deals.extend(b.deals.iter().cloned());
        all.steps.extend(b.steps.iter().cloned());
        all.events.extend(b.events.iter().cloned());
    }
    all
}

fn events_by_deal(all: &HistoryBatch) -> HashMap<i64, Vec<&DealEvent>> {
    let mut by: HashMap<i64, Vec<&DealEvent>> = HashMap::new();
    for e in &all.events {
        by.entry(e.deal_id.0).or_default().push(e);
    }
    by
}

fn versions() -> HashMap<(i64, i32), Arc<ProcessVersion>> {
    world().processes.into_iter().map(|p| ((p.process_id.0, p.version), p)).collect()
}

#[test]
fn same_seed_same_batches() {
    let a = generate(600, 7, 128);
    let b = generate(600, 7, 128);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.accounts, y.accounts);
        assert_eq!(x.contacts, y.contacts);
        assert_eq!(x.leads, y.leads);
        assert_eq!(x.deals, y.deals);
        assert_eq!(x.steps, y.steps);
        assert_eq!(x.events, y.events);
    }
    let c = merged(&generate(600, 8, 128));
    assert_ne!(merged(&a).deals, c.deals, "another seed gives another history");
}

#[test]
fn a_few_accounts_are_dealers_by_their_industry() {
    let all = merged(&generate(600, 7, 128));
    let dealers: Vec<_> = all.accounts.iter().filter(|a| !a.customer_group.is_empty()).collect();
    assert!(!dealers.is_empty() && dealers.len() * 5 < all.accounts.len(), "a few: {}", dealers.len());
    for a in dealers {
        match a.customer_group.as_str() {
            "经销商" => assert_eq!(a.industry, "电子商务"),
            "dealer" => assert_eq!(a.industry, "Retail"),
            other => panic!("unexpected group {other}"),
        }
    }
}

#[test]
fn batches_respect_their_size_and_the_total() {
    let batches = generate(1001, 3, 250);
    assert_eq!(batches.iter().map(|b| b.deals.len()).collect::<Vec<_>>(), vec![250, 250, 250, 250, 1]);
    assert!(Generator::new(world(), 0, 1).next_batch(10).is_none());
}

#[test]
fn ids_follow_the_starting_point() {
    let all = merged(&generate(800, 11, 100));
    let s = start();
    let seq = |ids: Vec<i64>, from: i64| {
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(*id, from + 1 + i as i64);
        }
    };
    seq(all.accounts.iter().map(|a| a.id.0).collect(), s.account);
    seq(all.contacts.iter().map(|c| c.id.0).collect(), s.contact);
    seq(all.deals.iter().map(|d| d.id.0).collect(), s.deal);
    seq(all.events.iter().map(|e| e.id).collect(), s.event);
    let mut leads: Vec<i64> = all.leads.iter().map(|l| l.id.0).collect();
    leads.sort();
    seq(leads, s.lead);
}

#[test]
fn moves_follow_routes_of_the_definition() {
    let all = merged(&generate(1500, 5, 500));
    let versions = versions();
    for e in all.events.iter().filter(|e| e.kind == EventKind::Moved) {
        let def = &versions[&(e.process_id.0, e.process_version)].definition;
        let route: Vec<String> =
            e.details["route"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        let routes = def.routes_from(&e.from_node);
        assert!(
            routes.iter().any(|r| r.edges == route && r.to == e.to_node),
            "event {}: {} → {} via {route:?} is not a route",
            e.id,
            e.from_node,
            e.to_node
        );
        assert_eq!(e.edge_id.as_ref(), route.last());
    }
}

#[test]
fn sequences_and_times_per_deal() {
    let all = merged(&generate(1500, 9, 300));
    let by = events_by_deal(&all);
    let versions = versions();
    for d in &all.deals {
        let evs = &by[&d.id.0];
        let def = &versions[&(d.process_id.0, d.process_version)].definition;
        assert_eq!(evs[0].kind, EventKind::Created);
        assert_eq!(evs[0].from_node, def.entry().unwrap().id);
        assert_eq!(evs[0].to_node, evs[0].from_node);
        assert_eq!(evs[0].details, serde_json::json!({ "title": d.title }));
        for (i, e) in evs.iter().enumerate() {
            assert_eq!(e.seq, i as i64 + 1, "deal {}", d.id);
            assert_eq!(e.recorded_at, e.occurred_at);
            assert!(e.occurred_at <= now());
            if i > 0 {
                assert!(evs[i - 1].occurred_at <= e.occurred_at, "deal {} events out of order", d.id);
                assert!(evs[i - 1].id < e.id);
            }
        }
        assert!(d.created_at <= now());
    }
}

/// Replays every deal's log through the domain's own planners: each event is one the store
/// would have accepted and written with these very details, and the deal ends where its log
/// says it does.
#[test]
fn replay_through_the_domain_planners() {
    let all = merged(&generate(2000, 21, 400));
    let by = events_by_deal(&all);
    let versions = versions();
    let later = now() + Duration::days(1);
    let managers: Vec<UserId> = world().users.iter().filter(|u| u.role == Role::Manager).map(|u| u.id).collect();
    for d in &all.deals {
        let evs = &by[&d.id.0];
        let def = &versions[&(d.process_id.0, d.process_version)].definition;
        let first = evs[0];
        let mut cur = Deal {
            id: d.id,
            title: d.title.clone(),
            account_id: d.account_id,
            contact_ids: d.contact_ids.clone(),
            owner_id: d.owner_id,
            process_id: d.process_id,
            process_version: d.process_version,
            current_node: first.to_node.clone(),
            amount: first.amount_minor.map(|m| Money { minor: m, currency: first.currency.unwrap() }),
            expected_close_date: first.expected_close_date,
            probability: first.probability,
            probability_overridden: false,
            status: DealStatus::Open,
            lost_reason: None,
            needs_summary: String::new(),
            channel: d.channel,
            lead_id: d.lead_id,
            completed_steps: Vec::new(),
            needs_known: Vec::new(),
            version: 1,
            stage_entered_at: first.occurred_at,
            created_at: first.occurred_at,
            updated_at: first.occurred_at,
            closed_at: None,
        };
        assert_eq!(cur.probability, salesflow_domain::stage_move::default_probability(def, &cur.current_node));
        assert_eq!(d.created_at, first.occurred_at);
        let mut last = first.occurred_at;
        for e in &evs[1..] {
            let at = Some(e.occurred_at);
            match e.kind {
                EventKind::StepCompleted => {
                    let step = e.details["step"].as_str().unwrap().to_string();
                    let toggle = StepToggle { step: step.clone(), done: true, version: cur.version, occurred_at: at };
                    let planned = plan_step(def, &cur, Some(last), &toggle, later).expect("step accepted");
                    assert_eq!(planned.details, e.details);
                    assert_eq!(
                        (planned.from_node.as_str(), planned.to_node.as_str()),
                        (e.from_node.as_str(), e.to_node.as_str())
                    );
                    cur.completed_steps.push(step);
                }
                EventKind::Updated | EventKind::AmountChanged | EventKind::CloseDateChanged => {
                    let mut patch = DealPatch { version: cur.version, occurred_at: at, ..Default::default() };
                    match e.kind {
                        EventKind::Updated => {
                            patch.needs_summary = Some(e.details["needs_summary"]["new"].as_str().unwrap().to_string())
                        }
                        EventKind::AmountChanged => {
                            patch.amount =
                                Some(Some(serde_json::from_value::<Money>(e.details["new"].clone()).unwrap()))
                        }
                        _ => {
                            patch.expected_close_date =
                                Some(Some(serde_json::from_value(e.details["new"].clone()).unwrap()))
                        }
                    }
                    let (next, planned) = plan_patch(def, &cur, Some(last), &patch, later).expect("patch accepted");
                    assert_eq!(planned.len(), 1, "deal {} seq {}", d.id, e.seq);
                    assert_eq!(planned[0].kind, e.kind);
                    assert_eq!(planned[0].details, e.details, "deal {} seq {}", d.id, e.seq);
                    cur = next;
                }
                EventKind::Moved => {
                    let text = |k: &str| e.details.get(k).and_then(|v| v.as_str()).map(str::to_string);
                    let req = MoveRequest {
                        to: e.to_node.clone(),
                        edge: e.edge_id.clone(),
                        version: cur.version,
                        occurred_at: at,
                        override_reason: text("override_reason"),
                        lost_reason: text("lost_reason"),
                    };
                    let plan = plan_move(def, &cur, Some(last), &req, later)
                        .unwrap_or_else(|err| panic!("deal {} seq {}: move refused: {err:?}", d.id, e.seq));
                    assert_eq!(plan.event.details, e.details, "deal {} seq {}", d.id, e.seq);
                    assert_eq!(plan.event.edge_id, e.edge_id);
                    assert_eq!(plan.event.from_node, e.from_node);
                    cur.current_node = plan.to_node;
                    cur.status = plan.status;
                    cur.probability = plan.probability;
                    cur.lost_reason = plan.lost_reason;
                    cur.completed_steps.clear();
                    cur.stage_entered_at = e.occurred_at;
                    cur.closed_at = (plan.status != DealStatus::Open).then_some(e.occurred_at);
                }
                other => panic!("unexpected event kind {other:?}"),
            }
            cur.version += 1;
            cur.updated_at = e.occurred_at;
            last = e.occurred_at;
            // The snapshot columns carry the deal after the event.
            assert_eq!(e.amount_minor, cur.amount.map(|m| m.minor));
            assert_eq!(e.currency, cur.amount.map(|m| m.currency));
            assert_eq!(e.probability, cur.probability);
            assert_eq!(e.expected_close_date, cur.expected_close_date);
            assert!(e.actor_id == d.owner_id || managers.contains(&e.actor_id), "actors are the owner or a manager");
        }
        assert_eq!(*d, cur, "deal {} matches its replayed log", d.id);
        assert_eq!(d.version, evs.last().unwrap().seq);
        if d.status == DealStatus::Lost {
            assert!(d.lost_reason.as_ref().is_some_and(|r| !r.is_empty()));
        }
    }
}

#[test]
fn records_hang_together() {
    let all = merged(&generate(2000, 13, 333));
    let accounts: HashMap<i64, _> = all.accounts.iter().map(|a| (a.id.0, a)).collect();
    let contacts: HashMap<i64, _> = all.contacts.iter().map(|c| (c.id.0, c)).collect();
    let leads: HashMap<i64, _> = all.leads.iter().map(|l| (l.id.0, l)).collect();
    let deals: HashMap<i64, _> = all.deals.iter().map(|d| (d.id.0, d)).collect();
    let users: HashMap<i64, User> = world().users.into_iter().map(|u| (u.id.0, u)).collect();
    let versions = versions();
    for d in &all.deals {
        let a = accounts[&d.account_id.0];
        assert!(a.created_at <= d.created_at, "deal {} before its account", d.id);
        assert!(!d.contact_ids.is_empty());
        for c in &d.contact_ids {
            assert_eq!(contacts[&c.0].account_id, Some(d.account_id));
            assert!(contacts[&c.0].created_at <= d.created_at);
        }
        let owner = &users[&d.owner_id.0];
        assert!(matches!(owner.role, Role::Rep | Role::Manager));
        let def = &versions[&(d.process_id.0, d.process_version)].definition;
        assert_eq!(def.locale, owner.locale, "deal {} runs on a process in its owner's language", d.id);
        match d.lead_id {
            Some(l) => {
                let lead = leads[&l.0];
                assert_eq!(lead.status, LeadStatus::Converted);
                assert_eq!(lead.converted_deal_id, Some(d.id));
                assert_eq!(Some(lead.channel), d.channel);
                assert_eq!(lead.company, a.name);
                assert_eq!(lead.owner_id, d.owner_id);
                assert!(lead.created_at <= d.created_at && lead.updated_at == d.created_at);
                assert!(d.contact_ids.iter().any(|c| contacts[&c.0].name == lead.name));
            }
            None => assert!(!all.leads.iter().any(|l| l.converted_deal_id == Some(d.id))),
        }
        let mut seen = HashSet::new();
        assert!(d.contact_ids.iter().all(|c| seen.insert(*c)));
        match d.status {
            DealStatus::Open => {
                assert!(d.closed_at.is_none());
                assert!(matches!(def.node(&d.current_node).unwrap().kind, NodeKind::Stage(_)));
            }
            DealStatus::Won => assert_eq!(d.probability, 100),
            DealStatus::Lost => assert_eq!(d.probability, 0),
        }
    }
    for l in &all.leads {
        if let Some(d) = l.converted_deal_id {
            assert_eq!(deals[&d.0].lead_id, Some(l.id));
        } else {
            assert_ne!(l.status, LeadStatus::Converted);
            assert_eq!(l.disqualify_reason.is_some(), l.status == LeadStatus::Disqualified);
        }
        assert!(l.created_at <= l.updated_at && l.updated_at <= now());
    }
    for a in &all.accounts {
        assert!(a.created_at <= a.updated_at && a.updated_at <= now());
        assert!(salesflow_domain::normalize::company(&a.name).is_some());
    }
    let keys: HashSet<_> = all.accounts.iter().map(|a| salesflow_domain::normalize::company(&a.name)).collect();
    assert_eq!(keys.len(), all.accounts.len(), "account names are distinct");
    for c in &all.contacts {
        let new = salesflow_domain::records::NewContact {
            account_id: c.account_id,
            name: c.name.clone(),
            title: c.title.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            wechat_id: c.wechat_id.clone(),
            preferred_channel: c.preferred_channel,
            consent: c.consent,
            owner_id: Some(c.owner_id),
        };
        new.validate().unwrap_or_else(|e| panic!("contact {} invalid: {e:?}", c.id));
        if let Some(e) = &c.email {
            assert!(e.ends_with(".example.com"), "{e}");
        }
    }
    // Ticked steps: current stage of open deals only, exactly the deal's completed steps.
    let mut steps: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for (d, node, step, at) in &all.steps {
        assert!(*at <= now());
        steps.entry(d.0).or_default().push((node.clone(), step.clone()));
    }
    for d in &all.deals {
        let rows = steps.remove(&d.id.0).unwrap_or_default();
        if d.status != DealStatus::Open {
            assert!(rows.is_empty());
        }
        assert_eq!(rows.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(), d.completed_steps);
        assert!(rows.iter().all(|(n, _)| *n == d.current_node));
    }
}

struct Stats {
    deals: usize,
    open: usize,
    won: usize,
    lost: usize,
    zh: usize,
    en: usize,
    events: usize,
    overrides: usize,
    moves_forward: usize,
    over_sla: usize,
    stage_visits: usize,
    leads_converted: usize,
    accounts: usize,
}

fn stats(all: &HistoryBatch) -> Stats {
    let versions = versions();
    let by = events_by_deal(all);
    let mut s = Stats {
        deals: all.deals.len(),
        open: 0,
        won: 0,
        lost: 0,
        zh: 0,
        en: 0,
        events: all.events.len(),
        overrides: 0,
        moves_forward: 0,
        over_sla: 0,
        stage_visits: 0,
        leads_converted: all.leads.iter().filter(|l| l.status == LeadStatus::Converted).count(),
        accounts: all.accounts.len(),
    };
    for d in &all.deals {
        match d.status {
            DealStatus::Open => s.open += 1,
            DealStatus::Won => s.won += 1,
            DealStatus::Lost => s.lost += 1,
        }
        let def = &versions[&(d.process_id.0, d.process_version)].definition;
        if def.locale == "zh-CN" {
            s.zh += 1
        } else {
            s.en += 1
        }
        let mut entered = d.created_at;
        for e in by[&d.id.0].iter().filter(|e| e.kind == EventKind::Moved) {
            if e.details.get("overridden").is_some() {
                s.overrides += 1;
            }
            if e.details.get("lost_reason").is_none() {
                s.moves_forward += 1;
            }
            if let Some(stage) = def.stage(&e.from_node) {
                s.stage_visits += 1;
                if e.occurred_at - entered > Duration::days(stage.sla_days as i64) {
                    s.over_sla += 1;
                }
            }
            entered = e.occurred_at;
        }
    }
    s
}

fn report(label: &str, s: &Stats) {
    let pct = |x: usize| 100.0 * x as f64 / s.deals as f64;
    println!(
        "{label}: {} deals: open {:.1}% won {:.1}% lost {:.1}%; zh {:.1}% en {:.1}%; {:.2} events/deal; \
         {:.1}% of non-lost moves overridden; {:.1}% of stage visits over SLA; {} accounts ({:.2} deals/account); \
         {:.1}% of deals from leads",
        s.deals,
        pct(s.open),
        pct(s.won),
        pct(s.lost),
        pct(s.zh),
        pct(s.en),
        s.events as f64 / s.deals as f64,
        100.0 * s.overrides as f64 / s.moves_forward.max(1) as f64,
        100.0 * s.over_sla as f64 / s.stage_visits.max(1) as f64,
        s.accounts,
        s.deals as f64 / s.accounts as f64,
        pct(s.leads_converted),
    );
}

#[test]
fn looks_like_a_real_pipeline() {
    let all = merged(&generate(2000, 42, 500));
    let s = stats(&all);
    report("2000 deals", &s);
    let mut kinds: Vec<(&str, usize)> = EventKind::ALL
        .iter()
        .map(|k| (k.as_str(), all.events.iter().filter(|e| e.kind == *k).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    kinds.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    println!("events by kind: {kinds:?}");
    let open = s.open as f64 / s.deals as f64;
    assert!((0.20..=0.40).contains(&open), "open share {open}");
    assert!(s.won > 0 && s.lost > s.won);
    assert!(s.zh > 0 && s.en > 0, "both languages");
    assert!(s.zh > s.en);
    let per_deal = s.events as f64 / s.deals as f64;
    assert!((6.0..=14.0).contains(&per_deal), "events per deal {per_deal}");
    let over = s.over_sla as f64 / s.stage_visits as f64;
    assert!((0.10..=0.35).contains(&over), "share over SLA {over}");
    let per_account = s.deals as f64 / s.accounts as f64;
    assert!((2.2..=4.0).contains(&per_account), "deals per account {per_account}");
    // Spread over processes: mostly the five-stage one.
    let seed = all.deals.iter().filter(|d| matches!(d.process_id.0, 1 | 2)).count() as f64 / s.deals as f64;
    assert!((0.62..=0.78).contains(&seed), "five-stage share {seed}");
    // Soft gates get overridden now and then, with a reason.
    assert!(s.overrides > 0);
    // Loops happen: some deals visit the tiered package and come back.
    assert!(all.events.iter().any(|e| e.edge_id.as_deref() == Some("renegotiate")));
    // Amounts: median near ¥80,000 on the five-stage zh process.
    let mut zh: Vec<i64> =
        all.deals.iter().filter(|d| d.process_id.0 == 1).filter_map(|d| d.amount.map(|m| m.minor)).collect();
    zh.sort();
    let median = zh[zh.len() / 2];
    assert!((4_000_000..=16_000_000).contains(&median), "median {median}");
}

#[test]
fn activity_happens_in_business_hours() {
    use chrono::{Datelike, Timelike};
    let all = merged(&generate(500, 77, 500));
    let users: HashMap<i64, User> = world().users.into_iter().map(|u| (u.id.0, u)).collect();
    let owner: HashMap<i64, i64> = all.deals.iter().map(|d| (d.id.0, d.owner_id.0)).collect();
    let mut checked = 0;
    for e in &all.events {
        let u = &users[&owner[&e.deal_id.0]];
        if u.time_zone != "Asia/Shanghai" {
            continue;
        }
        let local = e.occurred_at + Duration::hours(8);
        assert!(local.weekday().num_days_from_monday() < 5, "{local}");
        assert!((9..19).contains(&local.hour()), "{local}");
        checked += 1;
    }
    assert!(checked > 1000);
}

#[test]
#[ignore]
fn bench_200k_deals() {
    // SALESFLOW_DEMO_BENCH_DEALS=1000000 for the full-size run.
    let deals = std::env::var("SALESFLOW_DEMO_BENCH_DEALS").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let t = std::time::Instant::now();
    let mut g = Generator::new(world(), deals, 1);
    let mut rows = 0usize;
    let mut dropping = std::time::Duration::ZERO;
    while let Some(b) = g.next_batch(5_000) {
        rows += b.accounts.len() + b.contacts.len() + b.leads.len() + b.deals.len() + b.steps.len() + b.events.len();
        let d = std::time::Instant::now();
        drop(b);
        dropping += d.elapsed();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{deals} deals, {} events, {rows} rows in {secs:.2}s ({:.2}s of it freeing batches): \
         {:.0} deals/s, {:.0} events/s",
        g.events_done(),
        dropping.as_secs_f64(),
        deals as f64 / secs,
        g.events_done() as f64 / secs
    );
    let all = merged(&generate(20_000, 1, 5_000));
    report("20000 deals", &stats(&all));
}

/// `cargo test -p salesflow-demo print_samples -- --ignored --nocapture` shows what the data
/// looks like.
#[test]
#[ignore]
fn print_samples() {
    use chrono::Datelike;
    let all = merged(&generate(3000, 2, 1000));
    for d in all
        .deals
        .iter()
        .filter(|d| d.status == DealStatus::Won)
        .take(1)
        .chain(all.deals.iter().filter(|d| d.status == DealStatus::Won && d.process_id.0 == 2).take(1))
    {
        println!("{d:?}");
        for e in all.events.iter().filter(|e| e.deal_id == d.id) {
            println!(
                "  {} {} {:?} {}→{} {:?} actor {} amt {:?} p {} close {:?} {}",
                e.seq,
                e.occurred_at,
                e.kind,
                e.from_node,
                e.to_node,
                e.edge_id,
                e.actor_id,
                e.amount_minor,
                e.probability,
                e.expected_close_date,
                e.details
            );
        }
    }
    for a in all.accounts.iter().take(6) {
        println!("{a:?}");
    }
    for c in all.contacts.iter().take(6) {
        println!("{c:?}");
    }
    for l in all.leads.iter().take(6) {
        println!("{l:?}");
    }
    let mut per_month = std::collections::BTreeMap::new();
    for d in &all.deals {
        *per_month.entry((d.created_at.year(), d.created_at.month())).or_insert(0) += 1;
    }
    println!("deals created per month: {per_month:?}");
    let mut reasons: HashMap<&str, usize> = HashMap::new();
    for d in &all.deals {
        if let Some(r) = &d.lost_reason {
            *reasons.entry(r.as_str()).or_default() += 1;
        }
    }
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    println!("lost reasons: {reasons:?}");
    let mut open_at: HashMap<&str, usize> = HashMap::new();
    for d in all.deals.iter().filter(|d| d.status == DealStatus::Open) {
        *open_at.entry(d.current_node.as_str()).or_default() += 1;
    }
    println!("open deals by stage: {open_at:?}");
    for (label, pid) in [("zh five-stage", 1), ("en five-stage", 2), ("zh saas", 3), ("zh tender", 5)] {
        let mut v: Vec<i64> =
            all.deals.iter().filter(|d| d.process_id.0 == pid).filter_map(|d| d.amount.map(|m| m.minor)).collect();
        v.sort();
        if !v.is_empty() {
            println!(
                "{label}: median amount {} (n={}), p10 {} p90 {}",
                v[v.len() / 2],
                v.len(),
                v[v.len() / 10],
                v[v.len() * 9 / 10]
            );
        }
    }
    let mut ch: HashMap<String, usize> = HashMap::new();
    for l in all.leads.iter().filter(|l| l.status == LeadStatus::Converted) {
        *ch.entry(l.channel.as_str().to_string()).or_default() += 1;
    }
    println!("converted lead channels: {ch:?}");
    let mut ls: HashMap<&str, usize> = HashMap::new();
    for l in &all.leads {
        *ls.entry(l.status.as_str()).or_default() += 1;
    }
    println!("lead statuses: {ls:?}");
    let mut by_proc: HashMap<i64, [usize; 3]> = HashMap::new();
    for d in &all.deals {
        let e = by_proc.entry(d.process_id.0).or_default();
        e[match d.status {
            DealStatus::Open => 0,
            DealStatus::Won => 1,
            DealStatus::Lost => 2,
        }] += 1;
    }
    let mut by_proc: Vec<_> = by_proc.into_iter().collect();
    by_proc.sort();
    println!("per process [open, won, lost]: {by_proc:?}");
}

#[test]
fn odd_worlds_still_work() {
    // No managers, an unknown time zone, an English rep but only Chinese processes, and a
    // second published version of the five-stage process.
    let mut w = world();
    w.users.retain(|u| u.role == Role::Rep);
    w.users[0].time_zone = "Mars/Olympus_Mons".into();
    w.users.last_mut().unwrap().locale = "en".into();
    let mut v2 = (*w.processes[0]).clone();
    v2.version = 2;
    v2.published_at = Some(now() - Duration::days(100));
    w.processes.retain(|p| p.definition.locale == "zh-CN");
    w.processes.push(Arc::new(v2));
    let mut g = Generator::new(w, 400, 3);
    let mut deals = Vec::new();
    let mut events = Vec::new();
    while let Some(b) = g.next_batch(64) {
        deals.extend(b.deals);
        events.extend(b.events);
    }
    assert_eq!(deals.len(), 400);
    assert!(deals.iter().all(|d| d.process_id.0 % 2 == 1), "only the zh processes exist");
    let v2: Vec<_> = deals.iter().filter(|d| d.process_id.0 == 1 && d.process_version == 2).collect();
    assert!(!v2.is_empty());
    assert!(v2.iter().all(|d| d.created_at >= now() - Duration::days(100)));
    assert!(
        deals
            .iter()
            .filter(|d| d.process_id.0 == 1 && d.process_version == 1)
            .all(|d| d.created_at < now() - Duration::days(100))
    );
    // Without a manager every actor is the owner.
    let owners: HashMap<i64, UserId> = deals.iter().map(|d| (d.id.0, d.owner_id)).collect();
    assert!(events.iter().all(|e| e.actor_id == owners[&e.deal_id.0]));

    // No usable process or no users: nothing to generate.
    let mut empty = world();
    empty.processes.clear();
    assert!(Generator::new(empty, 10, 1).next_batch(10).is_none());
    let mut nobody = world();
    nobody.users.clear();
    assert!(Generator::new(nobody, 10, 1).next_batch(10).is_none());
}
