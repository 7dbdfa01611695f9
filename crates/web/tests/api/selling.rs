//! The selling story on every backend: needs captured → the recommendation ranks the expected
//! tier first → quote v1 with three options sent → the customer rejects it on the public link
//! ("价格太高") → the deal loops back with a lower-tier draft v2 → a manager approves a 12 %
//! discount → the customer accepts v2 → a contract with identical amounts → milestones done →
//! Won; every step in the deal's event log, in order. Then the refusals.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{App, Person, apps, problem_fields};

pub(crate) struct Story<'a> {
    pub(crate) app: &'a App,
    pub(crate) rep: Person,
    pub(crate) manager: Person,
    pub(crate) deal: Value,
}

impl Story<'_> {
    pub(crate) fn id(&self) -> i64 {
        self.deal["id"].as_i64().expect("deal id")
    }

    async fn as_rep(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.app.call_as(&self.rep.token, method, path, body).await
    }

    pub(crate) async fn rep(
        &self,
        what: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        want: StatusCode,
    ) -> Value {
        self.app.expect(what, self.as_rep(method, path, body).await, want)
    }

    async fn reload(&mut self) {
        let path = format!("/api/v1/deals/{}", self.id());
        self.deal = self.rep("reload deal", Method::GET, &path, None, StatusCode::OK).await;
    }

    async fn tick(&mut self, step: &str) {
        self.reload().await;
        let body = json!({ "step": step, "done": true, "version": self.deal["version"] });
        let path = format!("/api/v1/deals/{}/steps", self.id());
        self.deal = self.rep(&format!("tick {step}"), Method::POST, &path, Some(body), StatusCode::OK).await;
    }

    /// Sending ticked the quoting stage's `send_quote` step; the deal waits there for the
    /// customer's answer (the seed's `quote_sent` edge enters a decision node).
    async fn check_sent_ticked(&mut self, sent: &Value) {
        assert!(sent["deal_moved_to"].is_null(), "waits for the customer: {sent}");
        self.reload().await;
        let steps = self.deal["completed_steps"].as_array().expect("completed_steps");
        assert!(steps.iter().any(|s| s == "send_quote"), "sending ticked send_quote: {}", self.deal);
    }

    pub(crate) async fn patch(&mut self, mut body: Value) {
        self.reload().await;
        body["version"] = self.deal["version"].clone();
        let path = format!("/api/v1/deals/{}", self.id());
        self.deal = self.rep("patch deal", Method::PATCH, &path, Some(body), StatusCode::OK).await;
    }

    async fn advance(&mut self, to: &str, edge: Option<&str>) {
        self.reload().await;
        let body = json!({ "to": to, "edge": edge, "version": self.deal["version"] });
        let path = format!("/api/v1/deals/{}/moves", self.id());
        let done = self.rep(&format!("move to {to}"), Method::POST, &path, Some(body), StatusCode::CREATED).await;
        self.deal = done["deal"].clone();
    }

    async fn quotes(&self) -> Vec<Value> {
        let path = format!("/api/v1/deals/{}/quotes", self.id());
        let list = self.rep("list quotes", Method::GET, &path, None, StatusCode::OK).await;
        list["items"].as_array().expect("items").clone()
    }

    pub(crate) fn quote_path(&self, number: i64, tail: &str) -> String {
        format!("/api/v1/deals/{}/quotes/{number}{tail}", self.id())
    }
}

/// The catalog: three tiers of one product, each with a fact the team keeps.
pub(crate) async fn catalog(app: &App, manager: &Person) -> Vec<Value> {
    let tiers = [
        ("CRM-BAS", "basic", "基础版", "Basic", 3_000_000, json!(["客户管理"])),
        ("CRM-STD", "standard", "标准版", "Standard", 8_000_000, json!(["客户管理", "报表", "API"])),
        (
            "CRM-PRO",
            "professional",
            "专业版",
            "Professional",
            15_000_000,
            json!(["客户管理", "报表", "API", "单点登录"]),
        ),
    ];
    let mut out = Vec::new();
    for (sku, tier, zh, en, price, tags) in tiers {
        let body = json!({
            "sku": sku, "name_zh": zh, "name_en": en, "unit": "套", "tier": tier, "tags": tags,
            "list_price": { "minor": price, "currency": "CNY" }, "tax_rate_bp": 600, "category": "CRM",
            "facts": [{ "label": "平均上线周期", "value": "14 天", "source": "2025 年交付报告" }],
        });
        let made = app.call_as(&manager.token, Method::POST, "/api/v1/products", Some(body)).await;
        out.push(app.expect(&format!("product {sku}"), made, StatusCode::CREATED));
    }
    out
}

pub(crate) fn option(product: &Value, key: &str, discount_bp: i64) -> Value {
    json!({
        "key": key, "name": product["name_zh"], "tier": product["tier"], "discount_bp": discount_bp,
        "lines": [{
            "product_id": product["id"], "sku": product["sku"], "name": product["name_zh"], "unit": "套",
            "quantity": 1, "unit_price": product["list_price"], "tax_rate_bp": product["tax_rate_bp"],
        }],
    })
}

pub(crate) fn offer(options: Vec<Value>, recommended: &str) -> Value {
    json!({
        "currency": "CNY", "options": options, "recommended": recommended,
        "payment_terms": "签约后 30 日内支付 50%，验收后支付 50%", "after_sales_terms": "一年免费维护，7×24 小时响应",
        "valid_until": "2099-12-31", "language": "zh-CN",
    })
}

pub(crate) async fn setup(app: &App) -> Story<'_> {
    let manager = app.person(salesflow_domain::records::Role::Manager).await;
    let rep = app.person(salesflow_domain::records::Role::Rep).await;
    let team = json!({ "name": "华东销售组", "manager_id": manager.id, "members": [manager.id, rep.id] });
    app.expect("team", app.post("/api/v1/teams", team).await, StatusCode::CREATED);
    let process = app.seed_process().await;
    let account =
        app.call_as(&rep.token, Method::POST, "/api/v1/accounts", Some(json!({ "name": "华东制造集团" }))).await;
    let account = app.expect("account", account, StatusCode::CREATED);
    let contact = json!({ "account_id": account["id"], "name": "王总", "email": "wang@huadong.example.com" });
    let contact = app.expect(
        "contact",
        app.call_as(&rep.token, Method::POST, "/api/v1/contacts", Some(contact)).await,
        StatusCode::CREATED,
    );
    let deal = json!({ "title": "华东制造 CRM 项目", "account_id": account["id"], "contact_ids": [contact["id"]], "process_id": process });
    let deal = app.expect(
        "deal",
        app.call_as(&rep.token, Method::POST, "/api/v1/deals", Some(deal)).await,
        StatusCode::CREATED,
    );
    Story { app, rep, manager, deal }
}

#[tokio::test]
async fn needs_to_quote_to_contract_to_won() {
    for app in apps().await {
        story(&app).await;
    }
}

