//! Who may do what, checked for every route the router has.
//!
//! The routes come from `salesflow_web::route_table()`, the table the router itself is built
//! from. Each must have a policy in [`policy`] below; a route added without one fails this
//! test. For each route, each role (admin, manager, rep, viewer, no credentials) and, for
//! routes about one record, each relation to it (the caller's own, a team member's, another
//! team's), the test sends a valid request and checks that it is allowed (2xx) or refused with
//! exactly the status the rules say: 401 without credentials, 403 for a role that may not,
//! 404 for a record outside the caller's reach.

use reqwest::{Method, StatusCode};
use salesflow_domain::ids::*;
use salesflow_domain::records::*;
use serde_json::{Value, json};

use crate::helpers::{App, Person, apps};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// No credentials needed (health, sign-in page, static files, docs).
    Public,
    /// A page: only a browser session opens it; anyone else is sent to the sign-in page (pages
    /// reach records through the same guard as the API, whose rules the other policies check).
    Page,
    /// Any signed-in user, whatever their role.
    Anyone,
    /// Any role but a viewer (creating records).
    Writer,
    /// Admins and managers (processes).
    ProcessEditor,
    Admin,
    /// About one record of `kind`: read it.
    Read(RecordKind),
    /// About one record of `kind`: change it.
    Write(RecordKind),
    /// About one record of `kind`: a decision for its owner's manager (or an admin) only.
    Approve(RecordKind),
    /// No credentials needed, reached by an unguessable token: an unknown one is 404 for all.
    Token,
}

