//! The demo's selling showcase, written through the guarded store: the catalog and price books
//! by the admin, the playbooks by each side's manager, and for a handful of open deals of the
//! seed processes (`salesflow_demo::selling::plan`) the needs, quotes, contract and objections
//! by the deal's owner — the customer's answers through the customer's desk, the discount
//! decided by the owner's manager. Deals are never moved: quotes are sent without following
//! the `quote_sent` edge, and the customer answers only in stages without an `accepted` or
//! `rejected` edge.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use salesflow_demo::Lang;
use salesflow_demo::selling::{self, Candidate, DealPlan, Outcome};
use salesflow_domain::access::Scope;
use salesflow_domain::clock::{Clock, SystemClock};
use salesflow_domain::guard::{CustomerDesk, DiscountAction, Guarded, Origin, Sending};
use salesflow_domain::ids::UserId;
use salesflow_domain::records::{DealPatch, DealStatus, Role, User};
use salesflow_domain::selling::DEFAULT_APPROVAL_THRESHOLD_BP;
use salesflow_domain::selling::contract::{ContractPatch, ContractStatus};
use salesflow_domain::selling::objection::{ObjectionPatch, PlaybookInput};
use salesflow_domain::store::{ProcessVersion, Store};

/// What the showcase added.
#[derive(Debug, Default)]
pub struct Showcase {
    pub products: usize,
    pub price_books: usize,
    pub playbooks: usize,
    pub deals: usize,
    pub quotes: usize,
    pub sent: usize,
    pub contracts: usize,
    pub objections: usize,
}

fn now() -> DateTime<Utc> {
    SystemClock.now()
}

async fn scope_of(store: &Arc<dyn Store>, user: &User) -> Result<Scope> {
    Ok(Scope::for_user(user, &store.team_reach(user.id).await?))
}

/// Adds the showcase when the catalog is empty (a fresh demo); otherwise leaves everything as
/// it is and answers `None`.
pub async fn add(store: &Arc<dyn Store>, processes: &[Arc<ProcessVersion>]) -> Result<Option<Showcase>> {
    if !store.list_products().await?.is_empty() {
        return Ok(None);
    }
    let users = store.list_users().await?;
    let Some(admin) = users.iter().find(|u| u.role == Role::Admin && u.active) else { return Ok(None) };
    let origin = Origin { address: "command line".into() };
    let admin_scope = scope_of(store, admin).await?;
    let g = Guarded::new(&**store, &admin_scope, &origin);
    let mut done = Showcase::default();
    for p in selling::catalog() {
        g.create_product(&p, now()).await?;
        done.products += 1;
    }
    for b in selling::price_books() {
        g.save_price_book(&b, now()).await?;
        done.price_books += 1;
    }

    let seeds: Vec<&Arc<ProcessVersion>> =
        processes.iter().filter(|p| p.definition.key.starts_with("seed-five-stage")).collect();
    let mut candidates = Vec::new();
    for pv in &seeds {
        let lang = Lang::of_locale(&pv.definition.locale);
        // Each side's playbooks are kept by its manager.
        let keeper = users.iter().find(|u| u.role == Role::Manager && u.active && Lang::of_locale(&u.locale) == lang);
        let keeper_scope = match keeper {
            Some(k) => scope_of(store, k).await?,
            None => admin_scope.clone(),
        };
        let kg = Guarded::new(&**store, &keeper_scope, &origin);
        for (stage, entries) in selling::playbooks(lang) {
            if pv.definition.stage(stage).is_some() && kg.playbook(pv.process_id, stage).await?.is_none() {
                kg.save_playbook(pv.process_id, stage, &PlaybookInput { version: None, entries }, now()).await?;
                done.playbooks += 1;
            }
        }
        for d in store.open_deals_on(pv.process_id, pv.version).await? {
            if d.status == DealStatus::Open {
                candidates.push(Candidate { deal: d.id, lang, stage: d.current_node });
            }
        }
    }

    let today = now().date_naive();
    for plan in selling::plan(&candidates, today) {
        deal(store, &users, &origin, &plan, &mut done).await.with_context(|| format!("showcase deal {}", plan.deal))?;
        done.deals += 1;
    }
    Ok(Some(done))
}

/// The manager of a team `user` belongs to, else an admin.
async fn manager_of<'u>(store: &Arc<dyn Store>, users: &'u [User], user: UserId) -> Result<Option<&'u User>> {
    let teams = store.list_teams().await?;
    let id = teams.iter().filter(|t| t.members.contains(&user)).find_map(|t| t.manager_id.filter(|m| *m != user));
    Ok(id
        .and_then(|id| users.iter().find(|u| u.id == id && u.active))
        .or_else(|| users.iter().find(|u| u.role == Role::Admin && u.active)))
}