async fn story(app: &App) {
    let b = app.backend.clone();
    let products = catalog(app, &app.person(salesflow_domain::records::Role::Manager).await).await;
    let mut s = setup(app).await;
    let id = s.id();
    s.tick("check_fit").await;
    s.advance("needs_analysis", None).await;

    // 需求分析: captured, then the stage's own criteria.
    let needs = json!({
        "pain_points": ["销售数据分散在表格里", "月度报表靠手工"], "requirements": ["客户管理", "报表", "api"],
        "budget": { "minor": 10_000_000, "currency": "CNY" }, "decision_maker": "王总", "authority": "decides",
        "timeline": "2026-12-31", "purchase_intent": 4, "competitors": ["某国际 CRM"],
    });
    let path = format!("/api/v1/deals/{id}/needs");
    let saved = s.rep("needs", Method::PUT, &path, Some(needs), StatusCode::OK).await;
    assert_eq!((saved["version"].as_i64(), saved["budget"]["minor"].as_i64()), (Some(1), Some(10_000_000)), "[{b}]");
    s.patch(json!({ "needs_summary": "报表与客户管理，预算十万" })).await;
    s.tick("confirm_intent").await;
    s.advance("recommendation", None).await;

    // 产品推荐: the standard tier covers every requirement within budget.
    let path = format!("/api/v1/deals/{id}/recommendations");
    let recs = s.rep("recommendations", Method::GET, &path, None, StatusCode::OK).await["items"].clone();
    assert_eq!(recs[0]["tier"], "standard", "[{b}] expected tier first: {recs}");
    assert_eq!(recs[0]["reasons"][0]["kind"], "covers", "[{b}]");
    assert_eq!(recs[0]["reasons"][1]["kind"], "within_budget", "[{b}]");
    assert_eq!(recs[0]["facts"][0]["value"], "14 天", "[{b}] backed by the team's facts");
    s.patch(json!({ "amount": { "minor": 8_000_000, "currency": "CNY" }, "expected_close_date": "2026-12-31" })).await;
    s.tick("present_advantages").await;
    s.tick("share_evidence").await;
    s.advance("negotiation", None).await;

    // 报价 v1: three options, the professional one proposed.
    let three = vec![
        option(&products[0], "basic", 0),
        option(&products[1], "standard", 0),
        option(&products[2], "professional", 0),
    ];
    let path = format!("/api/v1/deals/{id}/quotes");
    let v1 = s.rep("quote v1", Method::POST, &path, Some(offer(three, "professional")), StatusCode::CREATED).await;
    assert_eq!((v1["number"].as_i64(), v1["status"].as_str()), (Some(1), Some("draft")), "[{b}]");
    assert_eq!(v1["totals"][2]["total"], 15_900_000, "[{b}] 150 000.00 + 6 % tax");
    let sent = s
        .rep(
            "send v1",
            Method::POST,
            &s.quote_path(1, "/send"),
            Some(json!({ "version": v1["version"] })),
            StatusCode::CREATED,
        )
        .await;
    let link1 = sent["link"].as_str().expect("link").to_string();
    let token1 = sent["token"].as_str().expect("token").to_string();
    assert_eq!(link1, format!("{}/q/{token1}", app.base), "[{b}] the whole address, from the request's host");
    s.check_sent_ticked(&sent).await;

    // The customer, no sign-in: views, then rejects with a reason.
    let public = format!("/api/v1/public/quotes/{token1}");
    let seen = app.expect("customer views v1", app.call_as("", Method::GET, &public, None).await, StatusCode::OK);
    assert_eq!(
        (seen["status"].as_str(), seen["content"]["options"].as_array().map(Vec::len)),
        (Some("sent"), Some(3)),
        "[{b}]"
    );
    assert!(seen.get("approval").is_none() && seen.get("sent_by").is_none(), "[{b}] nothing internal: {seen}");
    let answer =
        app.call_as("", Method::POST, &format!("{public}/reject"), Some(json!({ "reason": "价格太高" }))).await;
    let answer = app.expect("customer rejects v1", answer, StatusCode::OK);
    assert_eq!(answer["deal_moved_to"], "tiered_package", "[{b}] along the rejected edge");
    assert_eq!(answer["quote"]["decision"]["reason"], "价格太高", "[{b}]");
    let again = app.call_as("", Method::POST, &format!("{public}/accept"), Some(json!({ "option": "basic" }))).await;
    assert_eq!(again.0, StatusCode::CONFLICT, "[{b}] an answered quote stays answered: {}", again.1);

    // The loop back: a lower-tier draft v2 is waiting for the rep.
    let quotes = s.quotes().await;
    assert_eq!(quotes.len(), 2, "[{b}]");
    let v2 = &quotes[1];
    let keys: Vec<&str> =
        v2["content"]["options"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap()).collect();
    assert_eq!(
        (v2["status"].as_str(), keys, v2["content"]["recommended"].as_str()),
        (Some("draft"), vec!["basic", "standard"], Some("standard")),
        "[{b}]"
    );
    s.tick("select_tier").await;
    s.advance("negotiation", Some("renegotiate")).await;

    // 异议: the stage's playbook (kept by the manager) and the objection as it was raised.
    let playbook_path = format!("/api/v1/processes/{}/playbooks/negotiation", s.deal["process_id"]);
    let entries = json!({ "entries": [{ "kind": "price", "objection": "价格太高", "answer": "换算成三年总拥有成本，或降一个版本",
        "evidence": "华东某制造集团：三年节省 23%" }] });
    let refused = s.as_rep(Method::PUT, &playbook_path, Some(entries.clone())).await;
    assert_eq!(refused.0, StatusCode::FORBIDDEN, "[{b}] reps read playbooks, managers keep them");
    let saved = app.call_as(&s.manager.token, Method::PUT, &playbook_path, Some(entries.clone())).await;
    assert_eq!(app.expect("playbook", saved, StatusCode::OK)["version"], 1, "[{b}]");
    let twice = app.call_as(&s.manager.token, Method::PUT, &playbook_path, Some(entries)).await;
    assert_eq!(twice.0, StatusCode::CONFLICT, "[{b}] a second writer without the version read");
    let read = s.rep("read playbook", Method::GET, &playbook_path, None, StatusCode::OK).await;
    assert_eq!(read["entries"][0]["evidence"], "华东某制造集团：三年节省 23%", "[{b}]");
    let path = format!("/api/v1/deals/{id}/objections");
    let empty = s.as_rep(Method::POST, &path, Some(json!({ "kind": "price", "text": " " }))).await;
    assert_eq!(
        (empty.0, problem_fields(&empty.1)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["text".to_string()]),
        "[{b}]"
    );
    let objection = json!({ "kind": "price", "text": "价格太高", "answer": "降为标准版，申请折扣" });
    let objection = s.rep("objection", Method::POST, &path, Some(objection), StatusCode::CREATED).await;
    assert_eq!(
        (objection["stage"].as_str(), objection["resolved"].as_bool()),
        (Some("negotiation"), Some(false)),
        "[{b}]"
    );

    // 12 % off the standard tier: above the 10 % threshold, so a manager decides.
    let two = vec![option(&products[0], "basic", 0), option(&products[1], "standard", 1_200)];
    let edit = json!({ "version": v2["version"], "content": offer(two, "standard") });
    let v2 = s.rep("discount v2", Method::PUT, &s.quote_path(2, ""), Some(edit), StatusCode::OK).await;
    // 80 000.00 − 12 % = 70 400.00, + 6 % tax = 74 624.00.
    assert_eq!(v2["totals"][1]["total_discount"], 960_000, "[{b}]");
    assert_eq!(v2["totals"][1]["total"], 7_462_400, "[{b}]");
    let early = s.as_rep(Method::POST, &s.quote_path(2, "/send"), Some(json!({ "version": v2["version"] }))).await;
    assert_eq!(
        (early.0, problem_fields(&early.1)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["discount".to_string()]),
        "[{b}] {}",
        early.1
    );
    let ask = json!({ "version": v2["version"], "comment": "客户预算十万，竞品报价低 15%" });
    let v2 =
        s.rep("ask approval", Method::POST, &s.quote_path(2, "/discount-request"), Some(ask), StatusCode::OK).await;
    let own = json!({ "version": v2["version"], "approve": true, "comment": "自己批" });
    let refused = s.as_rep(Method::POST, &s.quote_path(2, "/discount-decision"), Some(own)).await;
    assert_eq!(refused.0, StatusCode::FORBIDDEN, "[{b}] a rep does not approve: {}", refused.1);
    let yes = json!({ "version": v2["version"], "approve": true, "comment": "同意，年底冲量" });
    let v2 = app.expect(
        "manager approves",
        app.call_as(&s.manager.token, Method::POST, &s.quote_path(2, "/discount-decision"), Some(yes)).await,
        StatusCode::OK,
    );
    assert_eq!(
        (v2["approval"]["status"].as_str(), v2["approval"]["discount_bp"].as_i64()),
        (Some("approved"), Some(1_200)),
        "[{b}]"
    );
    let path = format!("/api/v1/deals/{id}/objections/{}", objection["id"]);
    let resolved = json!({ "version": objection["version"], "resolved": true });
    let resolved = s.rep("objection resolved", Method::PATCH, &path, Some(resolved), StatusCode::OK).await;
    assert_eq!(resolved["resolved"], true, "[{b}]");
    let sent = s
        .rep(
            "send v2",
            Method::POST,
            &s.quote_path(2, "/send"),
            Some(json!({ "version": v2["version"] })),
            StatusCode::CREATED,
        )
        .await;
    let token2 = sent["token"].as_str().unwrap().to_string();
    s.check_sent_ticked(&sent).await;
    let diff = s
        .rep("compare", Method::GET, &format!("/api/v1/deals/{id}/quotes/compare?from=1&to=2"), None, StatusCode::OK)
        .await;
    let changes: Vec<(&str, &str)> = diff["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["key"].as_str().unwrap(), o["change"].as_str().unwrap()))
        .collect();
    assert_eq!(changes, [("basic", "same"), ("standard", "changed"), ("professional", "removed")], "[{b}]");
    // A sent version cannot be edited.
    let frozen = s.as_rep(Method::PUT, &s.quote_path(2, ""), Some(json!({ "version": sent["quote"]["version"], "content": offer(vec![option(&products[0], "basic", 0)], "basic") }))).await;
    assert_eq!(frozen.0, StatusCode::CONFLICT, "[{b}] {}", frozen.1);

    // The customer accepts v2; replaying the acceptance is refused.
    let public = format!("/api/v1/public/quotes/{token2}");
    app.expect("customer views v2", app.call_as("", Method::GET, &public, None).await, StatusCode::OK);
    let yes = app.call_as("", Method::POST, &format!("{public}/accept"), Some(json!({ "option": "standard" }))).await;
    let yes = app.expect("customer accepts v2", yes, StatusCode::OK);
    assert_eq!(
        (yes["deal_moved_to"].as_str(), yes["quote"]["status"].as_str()),
        (Some("signing"), Some("accepted")),
        "[{b}]"
    );
    let replay =
        app.call_as("", Method::POST, &format!("{public}/accept"), Some(json!({ "option": "standard" }))).await;
    assert_eq!(replay.0, StatusCode::CONFLICT, "[{b}] {}", replay.1);
    assert!(replay.1["detail"].as_str().unwrap_or("").contains("already accepted"), "[{b}] {}", replay.1);

    // 签约: the contract carries the accepted option over exactly; not from the rejected v1.
    let path = format!("/api/v1/deals/{id}/contracts");
    let wrong = s
        .as_rep(Method::POST, &path, Some(json!({ "quote_number": 1, "seller": "星云软件", "buyer": "华东制造集团" })))
        .await;
    assert_eq!(
        (wrong.0, problem_fields(&wrong.1)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["quote_number".to_string()]),
        "[{b}] {}",
        wrong.1
    );
    let new = json!({
        "quote_number": 2, "seller": "星云软件有限公司", "buyer": "华东制造集团", "start_date": "2027-01-01", "end_date": "2027-12-31",
        "milestones": [
            { "kind": "deliverable", "title": "系统上线", "due_date": "2027-01-31" },
            { "kind": "payment", "title": "首付款", "due_date": "2027-01-15", "amount": { "minor": 3_731_200, "currency": "CNY" } },
        ],
    });
    let contract = s.rep("contract", Method::POST, &path, Some(new), StatusCode::CREATED).await;
    let accepted = &s.quotes().await[1];
    assert_eq!(contract["totals"], accepted["totals"][1], "[{b}] identical amounts");
    assert_eq!(
        contract["items"][0]["unit_price"], accepted["content"]["options"][1]["lines"][0]["unit_price"],
        "[{b}]"
    );
    assert_eq!(contract["payment_terms"], accepted["content"]["payment_terms"], "[{b}]");
    let cpath = format!("/api/v1/deals/{id}/contracts/{}", contract["id"]);
    let mut c = contract;
    for patch in [
        json!({ "status": "sent" }),
        json!({ "status": "signed", "signed_date": "2026-12-20", "signatories": ["王总", "李经理"] }),
        json!({ "status": "executing" }),
        json!({ "complete_milestones": [1, 2], "status": "completed" }),
    ] {
        let mut body = patch.clone();
        body["version"] = c["version"].clone();
        c = s.rep(&format!("contract {patch}"), Method::PATCH, &cpath, Some(body), StatusCode::OK).await;
    }
    assert_eq!(c["status"], "completed", "[{b}]");
    assert!(c["milestones"].as_array().unwrap().iter().all(|m| m["done_at"].is_string()), "[{b}]");
    s.tick("sign_contract").await;
    s.tick("kickoff_execution").await;
    s.advance("won", None).await;
    assert_eq!(s.deal["status"], "won", "[{b}]");

    // Every step, in order, in the deal's log.
    let events = s.rep("events", Method::GET, &format!("/api/v1/deals/{id}/events"), None, StatusCode::OK).await;
    let steps: Vec<String> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            !matches!(e["kind"].as_str(), Some("step_completed" | "updated" | "amount_changed" | "close_date_changed"))
        })
        .map(|e| match e["kind"].as_str().unwrap() {
            "moved" | "created" => format!("{}→{}", e["kind"].as_str().unwrap(), e["to_node"].as_str().unwrap()),
            k if e["details"]["quote"].is_i64() => format!("{k}#{}", e["details"]["quote"]),
            k => k.to_string(),
        })
        .collect();
    let want = [
        "created→lead_identification",
        "moved→needs_analysis",
        "needs_updated",
        "moved→recommendation",
        "moved→negotiation",
        "quote_created#1",
        "quote_sent#1",
        "quote_viewed#1",
        "quote_rejected#1",
        "quote_created#2",
        "moved→tiered_package",
        "moved→negotiation",
        "objection_logged",
        "quote_updated#2",
        "discount_requested#2",
        "discount_decided#2",
        "objection_logged",
        "quote_sent#2",
        "quote_viewed#2",
        "quote_accepted#2",
        "moved→signing",
        "contract_created#2",
        "contract_status_changed",
        "contract_status_changed",
        "contract_status_changed",
        "milestone_done",
        "milestone_done",
        "contract_status_changed",
        "moved→won",
    ];
    assert_eq!(steps, want, "[{b}] the deal's history");
    // The deal page shows it all, in both languages.
    let mut browser = crate::deal_page::Browser::signed_in(app, &s.rep).await;
    let (status, zh) = browser.get(&format!("/deals/{id}")).await;
    assert_eq!(status, StatusCode::OK, "[{b}]");
    for want in [
        "需求分析",
        "月度报表靠手工",
        "¥100,000.00",
        "4 / 5",
        "产品推荐",
        "标准版 · ¥80,000.00",
        "在预算内",
        "平均上线周期：14 天",
        "满足需求：客户管理",
        "未满足：报表、api",
        "— 2025 年交付报告",
        "第 2 版",
        "已接受",
        "折扣 12.00% 已批准",
        "第 1 版",
        "已拒绝",
        "价格太高",
        "¥74,624.00",
        &format!("HT-{id}-2"),
        "已完成",
        "里程碑 2/2",
        "客户拒绝报价第 1 版：价格太高",
        "异议",
        "已解决",
        "客户异议：价格太高",
    ] {
        assert!(zh.contains(want), "[{b}] the deal page shows `{want}`");
    }
    let print = format!("/deals/{id}/contracts/{}/print", c["id"]);
    assert!(zh.contains(&format!("href=\"{print}\"")), "[{b}] the contract links to its printable page");
    let (status, doc) = browser.get(&print).await;
    assert_eq!(status, StatusCode::OK, "[{b}]");
    for want in [
        "合同",
        &format!("HT-{id}-2"),
        "依据报价第 2 版（standard）",
        "星云软件有限公司",
        "华东制造集团",
        "王总、李经理",
        "¥74,624.00",
        "首付款",
        "已完成",
    ] {
        assert!(doc.contains(want), "[{b}] the printable contract shows `{want}`");
    }
    // The same documents as PDF files, read back by poppler: the accepted amounts exactly.
    assert!(zh.contains(&format!("href=\"/deals/{id}/contracts/{}/contract.pdf\"", c["id"])), "[{b}] PDF link");
    let (status, kind, pdf) =
        app.bytes_as(&s.rep.token, &format!("/api/v1/deals/{id}/contracts/{}/pdf", c["id"])).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "application/pdf"), "[{b}]");
    if let Some(text) = crate::helpers::pdf_text(&pdf) {
        for want in
            [&format!("HT-{id}-2") as &str, "星云软件有限公司", "华东制造集团", "¥74,624.00", "首付款", "已完成"]
        {
            assert!(text.contains(want), "[{b}] the contract PDF shows `{want}`:\n{text}");
        }
    }
    let (status, _, pdf) = app.bytes_as(&s.rep.token, &format!("/api/v1/deals/{id}/quotes/2/pdf?lang=en")).await;
    assert_eq!(status, StatusCode::OK, "[{b}]");
    if let Some(text) = crate::helpers::pdf_text(&pdf) {
        for want in ["Quotation", "version 2", "CNY 74,624.00", "Payment terms"] {
            assert!(text.contains(want), "[{b}] the English quote PDF shows `{want}`:\n{text}");
        }
    }
    let res = reqwest::get(format!("{}/q/{token2}/quote.pdf", app.base)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "[{b}] the customer's copy, by the link alone");
    if let Some(text) = crate::helpers::pdf_text(&res.bytes().await.unwrap()) {
        assert!(text.contains("报价单") && text.contains("¥74,624.00"), "[{b}] in the quote's language:\n{text}");
    }
    let res = reqwest::get(format!("{}/q/q_not_a_link/quote.pdf", app.base)).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "[{b}]");
    let outsider = app.bytes_as(&s.manager.token, "/api/v1/deals/999999/quotes/1/pdf").await;
    assert_eq!(outsider.0, StatusCode::NOT_FOUND, "[{b}]");

    let (_, _, _) = browser.submit(&zh, "/me/locale", &[("locale", "en")]).await;
    let (_, en) = browser.get(&format!("/deals/{id}")).await;
    for want in [
        "Needs analysis",
        "Recommended products",
        "Version 2",
        "Accepted",
        "Discount 12.00% approved",
        "CNY 74,624.00",
        "Completed",
        "Milestones 2/2",
        "The customer rejected quote version 1: 价格太高",
    ] {
        assert!(en.contains(want), "[{b}] the English deal page shows `{want}`");
    }

    let rejected = events["items"].as_array().unwrap().iter().find(|e| e["kind"] == "quote_rejected").unwrap();
    assert_eq!(
        (rejected["details"]["reason"].as_str(), rejected["details"]["by"].as_str()),
        (Some("价格太高"), Some("customer")),
        "[{b}]"
    );
}