/// The declared policy of every route. A route missing here fails the test.
fn policy(method: &Method, path: &str) -> Option<Policy> {
    use Policy::*;
    use RecordKind::*;
    let m = method.as_str();
    Some(match (m, path) {
        (
            "GET",
            "/health" | "/login" | "/static/{*file}" | "/api/openapi.json" | "/api/docs/" | "/api/openapi-ui.json",
        ) => Public,
        ("POST", "/login" | "/logout") => Public,
        (
            "GET" | "POST",
            "/api/v1/public/quotes/{token}"
            | "/api/v1/public/quotes/{token}/accept"
            | "/api/v1/public/quotes/{token}/reject"
            | "/q/{token}"
            | "/q/{token}/quote.pdf"
            | "/q/{token}/accept"
            | "/q/{token}/reject",
        ) => Token,
        (_, p) if !p.starts_with("/api/") => Page,
        ("GET", "/api/v1/me" | "/api/v1/users" | "/api/v1/users/{id}" | "/api/v1/teams" | "/api/v1/teams/{id}") => {
            Anyone
        }
        ("POST", "/api/v1/users/{id}/password") => Anyone,
        ("PATCH", "/api/v1/users/{id}") => Anyone,
        ("GET" | "POST", "/api/v1/tokens") | ("DELETE", "/api/v1/tokens/{id}") => Anyone,
        ("POST" | "PATCH" | "DELETE", "/api/v1/teams" | "/api/v1/teams/{id}") => Admin,
        ("POST", "/api/v1/users") | ("GET", "/api/v1/audit") => Admin,
        (
            "GET",
            "/api/v1/accounts" | "/api/v1/contacts" | "/api/v1/leads" | "/api/v1/deals" | "/api/v1/deals/totals",
        ) => Anyone,
        ("POST", "/api/v1/accounts" | "/api/v1/contacts" | "/api/v1/leads" | "/api/v1/deals") => Writer,
        ("GET", "/api/v1/accounts/{id}") => Read(Account),
        ("PATCH", "/api/v1/accounts/{id}") => Write(Account),
        ("GET", "/api/v1/contacts/{id}") => Read(Contact),
        ("PATCH", "/api/v1/contacts/{id}") => Write(Contact),
        ("GET", "/api/v1/leads/{id}" | "/api/v1/leads/{id}/duplicates") => Read(Lead),
        ("PATCH", "/api/v1/leads/{id}") => Write(Lead),
        ("POST", "/api/v1/leads/{id}/contacted" | "/api/v1/leads/{id}/qualify" | "/api/v1/leads/{id}/disqualify") => {
            Write(Lead)
        }
        ("POST", "/api/v1/leads/{id}/convert") => Write(Lead),
        ("GET", "/api/v1/deals/{id}" | "/api/v1/deals/{id}/moves" | "/api/v1/deals/{id}/events") => Read(Deal),
        ("PATCH", "/api/v1/deals/{id}") => Write(Deal),
        ("POST", "/api/v1/deals/{id}/moves" | "/api/v1/deals/{id}/steps") => Write(Deal),
        (
            "GET",
            "/api/v1/deals/{id}/needs"
            | "/api/v1/deals/{id}/recommendations"
            | "/api/v1/deals/{id}/quotes"
            | "/api/v1/deals/{id}/quotes/compare"
            | "/api/v1/deals/{id}/quotes/{number}/pdf"
            | "/api/v1/deals/{id}/contracts"
            | "/api/v1/deals/{id}/contracts/{contract}/pdf",
        ) => Read(Deal),
        ("PUT", "/api/v1/deals/{id}/needs" | "/api/v1/deals/{id}/quotes/{number}") => Write(Deal),
        (
            "POST",
            "/api/v1/deals/{id}/quotes"
            | "/api/v1/deals/{id}/quotes/from-products"
            | "/api/v1/deals/{id}/quotes/{number}/discount-request"
            | "/api/v1/deals/{id}/quotes/{number}/send"
            | "/api/v1/deals/{id}/contracts",
        ) => Write(Deal),
        ("PATCH", "/api/v1/deals/{id}/contracts/{contract}" | "/api/v1/deals/{id}/objections/{objection}") => {
            Write(Deal)
        }
        ("GET", "/api/v1/deals/{id}/objections") => Read(Deal),
        ("POST", "/api/v1/deals/{id}/objections") => Write(Deal),
        ("GET", "/api/v1/processes/{id}/playbooks/{stage}") => Anyone,
        ("PUT", "/api/v1/processes/{id}/playbooks/{stage}") => ProcessEditor,
        ("POST", "/api/v1/deals/{id}/quotes/{number}/discount-decision") => Approve(Deal),
        ("GET", "/api/v1/products" | "/api/v1/products/export.csv" | "/api/v1/price-books") => Anyone,
        ("POST", "/api/v1/price-books") => ProcessEditor,
        ("POST", "/api/v1/products" | "/api/v1/products/import") => ProcessEditor,
        ("GET", "/api/v1/shares") => Read(Deal),
        ("POST", "/api/v1/shares") | ("DELETE", "/api/v1/shares/{record_kind}/{record_id}/{user_id}") => Write(Deal),
        ("GET", "/api/v1/processes" | "/api/v1/processes/{id}" | "/api/v1/processes/{id}/event-log") => Anyone,
        ("GET", "/api/v1/processes/{id}/analytics" | "/api/v1/processes/{id}/analytics/heatmap.svg") => Anyone,
        ("GET", "/api/v1/processes/{id}/versions/{version}" | "/api/v1/process-templates") => Anyone,
        ("POST", "/api/v1/processes/validate" | "/api/v1/processes/layout") => Anyone,
        ("POST", "/api/v1/processes/{id}/versions/{version}/retire") => ProcessEditor,
        // Migrating moves deals of every team, so only admins preview and apply it.
        ("POST", "/api/v1/processes/{id}/migrations/preview" | "/api/v1/processes/{id}/migrations") => Admin,
        (
            "GET",
            "/api/v1/processes/{id}/versions/{version}/diagram.svg"
            | "/api/v1/processes/{id}/versions/{version}/diagram.png"
            | "/api/v1/processes/{id}/versions/{version}/flowchart.mmd"
            | "/api/v1/processes/{id}/versions/{version}/flowchart.drawio"
            | "/api/v1/processes/{id}/versions/{version}/flowchart.bpmn",
        ) => Anyone,
        ("POST", "/api/v1/processes/import/bpmn") => ProcessEditor,
        ("POST", "/api/v1/processes/{id}/import") => Writer,
        (
            "POST",
            "/api/v1/processes"
            | "/api/v1/processes/{id}/versions"
            | "/api/v1/processes/{id}/versions/{version}/publish",
        ) => ProcessEditor,
        ("PUT", "/api/v1/processes/{id}/versions/{version}") => ProcessEditor,
        ("POST", "/api/v1/process-templates/{key}/instantiate") => ProcessEditor,
        _ => return None,
    })
}

/// The people of one backend: a manager with reps A and B and viewer V in their team, a rep C
/// in another team.
struct Org {
    manager: Person,
    rep_a: Person,
    rep_b: Person,
    rep_c: Person,
    viewer: Person,
    process: i64,
    /// A catalog product, for drafting from products.
    product: i64,
    /// That product's SKU.
    sku: String,
}

