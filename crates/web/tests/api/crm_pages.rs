//! The crm pages as a browser uses them (forms, redirects, the selectors the browser test
//! relies on), on every backend: a lead from creation to a deal, accounts and contacts kept
//! through a conflicting edit, what other users see, the home page and the template gallery.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use salesflow_domain::records::Role;
use salesflow_web::i18n::crm::ZH_CN as CRM;
use serde_json::{Value, json};

use crate::helpers::{App, Person, apps};

/// A browser: cookies kept by hand, redirects not followed, Chinese preferred.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: std::collections::BTreeMap<String, String>,
    csrf: String,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    html: String,
}

impl Browser {
    async fn signed_in(app: &App, person: &Person) -> Browser {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let mut b = Browser { http, base: app.base.clone(), cookies: Default::default(), csrf: String::new() };
        let login = b.get("/login").await;
        let csrf = between(&login.html, "name=\"_csrf\" value=\"", "\"").expect("sign-in form CSRF").to_string();
        let email = app.email_of(person.id).await;
        let password = format!("password-{}!", person.id);
        let done = b.post("/login", &[("email", &email), ("password", &password), ("_csrf", &csrf)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "signed in");
        let home = b.get("/").await;
        b.csrf = between(&home.html, "name=\"_csrf\" value=\"", "\"").expect("page CSRF").to_string();
        b
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let res = req.header(COOKIE, cookie).header("accept-language", "zh-CN").send().await.expect("request");
        for v in res.headers().get_all(SET_COOKIE) {
            let v = v.to_str().expect("cookie");
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').expect("name=value");
            if val.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.into(), val.into());
            }
        }
        let status = res.status();
        let location = res.headers().get(LOCATION).map(|l| l.to_str().expect("location").to_string());
        Page { status, location, html: res.text().await.expect("body") }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// A form POST carrying the session's CSRF token.
    async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", &csrf));
        self.post(path, &all).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.base)).form(fields);
        self.send(req).await
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let at = s.find(start)? + start.len();
    Some(&s[at..at + s[at..].find(end)?])
}

/// Every value of an attribute, in page order: `attrs(html, "data-lead")`.
fn attrs(html: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest[..rest.find('"').expect("closing quote")].to_string()
        })
        .collect()
}