#[tokio::test]
async fn bad_selling_input_is_refused_and_changes_nothing() {
    for app in apps().await {
        bad_input(&app).await;
    }
}

async fn bad_input(app: &App) {
    let b = app.backend.clone();
    let s = setup(app).await;
    let id = s.id();
    let cny = |minor: i64| json!({ "minor": minor, "currency": "CNY" });
    let line = |qty: i64, price: Value, discount: i64| json!({ "name": "标准版", "quantity": qty, "unit_price": price, "discount_bp": discount });
    let bad = json!({
        "currency": "CNY", "valid_until": "2099-12-31",
        "options": [
            { "key": "a", "name": "甲", "tier": null, "lines": [line(-1, cny(100), 0), line(1, cny(100), 12_000)] },
            { "key": "b", "name": "乙", "tier": null, "lines": [line(1, json!({ "minor": 100, "currency": "USD" }), 0)] },
            { "key": "c", "name": "丙", "tier": null, "lines": [line(1_000_000_000, cny(1_000_000_000_000_000), 0)] },
        ],
    });
    let path = format!("/api/v1/deals/{id}/quotes");
    let refused = s.as_rep(Method::POST, &path, Some(bad)).await;
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {}", refused.1);
    assert_eq!(
        problem_fields(&refused.1),
        [
            "options[0].lines[0].quantity",
            "options[0].lines[1].discount_bp",
            "options[1].lines[0].unit_price.currency",
            "options[2].lines[0].quantity"
        ],
        "[{b}] every bad field named: {}",
        refused.1
    );
    assert!(refused.1["errors"][3]["message"].as_str().unwrap().contains("overflows"), "[{b}]");
    assert!(s.quotes().await.is_empty(), "[{b}] nothing written");

    // Version 1 sent, then version 2 sent: version 1 is superseded and says so.
    let one = offer(vec![json!({ "key": "std", "name": "标准版", "lines": [line(1, cny(8_000_000), 0)] })], "std");
    let v1 = s.rep("v1", Method::POST, &path, Some(one.clone()), StatusCode::CREATED).await;
    let sent1 = s
        .rep(
            "send v1",
            Method::POST,
            &s.quote_path(1, "/send"),
            Some(json!({ "version": v1["version"] })),
            StatusCode::CREATED,
        )
        .await;
    let v2 = s.rep("v2", Method::POST, &path, Some(one), StatusCode::CREATED).await;
    s.rep(
        "send v2",
        Method::POST,
        &s.quote_path(2, "/send"),
        Some(json!({ "version": v2["version"] })),
        StatusCode::CREATED,
    )
    .await;
    let public = format!("/api/v1/public/quotes/{}", sent1["token"].as_str().unwrap());
    let old = app.expect("old link", app.call_as("", Method::GET, &public, None).await, StatusCode::OK);
    assert_eq!(old["status"], "superseded", "[{b}]");
    let late = app.call_as("", Method::POST, &format!("{public}/accept"), Some(json!({ "option": "std" }))).await;
    assert_eq!(late.0, StatusCode::CONFLICT, "[{b}] {}", late.1);
    assert!(late.1["detail"].as_str().unwrap().contains("replaced"), "[{b}] {}", late.1);
    let nobody = app.call_as("", Method::GET, "/api/v1/public/quotes/q_0000", None).await;
    assert_eq!(nobody.0, StatusCode::NOT_FOUND, "[{b}] an unknown link");

    // An expired quote: sent with a validity date that has since passed.
    expired_quote(app, &s, &b).await;
    let quotes = s.quotes().await;
    let statuses: Vec<&str> = quotes.iter().map(|q| q["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["superseded", "sent", "sent"], "[{b}] nothing changed by the refusals");
    // A contract from a quote that was never accepted.
    let refused = s
        .as_rep(
            Method::POST,
            &format!("/api/v1/deals/{id}/contracts"),
            Some(json!({ "quote_number": 2, "seller": "甲", "buyer": "乙" })),
        )
        .await;
    assert_eq!(
        (refused.0, problem_fields(&refused.1)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["quote_number".to_string()]),
        "[{b}]"
    );
}

/// A version sent yesterday-valid, written through the store with a known token.
async fn expired_quote(app: &App, s: &Story<'_>, b: &str) {
    use salesflow_domain::ids::{DealId, UserId};
    use salesflow_domain::records::Actor;
    use salesflow_domain::selling::quote::{Quote, QuoteContent};
    use salesflow_domain::store::{QuoteChange, QuoteWrite};
    let now = chrono::Utc::now();
    let yesterday = now.date_naive() - chrono::Days::new(1);
    let mut content: QuoteContent = serde_json::from_value(offer(
        vec![json!({ "key": "std", "name": "标准版", "lines": [{ "name": "标准版", "quantity": 1, "unit_price": { "minor": 100, "currency": "CNY" } }] })],
        "std",
    ))
    .unwrap();
    content.valid_until = yesterday;
    let rep = UserId(s.rep.id);
    let (mut q, _) = Quote::draft(DealId(s.id()), 3, content, rep, now).unwrap();
    q.send(1, 1_000, rep, yesterday, now).unwrap();
    let token = "q_expired_in_test";
    let write = QuoteWrite {
        deal: DealId(s.id()),
        changes: vec![QuoteChange {
            quote: q,
            read_version: None,
            token_hash: Some(salesflow_web::auth::token_hash(token)),
        }],
        notes: vec![],
        tick_step: None,
    };
    let actor = Actor { user: rep, role: salesflow_domain::records::Role::Rep };
    app.store().save_quotes(&write, &actor, now).await.expect("expired quote");
    let public = format!("/api/v1/public/quotes/{token}");
    let seen = app.expect("expired link", app.call_as("", Method::GET, &public, None).await, StatusCode::OK);
    assert_eq!(seen["status"], "expired", "[{b}]");
    let late = app.call_as("", Method::POST, &format!("{public}/accept"), Some(json!({ "option": "std" }))).await;
    assert_eq!(late.0, StatusCode::CONFLICT, "[{b}] {}", late.1);
    assert!(late.1["detail"].as_str().unwrap().contains("expired"), "[{b}] {}", late.1);
}

#[tokio::test]
async fn the_customer_quote_page_in_both_languages() {
    for app in apps().await {
        quote_page(&app).await;
    }
}

async fn quote_page(app: &App) {
    let b = app.backend.clone();
    let s = setup(app).await;
    let line = |price: i64| json!([{ "name": "标准版", "unit": "套", "quantity": 2, "unit_price": { "minor": price, "currency": "CNY" }, "tax_rate_bp": 600 }]);
    let two = vec![
        json!({ "key": "basic", "name": "基础版", "lines": line(1_500_000) }),
        json!({ "key": "standard", "name": "标准版", "lines": line(4_000_000) }),
    ];
    let path = format!("/api/v1/deals/{}/quotes", s.id());
    let v1 = s.rep("v1", Method::POST, &path, Some(offer(two, "standard")), StatusCode::CREATED).await;
    let sent = s
        .rep(
            "send",
            Method::POST,
            &s.quote_path(1, "/send"),
            Some(json!({ "version": v1["version"] })),
            StatusCode::CREATED,
        )
        .await;
    let link = sent["link"].as_str().unwrap().to_string();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let html = |res: reqwest::Response| async move {
        let status = res.status();
        let csp = res.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_string());
        (status, csp, res.text().await.unwrap())
    };

    let (status, csp, zh) = html(browser.get(&link).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "[{b}] {zh}");
    assert!(csp.unwrap().contains("script-src 'self'"), "[{b}] the CSP holds");
    assert!(!zh.contains("<script"), "[{b}] no script at all");
    for want in [
        "报价单",
        "第 1 版",
        "基础版",
        "标准版",
        "推荐",
        "¥84,800.00",
        "付款方式",
        "接受此方案",
        "data-status=\"sent\"",
    ] {
        assert!(zh.contains(want), "[{b}] the Chinese page shows `{want}`: {zh}");
    }
    let (_, _, en) = html(browser.get(format!("{link}?lang=en")).send().await.unwrap()).await;
    for want in ["Quotation", "version 1", "CNY 84,800.00", "Payment terms", "Accept this option"] {
        assert!(en.contains(want), "[{b}] the English page shows `{want}`: {en}");
    }

    // A rejection without a reason is refused and changes nothing.
    let form = |pairs: &[(&str, &str)]| serde_urlencoded::to_string(pairs).unwrap();
    let post = |url: String, body: String| {
        browser.post(url).header("content-type", "application/x-www-form-urlencoded").body(body).send()
    };
    let (status, _, page) = html(post(format!("{link}/reject"), form(&[("reason", " ")])).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {page}");
    assert!(page.contains("请填写拒绝的原因"), "[{b}] {page}");
    // Accepting one option: back to the page, which now says so.
    let res = post(format!("{link}/accept"), form(&[("option", "standard")])).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "[{b}]");
    let (_, _, done) = html(browser.get(&link).send().await.unwrap()).await;
    assert!(done.contains("data-status=\"accepted\"") && done.contains("您已接受方案：标准版"), "[{b}] {done}");
    assert!(!done.contains("接受此方案"), "[{b}] no more buttons once answered");
    let (status, _, again) = html(post(format!("{link}/accept"), form(&[("option", "basic")])).await.unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT, "[{b}] a replayed acceptance is refused");
    assert!(again.contains("already accepted"), "[{b}] {again}");
    let quotes = s.quotes().await;
    assert_eq!(quotes[0]["decision"]["option"], "standard", "[{b}] the first answer stands");
    let (status, _, missing) = html(browser.get(format!("{}/q/q_nothing", app.base)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "[{b}]");
    assert!(missing.contains("找不到这份报价"), "[{b}]");
}

#[tokio::test]
async fn the_catalog_goes_out_and_comes_in_as_csv() {
    for app in apps().await {
        let b = app.backend.clone();
        let manager = app.person(salesflow_domain::records::Role::Manager).await;
        let send = |body: String| {
            app.http
                .post(format!("{}/api/v1/products/import", app.base))
                .bearer_auth(&manager.token)
                .header("content-type", "text/csv; charset=utf-8")
                .body(body)
                .send()
        };
        let head = "sku,name_zh,name_en,description_zh,description_en,unit,list_price_minor,currency,tax_rate_bp,category,tags,tier,bundle\n";
        let bad = format!(
            "{head}B-1,基础版,Basic,,,套,三千,CNY,600,CRM,报表,basic,\nB-2,旗舰版,Flagship,,,套,100,CNY,600,CRM,,gold,X\nB-1,重复,Again,,,套,100,CNY,0,CRM,,,\n"
        );
        let res = send(bad).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(
            problem_fields(&problem),
            ["rows[0].list_price_minor", "rows[1].tier", "rows[1].bundle", "rows[2].sku"],
            "[{b}] every bad cell: {problem}"
        );
        let list = app.get("/api/v1/products").await.1;
        assert_eq!(list["items"], json!([]), "[{b}] nothing added");

        let good = format!(
            "\u{feff}{head}CRM-BAS,基础版,Basic,\"客户管理, 入门\",,套,3000000,CNY,600,CRM,客户管理,basic,\nCRM-KIT,套装,Bundle,,,套,9000000,CNY,600,CRM,客户管理|报表,standard,CRM-BAS*2\n"
        );
        let res = send(good).await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "[{b}]");
        let res = app
            .http
            .get(format!("{}/api/v1/products/export.csv", app.base))
            .bearer_auth(&manager.token)
            .send()
            .await
            .unwrap();
        let csv = res.text().await.unwrap();
        assert!(csv.starts_with('\u{feff}'), "[{b}] a BOM for spreadsheets");
        assert!(
            csv.contains("CRM-BAS,基础版,Basic,\"客户管理, 入门\",,套,3000000,CNY,600,CRM,客户管理,basic,"),
            "[{b}] {csv}"
        );
        assert!(
            csv.contains("CRM-KIT,套装,Bundle,,,套,9000000,CNY,600,CRM,客户管理|报表,standard,CRM-BAS*2"),
            "[{b}] {csv}"
        );
        let again = send(csv).await.unwrap();
        assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY, "[{b}] the same SKUs twice");
        let rep = app.person(salesflow_domain::records::Role::Rep).await;
        let res = app
            .http
            .post(format!("{}/api/v1/products/import", app.base))
            .bearer_auth(&rep.token)
            .header("content-type", "text/csv")
            .body(head.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "[{b}] reps do not keep the catalog");
    }
}