async fn org(app: &App) -> Org {
    let manager = app.person(Role::Manager).await;
    let rep_a = app.person(Role::Rep).await;
    let rep_b = app.person(Role::Rep).await;
    let rep_c = app.person(Role::Rep).await;
    let viewer = app.person(Role::Viewer).await;
    let other_manager = app.person(Role::Manager).await;
    let team = |name: &str, manager: &Person, members: &[&Person]| json!({ "name": name, "manager_id": manager.id, "members": members.iter().map(|p| p.id).collect::<Vec<_>>() });
    let t1 = team("华东销售组", &manager, &[&manager, &rep_a, &rep_b, &viewer]);
    app.expect("team 1", app.post("/api/v1/teams", t1).await, StatusCode::CREATED);
    let t2 = team("International", &other_manager, &[&other_manager, &rep_c]);
    app.expect("team 2", app.post("/api/v1/teams", t2).await, StatusCode::CREATED);
    let process = app.seed_process().await;
    // The admin signs in with a password like everyone else's.
    let admin = app.get("/api/v1/me").await.1["id"].as_i64().expect("admin id");
    let hash = salesflow_web::auth::password::hash(&format!("password-{admin}!")).await.expect("hash");
    app.store().set_password_hash(UserId(admin), &hash, chrono::Utc::now()).await.expect("admin password");
    let new_product: salesflow_domain::selling::catalog::NewProduct = serde_json::from_value(json!({
        "sku": format!("ACC-{}", rand_suffix()), "name_zh": "标准版", "name_en": "Standard",
        "list_price": { "minor": 8_000_000, "currency": "CNY" }, "tier": "standard",
    }))
    .expect("product input");
    let product = app.store().create_product(&new_product, chrono::Utc::now()).await.expect("product").id.0;
    let sku = new_product.sku.clone();
    Org { manager, rep_a, rep_b, rep_c, viewer, process, product, sku }
}

/// Fresh records owned by `owner`: account, contact, lead (qualified), deal.
struct Records {
    account: Account,
    contact: Contact,
    lead: Lead,
    deal: Deal,
    /// The deal's contract, for routes about one.
    contract: std::sync::OnceLock<i64>,
    /// The deal's objection, for routes about one.
    objection: std::sync::OnceLock<i64>,
}

async fn records(app: &App, owner: i64, process: i64, qualified: bool) -> Records {
    let s = app.store();
    let now = chrono::Utc::now();
    let owner = UserId(owner);
    let new_account = NewAccount {
        name: format!("星海科技 {}", rand_suffix()),
        industry: "制造".into(),
        region: "华东".into(),
        website: String::new(),
        customer_group: String::new(),
        owner_id: None,
    };
    let account = s.create_account(&new_account, owner, now).await.expect("account");
    let new_contact: NewContact =
        serde_json::from_value(json!({ "account_id": account.id, "name": "陈经理" })).expect("contact input");
    let contact = s.create_contact(&new_contact, owner, now).await.expect("contact");
    let new_lead: NewLead = serde_json::from_value(
        json!({ "name": "周先生", "company": format!("云帆 {}", rand_suffix()), "channel": "trade_show" }),
    )
    .expect("lead input");
    let mut lead = s.create_lead(&new_lead, owner, now).await.expect("lead");
    if qualified {
        let q = Qualification { version: lead.version, reason: None };
        lead = s.set_lead_status(lead.id, LeadStatus::Qualified, &q, now).await.expect("qualify");
    }
    let new_deal: NewDeal = serde_json::from_value(json!({
        "title": "年度采购", "account_id": account.id, "contact_ids": [contact.id], "process_id": process,
        "owner_id": owner,
    }))
    .expect("deal input");
    let role = s.user(owner).await.expect("owner").role;
    let deal = s.create_deal(&new_deal, &Actor { user: owner, role }, now).await.expect("deal");
    Records {
        account,
        contact,
        lead,
        deal,
        contract: std::sync::OnceLock::new(),
        objection: std::sync::OnceLock::new(),
    }
}

/// A quote offer of two options; `discount_bp` off the standard one.
fn quote_content(discount_bp: i64) -> salesflow_domain::selling::quote::QuoteContent {
    serde_json::from_value(json!({
        "currency": "CNY", "valid_until": "2099-12-31", "payment_terms": "预付 50%",
        "options": [
            { "key": "basic", "name": "基础版", "tier": "basic", "lines": [
                { "name": "基础版", "quantity": 1, "unit_price": { "minor": 3_000_000, "currency": "CNY" } } ] },
            { "key": "standard", "name": "标准版", "tier": "standard", "discount_bp": discount_bp, "lines": [
                { "name": "标准版", "quantity": 1, "unit_price": { "minor": 8_000_000, "currency": "CNY" } } ] },
        ],
    }))
    .expect("quote content")
}

