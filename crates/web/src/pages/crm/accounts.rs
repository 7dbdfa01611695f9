//! Accounts (客户): the list with search, creation, and the account page with its contacts,
//! its deals and an edit form checked against the version read.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use salesflow_domain::ids::AccountId;
use salesflow_domain::records::{
    Account, AccountFilter, AccountPatch, ContactFilter, DealFilter, NewAccount, PageRequest,
};
use serde::Deserialize;

use super::deals::{DealRow, deal_rows};
use super::{FormErrors, PAGE_SIZE, can_write, cursor, href, name_of, opt_text, path_id, refused, user_names};
use crate::AppState;
use crate::i18n::common::Common;
use crate::i18n::crm::Crm;
use crate::pages::format::{date, datetime};
use crate::pages::{Chrome, Ctx, error_page, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .get("/accounts", list)
        .post("/accounts", create)
        .get("/accounts/new", new_form)
        .get("/accounts/{id}", show)
        .post("/accounts/{id}", update)
}

const FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("industry", "industry"),
    ("region", "region"),
    ("website", "website"),
    ("customer_group", "customer_group"),
    ("version", ""),
];

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    q: String,
    cursor: String,
}

struct AccountRow {
    id: i64,
    name: String,
    industry: String,
    region: String,
    customer_group: String,
    owner: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "crm_accounts.html")]
struct AccountsPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    q: String,
    rows: Vec<AccountRow>,
    next: Option<String>,
    first: Option<String>,
    can_create: bool,
}

