//! Realistic, deterministic sales history for demos and load tests: users, accounts, contacts,
//! leads and deals that walk their process graph the way a sales team would — ticking steps,
//! filling the fields the exit gates ask for, sometimes overriding a soft gate, looping back
//! after a rejected quote, losing deals with a reason — and the event log the store would have
//! written for all of it. Pure: no I/O, no async. The same world, deal count and seed always
//! give the same batches.

pub mod clock;
mod names;
pub mod selling;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use serde_json::{Map, Value, json};

use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::ids::{AccountId, ContactId, DealId, LeadId, ProcessId, UserId};
use salesflow_domain::process::{Gate, NodeKind, ProcessDefinition, Requirement};
use salesflow_domain::records::{
    Account, Channel, Consent, Contact, Deal, DealEvent, DealField, DealStatus, EventKind, Lead, LeadStatus, NewUser,
    Role, User,
};
use salesflow_domain::store::{HistoryBatch, MaxIds, ProcessVersion, VersionStatus};

use clock::{DAY, Secs, Zone};
pub use names::Lang;
use names::{Names, pick, weighted};

// ---------------------------------------------------------------------------------------------
// Tunables.

/// Share of deals that come from a converted lead.
const LEAD_SHARE: f64 = 0.6;
/// Share of deals that open a new account; the others go to an account the owner already has.
const NEW_ACCOUNT_SHARE: f64 = 0.34;
/// Leads that never became a deal (new, contacted, qualified or disqualified), per deal.
const EXTRA_LEADS_PER_DEAL: f64 = 0.5;
/// How much busier the newest month is than the oldest (linear ramp).
const RAMP: f64 = 0.5;
/// Time in stage: lognormal, median = this × SLA.
const STAGE_MEDIAN_OF_SLA: f64 = 0.7;
const STAGE_SIGMA: f64 = 0.4;
/// Deals that stall in a stage (waiting on the customer) stay 2–5× longer.
const STALL_SHARE: f64 = 0.07;
/// Deals headed for Lost that instead go quiet: nobody closes them, they stay open where they
/// are (the stale part of every real pipeline, what SLA views and reviews are for).
const QUIET_SHARE: f64 = 0.25;
/// A soft-gated criterion is left unmet (and overridden on the move) this often.
const SOFT_SKIP: f64 = 0.10;
/// A step no criterion asks for is ticked this often.
const OPTIONAL_TICK: f64 = 0.85;
/// At most this many backward loops (rejected quote → tiered package → …) per deal.
const MAX_LOOPS: u32 = 3;
/// Accounts each owner keeps working with (older ones drop out of the reuse pool).
const POOL_CAP: usize = 2000;

// ---------------------------------------------------------------------------------------------
// Users.

/// A demo team of 12: the admin first, two managers, eight reps and a viewer; two thirds work
/// in Chinese from Shanghai, the others in English from several time zones.
pub fn demo_users() -> Vec<NewUser> {
    let u = |name: &str, email: &str, locale: &str, tz: &str, role: Role| NewUser {
        name: name.into(),
        email: email.into(),
        locale: locale.into(),
        time_zone: tz.into(),
        role,
        password_hash: None,
    };
    let zh = "zh-CN";
    let sh = "Asia/Shanghai";
    vec![
        u("管理员", "admin@salesflow.example.com", zh, sh, Role::Admin),
        u("王建国", "wang.jianguo@salesflow.example.com", zh, sh, Role::Manager),
        u("Sarah Mitchell", "sarah.mitchell@salesflow.example.com", "en", "America/New_York", Role::Manager),
        u("张伟", "zhang.wei@salesflow.example.com", zh, sh, Role::Rep),
        u("李娜", "li.na@salesflow.example.com", zh, sh, Role::Rep),
        u("刘洋", "liu.yang@salesflow.example.com", zh, sh, Role::Rep),
        u("陈静", "chen.jing@salesflow.example.com", zh, sh, Role::Rep),
        u("杨帆", "yang.fan@salesflow.example.com", zh, sh, Role::Rep),
        u("James Carter", "james.carter@salesflow.example.com", "en", "America/Los_Angeles", Role::Rep),
        u("Emily Watson", "emily.watson@salesflow.example.com", "en", "Europe/London", Role::Rep),
        u("Daniel Tan", "daniel.tan@salesflow.example.com", "en", "Asia/Singapore", Role::Rep),
        u("赵敏", "zhao.min@salesflow.example.com", zh, sh, Role::Viewer),
    ]
}