/// What a selling route about one deal needs to exist first: a draft quote version 1 (with a
/// discount asked for approval before a decision), an accepted one before a contract.
async fn selling_records(app: &App, r: &Records, path: &str) {
    use salesflow_domain::selling::contract::{Contract, NewContract};
    use salesflow_domain::selling::quote::Quote;
    use salesflow_domain::store::{QuoteChange, QuoteWrite};
    if path.contains("/objections/") {
        use salesflow_domain::selling::objection::{NewObjection, Objection, ObjectionKind};
        let owner = Actor { user: r.deal.owner_id, role: Role::Rep };
        let now = chrono::Utc::now();
        let new = NewObjection {
            kind: ObjectionKind::Timing,
            text: "明年再说".into(),
            answer: String::new(),
            resolved: false,
        };
        let (o, note) = Objection::raise(r.deal.id, &r.deal.current_node, new, owner.user, now).expect("objection");
        let o = app.store().save_objection(&o, None, &note, &owner, now).await.expect("objection");
        r.objection.set(o.id).expect("once");
        return;
    }
    let needs_quote = path.contains("/quotes/") || path.ends_with("/contracts") || path.contains("/contracts/");
    if !needs_quote || !path.starts_with("/api/v1/deals/") {
        return;
    }
    let s = app.store();
    let now = chrono::Utc::now();
    let owner = Actor { user: r.deal.owner_id, role: Role::Rep };
    let decision = path.ends_with("/discount-decision");
    let discount = if decision || path.ends_with("/discount-request") { 1_500 } else { 0 };
    let (mut q, _) = Quote::draft(r.deal.id, 1, quote_content(discount), owner.user, now).expect("draft");
    let save = |quote: Quote, read: Option<i64>| {
        let write = QuoteWrite {
            deal: r.deal.id,
            changes: vec![QuoteChange { quote, read_version: read, token_hash: None }],
            notes: vec![],
            tick_step: None,
        };
        async move { s.save_quotes(&write, &owner, now).await.expect("quote").remove(0) }
    };
    q = save(q, None).await;
    if decision {
        let read = q.version;
        q.request_discount(read, "竞品压价", owner.user, 1_000, now).expect("request");
        save(q, Some(read)).await;
        return;
    }
    if path.contains("/contracts") {
        let read = q.version;
        q.send(read, 1_000, owner.user, now.date_naive(), now).expect("send");
        q.accept("standard", now.date_naive(), now).expect("accept");
        let q = save(q, Some(read)).await;
        if path.contains("/contracts/") {
            let new = NewContract {
                quote_number: 1,
                seller: "星云软件".into(),
                buyer: "星海科技".into(),
                start_date: None,
                end_date: None,
                milestones: vec![],
            };
            let (c, _) = Contract::from_quote(&q, &new, owner.user, now).expect("contract");
            let c = s.save_contract(&c, None, &[], &owner, now).await.expect("contract");
            r.contract.set(c.id.0).expect("once");
        }
    }
}

/// The stages of the seed process in turn, so that each playbook write starts a new one.
fn next_stage() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    const STAGES: [&str; 6] =
        ["lead_identification", "needs_analysis", "recommendation", "negotiation", "tiered_package", "signing"];
    STAGES[N.fetch_add(1, Ordering::Relaxed) % STAGES.len()].to_string()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A valid request for `method path` about `r` (ids filled in), as `caller`.