/// The fields that carry an error message beside them.
fn error_fields(html: &str) -> Vec<String> {
    html.match_indices("class=\"field-error\" data-field=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// The `version` hidden field of the first form that has one.
fn version_in(html: &str) -> String {
    between(html, "name=\"version\" value=\"", "\"").expect("a version field").to_string()
}

fn id_from(location: &Option<String>, prefix: &str) -> i64 {
    let l = location.as_deref().unwrap_or_else(|| panic!("a redirect to {prefix}…"));
    l.strip_prefix(prefix).and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("{l} is not {prefix}<id>"))
}

#[tokio::test]
async fn a_lead_goes_from_the_form_to_a_deal() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let rep = app.person(Role::Rep).await;
        let mut br = Browser::signed_in(&app, &rep).await;

        let list = br.get("/leads").await;
        assert_eq!(list.status, StatusCode::OK, "[{b}] leads");
        assert!(list.html.contains("data-testid=\"new-lead\"") && list.html.contains("href=\"/leads/new\""));
        let form = br.get("/leads/new").await;
        assert!(form.html.contains("data-testid=\"lead-form\""), "[{b}] the form");
        assert!(form.html.contains("value=\"trade_show\""), "[{b}] channels are snake_case values");

        // Every bad field at once, beside its field, and the input kept.
        let bad = [("name", " "), ("company", "晨光文具"), ("email", "sun@"), ("phone", "电话"), ("channel", "fax")];
        let refused = br.submit("/leads", &bad).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {}", refused.html);
        assert_eq!(error_fields(&refused.html), ["name", "email", "phone", "channel"], "[{b}]");
        assert!(refused.html.contains("value=\"晨光文具\"") && refused.html.contains("value=\"sun@\""), "[{b}] kept");
        assert!(refused.html.contains(CRM.bad_email), "[{b}] in the user's language");

        let good = [
            ("name", "孙丽"),
            ("company", "晨光文具"),
            ("email", "sun.li@chenguang.example.com"),
            ("phone", "138 0013 8000"),
            ("channel", "trade_show"),
            ("notes", "展会上交换了名片"),
        ];
        let created = br.submit("/leads", &good).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "[{b}] {}", created.html);
        let first = id_from(&created.location, "/leads/");

        // The same person again: the new lead shows the first as a possible duplicate.
        let twin = [("name", "孙丽"), ("email", "Sun.Li@chenguang.example.com"), ("channel", "referral")];
        let second = id_from(&br.submit("/leads", &twin).await.location, "/leads/");
        let page = br.get(&format!("/leads/{second}")).await;
        assert!(page.html.contains("data-testid=\"duplicates\""), "[{b}] duplicates shown");
        assert!(attrs(&page.html, "data-duplicate").contains(&format!("lead-{first}")), "[{b}] {}", page.html);
        let first_page = br.get(&format!("/leads/{first}")).await;
        assert!(!first_page.html.contains("data-testid=\"convert-form\""), "[{b}] a new lead is not converted yet");

        // Editing checks the version read; a stale save keeps what was typed.
        let v = version_in(&first_page.html);
        let lead_path = format!("/leads/{first}");
        let edit = [("version", v.as_str()), ("name", "孙丽"), ("company", "晨光文具"), ("phone", "139 0000 1111")];
        let saved = br.submit(&lead_path, &[&edit[..], &[("channel", "trade_show")]].concat()).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "[{b}] {}", saved.html);
        let stale = br.submit(&lead_path, &[("version", &v), ("name", "孙丽丽"), ("channel", "trade_show")]).await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "[{b}]");
        assert!(stale.html.contains("value=\"孙丽丽\"") && stale.html.contains(CRM.conflict_kept), "[{b}] kept");
        let got = app.expect("lead", app.get(&format!("/api/v1/leads/{first}")).await, StatusCode::OK);
        assert_eq!((got["name"].as_str(), got["phone"].as_str()), (Some("孙丽"), Some("139 0000 1111")), "[{b}]");
        assert_eq!(got["email"], Value::Null, "[{b}] an emptied field is cleared");
        let first_page = br.get(&lead_path).await;

        // The list finds it by text and by filters; each row links to its lead.
        let found = br.get("/leads?q=%E6%99%A8%E5%85%89&status=new&channel=trade_show").await;
        assert_eq!(attrs(&found.html, "data-lead"), [first.to_string()], "[{b}] search and filters");
        assert!(found.html.contains(&format!("href=\"/leads/{first}\"")));

        // Qualification: disqualifying needs a reason; a stale version is a conflict.
        let path = format!("/leads/{first}/status");
        let v = version_in(&first_page.html);
        let no_reason = br.submit(&path, &[("version", &v), ("to", "disqualified"), ("reason", "  ")]).await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert_eq!(error_fields(&no_reason.html), ["reason"], "[{b}]");
        let contacted = br.submit(&path, &[("version", &v), ("to", "contacted")]).await;
        assert_eq!(
            (contacted.status, contacted.location.as_deref()),
            (StatusCode::SEE_OTHER, Some(&*format!("/leads/{first}")))
        );
        let stale = br.submit(&path, &[("version", &v), ("to", "qualified")]).await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "[{b}] stale version");
        assert!(stale.html.contains(CRM.conflict_kept), "[{b}] says so");
        let v = version_in(&stale.html);
        let qualified = br.submit(&path, &[("version", &v), ("to", "qualified")]).await;
        assert_eq!(qualified.status, StatusCode::SEE_OTHER, "[{b}] {}", qualified.html);

        // Conversion: a bad amount is refused beside its field and the input kept…
        let page = br.get(&format!("/leads/{first}")).await;
        assert!(page.html.contains("data-testid=\"convert-form\""), "[{b}] qualified leads convert");
        assert!(attrs(&page.html, "value").contains(&process.to_string()), "[{b}] the published process is offered");
        let v = version_in(&page.html);
        let convert = format!("/leads/{first}/convert");
        let p = process.to_string();
        let bad = [("version", v.as_str()), ("process_id", &p), ("amount", "12500.005"), ("currency", "CNY")];
        let refused = br.submit(&convert, &bad).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert_eq!(error_fields(&refused.html), ["amount"], "[{b}]");
        assert!(refused.html.contains("value=\"12500.005\""), "[{b}] kept");
        // …and a good one opens the deal page of the new deal.
        let fields = [
            ("version", v.as_str()),
            ("process_id", &p),
            ("deal_title", "晨光文具 年度采购"),
            ("amount", "12,500.00"),
            ("currency", "CNY"),
            ("expected_close_date", "2031-06-30"),
        ];
        let done = br.submit(&convert, &fields).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "[{b}] {}", done.html);
        let deal = id_from(&done.location, "/deals/");
        let got = app.expect("deal", app.get(&format!("/api/v1/deals/{deal}")).await, StatusCode::OK);
        assert_eq!(got["amount"], json!({ "minor": 1_250_000, "currency": "CNY" }), "[{b}]");
        assert_eq!((got["title"].as_str(), got["owner_id"].as_i64()), (Some("晨光文具 年度采购"), Some(rep.id)));
        assert_eq!(got["expected_close_date"], "2031-06-30");
        let lead = br.get(&format!("/leads/{first}")).await;
        assert!(lead.html.contains(&format!("href=\"/deals/{deal}\"")), "[{b}] the lead links to its deal");
        assert!(!lead.html.contains("data-testid=\"convert-form\""), "[{b}] converted once");
        // Its own new account and contact are not shown as duplicates of it.
        let dupes = attrs(&lead.html, "data-duplicate");
        assert!(!dupes.iter().any(|d| d.starts_with("contact-")), "[{b}] {dupes:?}");

        // The deal is in the deals list, filtered by process and stage.
        let deals = br.get(&format!("/deals?process={process}&stage=lead_identification&status=open")).await;
        assert!(deals.html.contains("data-testid=\"deals\""), "[{b}]");
        assert_eq!(attrs(&deals.html, "data-deal"), [deal.to_string()], "[{b}]");
        assert!(deals.html.contains("¥12,500.00"), "[{b}] the amount in the user's format");
    }
}