/// The deal page's selling forms, as a browser posts them: refused input comes back beside its
/// field with what was typed kept; accepted input lands in the same records the API serves.
#[tokio::test]
async fn the_deal_page_selling_forms() {
    for app in apps().await {
        selling_forms(&app).await;
    }
}

async fn selling_forms(app: &App) {
    use crate::deal_page::Browser;
    let b = app.backend.clone();
    let products = catalog(app, &app.person(salesflow_domain::records::Role::Manager).await).await;
    let s = setup(app).await;
    let id = s.id();
    let page_path = format!("/deals/{id}");
    let mut rep = Browser::signed_in(app, &s.rep).await;
    let mut manager = Browser::signed_in(app, &s.manager).await;

    // Needs: a bad intent comes back beside its field, the pain points typed kept.
    let (_, page) = rep.get(&page_path).await;
    let needs = [
        ("needs_pain", "手工报表耗时"),
        ("needs_requirements", "报表\nAPI"),
        ("needs_budget", "90000"),
        ("needs_currency", "CNY"),
        ("needs_decision", "王总"),
        ("needs_authority", "decides"),
        ("needs_intent", "9"),
    ];
    let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/needs"), &needs).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {body}");
    assert!(body.contains("data-field=\"needs_intent\"") && body.contains("手工报表耗时"), "[{b}] kept: {body}");
    let mut good = needs.to_vec();
    good[6] = ("needs_intent", "4");
    let (status, _, location) = rep.submit(&page, &format!("/deals/{id}/needs"), &good).await;
    assert_eq!((status, location.as_deref().map(|l| l.starts_with(&page_path))), (StatusCode::SEE_OTHER, Some(true)));
    let needs = s.rep("needs", Method::GET, &format!("/api/v1/deals/{id}/needs"), None, StatusCode::OK).await;
    assert_eq!((needs["purchase_intent"].as_i64(), needs["budget"]["minor"].as_i64()), (Some(4), Some(9_000_000)));

    // A draft from two recommended products: one option each, cheapest first.
    let (_, page) = rep.get(&page_path).await;
    assert!(page.contains("data-testid=\"draft-form\""), "[{b}] recommendations to draft from");
    let (std, pro) = (products[1]["id"].to_string(), products[2]["id"].to_string());
    // Priced from a price book the manager keeps (a rep may not keep one).
    let book = json!({ "name": "经销商价", "currency": "CNY", "customer_group": "经销商",
        "prices": [{ "sku": "CRM-PRO", "unit_price_minor": 14_000_000 }] });
    let denied = app.call_as(&s.rep.token, Method::POST, "/api/v1/price-books", Some(book.clone())).await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN, "[{b}]");
    let stray = json!({ "name": "错价", "currency": "CNY", "customer_group": "",
        "prices": [{ "sku": "CRM-PRO", "unit_price_minor": 1 }, { "sku": "NO-SUCH", "unit_price_minor": 1 }] });
    let refused = app.call_as(&s.manager.token, Method::POST, "/api/v1/price-books", Some(stray)).await;
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] a SKU outside the catalog");
    assert_eq!(problem_fields(&refused.1), ["prices[1].sku"], "[{b}]");
    let made = app.call_as(&s.manager.token, Method::POST, "/api/v1/price-books", Some(book)).await;
    app.expect("price book", made, StatusCode::OK);
    let (_, page) = rep.get(&page_path).await;
    assert!(page.contains("name=\"price_book\""), "[{b}] the draft form offers the price book");
    let fields = [("product", pro.as_str()), ("product", std.as_str()), ("price_book", "经销商价")];
    let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/quotes"), &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] drafted");
    let q = s.quotes().await.remove(0);
    let prices: Vec<_> = q["content"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["lines"][0]["unit_price"]["minor"].clone())
        .collect();
    assert_eq!(prices, vec![json!(8_000_000), json!(14_000_000)], "[{b}] the book's price, else the list price");
    let keys: Vec<_> = q["content"]["options"].as_array().unwrap().iter().map(|o| o["key"].clone()).collect();
    assert_eq!(keys, vec![json!("crm-std"), json!("crm-pro")], "[{b}]");

    // Editing the draft: a discount over 100 % is refused beside its field; 12 % is kept.
    let v = q["version"].to_string();
    let mut edit = vec![
        ("q1_version", v.as_str()),
        ("q1_qty_0_0", "2"),
        ("q1_qty_1_0", "1"),
        ("q1_ldisc_0_0", "5"),
        ("q1_ldisc_1_0", "0"),
        ("q1_disc_0", "150"),
        ("q1_disc_1", "12"),
        ("q1_payment", "签约后付 50%"),
        ("q1_after", "一年维护"),
        ("q1_valid", "2099-12-31"),
    ];
    let (_, page) = rep.get(&page_path).await;
    let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/quotes/1"), &edit).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
    assert!(body.contains("data-field=\"q1_disc_0\"") && body.contains("签约后付 50%"), "[{b}] kept: {body}");
    let at = edit.iter().position(|(k, _)| *k == "q1_disc_0").expect("field");
    edit[at] = ("q1_disc_0", "0");
    let mut all_gone = edit.clone();
    all_gone.extend([("q1_drop_0", "true"), ("q1_drop_1", "true")]);
    let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/quotes/1"), &all_gone).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] one option stays");
    assert!(body.contains("data-field=\"q1_form\""), "[{b}] said beside the quote");
    let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/quotes/1"), &edit).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] draft saved");
    let q = s.quotes().await.remove(0);
    assert_eq!(q["content"]["options"][0]["lines"][0]["discount_bp"], 500, "[{b}] the line discount");
    assert_eq!(
        (
            q["content"]["options"][1]["discount_bp"].as_i64(),
            q["content"]["options"][0]["lines"][0]["quantity"].as_i64()
        ),
        (Some(1_200), Some(2))
    );

    // Sending above the threshold is refused until a manager approves.
    let v = q["version"].to_string();
    let (_, page) = rep.get(&page_path).await;
    let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/quotes/1/send"), &[("q1_version", &v)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] needs approval");
    assert!(body.contains("折扣超过 10%，发送前需经理审批"), "[{b}] in the page's words");
    let req = [("q1_version", v.as_str()), ("action", "request"), ("q1_comment", "战略客户")];
    let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/quotes/1/discount"), &req).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] requested");
    let v = s.quotes().await.remove(0)["version"].to_string();
    let decide = [("q1_version", v.as_str()), ("action", "approve"), ("q1_decision", "同意")];
    let (_, page) = rep.get(&page_path).await;
    assert!(!page.contains("discount-decision-form"), "[{b}] a rep does not decide");
    let (_, mpage) = manager.get(&page_path).await;
    assert!(mpage.contains("discount-decision-form"), "[{b}] the manager decides");
    let (status, _, _) = manager.submit(&mpage, &format!("/deals/{id}/quotes/1/discount"), &decide).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] approved");
    let v = s.quotes().await.remove(0)["version"].to_string();
    let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/quotes/1/send"), &[("q1_version", &v)]).await;
    assert_eq!(status, StatusCode::OK, "[{b}] sent");
    let link = body.split("data-testid=\"customer-link\">").nth(1).and_then(|r| r.split('<').next()).expect("link");
    let token = link.strip_prefix(&format!("{}/q/", app.base)).expect("a whole address");
    let public = format!("/api/v1/public/quotes/{token}");
    let yes = app.call_as("", Method::POST, &format!("{public}/accept"), Some(json!({ "option": "crm-pro" }))).await;
    app.expect("customer accepts", yes, StatusCode::OK);
    let (_, page) = rep.get(&page_path).await;
    assert!(page.contains("· 专业版</span>"), "[{b}] the accepted option by its name: {page}");

    // A contract: the seller is required; then a milestone added and ticked done.
    let contract = [("c_quote", "1"), ("c_seller", ""), ("c_buyer", "华东制造集团")];
    let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/contracts"), &contract).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
    assert!(body.contains("data-field=\"c_seller\""), "[{b}] beside the seller");
    let contract = [("c_quote", "1"), ("c_seller", "上海云帆软件有限公司"), ("c_buyer", "华东制造集团")];
    let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/contracts"), &contract).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] contract");
    let k = first_contract(&s).await;
    let (kid, kv) = (k["id"].as_i64().unwrap(), k["version"].to_string());
    let add = [
        (format!("k{kid}_version"), kv),
        ("action".into(), "milestone".into()),
        (format!("k{kid}_ms_title"), "上线验收".into()),
        (format!("k{kid}_ms_due"), "2099-06-30".into()),
        (format!("k{kid}_ms_kind"), "deliverable".into()),
    ];
    let add: Vec<(&str, &str)> = add.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/contracts/{kid}"), &add).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] milestone added");
    let k = first_contract(&s).await;
    let version_key = format!("k{kid}_version");
    let kv = k["version"].to_string();
    let done = [(version_key.as_str(), kv.as_str()), ("action", "done"), ("done", "1")];
    let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/contracts/{kid}"), &done).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] milestone done");
    assert!(first_contract(&s).await["milestones"][0]["done_at"].is_string(), "[{b}]");

    // An objection logged and resolved; the playbook is the manager's.
    let (status, _, _) =
        rep.submit(&page, &format!("/deals/{id}/objections"), &[("o_kind", "price"), ("o_text", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] the text is required");
    let (status, _, _) =
        rep.submit(&page, &format!("/deals/{id}/objections"), &[("o_kind", "price"), ("o_text", "太贵了")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] objection logged");
    let o = s.rep("objections", Method::GET, &format!("/api/v1/deals/{id}/objections"), None, StatusCode::OK).await;
    let (oid, ov) = (o["items"][0]["id"].as_i64().unwrap(), o["items"][0]["version"].to_string());
    let resolve = [(format!("o{oid}_version"), ov), (format!("o{oid}_answer"), "分期付款".to_string())];
    let resolve: Vec<(&str, &str)> = resolve.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/objections/{oid}"), &resolve).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] resolved");
    let entry = [("pb_kind", "price"), ("pb_objection", "太贵了"), ("pb_answer", "按年付"), ("pb_evidence", "案例")];
    let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/playbook"), &entry).await;
    assert_eq!(status, StatusCode::CONFLICT, "[{b}] a rep does not keep the playbook");
    let (status, _, _) = manager.submit(&mpage, &format!("/deals/{id}/playbook"), &entry).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] the manager does");
    let (_, page) = rep.get(&page_path).await;
    assert!(page.contains("data-testid=\"deal-playbook\"") && page.contains("按年付"), "[{b}]");
}