fn request(method: &Method, path: &str, r: &Records, org: &Org, caller: i64, me_other: i64) -> (String, Option<Value>) {
    let m = method.as_str();
    let ids = |p: &str| {
        let id = if p.starts_with("/api/v1/accounts") {
            r.account.id.0
        } else if p.starts_with("/api/v1/contacts") {
            r.contact.id.0
        } else if p.starts_with("/api/v1/leads") {
            r.lead.id.0
        } else if p.starts_with("/api/v1/deals") {
            r.deal.id.0
        } else if p.starts_with("/api/v1/processes") {
            org.process
        } else if p.starts_with("/api/v1/users") {
            caller
        } else {
            me_other
        };
        p.replace("{id}", &id.to_string())
            .replace("{version}", "1")
            .replace("{number}", "1")
            .replace("{token}", "q_unknown")
            .replace("{contract}", &r.contract.get().copied().unwrap_or(0).to_string())
            .replace("{objection}", &r.objection.get().copied().unwrap_or(0).to_string())
            .replace("{stage}", &next_stage())
            .replace("{key}", "saas-trial.en")
            .replace("{*file}", "css/common.css")
    };
    let body = match (m, path) {
        ("PATCH", "/api/v1/accounts/{id}") => Some(json!({ "version": r.account.version, "industry": "物流" })),
        ("PATCH", "/api/v1/contacts/{id}") => Some(json!({ "version": r.contact.version, "title": "采购总监" })),
        ("PATCH", "/api/v1/leads/{id}") => Some(json!({ "version": r.lead.version, "notes": "回访" })),
        ("POST", "/api/v1/leads/{id}/contacted" | "/api/v1/leads/{id}/qualify") => {
            Some(json!({ "version": r.lead.version }))
        }
        ("POST", "/api/v1/leads/{id}/disqualify") => Some(json!({ "version": r.lead.version, "reason": "无预算" })),
        ("POST", "/api/v1/leads/{id}/convert") => Some(json!({ "version": r.lead.version, "process_id": org.process })),
        ("PATCH", "/api/v1/deals/{id}") => Some(json!({ "version": r.deal.version, "title": "年度采购（续）" })),
        ("POST", "/api/v1/deals/{id}/moves") => {
            Some(json!({ "version": r.deal.version, "to": "lost", "lost_reason": "预算取消" }))
        }
        ("POST", "/api/v1/deals/{id}/steps") => {
            Some(json!({ "version": r.deal.version, "step": "define_target", "done": true }))
        }
        ("POST", "/api/v1/accounts") => Some(json!({ "name": format!("新客户 {}", rand_suffix()) })),
        ("POST", "/api/v1/contacts") => Some(json!({ "name": "新联系人" })),
        ("POST", "/api/v1/leads") => {
            Some(json!({ "name": "新线索", "company": format!("公司 {}", rand_suffix()), "channel": "referral" }))
        }
        ("POST", "/api/v1/deals") => Some(json!({
            "title": "新商机", "account_id": r.account.id, "process_id": org.process,
        })),
        ("POST", "/api/v1/shares") => {
            Some(json!({ "record_kind": "deal", "record_id": r.deal.id, "user_id": org.rep_c.id }))
        }
        ("GET", "/api/v1/shares") => return (format!("/api/v1/shares?record_kind=deal&record_id={}", r.deal.id), None),
        ("DELETE", "/api/v1/shares/{record_kind}/{record_id}/{user_id}") => {
            return (format!("/api/v1/shares/deal/{}/{}", r.deal.id, org.rep_c.id), None);
        }
        ("POST", "/api/v1/users") => Some(json!({
            "name": "新同事", "email": format!("new{}@example.com", rand_suffix()), "locale": "zh-CN",
            "time_zone": "Asia/Shanghai", "role": "rep", "password": "a long enough password",
        })),
        ("PATCH", "/api/v1/users/{id}") => Some(json!({ "time_zone": "Asia/Shanghai" })),
        ("POST", "/api/v1/users/{id}/password") => Some(json!({
            "current_password": format!("password-{caller}!"), "new_password": format!("password-{caller}!"),
        })),
        ("POST", "/api/v1/teams") => Some(json!({ "name": format!("团队 {}", rand_suffix()) })),
        ("PATCH", "/api/v1/teams/{id}") => Some(json!({ "name": format!("团队 {}", rand_suffix()) })),
        ("POST", "/api/v1/tokens") => Some(json!({ "label": "脚本", "scope": "read" })),
        ("POST", "/api/v1/processes" | "/api/v1/processes/validate" | "/api/v1/processes/layout") => {
            let mut def = salesflow_domain::templates::get("saas-trial.en").expect("template");
            def.key = format!("trial-{}", rand_suffix());
            Some(serde_json::to_value(def).expect("definition"))
        }
        ("POST", "/api/v1/processes/{id}/versions") => Some(json!({})),
        ("PUT", "/api/v1/processes/{id}/versions/{version}") => {
            let def = salesflow_domain::templates::get("seed-five-stage.zh-CN").expect("template");
            Some(serde_json::to_value(def).expect("definition"))
        }
        ("POST", "/api/v1/processes/{id}/versions/{version}/publish") => Some(json!({})),
        ("POST", "/api/v1/process-templates/{key}/instantiate") => {
            Some(json!({ "key": format!("t-{}", rand_suffix()) }))
        }
        ("PUT", "/api/v1/deals/{id}/needs") => Some(json!({ "requirements": ["报表"], "purchase_intent": 3 })),
        ("POST", "/api/v1/deals/{id}/quotes") => Some(serde_json::to_value(quote_content(0)).expect("content")),
        ("PUT", "/api/v1/deals/{id}/quotes/{number}") => Some(json!({ "version": 1, "content": quote_content(0) })),
        ("POST", "/api/v1/deals/{id}/quotes/from-products") => {
            Some(json!({ "items": [{ "product_id": org.product, "quantity": 2 }], "options": "one" }))
        }
        ("POST", "/api/v1/deals/{id}/quotes/{number}/discount-request") => {
            Some(json!({ "version": 1, "comment": "竞品压价" }))
        }
        ("POST", "/api/v1/deals/{id}/quotes/{number}/discount-decision") => {
            Some(json!({ "version": 2, "approve": true, "comment": "同意" }))
        }
        ("POST", "/api/v1/deals/{id}/quotes/{number}/send") => Some(json!({ "version": 1 })),
        ("GET", "/api/v1/deals/{id}/quotes/compare") => {
            return (format!("/api/v1/deals/{}/quotes/compare?from=1&to=1", r.deal.id), None);
        }
        ("POST", "/api/v1/deals/{id}/contracts") => {
            Some(json!({ "quote_number": 1, "seller": "星云软件", "buyer": "星海科技" }))
        }
        ("PATCH", "/api/v1/deals/{id}/contracts/{contract}") => Some(json!({ "version": 1, "status": "sent" })),
        ("POST", "/api/v1/deals/{id}/objections") => Some(json!({ "kind": "price", "text": "太贵了" })),
        ("PATCH", "/api/v1/deals/{id}/objections/{objection}") => Some(json!({ "version": 1, "resolved": true })),
        ("PUT", "/api/v1/processes/{id}/playbooks/{stage}") => Some(json!({ "entries": [
            { "kind": "price", "objection": "太贵了", "answer": "算三年总拥有成本", "evidence": "客户案例" } ] })),
        ("POST", "/api/v1/price-books") => Some(json!({
            "name": format!("经销商价 {}", rand_suffix()), "currency": "CNY", "customer_group": "经销商",
            "prices": [{ "sku": org.sku, "unit_price_minor": 7_000_000 }],
        })),
        ("POST", "/api/v1/products") => Some(json!({
            "sku": format!("SKU-{}", rand_suffix()), "name_zh": "标准版", "name_en": "Standard",
            "list_price": { "minor": 8_000_000, "currency": "CNY" }, "tier": "standard",
        })),
        ("POST", "/api/v1/public/quotes/{token}/accept") => Some(json!({ "option": "standard" })),
        ("POST", "/api/v1/public/quotes/{token}/reject") => Some(json!({ "reason": "价格太高" })),
        ("POST", "/login" | "/logout") => None,
        (_, _) => None,
    };
    (ids(path), body)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Own,
    Team,
    Other,
}

