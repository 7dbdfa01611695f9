//! Customer groups, the price books page, contract milestones with amounts and the selling
//! forms' refusals in the page's language, on every backend.

use reqwest::{Method, StatusCode};
use salesflow_domain::records::Role;
use serde_json::{Value, json};

use crate::deal_page::{Browser, between};
use crate::helpers::{App, apps};
use crate::selling::{Story, catalog, first_contract, offer, option, setup};

fn encoded(name: &str) -> String {
    name.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The `<option>` of the draft form's price-book select that is selected, if any.
fn selected_book(page: &str) -> Option<String> {
    let select = between(page, "name=\"price_book\">", "</select>").expect("price-book select");
    select
        .split("<option ")
        .find(|o| o.contains(" selected"))
        .and_then(|o| between(o, "value=\"", "\""))
        .map(str::to_string)
}

#[tokio::test]
async fn accounts_carry_a_customer_group_in_the_api_and_the_pages() {
    for app in apps().await {
        let b = app.backend.clone();
        let made = app.post("/api/v1/accounts", json!({ "name": "杭州西湖经销有限公司", "customer_group": "经销商" }));
        let a = app.expect("account", made.await, StatusCode::CREATED);
        assert_eq!(a["customer_group"], "经销商", "[{b}]");
        let id = a["id"].as_i64().unwrap();
        let read = app.expect("read", app.get(&format!("/api/v1/accounts/{id}")).await, StatusCode::OK);
        assert_eq!(read["customer_group"], "经销商", "[{b}]");
        let path = format!("/api/v1/accounts/{id}");
        let patched = app.patch(&path, json!({ "version": 1, "customer_group": "教育" })).await;
        assert_eq!(app.expect("patch", patched, StatusCode::OK)["customer_group"], "教育", "[{b}]");
        let plain = app.post("/api/v1/accounts", json!({ "name": "无分组公司" }));
        assert_eq!(app.expect("no group", plain.await, StatusCode::CREATED)["customer_group"], "", "[{b}]");
        let doc = app.expect("openapi", app.get("/api/openapi.json").await, StatusCode::OK);
        for schema in ["Account", "NewAccount", "AccountPatch"] {
            let props = &doc["components"]["schemas"][schema]["properties"];
            assert!(props["customer_group"].is_object(), "[{b}] {schema} documents customer_group: {props}");
        }

        // The pages: created with a group, shown, changed, removed.
        let rep = app.person(Role::Rep).await;
        let mut browser = Browser::signed_in(&app, &rep).await;
        let (_, form) = browser.get("/accounts/new").await;
        assert!(form.contains("name=\"customer_group\""), "[{b}] the new-account form asks for the group");
        let fields = [("name", "宁波港湾贸易"), ("customer_group", "经销商")];
        let (status, _, location) = browser.submit(&form, "/accounts", &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}]");
        let path = location.expect("to the account");
        let (_, page) = browser.get(&path).await;
        assert!(page.contains("data-testid=\"customer-group\">经销商</dd>"), "[{b}] shown: {page}");
        assert!(page.contains("name=\"customer_group\" type=\"text\" value=\"经销商\""), "[{b}] in the edit form");
        let (_, list) = browser.get("/accounts").await;
        assert!(list.contains("<td data-label=\"客户分组\">经销商</td>"), "[{b}] the list shows groups");
        let long = "组".repeat(201);
        let edit = [("version", "1"), ("name", "宁波港湾贸易"), ("customer_group", long.as_str())];
        let (status, body, _) = browser.submit(&page, &path, &edit).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert!(body.contains("data-field=\"customer_group\""), "[{b}] beside the field");
        let edit = [("version", "1"), ("name", "宁波港湾贸易"), ("customer_group", "")];
        let (status, _, _) = browser.submit(&page, &path, &edit).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}]");
        let id = path.trim_start_matches("/accounts/");
        let read = app.expect("read", app.get(&format!("/api/v1/accounts/{id}")).await, StatusCode::OK);
        assert_eq!((read["customer_group"].as_str(), read["version"].as_i64()), (Some(""), Some(2)), "[{b}] removed");
    }
}

async fn books(app: &App) -> Vec<Value> {
    app.expect("price books", app.get("/api/v1/price-books").await, StatusCode::OK)["items"]
        .as_array()
        .expect("items")
        .clone()
}