async fn deal(
    store: &Arc<dyn Store>,
    users: &[User],
    origin: &Origin,
    plan: &DealPlan,
    done: &mut Showcase,
) -> Result<()> {
    let d = store.deal(plan.deal).await?;
    let owner = users.iter().find(|u| u.id == d.owner_id).context("the deal's owner")?;
    let scope = scope_of(store, owner).await?;
    let g = Guarded::new(&**store, &scope, origin);
    g.save_needs(d.id, &plan.needs, now()).await?;
    // The history's summary of the needs is rewritten to match the analysis.
    let summary = Some(selling::needs_summary(&plan.needs, plan.lang));
    let d = g
        .update_deal(d.id, &DealPatch { version: d.version, needs_summary: summary, ..Default::default() }, now())
        .await?;

    if let Some(qp) = &plan.quote {
        let today = now().date_naive();
        let account = store.account(d.account_id).await?;
        let currency = selling::currency(plan.lang);
        let group = account.customer_group.trim();
        let book = store
            .price_books()
            .await?
            .into_iter()
            .find(|b| !group.is_empty() && b.customer_group.trim() == group && b.currency == currency);
        let discount = qp.discount.as_ref().map_or(0, |x| x.bp);
        let products = store.list_products().await?;
        let content = selling::quote_content(&plan.needs, &products, book.as_ref(), plan.lang, discount, today)
            .context("a quote from the showcase catalog")?;
        let mut q = g.create_quote(d.id, content, now()).await?;
        done.quotes += 1;
        if let Some(x) = &qp.discount {
            let ask = DiscountAction { version: q.version, approve: None, comment: x.request.clone() };
            q = g.request_discount(d.id, q.number, &ask, DEFAULT_APPROVAL_THRESHOLD_BP, now()).await?;
            let manager = manager_of(store, users, owner.id).await?.context("a manager to decide the discount")?;
            let manager_scope = scope_of(store, manager).await?;
            let mg = Guarded::new(&**store, &manager_scope, origin);
            let decide = DiscountAction { version: q.version, approve: Some(true), comment: x.decision.clone() };
            q = mg.decide_discount(d.id, q.number, &decide, now()).await?;
        }
        if qp.outcome != Outcome::Draft {
            // The customer's link is never shown: the demo keeps only its hash, as a send does.
            let token_hash = salesflow_web::auth::token_hash(&salesflow_web::auth::new_secret("q_"));
            let sending = Sending {
                version: q.version,
                threshold_bp: DEFAULT_APPROVAL_THRESHOLD_BP,
                token_hash: token_hash.clone(),
            };
            q = g.send_quote(d.id, q.number, &sending, now()).await?;
            done.sent += 1;
            let desk = CustomerDesk::new(&**store, origin);
            match &qp.outcome {
                Outcome::Rejected(reason) => {
                    desk.reject(&token_hash, reason, now()).await?;
                    done.quotes += 1;
                }
                Outcome::Accepted => {
                    let option = q.content.options[q.content.recommended_index()].key.clone();
                    desk.accept(&token_hash, &option, now()).await?;
                    let (_, totals) = q.option(&option).context("the accepted option")?;
                    let total = salesflow_domain::currency::Money { minor: totals.total, currency: totals.currency };
                    let new = selling::contract(plan.lang, q.number, &account.name, total, today);
                    let c = g.create_contract(d.id, &new, now()).await?;
                    let sent =
                        ContractPatch { version: c.version, status: Some(ContractStatus::Sent), ..Default::default() };
                    let c = g.update_contract(d.id, c.id, &sent, now()).await?;
                    let mut signatories = vec![owner.name.clone()];
                    if !plan.needs.decision_maker.is_empty() {
                        signatories.push(plan.needs.decision_maker.clone());
                    }
                    let signed = ContractPatch {
                        version: c.version,
                        status: Some(ContractStatus::Signed),
                        signed_date: Some(today),
                        signatories: Some(signatories),
                        ..Default::default()
                    };
                    g.update_contract(d.id, c.id, &signed, now()).await?;
                    done.contracts += 1;
                }
                Outcome::Draft | Outcome::Sent => {}
            }
        }
    }

    for o in &plan.objections {
        let raised = g.raise_objection(d.id, o.new.clone(), now()).await?;
        done.objections += 1;
        if o.resolved {
            let patch = ObjectionPatch { version: raised.version, answer: None, resolved: Some(true) };
            g.update_objection(d.id, raised.id, &patch, now()).await?;
        }
    }
    Ok(())
}