/// What the rules say a `role` may do with a record related to them by `rel`.
fn expected(policy: Policy, role: Option<Role>, rel: Relation) -> StatusCode {
    if policy == Policy::Token {
        return StatusCode::NOT_FOUND;
    }
    let Some(role) = role else {
        return if policy == Policy::Public { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
    };
    let ok = StatusCode::OK;
    match policy {
        Policy::Public | Policy::Anyone | Policy::Page | Policy::Token => ok,
        Policy::Writer => {
            if role == Role::Viewer {
                StatusCode::FORBIDDEN
            } else {
                ok
            }
        }
        Policy::ProcessEditor => {
            if matches!(role, Role::Admin | Role::Manager) {
                ok
            } else {
                StatusCode::FORBIDDEN
            }
        }
        Policy::Admin => {
            if role == Role::Admin {
                ok
            } else {
                StatusCode::FORBIDDEN
            }
        }
        Policy::Read(_) => match (role, rel) {
            (Role::Admin, _) | (_, Relation::Own) => ok,
            (Role::Manager | Role::Viewer, Relation::Team) => ok,
            _ => StatusCode::NOT_FOUND,
        },
        Policy::Write(_) => match (role, rel) {
            (Role::Admin, _) => ok,
            (Role::Viewer, Relation::Own | Relation::Team) => StatusCode::FORBIDDEN,
            (Role::Manager | Role::Rep, Relation::Own) | (Role::Manager, Relation::Team) => ok,
            _ => StatusCode::NOT_FOUND,
        },
        Policy::Approve(_) => match (role, rel) {
            (Role::Admin, _) | (Role::Manager, Relation::Own | Relation::Team) => ok,
            (Role::Viewer, Relation::Own | Relation::Team) | (Role::Rep, Relation::Own) => StatusCode::FORBIDDEN,
            _ => StatusCode::NOT_FOUND,
        },
    }
}

#[tokio::test]
async fn every_route_has_a_policy_and_keeps_to_it_for_every_role_and_relation() {
    let table = salesflow_web::route_table();
    let undeclared: Vec<String> =
        table.entries().iter().filter(|(m, p)| policy(m, p).is_none()).map(|(m, p)| format!("{m} {p}")).collect();
    assert!(undeclared.is_empty(), "routes without a declared access policy: {undeclared:#?}");
    assert!(table.entries().len() >= 78, "the route table looks incomplete: {} routes", table.entries().len());

    for app in apps().await {
        let org = org(&app).await;
        let b = app.backend.clone();
        let admin_id = app.get("/api/v1/me").await.1["id"].as_i64().expect("admin id");
        // (role, person): the caller; the relation picks the record owner for them.
        let callers: Vec<(Option<Role>, Option<&Person>)> = vec![
            (None, None),
            (Some(Role::Admin), None),
            (Some(Role::Manager), Some(&org.manager)),
            (Some(Role::Rep), Some(&org.rep_a)),
            (Some(Role::Viewer), Some(&org.viewer)),
        ];
        let mut checked = 0;
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for (method, path) in table.entries() {
            let policy = policy(method, path).expect("declared");
            // The docs page redirects and serves files; sign-out and sign-in have their own tests.
            if matches!(*path, "/login" | "/logout" | "/api/docs/") {
                continue;
            }
            if policy == Policy::Page {
                let url = format!("{}{}", app.base, path.replace("{id}", "1").replace("{key}", "x"));
                for (_, person) in &callers {
                    let mut req = no_redirects.request(method.clone(), &url);
                    if let Some(p) = person {
                        req = req.bearer_auth(&p.token);
                    }
                    let res = req.send().await.expect("request");
                    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_string());
                    assert_eq!(
                        (res.status(), location.as_deref()),
                        (StatusCode::SEE_OTHER, Some("/login")),
                        "[{b}] {method} {path} without a session goes to the sign-in page"
                    );
                    checked += 1;
                }
                continue;
            }
            let relations: &[Relation] = match policy {
                Policy::Read(_) | Policy::Write(_) | Policy::Approve(_) => {
                    &[Relation::Own, Relation::Team, Relation::Other]
                }
                _ => &[Relation::Own],
            };
            for (role, person) in &callers {
                let caller = person.map(|p| p.id).unwrap_or(admin_id);
                let token = match role {
                    None => String::new(),
                    Some(Role::Admin) => app.token.clone(),
                    Some(_) => person.expect("person").token.clone(),
                };
                for &rel in relations {
                    let owner = match (role, rel) {
                        (_, Relation::Own) => caller,
                        // For the admin, "team" and "other" are simply someone else's records.
                        (Some(Role::Manager | Role::Viewer), Relation::Team) => org.rep_a.id,
                        (_, Relation::Team) => org.rep_b.id,
                        (_, Relation::Other) => org.rep_c.id,
                    };
                    let r = records(&app, owner, org.process, path.ends_with("/convert")).await;
                    selling_records(&app, &r, path).await;
                    // Team routes address a team; create one per case so deletes do not collide.
                    let team_id = if path.starts_with("/api/v1/teams/") {
                        let t = app.post("/api/v1/teams", json!({ "name": format!("临时 {}", rand_suffix()) })).await;
                        t.1["id"].as_i64().expect("team")
                    } else if path.starts_with("/api/v1/tokens/") {
                        let t = app
                            .call_as(
                                &token_or_admin(&token, &app),
                                Method::POST,
                                "/api/v1/tokens",
                                Some(json!({ "label": "x", "scope": "read" })),
                            )
                            .await;
                        t.1["token"]["id"].as_i64().unwrap_or(0)
                    } else {
                        0
                    };
                    if method == Method::DELETE && path.starts_with("/api/v1/shares/") {
                        // Something to remove: the owner's side shares it first (as admin).
                        let share = json!({ "record_kind": "deal", "record_id": r.deal.id, "user_id": org.rep_c.id });
                        app.expect("share first", app.post("/api/v1/shares", share).await, StatusCode::CREATED);
                    }
                    let (mut url, mut body) = request(method, path, &r, &org, caller, team_id);
                    if path.ends_with("/versions/{version}") && method == Method::PUT || path.ends_with("/publish") {
                        // Only drafts are edited and published: the admin starts one.
                        let draft = app.post(&format!("/api/v1/processes/{}/versions", org.process), json!({})).await;
                        let v = app.expect("draft", draft, StatusCode::CREATED)["version"].as_i64().expect("version");
                        url = url.replace("/versions/1", &format!("/versions/{v}"));
                    }
                    if path.ends_with("/retire") || path.contains("/migrations") {
                        // Retiring and migrating need a second published version: the admin
                        // publishes one.
                        let draft = app.post(&format!("/api/v1/processes/{}/versions", org.process), json!({})).await;
                        let v = app.expect("draft", draft, StatusCode::CREATED)["version"].as_i64().expect("version");
                        let publish = format!("/api/v1/processes/{}/versions/{v}/publish", org.process);
                        app.expect("publish", app.post(&publish, json!({})).await, StatusCode::OK);
                        url = url.replace("/versions/1", &format!("/versions/{v}"));
                        if path.contains("/migrations") {
                            // The same stages in both versions: each maps to itself.
                            let def = salesflow_domain::templates::get("seed-five-stage.zh-CN").expect("template");
                            let mapping: serde_json::Map<String, Value> =
                                def.stages_in_order().iter().map(|n| (n.id.clone(), json!(n.id))).collect();
                            body = Some(json!({ "from_version": 1, "to_version": v, "mapping": mapping }));
                        }
                    }
                    let got = if *path == "/api/v1/processes/import/bpmn" {
                        bpmn_import(&app, &token).await
                    } else if *path == "/api/v1/products/import" {
                        catalog_import(&app, &token).await
                    } else if *path == "/api/v1/processes/{id}/import" {
                        history_import(&app, &token, org.process).await
                    } else {
                        app.call_as(&token, method.clone(), &url, body).await
                    };
                    let want = expected(policy, *role, rel);
                    let label = format!("[{b}] {method} {url} as {role:?} on a record of {rel:?}");
                    if want == StatusCode::OK {
                        assert!(
                            got.0.is_success() || got.0.is_redirection(),
                            "{label}: expected success, got {} {}",
                            got.0,
                            got.1
                        );
                    } else {
                        assert_eq!(got.0, want, "{label}: {}", got.1);
                        // The API refuses with problem documents; the customer's page with itself.
                        if got.0 != StatusCode::OK && path.starts_with("/api/") {
                            assert!(got.1["type"].is_string(), "{label}: a refusal is a problem document: {}", got.1);
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 250, "[{b}] only {checked} cases ran");
    }
}

fn token_or_admin(token: &str, app: &App) -> String {
    if token.is_empty() { app.token.clone() } else { token.to_string() }
}

/// The catalog import takes CSV: one product under a fresh SKU.
async fn catalog_import(app: &App, token: &str) -> (StatusCode, serde_json::Value) {
    let csv = format!(
        "sku,name_zh,name_en,description_zh,description_en,unit,list_price_minor,currency,tax_rate_bp,category,tags,tier,bundle\n\
         CSV-{},标准版,Standard,,,套,8000000,CNY,600,CRM,报表|API,standard,\n",
        rand_suffix()
    );
    post_body(app, token, "/api/v1/products/import", "text/csv", csv).await
}

/// The event-log import takes CSV: one past deal of the seed process, owned by the caller.
async fn history_import(app: &App, token: &str, process: i64) -> (StatusCode, serde_json::Value) {
    let csv = format!(
        "case:concept:name,concept:name,time:timestamp\n{c},lead_identification,2024-01-02 09:00\n{c},needs_analysis,2024-01-05 09:00\n",
        c = rand_suffix()
    );
    post_body(app, token, &format!("/api/v1/processes/{process}/import"), "text/csv", csv).await
}

/// The BPMN import takes XML, not JSON: a template exported as BPMN under a fresh key.
async fn bpmn_import(app: &App, token: &str) -> (StatusCode, serde_json::Value) {
    let mut def = salesflow_domain::templates::get("saas-trial.zh-CN").expect("template");
    def.key = format!("bpmn-{}", rand_suffix());
    let xml = salesflow_flowchart::bpmn::export(&def, &salesflow_flowchart::layout(&def));
    post_body(app, token, "/api/v1/processes/import/bpmn", "application/xml", xml).await
}

/// A POST whose body is not JSON, with the caller's token (none when empty).
async fn post_body(
    app: &App,
    token: &str,
    path: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, serde_json::Value) {
    let mut req =
        reqwest::Client::new().post(format!("{}{path}", app.base)).header("content-type", content_type).body(body);
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}