pub(crate) async fn first_contract(s: &Story<'_>) -> Value {
    let path = format!("/api/v1/deals/{}/contracts", s.id());
    s.rep("contracts", Method::GET, &path, None, StatusCode::OK).await["items"][0].clone()
}

/// A process whose `quote_sent` edge leads straight to the next stage: sending moves the deal
/// there once the stage's hard criteria are met; before that the quote is sent and the deal
/// stays, told why.
#[tokio::test]
async fn sending_follows_a_direct_quote_sent_edge() {
    for app in apps().await {
        direct_send(&app).await;
    }
}

async fn direct_send(app: &App) {
    let b = app.backend.clone();
    let products = catalog(app, &app.person(salesflow_domain::records::Role::Manager).await).await;
    let mut s = setup(app).await;
    let mut def = salesflow_domain::templates::get("seed-five-stage.zh-CN").expect("template");
    def.key = format!("direct-send-{}", s.id());
    for e in &mut def.edges {
        if e.id == "quote_sent" {
            e.to = "signing".into();
        }
    }
    def.edges.push(salesflow_domain::process::Edge {
        id: "customer_answer".into(),
        from: "negotiation".into(),
        to: "quote_decision".into(),
        label: "客户答复".into(),
    });
    let made = app.expect(
        "process",
        app.post("/api/v1/processes", serde_json::to_value(&def).unwrap()).await,
        StatusCode::CREATED,
    );
    let pid = made["process_id"].as_i64().expect("process id");
    let published = app.post(&format!("/api/v1/processes/{pid}/versions/1/publish"), json!({})).await;
    assert!(published.0.is_success(), "[{b}] published: {:?}", published);
    let deal = json!({ "title": "直达签约", "account_id": s.deal["account_id"], "contact_ids": s.deal["contact_ids"], "process_id": pid });
    s.deal = s.rep("deal", Method::POST, "/api/v1/deals", Some(deal), StatusCode::CREATED).await;
    let id = s.id();
    s.tick("check_fit").await;
    s.advance("needs_analysis", None).await;
    s.patch(json!({ "needs_summary": "报表" })).await;
    s.tick("confirm_intent").await;
    s.advance("recommendation", None).await;
    s.patch(json!({ "amount": { "minor": 8_000_000, "currency": "CNY" } })).await;
    s.tick("present_advantages").await;
    s.tick("share_evidence").await;
    s.advance("negotiation", None).await;

    let path = format!("/api/v1/deals/{id}/quotes");
    let v1 = s
        .rep(
            "v1",
            Method::POST,
            &path,
            Some(offer(vec![option(&products[1], "standard", 0)], "standard")),
            StatusCode::CREATED,
        )
        .await;
    let sent = send_version(&s, 1, &v1["version"]).await;
    assert!(sent["deal_moved_to"].is_null(), "[{b}] the close date is missing: {sent}");
    assert_eq!(sent["deal_not_moved"], json!(["请填写预计成交日期"]), "[{b}] and said so");
    assert_eq!(sent["quote"]["status"], "sent", "[{b}] the quote went out all the same");
    s.reload().await;
    assert_eq!(s.deal["current_node"], "negotiation", "[{b}]");

    s.patch(json!({ "expected_close_date": "2026-12-31" })).await;
    let v2 = s
        .rep(
            "v2",
            Method::POST,
            &path,
            Some(offer(vec![option(&products[0], "basic", 0)], "basic")),
            StatusCode::CREATED,
        )
        .await;
    let sent = send_version(&s, 2, &v2["version"]).await;
    assert_eq!(sent["deal_moved_to"], "signing", "[{b}] along quote_sent: {sent}");
    s.reload().await;
    assert_eq!(s.deal["current_node"], "signing", "[{b}]");
}