/// The demo's two teams: (name, manager's email, members' emails). The viewer reads the
/// Shanghai team's records.
pub fn demo_teams() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    let e = |local: &'static str| local;
    vec![
        (
            "华东销售组",
            e("wang.jianguo@salesflow.example.com"),
            vec![
                "wang.jianguo@salesflow.example.com",
                "zhang.wei@salesflow.example.com",
                "li.na@salesflow.example.com",
                "liu.yang@salesflow.example.com",
                "chen.jing@salesflow.example.com",
                "yang.fan@salesflow.example.com",
                "zhao.min@salesflow.example.com",
            ],
        ),
        (
            "International Sales",
            e("sarah.mitchell@salesflow.example.com"),
            vec![
                "sarah.mitchell@salesflow.example.com",
                "james.carter@salesflow.example.com",
                "emily.watson@salesflow.example.com",
                "daniel.tan@salesflow.example.com",
            ],
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// The world the history is written into.

pub struct World {
    /// As created in the store.
    pub users: Vec<User>,
    /// Published versions to spread deals over.
    pub processes: Vec<Arc<ProcessVersion>>,
    /// Generated ids start after these.
    pub start: MaxIds,
    pub now: DateTime<Utc>,
    /// History span, e.g. 12.
    pub months: u32,
}

/// Which shipped template a process comes from; it decides how many deals it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Seed,
    Saas,
    Tender,
    Other,
}

impl Family {
    fn of(key: &str) -> Family {
        if key.starts_with("seed-five-stage") {
            Family::Seed
        } else if key.starts_with("saas-trial") {
            Family::Saas
        } else if key.starts_with("project-tender") {
            Family::Tender
        } else {
            Family::Other
        }
    }

    fn weight(self) -> u32 {
        match self {
            Family::Seed => 70,
            Family::Saas | Family::Tender => 15,
            Family::Other => 10,
        }
    }

    /// Deal size relative to the five-stage process.
    fn size(self) -> f64 {
        match self {
            Family::Seed | Family::Other => 1.0,
            Family::Saas => 0.5,
            Family::Tender => 3.0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A process version compiled for fast walking.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stage,
    Decision,
    Won,
    Lost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Crit {
    None,
    Hard,
    Soft,
}

impl Crit {
    fn add(self, gate: Gate) -> Crit {
        match (self, gate) {
            (Crit::Hard, _) | (_, Gate::Hard) => Crit::Hard,
            _ => Crit::Soft,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Need {
    Field(DealField),
    Step(usize),
    /// A step id the stage does not list: never satisfiable, so never walked forward.
    Impossible,
}

struct Criterion {
    id: String,
    need: Need,
    gate: Gate,
}

struct StepDef {
    id: String,
    name: String,
    crit: Crit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteClass {
    Forward,
    Loop,
    Lost,
}

struct RouteDef {
    route_json: Value,
    last_edge: String,
    to: usize,
    label: String,
    class: RouteClass,
    via_decision: bool,
}

struct StageDef {
    probability: u8,
    sla_days: f64,
    steps: Vec<StepDef>,
    criteria: Vec<Criterion>,
    amount: Crit,
    close: Crit,
    summary: Crit,
    routes: Vec<RouteDef>,
    /// Route indexes with weights.
    forward: Vec<(usize, u32)>,
    loops: Vec<usize>,
    lost: Vec<(usize, u32)>,
    /// Chance of going on (forward or back) rather than being lost.
    cont: f64,
    loop_share: f64,
    /// Lost-reason tier: 0 early, 1 middle, 2 late.
    tier: u8,
    /// Days from entering this stage to a win along the main path.
    days_to_close: f64,
}

struct NodeDef {
    id: String,
    kind: Kind,
    stage: Option<StageDef>,
}

struct Proc {
    pv: Arc<ProcessVersion>,
    family: Family,
    lang: Lang,
    currency: Currency,
    entry: usize,
    nodes: Vec<NodeDef>,
}

impl Proc {
    fn compile(pv: Arc<ProcessVersion>) -> Option<Proc> {
        let def: &ProcessDefinition = &pv.definition;
        let entry_id = def.entry()?.id.clone();
        let index = |id: &str| def.nodes.iter().position(|n| n.id == id);
        let entry = index(&entry_id)?;
        let family = Family::of(&def.key);
        let lang = Lang::of_locale(&def.locale);
        let order: Vec<&str> = def.stages_in_order().iter().map(|n| n.id.as_str()).collect();
        let order_of = |id: &str| order.iter().position(|o| *o == id).unwrap_or(usize::MAX);
        let mut nodes: Vec<NodeDef> = def
            .nodes
            .iter()
            .map(|n| NodeDef {
                id: n.id.clone(),
                kind: match n.kind {
                    NodeKind::Stage(_) => Kind::Stage,
                    NodeKind::Decision => Kind::Decision,
                    NodeKind::Won => Kind::Won,
                    NodeKind::Lost => Kind::Lost,
                },
                stage: None,
            })
            .collect();
        for (i, n) in def.nodes.iter().enumerate() {
            let NodeKind::Stage(stage) = &n.kind else { continue };
            let mut steps: Vec<StepDef> = stage
                .steps
                .iter()
                .map(|s| StepDef { id: s.id.clone(), name: s.name.clone(), crit: Crit::None })
                .collect();
            let (mut amount, mut close, mut summary) = (Crit::None, Crit::None, Crit::None);
            let mut criteria = Vec::new();
            for c in &stage.exit_criteria {
                let need = match &c.requires {
                    Requirement::Field(f) => {
                        match f {
                            DealField::Amount => amount = amount.add(c.gate),
                            DealField::ExpectedCloseDate => close = close.add(c.gate),
                            DealField::NeedsSummary => summary = summary.add(c.gate),
                            DealField::Contact => {}
                        }
                        Need::Field(*f)
                    }
                    // Demo deals carry no needs analysis.
                    Requirement::Needs(_) => Need::Impossible,
                    Requirement::Step(s) => match steps.iter().position(|st| st.id == *s) {
                        Some(k) => {
                            steps[k].crit = steps[k].crit.add(c.gate);
                            Need::Step(k)
                        }
                        None => Need::Impossible,
                    },
                };
                criteria.push(Criterion { id: c.id.clone(), need, gate: c.gate });
            }
            let p = stage.probability;
            let mut routes = Vec::new();
            for r in def.routes_from(&n.id) {
                let Some(to) = index(&r.to) else { continue };
                let class = match &def.nodes[to].kind {
                    NodeKind::Lost => RouteClass::Lost,
                    NodeKind::Won => RouteClass::Forward,
                    NodeKind::Stage(t) if t.probability > p => RouteClass::Forward,
                    NodeKind::Stage(t) if t.probability < p => RouteClass::Loop,
                    NodeKind::Stage(_) if order_of(&r.to) > order_of(&n.id) => RouteClass::Forward,
                    NodeKind::Stage(_) => RouteClass::Loop,
                    NodeKind::Decision => continue,
                };
                routes.push(RouteDef {
                    route_json: Value::Array(r.edges.iter().map(|e| Value::String(e.clone())).collect()),
                    last_edge: r.edges.last().cloned().unwrap_or_default(),
                    to,
                    label: r.label.clone(),
                    class,
                    via_decision: r.edges.len() > 1,
                });
            }
            // Forward: the next stage on the main path gets most deals, shortcuts the rest.
            let mut fwd: Vec<usize> = (0..routes.len()).filter(|&k| routes[k].class == RouteClass::Forward).collect();
            fwd.sort_by_key(|&k| (order_of(&def.nodes[routes[k].to].id), k));
            let forward: Vec<(usize, u32)> = match fwd.len() {
                0 => Vec::new(),
                1 => vec![(fwd[0], 100)],
                len => {
                    fwd.iter().enumerate().map(|(j, &k)| (k, if j == 0 { 70 } else { 30 / (len as u32 - 1) })).collect()
                }
            };
            let mut loops: Vec<usize> = (0..routes.len()).filter(|&k| routes[k].class == RouteClass::Loop).collect();
            // A hard criterion on a step the stage lacks (validation refuses those) can never be
            // met: such a stage only loses deals.
            let stuck = criteria.iter().any(|c: &Criterion| matches!(c.need, Need::Impossible) && c.gate == Gate::Hard);
            let forward = if stuck { Vec::new() } else { forward };
            if stuck {
                loops.clear();
            }
            let lost_all: Vec<usize> = (0..routes.len()).filter(|&k| routes[k].class == RouteClass::Lost).collect();
            let decisions = lost_all.iter().filter(|&&k| routes[k].via_decision).count() as u32;
            let direct = lost_all.len() as u32 - decisions;
            let lost = lost_all
                .iter()
                .map(|&k| {
                    let w = match (routes[k].via_decision, decisions > 0 && direct > 0) {
                        (_, false) => 60,
                        (true, true) => 60 / decisions,
                        (false, true) => 40 / direct,
                    };
                    (k, w.max(1))
                })
                .collect();
            let cont = match (family, n.id.as_str()) {
                (Family::Seed, "lead_identification") => 0.55,
                (Family::Seed, "needs_analysis") => 0.60,
                (Family::Seed, "recommendation") => 0.70,
                (Family::Seed, "negotiation") => 0.80,
                (Family::Seed, "tiered_package") => 0.75,
                (Family::Seed, "signing") => 0.90,
                _ => 0.5 + 0.45 * p as f64 / 100.0,
            };
            nodes[i].stage = Some(StageDef {
                probability: p,
                sla_days: stage.sla_days.max(1) as f64,
                steps,
                criteria,
                amount,
                close,
                summary,
                routes,
                forward,
                loops,
                lost,
                cont,
                loop_share: if family == Family::Seed { 0.30 } else { 0.20 },
                tier: if p < 20 {
                    0
                } else if p < 45 {
                    1
                } else {
                    2
                },
                days_to_close: 0.0,
            });
        }
        // Expected days to a win along the main forward path.
        for i in 0..nodes.len() {
            let mut days = 0.0;
            let mut at = i;
            for _ in 0..nodes.len() {
                let Some(s) = &nodes[at].stage else { break };
                days += s.sla_days * STAGE_MEDIAN_OF_SLA;
                match s.forward.first() {
                    Some(&(k, _)) => at = s.routes[k].to,
                    None => break,
                }
            }
            if let Some(s) = &mut nodes[i].stage {
                s.days_to_close = days;
            }
        }
        if nodes[entry].kind != Kind::Stage {
            return None;
        }
        let currency = if lang == Lang::Zh { Currency::CNY } else { Currency::USD };
        Some(Proc { pv, family, lang, currency, entry, nodes })
    }

    fn probability(&self, node: usize) -> u8 {
        match self.nodes[node].kind {
            Kind::Stage => self.nodes[node].stage.as_ref().map_or(0, |s| s.probability),
            Kind::Won => 100,
            _ => 0,
        }
    }
}

/// One process (all its published versions) a language's deals can run on.
struct ProcGroup {
    weight: u32,
    /// Indexes into `Generator::procs`, oldest version first.
    versions: Vec<usize>,
}

struct Owner {
    id: UserId,
    lang: Lang,
    zone: Zone,
    manager: UserId,
    groups: Vec<ProcGroup>,
    group_weights: Vec<u32>,
}

struct ContactRef {
    id: ContactId,
    name: String,
    email: Option<String>,
    phone: Option<String>,
}

struct AccountRef {
    id: AccountId,
    created: Secs,
    name: String,
    short: String,
    contacts: Vec<ContactRef>,
}

// ---------------------------------------------------------------------------------------------
// The generator.

pub struct Generator {
    rng: SmallRng,
    procs: Vec<Proc>,
    owners: Vec<Owner>,
    owner_weights: Vec<u32>,
    pools: Vec<Vec<AccountRef>>,
    names: Names,
    now: Secs,
    span_start: Secs,
    span: Secs,
    total: u64,
    done: u64,
    events: u64,
    next_account: i64,
    next_contact: i64,
    next_lead: i64,
    next_deal: i64,
    next_event: i64,
    /// Reused between deals: the current stage's planned actions.
    actions: Vec<Action>,
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Tick(usize),
    Summary,
    Amount(i64),
    Close,
}

/// The customer group of a demo account, from its industry alone (no draw from the generator,
/// so the rest of the history stays as it was): online retailers buy to resell — 经销商, or
/// `dealer` for the English-speaking accounts.
fn customer_group(industry: &str) -> String {
    match industry {
        "电子商务" => "经销商",
        "Retail" => "dealer",
        _ => "",
    }
    .to_string()
}

fn dt(t: Secs) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).expect("timestamps stay in range")
}

fn date(day: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((day + 719_163) as i32).expect("dates stay in range")
}

/// A standard normal draw.
fn z(rng: &mut SmallRng) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

/// Amounts as people quote them: ¥12,300 not ¥12,345.67.
fn round_amount(minor: f64) -> i64 {
    let unit = if minor < 10_000_000.0 {
        10_000.0
    } else if minor < 100_000_000.0 {
        100_000.0
    } else {
        1_000_000.0
    };
    ((minor / unit).round() * unit).max(unit) as i64
}

/// The deal as it stands while its history is written.
struct DealState {
    id: DealId,
    process_id: ProcessId,
    process_version: i32,
    owner: UserId,
    manager: UserId,
    node: usize,
    seq: i64,
    last: Secs,
    amount: Option<Money>,
    close: Option<NaiveDate>,
    summary: String,
    probability: u8,
    steps: Vec<(usize, Secs)>,
    stage_entered: Secs,
    has_contact: bool,
}

impl Generator {
    pub fn new(world: World, deals: u64, seed: u64) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let published: Vec<Arc<ProcessVersion>> =
            world.processes.iter().filter(|p| p.status == VersionStatus::Published).cloned().collect();
        let usable = if published.is_empty() { &world.processes } else { &published };
        let procs: Vec<Proc> = usable.iter().cloned().filter_map(Proc::compile).collect();
        let now = world.now.timestamp();
        let span = (world.months.max(1) as f64 * 30.436_875 * DAY as f64) as Secs;

        let groups_for = |lang: Lang| -> Vec<ProcGroup> {
            let mut ids: Vec<ProcessId> = procs.iter().filter(|p| p.lang == lang).map(|p| p.pv.process_id).collect();
            if ids.is_empty() {
                ids = procs.iter().map(|p| p.pv.process_id).collect();
            }
            ids.sort();
            ids.dedup();
            let family_count = |f: Family| {
                ids.iter().filter(|id| procs.iter().any(|p| p.pv.process_id == **id && p.family == f)).count() as u32
            };
            ids.iter()
                .map(|id| {
                    let mut versions: Vec<usize> =
                        (0..procs.len()).filter(|&i| procs[i].pv.process_id == *id).collect();
                    versions.sort_by_key(|&i| procs[i].pv.version);
                    let family = procs[versions[0]].family;
                    ProcGroup { weight: (family.weight() * 60 / family_count(family).max(1)).max(1), versions }
                })
                .collect()
        };

        let active: Vec<&User> = world.users.iter().filter(|u| u.active).collect();
        let managers: Vec<&User> = active.iter().copied().filter(|u| u.role == Role::Manager).collect();
        let reps: Vec<&User> = active.iter().copied().filter(|u| u.role == Role::Rep).collect();
        let mut sellers: Vec<(&User, u32)> = Vec::new();
        for (i, r) in reps.iter().enumerate() {
            // Some reps carry more deals than others.
            sellers.push((r, [100, 140, 80, 120, 90, 110, 70, 130][i % 8]));
        }
        for m in &managers {
            sellers.push((m, if reps.is_empty() { 100 } else { 12 }));
        }
        if sellers.is_empty() {
            let fallback = active.iter().copied().filter(|u| u.role != Role::Viewer).chain(active.iter().copied());
            if let Some(u) = fallback.into_iter().next().or(world.users.first()) {
                sellers.push((u, 100));
            }
        }
        let mut owners = Vec::new();
        let mut owner_weights = Vec::new();
        for (u, w) in sellers {
            let lang = Lang::of_locale(&u.locale);
            // A rep's manager steps in now and then (approving overrides, closing out deals);
            // a manager's own deals are theirs alone.
            let manager = if u.role == Role::Manager {
                u.id
            } else {
                managers.iter().find(|m| Lang::of_locale(&m.locale) == lang).or(managers.first()).map_or(u.id, |m| m.id)
            };
            let groups = groups_for(lang);
            let group_weights = groups.iter().map(|g| g.weight).collect();
            owners.push(Owner {
                id: u.id,
                lang,
                zone: Zone::named(&u.time_zone, if lang == Lang::Zh { 8 } else { 0 }),
                manager,
                groups,
                group_weights,
            });
            owner_weights.push(w);
        }
        let names = Names::new(rng.r#gen());
        Generator {
            pools: owners.iter().map(|_| Vec::new()).collect(),
            rng,
            procs,
            owners,
            owner_weights,
            names,
            now,
            span_start: now - span,
            span,
            total: deals,
            done: 0,
            events: 0,
            next_account: world.start.account,
            next_contact: world.start.contact,
            next_lead: world.start.lead,
            next_deal: world.start.deal,
            next_event: world.start.event,
            actions: Vec::with_capacity(16),
        }
    }

    pub fn deals_done(&self) -> u64 {
        self.done
    }

    pub fn events_done(&self) -> u64 {
        self.events
    }

    /// The next batch of up to `deals_per_batch` deals with their accounts, contacts, leads,
    /// steps and events; `None` when done.
    pub fn next_batch(&mut self, deals_per_batch: usize) -> Option<HistoryBatch> {
        if self.done >= self.total || self.procs.is_empty() || self.owners.is_empty() {
            return None;
        }
        let n = (deals_per_batch.max(1) as u64).min(self.total - self.done) as usize;
        let mut batch = HistoryBatch {
            accounts: Vec::with_capacity(n / 2),
            contacts: Vec::with_capacity(n / 2),
            leads: Vec::with_capacity(n + n / 2),
            deals: Vec::with_capacity(n),
            steps: Vec::with_capacity(n / 2),
            events: Vec::with_capacity(n * 11),
        };
        for _ in 0..n {
            self.deal(&mut batch);
            self.done += 1;
        }
        self.events += batch.events.len() as u64;
        Some(batch)
    }

    /// Virtual (continuous) creation time of the k-th deal: stratified over the span, with a
    /// density rising linearly toward `now`, so deals come out in creation order.
    fn arrival(&mut self, k: u64) -> Secs {
        let u = (k as f64 + self.rng.r#gen::<f64>()) / self.total as f64;
        let x = ((1.0 + 2.0 * RAMP * u * (1.0 + RAMP / 2.0)).sqrt() - 1.0) / RAMP;
        self.span_start + (x.clamp(0.0, 1.0) * self.span as f64) as Secs
    }

    fn business(&self, owner: usize, v: Secs) -> Secs {
        self.owners[owner].zone.to_business(v)
    }

    fn pick_version(&mut self, owner: usize, created: Secs) -> usize {
        let g = weighted(&mut self.rng, &self.owners[owner].group_weights);
        let versions = &self.owners[owner].groups[g].versions;
        let published = |i: usize| self.procs[i].pv.published_at.map_or(i64::MIN, |t| t.timestamp());
        versions.iter().rev().copied().find(|&i| published(i) <= created).unwrap_or(versions[0])
    }

    fn deal(&mut self, batch: &mut HistoryBatch) {
        let k = self.done;
        let owner = weighted(&mut self.rng, &self.owner_weights);
        let v0 = self.arrival(k);
        let created = self.business(owner, v0).min(self.now);
        let pi = self.pick_version(owner, created);
        let lang = self.owners[owner].lang;
        let owner_id = self.owners[owner].id;
        let deal_id = DealId(self.next_deal + 1);
        self.next_deal += 1;

        // The account: a new one about a third of the time, else one the owner already works.
        let from_lead = self.rng.gen_bool(LEAD_SHARE);
        let pool_len = self.pools[owner].len();
        let reuse = if pool_len > 0 && !self.rng.gen_bool(NEW_ACCOUNT_SHARE) {
            let i = self.rng.gen_range(0..pool_len);
            (self.pools[owner][i].created <= created).then_some(i)
        } else {
            None
        };
        let (account_idx, contact_ids, lead_person) = match reuse {
            Some(i) => {
                let acc = &self.pools[owner][i];
                let c = self.rng.gen_range(0..acc.contacts.len());
                let ids = if from_lead || acc.contacts.len() == 1 || self.rng.gen_bool(0.5) {
                    vec![acc.contacts[c].id]
                } else {
                    acc.contacts.iter().map(|c| c.id).collect()
                };
                (i, ids, c)
            }
            None => self.new_account(owner, lang, created, v0, from_lead, batch),
        };

        let (account_id, account_name, account_short) = {
            let a = &self.pools[owner][account_idx];
            (a.id, a.name.clone(), a.short.clone())
        };

        // The lead this deal was converted from.
        let mut channel = None;
        let mut lead_id = None;
        let proc_lang = self.procs[pi].lang;
        let person_name = self.pools[owner][account_idx].contacts[lead_person].name.clone();
        if from_lead {
            let ch = names::channel(&mut self.rng);
            let id = LeadId(self.next_lead + 1);
            self.next_lead += 1;
            let before = (DAY as f64 * 6.0 * (0.8 * z(&mut self.rng)).exp()) as Secs;
            let lead_created = self.business(owner, v0 - before.max(3600)).min(created);
            let contact = &self.pools[owner][account_idx].contacts[lead_person];
            let contacted = self.rng.gen_bool(0.6);
            batch.leads.push(Lead {
                id,
                name: contact.name.clone(),
                company: account_name.clone(),
                email: contact.email.clone(),
                phone: contact.phone.clone(),
                channel: ch,
                status: LeadStatus::Converted,
                disqualify_reason: None,
                owner_id,
                notes: names::lead_note(lang, ch, &mut self.rng),
                converted_deal_id: Some(deal_id),
                version: if contacted { 4 } else { 3 },
                created_at: dt(lead_created),
                updated_at: dt(created),
            });
            channel = Some(ch);
            lead_id = Some(id);
        } else if self.rng.gen_bool(0.5) {
            channel = Some(
                [Channel::Referral, Channel::Telemarketing, Channel::Other, Channel::Import]
                    [weighted(&mut self.rng, &[50, 25, 15, 10])],
            );
        }

        let family = self.procs[pi].family;
        let title = if from_lead && self.rng.gen_bool(0.6) {
            format!("{account_name} — {person_name}")
        } else if proc_lang == Lang::Zh {
            format!("{account_short} {}", names::product(proc_lang, family, &mut self.rng))
        } else {
            format!("{account_short} — {}", names::product(proc_lang, family, &mut self.rng))
        };

        // What the deal is worth, in the process's currency.
        let median = if self.procs[pi].currency == Currency::CNY { 8_200_000.0 } else { 1_250_000.0 };
        let worth = (median * family.size() * (0.9 * z(&mut self.rng)).exp()).clamp(median / 40.0, median * 400.0);
        let worth = round_amount(worth);

        let deal = self.walk(pi, owner, deal_id, created, v0, worth, &title, batch);
        let (node, status, lost_reason, closed_at, state) = deal;

        let proc = &self.procs[pi];
        let current = &proc.nodes[node];
        if let (DealStatus::Open, Some(stage)) = (status, &current.stage) {
            for &(s, at) in &state.steps {
                batch.steps.push((deal_id, current.id.clone(), stage.steps[s].id.clone(), dt(at)));
            }
        }
        let completed_steps = match &current.stage {
            Some(stage) => state.steps.iter().map(|&(s, _)| stage.steps[s].id.clone()).collect(),
            None => Vec::new(),
        };
        batch.deals.push(Deal {
            id: deal_id,
            title,
            account_id,
            contact_ids,
            owner_id,
            process_id: proc.pv.process_id,
            process_version: proc.pv.version,
            current_node: current.id.clone(),
            amount: state.amount,
            expected_close_date: state.close,
            probability: state.probability,
            probability_overridden: false,
            status,
            lost_reason,
            needs_summary: state.summary,
            channel,
            lead_id,
            completed_steps,
            needs_known: Vec::new(),
            version: state.seq,
            stage_entered_at: dt(state.stage_entered),
            created_at: dt(created),
            updated_at: dt(state.last),
            closed_at: closed_at.map(dt),
        });

        if self.rng.gen_bool(EXTRA_LEADS_PER_DEAL) {
            self.open_lead(owner, lang, v0, batch);
        }
    }

    /// Creates an account (and its contacts) for `owner`, adds it to the owner's pool and
    /// returns its pool index, the deal's contacts and which contact is the lead's person.
    fn new_account(
        &mut self,
        owner: usize,
        lang: Lang,
        created: Secs,
        v0: Secs,
        from_lead: bool,
        batch: &mut HistoryBatch,
    ) -> (usize, Vec<ContactId>, usize) {
        let owner_id = self.owners[owner].id;
        let company = self.names.company(lang, &mut self.rng);
        let id = AccountId(self.next_account + 1);
        self.next_account += 1;
        let mut contacts = Vec::new();
        let account_at;
        if from_lead {
            // Converting the lead creates the account and the contact from what the lead had;
            // the rep fills in the rest a little later, if that has happened by now.
            account_at = created;
            let delay = self.rng.gen_range(2 * 3600..3 * DAY);
            let later = self.business(owner, v0 + delay).max(created);
            let enriched = later <= self.now;
            batch.accounts.push(Account {
                id,
                name: company.name.clone(),
                industry: if enriched { company.industry.clone() } else { String::new() },
                region: if enriched { company.region.clone() } else { String::new() },
                website: if enriched { format!("https://www.{}", company.domain) } else { String::new() },
                customer_group: if enriched { customer_group(&company.industry) } else { String::new() },
                owner_id,
                version: if enriched { 2 } else { 1 },
                created_at: dt(created),
                updated_at: dt(if enriched { later } else { created }),
            });
            let p = names::person(lang, &company.domain, &mut self.rng);
            let cid = ContactId(self.next_contact + 1);
            self.next_contact += 1;
            let delay = self.rng.gen_range(3600..5 * DAY);
            let later = self.business(owner, v0 + delay).max(created);
            let enriched = later <= self.now;
            batch.contacts.push(Contact {
                id: cid,
                account_id: Some(id),
                name: p.name.clone(),
                title: if enriched { p.title.clone() } else { String::new() },
                email: Some(p.email.clone()),
                phone: Some(p.phone.clone()),
                wechat_id: if enriched { p.wechat_id.clone() } else { None },
                preferred_channel: enriched.then_some(p.preferred_channel),
                consent: if enriched { p.consent } else { Consent::default() },
                owner_id,
                version: if enriched { 2 } else { 1 },
                created_at: dt(created),
                updated_at: dt(if enriched { later } else { created }),
            });
            contacts.push(ContactRef { id: cid, name: p.name, email: Some(p.email), phone: Some(p.phone) });
        } else {
            // Entered by hand some days before the deal, with one or two contacts.
            let before = self.rng.gen_range(0..20 * DAY);
            account_at = self.business(owner, v0 - before).min(created);
            batch.accounts.push(Account {
                id,
                name: company.name.clone(),
                industry: company.industry.clone(),
                region: company.region.clone(),
                website: if self.rng.gen_bool(0.8) { format!("https://www.{}", company.domain) } else { String::new() },
                customer_group: customer_group(&company.industry),
                owner_id,
                version: 1,
                created_at: dt(account_at),
                updated_at: dt(account_at),
            });
            let count = if self.rng.gen_bool(0.45) { 2 } else { 1 };
            for _ in 0..count {
                let p = names::person(lang, &company.domain, &mut self.rng);
                let cid = ContactId(self.next_contact + 1);
                self.next_contact += 1;
                let email = self.rng.gen_bool(0.92).then(|| p.email.clone());
                let phone = self.rng.gen_bool(0.9).then(|| p.phone.clone());
                batch.contacts.push(Contact {
                    id: cid,
                    account_id: Some(id),
                    name: p.name.clone(),
                    title: p.title,
                    email: email.clone(),
                    phone: phone.clone(),
                    wechat_id: p.wechat_id.filter(|_| self.rng.gen_bool(0.8)),
                    preferred_channel: Some(p.preferred_channel),
                    consent: p.consent,
                    owner_id,
                    version: 1,
                    created_at: dt(account_at),
                    updated_at: dt(account_at),
                });
                contacts.push(ContactRef { id: cid, name: p.name, email, phone });
            }
        }
        let deal_contacts = if contacts.len() == 2 && self.rng.gen_bool(0.5) {
            contacts.iter().map(|c| c.id).collect()
        } else {
            vec![contacts[0].id]
        };
        let entry = AccountRef { id, created: account_at, name: company.name, short: company.short, contacts };
        let pool = &mut self.pools[owner];
        let idx = if pool.len() < POOL_CAP {
            pool.push(entry);
            pool.len() - 1
        } else {
            let i = self.rng.gen_range(0..POOL_CAP);
            pool[i] = entry;
            i
        };
        (idx, deal_contacts, 0)
    }

    /// A lead that has not (yet) become a deal.
    fn open_lead(&mut self, owner: usize, lang: Lang, v0: Secs, batch: &mut HistoryBatch) {
        let v = v0 - self.rng.gen_range(0..10 * DAY);
        let created = self.business(owner, v).min(self.now);
        let age = self.now - created;
        let status = if age < 7 * DAY {
            [LeadStatus::New, LeadStatus::Contacted][self.rng.gen_range(0..2)]
        } else {
            [LeadStatus::Disqualified, LeadStatus::Contacted, LeadStatus::Qualified, LeadStatus::New]
                [weighted(&mut self.rng, &[55, 20, 15, 10])]
        };
        let version = match status {
            LeadStatus::New => 1,
            LeadStatus::Contacted => 2,
            _ => self.rng.gen_range(2..4),
        };
        let worked = (version - 1) * self.rng.gen_range(3600..4 * DAY);
        let updated = self.business(owner, v + worked).clamp(created, self.now.max(created));
        let individual = self.rng.gen_bool(0.2);
        let company = self.names.company(lang, &mut self.rng);
        let p = names::person(lang, &company.domain, &mut self.rng);
        let ch = names::channel(&mut self.rng);
        self.next_lead += 1;
        batch.leads.push(Lead {
            id: LeadId(self.next_lead),
            name: p.name,
            company: if individual { String::new() } else { company.name },
            email: self.rng.gen_bool(0.85).then_some(p.email),
            phone: self.rng.gen_bool(0.8).then_some(p.phone),
            channel: ch,
            status,
            disqualify_reason: (status == LeadStatus::Disqualified)
                .then(|| names::disqualify_reason(lang, &mut self.rng).to_string()),
            owner_id: self.owners[owner].id,
            notes: names::lead_note(lang, ch, &mut self.rng),
            converted_deal_id: None,
            version,
            created_at: dt(created),
            updated_at: dt(updated),
        });
    }

    /// Walks the deal through its process from creation until it is won or lost or the next
    /// thing would happen after `now`. Returns where it ended and its final state.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn walk(
        &mut self,
        pi: usize,
        owner: usize,
        deal_id: DealId,
        created: Secs,
        v0: Secs,
        worth: i64,
        title: &str,
        batch: &mut HistoryBatch,
    ) -> (usize, DealStatus, Option<String>, Option<Secs>, DealState) {
        let Generator { rng, procs, owners, now, next_event, actions, .. } = self;
        let now = *now;
        let proc = &procs[pi];
        let zone = owners[owner].zone;
        let lang = proc.lang;
        let currency = proc.currency;
        let mut st = DealState {
            id: deal_id,
            process_id: proc.pv.process_id,
            process_version: proc.pv.version,
            owner: owners[owner].id,
            manager: owners[owner].manager,
            node: proc.entry,
            seq: 0,
            last: created,
            amount: None,
            close: None,
            summary: String::new(),
            probability: proc.probability(proc.entry),
            steps: Vec::new(),
            stage_entered: created,
            has_contact: true,
        };
        // Some deals know their size or date from the start.
        if rng.gen_bool(0.3) {
            st.amount = Some(Money { minor: worth, currency });
        }
        if rng.gen_bool(0.2) {
            let days = proc.nodes[proc.entry].stage.as_ref().map_or(60.0, |s| s.days_to_close);
            st.close = Some(date(zone.local_day(created) + (days * rng.gen_range(1.0..1.5)) as i64));
        }
        let (entry, owner_id) = (proc.entry, st.owner);
        emit(
            &mut st,
            proc,
            batch,
            next_event,
            EventKind::Created,
            entry,
            entry,
            None,
            owner_id,
            created,
            json!({ "title": title }),
        );

        let mut v = v0;
        let mut loops = 0;
        let mut entered_by_loop = false;
        for _visit in 0..60 {
            let node = st.node;
            let Some(stage) = &proc.nodes[node].stage else { break };
            let ri = choose_route(stage, loops, rng);
            let route = &stage.routes[ri];
            let to_lost = route.class == RouteClass::Lost;
            let quiet = to_lost && rng.gen_bool(QUIET_SHARE);

            // Time in stage.
            let mut days = stage.sla_days * STAGE_MEDIAN_OF_SLA * (STAGE_SIGMA * z(rng)).exp();
            if rng.gen_bool(STALL_SHARE) {
                days *= rng.gen_range(2.0..5.0);
            }
            let dur = (days * DAY as f64) as Secs;

            // What happens in the stage before the move. A deal on its way out got part of
            // the way: some steps, sometimes the fields the stage asks for.
            actions.clear();
            let mut fields: [Option<Action>; 3] = [None; 3];
            let fill = |crit: Crit, rng: &mut SmallRng| match (crit, to_lost) {
                (Crit::None, _) => false,
                (_, true) => rng.gen_bool(0.5),
                (Crit::Soft, false) => !rng.gen_bool(SOFT_SKIP),
                (Crit::Hard, false) => true,
            };
            if to_lost {
                for s in 0..stage.steps.len() {
                    if !rng.gen_bool(0.65) {
                        break;
                    }
                    actions.push(Action::Tick(s));
                }
            } else {
                for (s, step) in stage.steps.iter().enumerate() {
                    let tick = match step.crit {
                        Crit::Hard => true,
                        Crit::Soft => !rng.gen_bool(SOFT_SKIP),
                        Crit::None => rng.gen_bool(OPTIONAL_TICK),
                    };
                    if tick {
                        actions.push(Action::Tick(s));
                    }
                }
            }
            if st.summary.trim().is_empty() && fill(stage.summary, rng) {
                fields[0] = Some(Action::Summary);
            }
            let has_amount = st.amount.is_some_and(|m| m.minor > 0);
            if !has_amount {
                if fill(stage.amount, rng) {
                    fields[1] = Some(Action::Amount(worth));
                }
            } else if !to_lost {
                let cur = st.amount.map_or(worth, |m| m.minor);
                if entered_by_loop && rng.gen_bool(0.6) {
                    // A cheaper tier after a rejected quote, a sharper price on a re-bid.
                    fields[1] = Some(Action::Amount(round_amount(cur as f64 * rng.gen_range(0.7..0.92))));
                } else if stage.probability >= 50 {
                    if rng.gen_bool(0.25) {
                        // A discount while negotiating.
                        fields[1] = Some(Action::Amount(round_amount(cur as f64 * rng.gen_range(0.88..0.97))));
                    }
                } else if rng.gen_bool(0.2) {
                    // A better estimate as the scope becomes clear.
                    fields[1] = Some(Action::Amount(round_amount(cur as f64 * rng.gen_range(0.8..1.3))));
                }
            }
            if st.close.is_none() && fill(stage.close, rng) {
                fields[2] = Some(Action::Close);
            }
            for f in fields.into_iter().flatten() {
                let at = rng.gen_range(0..=actions.len());
                actions.insert(at, f);
            }
            // Close dates slip: always when already past, now and then anyway.
            let past = st.close.is_some_and(|d| d < date(zone.local_day(st.last)));
            if st.close.is_some() && rng.gen_bool(if past { 0.7 } else { 0.12 }) {
                actions.insert(0, Action::Close);
            }

            // Spread the actions over the stage, then move.
            let n = actions.len() as i64;
            for (i, action) in actions.iter().enumerate() {
                let frac = (i as f64 + rng.r#gen::<f64>()) / (n + 1) as f64;
                let t = zone.to_business(v + (frac * dur as f64) as Secs).max(st.last);
                if t > now {
                    return (node, DealStatus::Open, None, None, st);
                }
                let actor = if rng.gen_bool(0.05) { st.manager } else { st.owner };
                match *action {
                    Action::Tick(s) => {
                        let step = &stage.steps[s];
                        st.steps.push((s, t));
                        let details = json!({ "step": step.id, "name": step.name });
                        emit(
                            &mut st,
                            proc,
                            batch,
                            next_event,
                            EventKind::StepCompleted,
                            node,
                            node,
                            None,
                            actor,
                            t,
                            details,
                        );
                    }
                    Action::Summary => {
                        let text = names::needs_summary(lang, rng);
                        let details = json!({ "needs_summary": { "old": st.summary, "new": text } });
                        st.summary = text;
                        emit(&mut st, proc, batch, next_event, EventKind::Updated, node, node, None, actor, t, details);
                    }
                    Action::Amount(minor) => {
                        let new = Some(Money { minor, currency });
                        if new == st.amount {
                            continue;
                        }
                        let details = json!({ "old": st.amount, "new": new });
                        st.amount = new;
                        emit(
                            &mut st,
                            proc,
                            batch,
                            next_event,
                            EventKind::AmountChanged,
                            node,
                            node,
                            None,
                            actor,
                            t,
                            details,
                        );
                    }
                    Action::Close => {
                        let ahead = stage.days_to_close * rng.gen_range(0.6..1.2) + 3.0;
                        let new = Some(date(zone.local_day(t) + ahead as i64));
                        if new == st.close {
                            continue;
                        }
                        let details = json!({ "old": st.close, "new": new });
                        st.close = new;
                        emit(
                            &mut st,
                            proc,
                            batch,
                            next_event,
                            EventKind::CloseDateChanged,
                            node,
                            node,
                            None,
                            actor,
                            t,
                            details,
                        );
                    }
                }
            }
            v += dur;
            let t = zone.to_business(v).max(st.last);
            if t > now || quiet {
                return (node, DealStatus::Open, None, None, st);
            }

            // The move, with the gate checked the way the store checks it.
            let mut details = Map::new();
            details.insert("route".into(), route.route_json.clone());
            details.insert("label".into(), Value::String(route.label.clone()));
            let mut overridden = false;
            if !to_lost {
                let mut missing = Vec::new();
                for c in &stage.criteria {
                    let met = match c.need {
                        Need::Field(DealField::Amount) => st.amount.is_some_and(|m| m.minor > 0),
                        Need::Field(DealField::ExpectedCloseDate) => st.close.is_some(),
                        Need::Field(DealField::Contact) => st.has_contact,
                        Need::Field(DealField::NeedsSummary) => !st.summary.trim().is_empty(),
                        Need::Step(s) => st.steps.iter().any(|&(d, _)| d == s),
                        Need::Impossible => false,
                    };
                    if !met {
                        debug_assert!(c.gate == Gate::Soft, "hard criterion {} left unmet", c.id);
                        missing.push(Value::String(c.id.clone()));
                    }
                }
                if !missing.is_empty() {
                    overridden = true;
                    details.insert("overridden".into(), Value::Array(missing));
                    details.insert("override_reason".into(), Value::String(names::override_reason(lang, rng).into()));
                }
            }
            let target = route.to;
            let (status, lost_reason) = match proc.nodes[target].kind {
                Kind::Won => (DealStatus::Won, None),
                Kind::Lost => {
                    let reason = if route.via_decision && rng.gen_bool(0.5) {
                        route.label.clone()
                    } else {
                        names::lost_reason(lang, stage.tier, rng).to_string()
                    };
                    details.insert("lost_reason".into(), Value::String(reason.clone()));
                    (DealStatus::Lost, Some(reason))
                }
                _ => (DealStatus::Open, None),
            };
            let manager_moves = if overridden { 0.3 } else { 0.05 };
            let actor = if rng.gen_bool(manager_moves) { st.manager } else { st.owner };
            st.node = target;
            st.steps.clear();
            st.stage_entered = t;
            st.probability = proc.probability(target);
            let edge = Some(route.last_edge.clone());
            emit(
                &mut st,
                proc,
                batch,
                next_event,
                EventKind::Moved,
                node,
                target,
                edge,
                actor,
                t,
                Value::Object(details),
            );
            if status != DealStatus::Open {
                return (target, status, lost_reason, Some(t), st);
            }
            entered_by_loop = route.class == RouteClass::Loop;
            if entered_by_loop {
                loops += 1;
            }
            if proc.nodes[target].kind != Kind::Stage {
                break;
            }
        }
        (st.node, DealStatus::Open, None, None, st)
    }
}

fn choose_route(stage: &StageDef, loops: u32, rng: &mut SmallRng) -> usize {
    let can_loop = loops < MAX_LOOPS && !stage.loops.is_empty();
    let has_fwd = !stage.forward.is_empty();
    let go_on = (has_fwd || can_loop) && (stage.lost.is_empty() || rng.gen_bool(stage.cont));
    if go_on {
        if can_loop && (!has_fwd || rng.gen_bool(stage.loop_share)) {
            return *pick(rng, &stage.loops);
        }
        if has_fwd {
            return pick_weighted(rng, &stage.forward);
        }
    }
    if stage.lost.is_empty() {
        // A stage whose only ways out are used-up loops: go back once more.
        return stage.loops.first().copied().or(stage.forward.first().map(|f| f.0)).unwrap_or(0);
    }
    pick_weighted(rng, &stage.lost)
}

/// The first member of a `(value, weight)` list picked by weight.
fn pick_weighted(rng: &mut SmallRng, items: &[(usize, u32)]) -> usize {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut x = rng.gen_range(0..total.max(1));
    for &(v, w) in items {
        if x < w {
            return v;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

#[allow(clippy::too_many_arguments)]
fn emit(
    st: &mut DealState,
    proc: &Proc,
    batch: &mut HistoryBatch,
    next_event: &mut i64,
    kind: EventKind,
    from: usize,
    to: usize,
    edge_id: Option<String>,
    actor: UserId,
    at: Secs,
    details: Value,
) {
    *next_event += 1;
    st.seq += 1;
    st.last = at;
    let when = dt(at);
    batch.events.push(DealEvent {
        id: *next_event,
        deal_id: st.id,
        seq: st.seq,
        kind,
        process_id: st.process_id,
        process_version: st.process_version,
        from_node: proc.nodes[from].id.clone(),
        to_node: proc.nodes[to].id.clone(),
        edge_id,
        actor_id: actor,
        occurred_at: when,
        recorded_at: when,
        amount_minor: st.amount.map(|m| m.minor),
        currency: st.amount.map(|m| m.currency),
        probability: st.probability,
        expected_close_date: st.close,
        details,
    });
}

#[cfg(test)]
mod tests;