#[tokio::test]
async fn accounts_and_contacts_keep_what_was_typed_through_a_conflict() {
    for app in apps().await {
        let b = app.backend.clone();
        let rep = app.person(Role::Rep).await;
        let mut br = Browser::signed_in(&app, &rep).await;

        let empty = br.submit("/accounts", &[("name", ""), ("industry", "制造业")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert_eq!(error_fields(&empty.html), ["name"]);
        assert!(empty.html.contains("value=\"制造业\""), "[{b}] kept");
        let created =
            br.submit("/accounts", &[("name", "星河精密制造"), ("industry", "制造业"), ("region", "华东")]).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "[{b}] {}", created.html);
        let account = id_from(&created.location, "/accounts/");

        let page = br.get(&format!("/accounts/{account}")).await;
        assert!(page.html.contains("data-testid=\"account-form\""), "[{b}] the edit form");
        let v = version_in(&page.html);
        let path = format!("/accounts/{account}");
        let saved = br.submit(&path, &[("version", &v), ("name", "星河精密制造集团"), ("region", "华东")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "[{b}] {}", saved.html);
        // A second tab still holds the old version: refused, told why, input kept.
        let stale = br.submit(&path, &[("version", &v), ("name", "星河（旧名）"), ("region", "华南")]).await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "[{b}]");
        assert!(stale.html.contains(CRM.conflict_kept), "[{b}]");
        assert!(stale.html.contains("value=\"星河（旧名）\"") && stale.html.contains("value=\"华南\""), "[{b}] kept");
        let got = app.expect("account", app.get(&format!("/api/v1/accounts/{account}")).await, StatusCode::OK);
        assert_eq!(got["name"], "星河精密制造集团", "[{b}] the other change stays");

        let listed = br.get("/accounts?q=%E6%98%9F%E6%B2%B3").await;
        assert!(listed.html.contains("data-testid=\"accounts\""));
        assert_eq!(attrs(&listed.html, "data-account"), [account.to_string()], "[{b}]");

        // A contact from the account's page: the account is chosen already.
        let form = br.get(&format!("/contacts/new?account={account}")).await;
        assert!(form.html.contains(&format!("<option value=\"{account}\" selected>")), "[{b}] {}", form.html);
        let a = account.to_string();
        let fields = [
            ("name", "周明"),
            ("title", "采购经理"),
            ("account_id", a.as_str()),
            ("email", "zhou.ming@xinghe.example.com"),
            ("preferred_channel", "wechat"),
            ("consent_wechat", "on"),
        ];
        let created = br.submit("/contacts", &fields).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "[{b}] {}", created.html);
        let contact = id_from(&created.location, "/contacts/");
        let page = br.get(&format!("/accounts/{account}")).await;
        assert_eq!(attrs(&page.html, "data-contact"), [contact.to_string()], "[{b}] the account lists its contact");

        let page = br.get(&format!("/contacts/{contact}")).await;
        let v = version_in(&page.html);
        let path = format!("/contacts/{contact}");
        let bad = [("version", v.as_str()), ("name", "周明"), ("account_id", a.as_str()), ("email", "zhou@")];
        let refused = br.submit(&path, &bad).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
        assert_eq!(error_fields(&refused.html), ["email"], "[{b}]");
        let good = [("version", v.as_str()), ("name", "周明"), ("account_id", ""), ("phone", "021-5555 0000")];
        let saved = br.submit(&path, &good).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "[{b}] {}", saved.html);
        let got = app.expect("contact", app.get(&format!("/api/v1/contacts/{contact}")).await, StatusCode::OK);
        assert_eq!((got["account_id"].clone(), got["phone"].as_str()), (Value::Null, Some("021-5555 0000")), "[{b}]");
        assert_eq!(got["consent"]["wechat"], false, "[{b}] an unticked box withdraws consent");
        let listed = br.get("/contacts").await;
        assert!(attrs(&listed.html, "data-contact").contains(&contact.to_string()), "[{b}]");
    }
}