async fn send_version(s: &Story<'_>, number: i64, version: &Value) -> Value {
    let body = json!({ "version": version });
    s.rep("send", Method::POST, &s.quote_path(number, "/send"), Some(body), StatusCode::CREATED).await
}

/// Three services beside the tiers, to draft and add lines from (no tier, low in the ranking).
async fn services(app: &App, manager: &Person) -> Vec<Value> {
    let mut out = Vec::new();
    for (sku, zh, en, price) in [
        ("SVC-DATA", "数据迁移", "Data migration", 3_000_000),
        ("SVC-INST", "安装实施", "Installation", 2_000_000),
        ("SVC-TRAIN", "上门培训", "On-site training", 500_000),
    ] {
        let body = json!({
            "sku": sku, "name_zh": zh, "name_en": en, "unit": "次", "category": "服务",
            "list_price": { "minor": price, "currency": "CNY" }, "tax_rate_bp": 600, "tier": null,
        });
        let made = app.call_as(&manager.token, Method::POST, "/api/v1/products", Some(body)).await;
        out.push(app.expect(&format!("product {sku}"), made, StatusCode::CREATED));
    }
    out
}

/// The fields the draft editor of `q` sends unchanged: every option's and line's values.
fn edit_fields(q: &Value) -> Vec<(String, String)> {
    let n = q["number"].as_i64().expect("number");
    let c = &q["content"];
    let bp = |v: &Value| {
        let bp = v.as_i64().unwrap_or(0);
        if bp % 100 == 0 { (bp / 100).to_string() } else { format!("{}.{:02}", bp / 100, bp % 100) }
    };
    let mut out = vec![
        (format!("q{n}_version"), q["version"].to_string()),
        (format!("q{n}_payment"), c["payment_terms"].as_str().unwrap_or("").to_string()),
        (format!("q{n}_after"), c["after_sales_terms"].as_str().unwrap_or("").to_string()),
        (format!("q{n}_valid"), c["valid_until"].as_str().unwrap_or("").to_string()),
    ];
    for (oi, o) in c["options"].as_array().expect("options").iter().enumerate() {
        out.push((format!("q{n}_disc_{oi}"), bp(&o["discount_bp"])));
        for (li, l) in o["lines"].as_array().expect("lines").iter().enumerate() {
            let minor = l["unit_price"]["minor"].as_i64().expect("price");
            out.push((format!("q{n}_qty_{oi}_{li}"), l["quantity"].to_string()));
            out.push((format!("q{n}_ldisc_{oi}_{li}"), bp(&l["discount_bp"])));
            out.push((format!("q{n}_price_{oi}_{li}"), format!("{}.{:02}", minor / 100, minor % 100)));
            out.push((format!("q{n}_tax_{oi}_{li}"), bp(&l["tax_rate_bp"])));
        }
    }
    out
}