#[tokio::test]
async fn managers_keep_price_books_on_their_page() {
    for app in apps().await {
        let b = app.backend.clone();
        let manager = app.person(Role::Manager).await;
        catalog(&app, &manager).await;
        let mut m = Browser::signed_in(&app, &manager).await;
        let (status, list) = m.get("/price-books").await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(list.contains("href=\"/price-books\" data-nav=\"price-books\" aria-current=\"page\""), "[{b}] nav");
        assert!(list.contains("data-testid=\"new-price-book\""), "[{b}] a manager may add one");
        let (status, form) = m.get("/price-books/new").await;
        assert_eq!(status, StatusCode::OK, "[{b}]");

        // Every row's problem beside it, the row named; nothing saved.
        let bad = [
            ("name", "经销商价"),
            ("currency", "CNY"),
            ("customer_group", "经销商"),
            ("sku_0", "CRM-STD"),
            ("price_0", "75,000.00"),
            ("sku_1", "NOPE-1"),
            ("price_1", "10"),
            ("sku_2", "CRM-PRO"),
            ("price_2", "12.345"),
            ("sku_3", ""),
            ("price_3", ""),
        ];
        let (status, body, _) = m.submit(&form, "/price-books", &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {body}");
        let sku_error = between(&body, "data-field=\"sku_1\">", "<").expect("beside the SKU");
        assert!(sku_error.contains("第 2 行") && sku_error.contains("NOPE-1"), "[{b}] names the row: {sku_error}");
        assert!(body.contains("data-field=\"price_2\""), "[{b}] the bad price beside its row");
        assert!(!body.contains("data-field=\"sku_0\""), "[{b}] a good row has no problem");
        assert!(body.contains("value=\"75,000.00\""), "[{b}] typed values kept");
        assert!(books(&app).await.is_empty(), "[{b}] nothing saved");

        let good = [
            ("name", "经销商价"),
            ("currency", "CNY"),
            ("customer_group", "经销商"),
            ("sku_0", "CRM-STD"),
            ("price_0", "75,000.00"),
            ("sku_1", ""),
            ("price_1", ""),
            ("sku_2", "CRM-PRO"),
            ("price_2", "140000"),
        ];
        let (status, _, location) = m.submit(&form, "/price-books", &good).await;
        assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/price-books?saved")), "[{b}]");
        let saved = books(&app).await;
        assert_eq!(saved.len(), 1, "[{b}]");
        assert_eq!(saved[0]["customer_group"], "经销商", "[{b}]");
        assert_eq!(
            saved[0]["prices"],
            json!([{ "sku": "CRM-STD", "unit_price_minor": 7_500_000 }, { "sku": "CRM-PRO", "unit_price_minor": 14_000_000 }]),
            "[{b}]"
        );
        let (status, _, _) = m.submit(&form, "/price-books", &good).await;
        assert_eq!(status, StatusCode::CONFLICT, "[{b}] the name is taken");

        // Editing: the stored prices in the form; a changed price saved at the version read.
        let path = format!("/price-books/{}", encoded("经销商价"));
        let (status, page) = m.get(&path).await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(page.contains("value=\"75000.00\"") && page.contains("value=\"CRM-PRO\""), "[{b}] {page}");
        let edit = [
            ("version", "1"),
            ("currency", "CNY"),
            ("customer_group", "经销商"),
            ("sku_0", "CRM-STD"),
            ("price_0", "70000"),
            ("sku_1", "CRM-BAS"),
            ("price_1", "-5"),
        ];
        let (status, body, _) = m.submit(&page, &path, &edit).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert!(between(&body, "data-field=\"price_1\">", "<").unwrap().contains("第 2 行"), "[{b}]");
        let mut edit = edit.to_vec();
        edit[6] = ("price_1", "28000");
        let (status, _, _) = m.submit(&page, &path, &edit).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] saved");
        let saved = books(&app).await.remove(0);
        assert_eq!(saved["version"], 2, "[{b}]");
        assert_eq!(saved["prices"][0]["unit_price_minor"], 7_000_000, "[{b}]");
        assert_eq!(saved["prices"][1]["sku"], "CRM-BAS", "[{b}]");
        let (status, _, _) = m.submit(&page, &path, &edit).await;
        assert_eq!(status, StatusCode::CONFLICT, "[{b}] a stale edit");

        // A rep reads the books but keeps none.
        let rep = app.person(Role::Rep).await;
        let mut r = Browser::signed_in(&app, &rep).await;
        let (status, list) = r.get("/price-books").await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(list.contains("经销商价") && !list.contains("new-price-book"), "[{b}] read only");
        assert_eq!(r.get("/price-books/new").await.0, StatusCode::FORBIDDEN, "[{b}]");
        let (status, page) = r.get(&path).await;
        assert_eq!(status, StatusCode::OK, "[{b}]");
        assert!(page.contains("data-testid=\"price-books-read-only\""), "[{b}]");
        let mut cut = edit.clone();
        cut[0] = ("version", "2");
        cut[4] = ("price_0", "1");
        let (status, body, _) = r.submit(&page, &path, &cut).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "[{b}] {body}");
        assert!(body.contains("只有经理和管理员可以修改价目表"), "[{b}]");
        assert_eq!(books(&app).await[0]["prices"][0]["unit_price_minor"], 7_000_000, "[{b}] unchanged");
        let (status, _, _) = r.submit(&page, "/price-books", &good).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "[{b}]");
    }
}