#[tokio::test]
async fn pages_show_each_user_only_their_reach() {
    for app in apps().await {
        let b = app.backend.clone();
        let (rep_a, rep_b, viewer) =
            (app.person(Role::Rep).await, app.person(Role::Rep).await, app.person(Role::Viewer).await);
        let lead = app.call_as(
            &rep_a.token,
            Method::POST,
            "/api/v1/leads",
            Some(json!({ "name": "钱先生", "company": "远景物流", "channel": "referral" })),
        );
        let lead = app.expect("lead", lead.await, StatusCode::CREATED)["lead"]["id"].as_i64().unwrap();

        let mut other = Browser::signed_in(&app, &rep_b).await;
        assert_eq!(other.get(&format!("/leads/{lead}")).await.status, StatusCode::NOT_FOUND, "[{b}] not theirs");
        assert!(!attrs(&other.get("/leads").await.html, "data-lead").contains(&lead.to_string()), "[{b}]");
        let status = other.submit(&format!("/leads/{lead}/status"), &[("version", "1"), ("to", "contacted")]).await;
        assert_eq!(status.status, StatusCode::NOT_FOUND, "[{b}] nor changed by them");

        let mut v = Browser::signed_in(&app, &viewer).await;
        let list = v.get("/leads").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(!list.html.contains("data-testid=\"new-lead\""), "[{b}] a viewer creates nothing");
        let refused = v.submit("/leads", &[("name", "赵女士"), ("channel", "other")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "[{b}]");
        assert!(refused.html.contains(CRM.forbidden_kept) && refused.html.contains("value=\"赵女士\""), "[{b}]");
        let gallery = v.get("/processes/templates").await;
        assert!(!gallery.html.contains("data-testid=\"use-template\""), "[{b}] only editors start processes");
    }
}

#[tokio::test]
async fn home_shows_my_open_deals_by_stage_and_those_past_their_sla() {
    for app in apps().await {
        let b = app.backend.clone();
        let process = app.seed_process().await;
        let rep = app.person(Role::Rep).await;
        let call = |path: &'static str, body: Value| app.call_as(&rep.token, Method::POST, path, Some(body));
        let account =
            app.expect("account", call("/api/v1/accounts", json!({ "name": "汇丰五金" })).await, StatusCode::CREATED);
        let long_ago = (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339();
        let deal = |title: &str, at: Option<&str>| {
            json!({ "title": title, "account_id": account["id"], "process_id": process,
                    "amount": { "minor": 500_000, "currency": "CNY" }, "occurred_at": at })
        };
        let late = app.expect(
            "late deal",
            call("/api/v1/deals", deal("汇丰 旧单", Some(&long_ago))).await,
            StatusCode::CREATED,
        );
        let fresh = app.expect("new deal", call("/api/v1/deals", deal("汇丰 新单", None)).await, StatusCode::CREATED);

        let mut br = Browser::signed_in(&app, &rep).await;
        let home = br.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "[{b}]");
        for id in ["my-deals-by-stage", "past-sla", "todays-tasks"] {
            assert!(home.html.contains(&format!("data-testid=\"{id}\"")), "[{b}] {id}");
        }
        let by_stage = between(&home.html, "data-testid=\"my-deals-by-stage\"", "</section>").unwrap();
        let row = between(by_stage, "data-stage=\"lead_identification\"", "</tr>").expect("the first stage's row");
        assert!(row.contains(">2</td>") && row.contains("¥10,000.00"), "[{b}] counted and summed: {row}");
        let past = between(&home.html, "data-testid=\"past-sla\"", "</section>").unwrap();
        assert_eq!(attrs(past, "data-deal"), [late["id"].to_string()], "[{b}] only the late one: {past}");
        assert!(!past.contains(&format!("/deals/{}\"", fresh["id"])), "[{b}]");
    }
}

#[tokio::test]
async fn managers_start_a_process_from_a_template_and_read_it() {
    for app in apps().await {
        let b = app.backend.clone();
        let manager = app.person(Role::Manager).await;
        let rep = app.person(Role::Rep).await;
        let mut br = Browser::signed_in(&app, &manager).await;

        let gallery = br.get("/processes/templates").await;
        let keys = attrs(&gallery.html, "data-template");
        assert_eq!(
            keys,
            ["seed-five-stage.zh-CN", "saas-trial.zh-CN", "project-tender.zh-CN"],
            "[{b}] the user's language"
        );
        assert_eq!(gallery.html.matches("data-testid=\"use-template\"").count(), 3, "[{b}]");
        let used = br
            .submit("/processes/templates/saas-trial.zh-CN", &[("name", "我们的 SaaS 流程"), ("publish", "on")])
            .await;
        assert_eq!(used.status, StatusCode::SEE_OTHER, "[{b}] {}", used.html);
        let id = id_from(&used.location, "/processes/");
        // The same template again gets its own key.
        let again = br.submit("/processes/templates/saas-trial.zh-CN", &[("name", ""), ("publish", "on")]).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "[{b}] {}", again.html);

        let latest = br.get(&format!("/processes/{id}")).await;
        assert_eq!(latest.location.as_deref(), Some(&*format!("/processes/{id}/versions/1")), "[{b}]");
        let page = br.get(&format!("/processes/{id}/versions/1")).await;
        assert_eq!(page.status, StatusCode::OK, "[{b}]");
        let def = salesflow_domain::templates::get("saas-trial.zh-CN").unwrap();
        let stages: Vec<String> = def.stages_in_order().iter().map(|n| n.id.clone()).collect();
        assert_eq!(attrs(&page.html, "data-node"), stages, "[{b}] every stage in order");
        assert_eq!(attrs(&page.html, "data-edge").len(), def.edges.len(), "[{b}] every edge");
        assert!(page.html.contains("我们的 SaaS 流程"), "[{b}] named as typed");
        let list = br.get("/processes").await;
        assert!(attrs(&list.html, "data-process").contains(&id.to_string()), "[{b}]");

        let mut r = Browser::signed_in(&app, &rep).await;
        let refused = r.submit("/processes/templates/saas-trial.zh-CN", &[("publish", "on")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "[{b}]");
        assert!(refused.html.contains(CRM.editors_only), "[{b}]");
    }
}