async fn list(ctx: Ctx, State(s): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let filter = AccountFilter { owner: None, text: opt_text(&q.q) };
    let after = cursor(&q.cursor);
    let page = match ctx.guarded(&s).list_accounts(&filter, PageRequest { limit: PAGE_SIZE, after }).await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let names = match user_names(&s).await {
        Ok(n) => n,
        Err(e) => return error_page(&ctx, e),
    };
    let rows = page
        .items
        .iter()
        .map(|a| AccountRow {
            id: a.id.0,
            name: a.name.clone(),
            industry: a.industry.clone(),
            region: a.region.clone(),
            customer_group: a.customer_group.clone(),
            owner: name_of(&names, a.owner_id),
            updated: date(a.updated_at.with_timezone(&ctx.tz).date_naive(), ctx.locale),
        })
        .collect();
    let next = page.next_cursor.map(|c| href("/accounts", &[("q", &q.q), ("cursor", &c.to_string())]));
    render(&AccountsPage {
        chrome: ctx.chrome("accounts"),
        t: ctx.t.crm,
        q: q.q.trim().to_string(),
        rows,
        next,
        first: after.map(|_| href("/accounts", &[("q", &q.q)])),
        can_create: can_write(&ctx),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AccountInput {
    version: String,
    name: String,
    industry: String,
    region: String,
    website: String,
    customer_group: String,
}

impl AccountInput {
    fn of(a: &Account) -> Self {
        AccountInput {
            version: a.version.to_string(),
            name: a.name.clone(),
            industry: a.industry.clone(),
            region: a.region.clone(),
            website: a.website.clone(),
            customer_group: a.customer_group.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "crm_account_new.html")]
struct NewAccountPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    c: &'static Common,
    input: AccountInput,
    errors: FormErrors,
}

fn new_page(ctx: &Ctx, input: AccountInput, errors: FormErrors, status: StatusCode) -> Response {
    let mut res =
        render(&NewAccountPage { chrome: ctx.chrome("accounts"), t: ctx.t.crm, c: ctx.t.common, input, errors });
    *res.status_mut() = status;
    res
}

async fn new_form(ctx: Ctx) -> Response {
    new_page(&ctx, AccountInput::default(), FormErrors::default(), StatusCode::OK)
}

async fn create(ctx: Ctx, State(s): State<AppState>, Form(input): Form<AccountInput>) -> Response {
    let new = NewAccount {
        name: input.name.trim().to_string(),
        industry: input.industry.trim().to_string(),
        region: input.region.trim().to_string(),
        website: input.website.trim().to_string(),
        customer_group: input.customer_group.trim().to_string(),
        owner_id: None,
    };
    // The store checks too; checking first shows every problem even to a caller it refuses.
    let checked = new.validate();
    let result = match checked {
        Ok(()) => ctx.guarded(&s).create_account(&new, s.clock.now()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => Redirect::to(&format!("/accounts/{}", a.id)).into_response(),
        Err(e) => match refused(&ctx, e, FIELDS) {
            Ok((status, errors)) => new_page(&ctx, input, errors, status),
            Err(e) => error_page(&ctx, e),
        },
    }
}

struct AccountView {
    id: i64,
    name: String,
    industry: String,
    region: String,
    website: String,
    customer_group: String,
    website_href: Option<String>,
    owner: String,
    created: String,
    updated: String,
}

struct ContactRow {
    id: i64,
    name: String,
    title: String,
    email: String,
    phone: String,
}

#[derive(Template)]
#[template(path = "crm_account.html")]
struct AccountPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    c: &'static Common,
    account: AccountView,
    contacts: Vec<ContactRow>,
    more_contacts: bool,
    deals: Vec<DealRow>,
    more_deals: bool,
    can_change: bool,
    input: AccountInput,
    errors: FormErrors,
}

async fn show(ctx: Ctx, State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let id = match path_id(&id, "account") {
        Ok(id) => AccountId(id),
        Err(e) => return error_page(&ctx, e),
    };
    account_page(&ctx, &s, id, None, FormErrors::default(), StatusCode::OK).await
}

/// The account page; `typed` is what the user submitted when a save was refused.
async fn account_page(
    ctx: &Ctx,
    s: &AppState,
    id: AccountId,
    typed: Option<AccountInput>,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let g = ctx.guarded(s);
    let account = match g.account(id, s.clock.now()).await {
        Ok(a) => a,
        Err(e) => return error_page(ctx, e),
    };
    let few = PageRequest { limit: 20, after: None };
    let contacts = match g.list_contacts(&ContactFilter { account: Some(id), ..Default::default() }, few).await {
        Ok(p) => p,
        Err(e) => return error_page(ctx, e),
    };
    let deals = match g.list_deals(&DealFilter { account: Some(id), ..Default::default() }, few).await {
        Ok(p) => p,
        Err(e) => return error_page(ctx, e),
    };
    let names = match user_names(s).await {
        Ok(n) => n,
        Err(e) => return error_page(ctx, e),
    };
    let deal_rows = match deal_rows(ctx, s, &deals.items, &names).await {
        Ok(r) => r,
        Err(e) => return error_page(ctx, e),
    };
    let input = match typed {
        // A refused save keeps what was typed, against the version now current.
        Some(typed) => AccountInput { version: account.version.to_string(), ..typed },
        None => AccountInput::of(&account),
    };
    let website_href = super::safe_link(&account.website).map(str::to_string).or_else(|| {
        let w = account.website.trim();
        (!w.is_empty() && !w.contains(':') && w.contains('.')).then(|| format!("https://{w}"))
    });
    let view = AccountView {
        id: account.id.0,
        name: account.name.clone(),
        industry: account.industry.clone(),
        region: account.region.clone(),
        website: account.website.clone(),
        customer_group: account.customer_group.clone(),
        website_href,
        owner: name_of(&names, account.owner_id),
        created: datetime(account.created_at, ctx.tz, ctx.locale),
        updated: datetime(account.updated_at, ctx.tz, ctx.locale),
    };
    let contacts_rows = contacts
        .items
        .iter()
        .map(|c| ContactRow {
            id: c.id.0,
            name: c.name.clone(),
            title: c.title.clone(),
            email: c.email.clone().unwrap_or_default(),
            phone: c.phone.clone().unwrap_or_default(),
        })
        .collect();
    let mut res = render(&AccountPage {
        chrome: ctx.chrome("accounts"),
        t: ctx.t.crm,
        c: ctx.t.common,
        account: view,
        contacts: contacts_rows,
        more_contacts: contacts.next_cursor.is_some(),
        deals: deal_rows,
        more_deals: deals.next_cursor.is_some(),
        can_change: can_write(ctx),
        input,
        errors,
    });
    *res.status_mut() = status;
    res
}

async fn update(
    ctx: Ctx,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Form(input): Form<AccountInput>,
) -> Response {
    let id = match path_id(&id, "account") {
        Ok(id) => AccountId(id),
        Err(e) => return error_page(&ctx, e),
    };
    let patch = AccountPatch {
        version: input.version.trim().parse().unwrap_or(-1),
        name: Some(input.name.trim().to_string()),
        industry: Some(input.industry.trim().to_string()),
        region: Some(input.region.trim().to_string()),
        website: Some(input.website.trim().to_string()),
        customer_group: Some(input.customer_group.trim().to_string()),
        owner_id: None,
    };
    let result = match patch.validate() {
        Ok(()) => ctx.guarded(&s).update_account(id, &patch, s.clock.now()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => Redirect::to(&format!("/accounts/{}", a.id)).into_response(),
        Err(e) => match refused(&ctx, e, FIELDS) {
            Ok((status, errors)) => account_page(&ctx, &s, id, Some(input), errors, status).await,
            Err(e) => error_page(&ctx, e),
        },
    }
}