#[tokio::test]
async fn the_draft_form_preselects_the_price_book_of_the_accounts_group() {
    for app in apps().await {
        let b = app.backend.clone();
        let manager = app.person(Role::Manager).await;
        catalog(&app, &manager).await;
        let mut s = setup(&app).await;
        for book in [
            json!({ "name": "经销商价", "currency": "CNY", "customer_group": "经销商", "prices": [] }),
            json!({ "name": "标准人民币价", "currency": "CNY", "prices": [] }),
            json!({ "name": "教育价", "currency": "CNY", "customer_group": "教育", "prices": [] }),
        ] {
            let made = app.call_as(&manager.token, Method::POST, "/api/v1/price-books", Some(book)).await;
            app.expect("book", made, StatusCode::OK);
        }
        let mut rep = Browser::signed_in(&app, &s.rep).await;
        let page_path = format!("/deals/{}", s.id());
        let (_, page) = rep.get(&page_path).await;
        assert_eq!(selected_book(&page), None, "[{b}] no group, no currency: the list prices");

        let account = format!("/api/v1/accounts/{}", s.deal["account_id"]);
        let body = json!({ "version": 1, "customer_group": "经销商" });
        s.rep("group", Method::PATCH, &account, Some(body), StatusCode::OK).await;
        let (_, page) = rep.get(&page_path).await;
        assert_eq!(selected_book(&page).as_deref(), Some("经销商价"), "[{b}] the group's book");

        let body = json!({ "version": 2, "customer_group": "" });
        s.rep("no group", Method::PATCH, &account, Some(body), StatusCode::OK).await;
        s.patch(json!({ "amount": { "minor": 8_000_000, "currency": "CNY" } })).await;
        let (_, page) = rep.get(&page_path).await;
        assert_eq!(selected_book(&page).as_deref(), Some("标准人民币价"), "[{b}] the currency's book for everyone");
    }
}

/// A deal with an accepted quote version 1 (one option, `basic`); the rep's browser on its page.
async fn accepted<'a>(app: &'a App) -> (Story<'a>, Browser) {
    let products = catalog(app, &app.person(Role::Manager).await).await;
    let s = setup(app).await;
    let path = format!("/api/v1/deals/{}/quotes", s.id());
    let q = s.rep(
        "quote",
        Method::POST,
        &path,
        Some(offer(vec![option(&products[0], "basic", 0)], "basic")),
        StatusCode::CREATED,
    );
    let q = q.await;
    let send_path = s.quote_path(1, "/send");
    let sent = s.rep("send", Method::POST, &send_path, Some(json!({ "version": q["version"] })), StatusCode::CREATED);
    let token = sent.await["token"].as_str().expect("token").to_string();
    let accept = format!("/api/v1/public/quotes/{token}/accept");
    let yes = app.call_as("", Method::POST, &accept, Some(json!({ "option": "basic" }))).await;
    app.expect("accepted", yes, StatusCode::OK);
    let browser = Browser::signed_in(app, &s.rep).await;
    (s, browser)
}