/// `fields` with `changes` set (replaced, or added when absent).
fn with(fields: &[(String, String)], changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = fields.to_vec();
    for (k, v) in changes {
        match out.iter_mut().find(|(key, _)| key == k) {
            Some(f) => f.1 = v.to_string(),
            None => out.push((k.to_string(), v.to_string())),
        }
    }
    out
}

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// The deal page drafts from any catalog product and edits a draft the way the API can: unit
/// prices, tax rates, lines removed and added, a new option, the recommended one. Refused
/// input comes back beside its field and changes nothing; a later version shows what changed.
#[tokio::test]
async fn the_deal_page_drafts_from_the_catalog_and_edits_every_part_of_a_draft() {
    for app in apps().await {
        page_quote_editing(&app).await;
    }
}

async fn page_quote_editing(app: &App) {
    use crate::deal_page::{Browser, values};
    let b = app.backend.clone();
    let manager = app.person(salesflow_domain::records::Role::Manager).await;
    let tiers = catalog(app, &manager).await;
    let extra = services(app, &manager).await;
    let s = setup(app).await;
    let id = s.id();
    let page_path = format!("/deals/{id}");
    let mut rep = Browser::signed_in(app, &s.rep).await;

    // Six products, five recommended: the sixth is offered from the catalog only.
    let (_, page) = rep.get(&page_path).await;
    let recommended: Vec<String> = values(&page, "data-product").into_iter().map(String::from).collect();
    let other = extra.iter().find(|p| !recommended.contains(&p["id"].to_string())).expect("a product not recommended");
    assert!(page.contains(&format!("data-catalog-product=\"{}\"", other["sku"].as_str().unwrap())), "[{b}] {page}");
    assert!(page.contains("从产品目录选择") && page.contains("目录价 ¥"), "[{b}] the catalog with list prices");
    let (other_id, std_id) = (other["id"].to_string(), tiers[1]["id"].to_string());
    let fields = [("product", other_id.as_str()), ("product", std_id.as_str()), ("draft_layout", "each")];
    let (status, _, location) = rep.submit(&page, &format!("/deals/{id}/quotes"), &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] drafted");
    assert!(location.unwrap_or_default().ends_with("#deal-quotes"), "[{b}]");
    let q = s.quotes().await.remove(0);
    let keys: Vec<_> = q["content"]["options"].as_array().unwrap().iter().map(|o| o["key"].clone()).collect();
    assert_eq!(keys, vec![json!(other["sku"].as_str().unwrap().to_lowercase()), json!("crm-std")], "[{b}]");
    assert_eq!(q["content"]["options"][0]["lines"][0]["product_id"], other["id"], "[{b}] the catalog product");
    assert_eq!(q["content"]["options"][0]["name"], other["name_zh"], "[{b}] named in the page's language");

    // Refused: a negative price, a tax over 100 %, the only line of an option removed — each
    // beside its field, what was typed kept, nothing stored.
    let (_, page) = rep.get(&page_path).await;
    assert!(page.contains("name=\"q1_price_1_0\" value=\"80000.00\""), "[{b}] the unit price to edit");
    assert!(page.contains("name=\"q1_tax_0_0\" value=\"6\""), "[{b}] the tax rate to edit");
    let base = edit_fields(&q);
    let bad = with(&base, &[("q1_price_1_0", "-5"), ("q1_tax_0_0", "120"), ("q1_rmline_0_0", "true")]);
    let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/quotes/1"), &refs(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
    for (field, text) in [
        ("q1_price_1_0", "单价应为不小于 0 的金额"),
        ("q1_tax_0_0", "税率请填 0 到 100"),
        ("q1_lines_0", "每个方案至少保留一行"),
    ] {
        let shown = body.split(&format!("data-field=\"{field}\">")).nth(1).unwrap_or("");
        assert!(shown.starts_with(text), "[{b}] {field} beside its field: {body}");
    }
    assert!(body.contains("name=\"q1_price_1_0\" value=\"-5\""), "[{b}] the price typed is kept");
    assert_eq!(s.quotes().await.remove(0), q, "[{b}] nothing changed");

    // Accepted: the standard line re-priced and taxed at 13 %, a training line added to it, a
    // new option of the professional tier, the standard option recommended.
    let train = extra.iter().find(|p| p["sku"] == "SVC-TRAIN").expect("training");
    let (train_id, pro_id) = (train["id"].to_string(), tiers[2]["id"].to_string());
    let good = with(
        &base,
        &[
            ("q1_price_1_0", "75,000.50"),
            ("q1_tax_1_0", "13"),
            ("q1_addprod_1", &train_id),
            ("q1_addqty_1", "2"),
            ("q1_newopt", &pro_id),
            ("q1_newoptqty", "3"),
            ("q1_rec", "1"),
        ],
    );
    let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/quotes/1"), &refs(&good)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] saved");
    let q = s.quotes().await.remove(0);
    let c = &q["content"];
    assert_eq!(c["recommended"], "crm-std", "[{b}]");
    let keys: Vec<_> = c["options"].as_array().unwrap().iter().map(|o| o["key"].clone()).collect();
    assert_eq!(keys[1..], [json!("crm-std"), json!("crm-pro")], "[{b}] the new option last");
    let std = &c["options"][1]["lines"];
    assert_eq!(
        (std[0]["unit_price"]["minor"].as_i64(), std[0]["tax_rate_bp"].as_i64()),
        (Some(7_500_050), Some(1_300))
    );
    assert_eq!((std[1]["sku"].as_str(), std[1]["quantity"].as_i64()), (Some("SVC-TRAIN"), Some(2)), "[{b}]");
    assert_eq!(std[1]["unit_price"]["minor"], 500_000, "[{b}] at list price");
    // 7 500 050 + 13 % (975 006.5 → 975 007) + 2 × 500 000 + 6 % (60 000).
    assert_eq!(q["totals"][1]["total"], 9_535_057, "[{b}] {}", q["totals"][1]);
    assert_eq!(
        (c["options"][2]["lines"][0]["quantity"].as_i64(), q["totals"][2]["total"].as_i64()),
        (Some(3), Some(47_700_000))
    );

    // The training line removed again; the page shows the recommended radio checked.
    let (_, page) = rep.get(&page_path).await;
    assert!(page.contains("name=\"q1_rec\" value=\"1\" checked"), "[{b}] the recommended option is ticked");
    let fewer = with(&edit_fields(&q), &[("q1_rmline_1_1", "true")]);
    let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/quotes/1"), &refs(&fewer)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] line removed");
    let q = s.quotes().await.remove(0);
    assert_eq!(q["content"]["options"][1]["lines"].as_array().map(Vec::len), Some(1), "[{b}]");
    assert_eq!(q["totals"][1]["total"], 8_475_057, "[{b}] 7 500 050 + 975 007");

    // Version 2 from version 1's content: an option dropped, the standard line changed. The
    // page says what changed from version 1.
    let mut next = q["content"].clone();
    next["options"].as_array_mut().unwrap().remove(0);
    next["options"][0]["lines"][0]["quantity"] = json!(2);
    next["options"][0]["lines"][0]["unit_price"]["minor"] = json!(7_000_000);
    next["payment_terms"] = json!("签约后一次付清");
    let path = format!("/api/v1/deals/{id}/quotes");
    s.rep("v2", Method::POST, &path, Some(next), StatusCode::CREATED).await;
    let (_, page) = rep.get(&page_path).await;
    let changes =
        page.split("data-testid=\"quote-changes-2\"").nth(1).expect("changes of v2").split("</div>").next().unwrap();
    for text in [
        "与第 1 版相比",
        &format!("删除方案「{}」", other["name_zh"].as_str().unwrap()),
        "方案「标准版」：合计 ¥84,750.57 → ¥158,200.00",
        "「标准版」：数量 1 → 2，单价 ¥75,000.50 → ¥70,000.00",
        "条款变更：付款方式",
    ] {
        assert!(changes.contains(text), "[{b}] {text} in {changes}");
    }
    assert!(!page.contains("data-testid=\"quote-changes-1\""), "[{b}] nothing before version 1");

    // The same in English.
    let me = format!("/api/v1/users/{}", s.rep.id);
    s.rep("English", Method::PATCH, &me, Some(json!({ "locale": "en" })), StatusCode::OK).await;
    let (_, page) = rep.get(&page_path).await;
    let changes =
        page.split("data-testid=\"quote-changes-2\"").nth(1).expect("changes of v2").split("</div>").next().unwrap();
    for text in [
        "Changes from version 1",
        "Option “标准版”: total CNY 84,750.57 → CNY 158,200.00",
        "“标准版”: quantity 1 → 2, unit price CNY 75,000.50 → CNY 70,000.00",
        "Terms changed: Payment terms",
    ] {
        assert!(changes.contains(text), "[{b}] {text} in {changes}");
    }
}