#[tokio::test]
async fn contracts_take_milestones_with_amounts_and_refuse_in_the_pages_language() {
    for app in apps().await {
        let b = app.backend.clone();
        let (s, mut rep) = accepted(&app).await;
        let id = s.id();
        let page_path = format!("/deals/{id}");
        let (_, page) = rep.get(&page_path).await;
        assert!(page.contains("name=\"c_ms2_amount\""), "[{b}] three milestone rows");

        // A payment row without an amount is refused beside it; nothing is made.
        let mut fields = vec![
            ("c_quote", "1"),
            ("c_seller", "上海云帆软件有限公司"),
            ("c_buyer", "华东制造集团"),
            ("c_ms0_kind", "payment"),
            ("c_ms0_title", "首付款"),
            ("c_ms0_due", "2099-01-15"),
            ("c_ms0_amount", ""),
            ("c_ms1_kind", "deliverable"),
            ("c_ms1_title", "上线验收"),
            ("c_ms1_due", "2099-03-31"),
            ("c_ms1_amount", ""),
            ("c_ms2_kind", "payment"),
            ("c_ms2_title", "尾款"),
            ("c_ms2_due", "2099-04-30"),
            ("c_ms2_amount", "abc"),
        ];
        let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/contracts"), &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert_eq!(between(&body, "data-field=\"c_ms0_amount\">", "<"), Some("付款里程碑请填写金额"), "[{b}]");
        assert!(body.contains("data-field=\"c_ms2_amount\""), "[{b}] nonsense refused");
        assert!(!body.contains("data-field=\"c_ms1_"), "[{b}] a deliverable needs no amount");
        assert!(body.contains("value=\"首付款\""), "[{b}] typed values kept");
        let none =
            s.rep("contracts", Method::GET, &format!("/api/v1/deals/{id}/contracts"), None, StatusCode::OK).await;
        assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "[{b}]");

        fields[6] = ("c_ms0_amount", "9,000.00");
        fields[14] = ("c_ms2_amount", "22800");
        let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/contracts"), &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] made");
        let k = first_contract(&s).await;
        let ms = k["milestones"].as_array().expect("milestones");
        let got: Vec<_> =
            ms.iter().map(|m| (m["kind"].clone(), m["title"].clone(), m["amount"]["minor"].clone())).collect();
        assert_eq!(
            got,
            vec![
                (json!("payment"), json!("首付款"), json!(900_000)),
                (json!("deliverable"), json!("上线验收"), Value::Null),
                (json!("payment"), json!("尾款"), json!(2_280_000)),
            ],
            "[{b}]"
        );
        let kid = k["id"].as_i64().unwrap();
        let (_, page) = rep.get(&page_path).await;
        assert!(page.contains("data-testid=\"milestone-amount\">¥9,000.00</span>"), "[{b}] the amount in the list");
        let (_, print) = rep.get(&format!("/deals/{id}/contracts/{kid}/print")).await;
        assert!(print.contains("¥22,800.00"), "[{b}] and on the print page");

        // Adding a payment milestone: without an amount refused beside it, with one kept.
        let key = |f: &str| format!("k{kid}_{f}");
        let v = k["version"].to_string();
        let add = [
            (key("version"), v.clone()),
            ("action".into(), "milestone".into()),
            (key("ms_title"), "第二期".into()),
            (key("ms_due"), "2099-02-28".into()),
            (key("ms_kind"), "payment".into()),
            (key("ms_amount"), "".into()),
        ];
        let pairs: Vec<(&str, &str)> = add.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/contracts/{kid}"), &pairs).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        let beside = format!("data-field=\"k{kid}_ms_amount\">");
        assert_eq!(between(&body, &beside, "<"), Some("付款里程碑请填写金额"), "[{b}]");
        let mut add = add.clone();
        add[5].1 = "0".into();
        let pairs: Vec<(&str, &str)> = add.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/contracts/{kid}"), &pairs).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] a zero payment");
        assert!(body.contains(&beside), "[{b}]");
        add[5].1 = "1000.5".into();
        let pairs: Vec<(&str, &str)> = add.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (status, _, _) = rep.submit(&page, &format!("/deals/{id}/contracts/{kid}"), &pairs).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}] added");
        let k = first_contract(&s).await;
        assert_eq!(k["milestones"][3]["amount"], json!({ "minor": 100_050, "currency": "CNY" }), "[{b}]");

        // An illegal status step (draft → completed) said in Chinese beside the status.
        let v = k["version"].to_string();
        let step =
            [(key("version"), v.clone()), ("action".into(), "status".into()), (key("status"), "completed".into())];
        let pairs: Vec<(&str, &str)> = step.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (status, body, _) = rep.submit(&page, &format!("/deals/{id}/contracts/{kid}"), &pairs).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        let said = between(&body, &format!("data-field=\"k{kid}_status\">"), "<").expect("beside the status");
        assert_eq!(said, "合同不能从「草稿」直接变为「已完成」", "[{b}]");
        assert!(!body.contains("cannot become"), "[{b}] no English on a Chinese page");

        // The same in English.
        let (_, page) = rep.get(&page_path).await;
        let (status, _, _) = rep.submit(&page, "/me/locale", &[("locale", "en")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "[{b}]");
        let (_, page) = rep.get(&page_path).await;
        let (_, body, _) = rep.submit(&page, &format!("/deals/{id}/contracts/{kid}"), &pairs).await;
        let said = between(&body, &format!("data-field=\"k{kid}_status\">"), "<").expect("beside the status");
        assert_eq!(said, "A contract cannot go from “Draft” to “Completed”", "[{b}]");
    }
}