/// `POST /deals/{id}/quotes/from-products`: the same drafting as the page's, for the API.
#[tokio::test]
async fn a_quote_drafted_from_products_through_the_api() {
    for app in apps().await {
        from_products(&app).await;
    }
}

async fn from_products(app: &App) {
    let b = app.backend.clone();
    let manager = app.person(salesflow_domain::records::Role::Manager).await;
    let tiers = catalog(app, &manager).await;
    let s = setup(app).await;
    let id = s.id();
    for book in [
        json!({ "name": "经销商价", "currency": "CNY", "prices": [{ "sku": "CRM-PRO", "unit_price_minor": 14_000_000 }] }),
        json!({ "name": "USD", "currency": "USD", "prices": [{ "sku": "CRM-PRO", "unit_price_minor": 2_000_000 }] }),
    ] {
        let made = app.call_as(&manager.token, Method::POST, "/api/v1/price-books", Some(book)).await;
        app.expect("price book", made, StatusCode::OK);
    }
    let path = format!("/api/v1/deals/{id}/quotes/from-products");
    let body = json!({
        "items": [{ "product_id": tiers[2]["id"], "quantity": 2 }, { "product_id": tiers[1]["id"] }],
        "price_book": "经销商价", "options": "one", "language": "en",
    });
    let q = s.rep("from products", Method::POST, &path, Some(body), StatusCode::CREATED).await;
    let lines = &q["content"]["options"][0]["lines"];
    assert_eq!(q["content"]["options"].as_array().map(Vec::len), Some(1), "[{b}] one option: {q}");
    assert_eq!(
        (lines[0]["quantity"].as_i64(), lines[0]["unit_price"]["minor"].as_i64(), lines[0]["name"].as_str()),
        (Some(2), Some(14_000_000), Some("Professional")),
        "[{b}] the book's price"
    );
    assert_eq!(lines[1]["unit_price"]["minor"], 8_000_000, "[{b}] else the list price");
    // 2 × 14 000 000 + 8 000 000, plus 6 % tax.
    assert_eq!(q["totals"][0]["total"], 38_160_000, "[{b}]");
    let each = json!({ "items": [{ "product_id": tiers[2]["id"] }, { "product_id": tiers[0]["id"] }] });
    let q2 = s.rep("each", Method::POST, &path, Some(each), StatusCode::CREATED).await;
    let keys: Vec<_> = q2["content"]["options"].as_array().unwrap().iter().map(|o| o["key"].clone()).collect();
    assert_eq!((q2["number"].as_i64(), keys), (Some(2), vec![json!("crm-bas"), json!("crm-pro")]), "[{b}]");

    // A product the book has no price for: refused under `price_book`, naming its SKU.
    let usd = json!({ "items": [{ "product_id": tiers[1]["id"] }], "price_book": "USD" });
    let refused = s.as_rep(Method::POST, &path, Some(usd)).await;
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {}", refused.1);
    assert_eq!(problem_fields(&refused.1), ["price_book"], "[{b}] {}", refused.1);
    assert!(refused.1["errors"][0]["message"].as_str().unwrap().contains("CRM-STD"), "[{b}] {}", refused.1);
    let unknown = json!({ "items": [{ "product_id": 999_999, "quantity": 0 }] });
    let refused = s.as_rep(Method::POST, &path, Some(unknown)).await;
    assert_eq!(problem_fields(&refused.1), ["items[0].quantity", "items[0].product_id"], "[{b}] {}", refused.1);
    assert_eq!(s.quotes().await.len(), 2, "[{b}] nothing written by the refusals");

    // Documented beside its neighbours.
    let doc = app.expect("openapi", app.get("/api/openapi.json").await, StatusCode::OK);
    let op = &doc["paths"]["/api/v1/deals/{id}/quotes/from-products"]["post"];
    assert_eq!(op["tags"][0], "selling", "[{b}] {op}");
    assert!(doc["components"]["schemas"]["QuoteFromProducts"].is_object(), "[{b}] the request's schema");

    // Another team's rep does not reach the deal.
    let stranger = app.person(salesflow_domain::records::Role::Rep).await;
    let body = json!({ "items": [{ "product_id": tiers[0]["id"] }] });
    let (status, _) = app.call_as(&stranger.token, Method::POST, &path, Some(body)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "[{b}]");
}

/// A version drafted from a price book remembers it (for the team only): a line added to it on
/// the deal page is priced from the same book, a product the book lacks at its list price.
#[tokio::test]
async fn lines_added_to_a_draft_are_priced_from_its_price_book() {
    for app in apps().await {
        book_priced_lines(&app).await;
    }
}

async fn book_priced_lines(app: &App) {
    use crate::deal_page::Browser;
    let b = app.backend.clone();
    let manager = app.person(salesflow_domain::records::Role::Manager).await;
    let tiers = catalog(app, &manager).await;
    let s = setup(app).await;
    let id = s.id();
    let book = json!({ "name": "渠道价", "currency": "CNY", "customer_group": "",
        "prices": [{ "sku": "CRM-STD", "unit_price_minor": 7_000_000 }, { "sku": "CRM-PRO", "unit_price_minor": 13_000_000 }] });
    let made = app.call_as(&manager.token, Method::POST, "/api/v1/price-books", Some(book)).await;
    app.expect("price book", made, StatusCode::OK);
    let body = json!({ "items": [{ "product_id": tiers[1]["id"], "quantity": 1 }], "price_book": "渠道价" });
    let q = s
        .rep(
            "draft",
            Method::POST,
            &format!("/api/v1/deals/{id}/quotes/from-products"),
            Some(body),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(q["price_book"], "渠道价", "[{b}] the book is remembered");
    let public_view = json!(null);
    assert_eq!(q["content"]["price_book"], public_view, "[{b}] not in what the customer sees");

    let mut rep = Browser::signed_in(app, &s.rep).await;
    let page_path = format!("/deals/{id}");
    let (_, page) = rep.get(&page_path).await;
    let (pro_id, basic_id) = (tiers[2]["id"].to_string(), tiers[0]["id"].to_string());
    let fields = with(&edit_fields(&q), &[("q1_addprod_0", &pro_id), ("q1_newopt", &basic_id)]);
    let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/quotes/1"), &refs(&fields)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] saved: {body}");
    let q = s.quotes().await.remove(0);
    let price = |o: usize, l: usize| q["content"]["options"][o]["lines"][l]["unit_price"]["minor"].as_i64();
    assert_eq!(price(0, 1), Some(13_000_000), "[{b}] the professional tier at the book's price");
    let basic = q["content"]["options"].as_array().unwrap().iter().find(|o| o["key"] == "crm-bas").expect("new option");
    assert_eq!(
        basic["lines"][0]["unit_price"]["minor"], tiers[0]["list_price"]["minor"],
        "[{b}] not in the book: list price"
    );
}
