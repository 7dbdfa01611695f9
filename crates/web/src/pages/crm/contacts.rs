//! Contacts (联系人): the list with search, creation (from an account's page too), and the
//! contact page with an edit form checked against the version read.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use salesflow_domain::Error;
use salesflow_domain::ids::{AccountId, ContactId};
use salesflow_domain::records::{
    AccountFilter, Consent, Contact, ContactFilter, ContactPatch, NewContact, PageRequest, PreferredChannel,
};
use serde::Deserialize;

use super::{FormErrors, Opt, PAGE_SIZE, can_write, cursor, href, name_of, opt_text, path_id, refused, user_names};
use crate::AppState;
use crate::i18n::common::Common;
use crate::i18n::crm::Crm;
use crate::pages::format::datetime;
use crate::pages::{Chrome, Ctx, error_page, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .get("/contacts", list)
        .post("/contacts", create)
        .get("/contacts/new", new_form)
        .get("/contacts/account-options", account_options)
        .get("/contacts/{id}", show)
        .post("/contacts/{id}", update)
}

const FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("title", "title"),
    ("account_id", "account_id"),
    ("email", "email"),
    ("phone", "phone"),
    ("wechat_id", "wechat_id"),
    ("preferred_channel", "preferred_channel"),
    ("version", ""),
];

/// Accounts offered in the account picker (the newest the caller can see; the search narrows).
const ACCOUNT_CHOICES: u32 = 100;

/// Account names for the contacts on a page, each account read once through the guard (an
/// account the caller cannot read shows no name).
async fn account_names(ctx: &Ctx, s: &AppState, contacts: &[Contact]) -> HashMap<AccountId, String> {
    let mut out = HashMap::new();
    let now = s.clock.now();
    for id in contacts.iter().filter_map(|c| c.account_id) {
        if out.contains_key(&id) {
            continue;
        }
        if let Ok(a) = ctx.guarded(s).account(id, now).await {
            out.insert(id, a.name);
        }
    }
    out
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    q: String,
    account: String,
    cursor: String,
}

struct ContactRow {
    id: i64,
    name: String,
    title: String,
    account_id: Option<i64>,
    account: String,
    email: String,
    phone: String,
    owner: String,
}

#[derive(Template)]
#[template(path = "crm_contacts.html")]
struct ContactsPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    q: String,
    account: String,
    rows: Vec<ContactRow>,
    next: Option<String>,
    first: Option<String>,
    can_create: bool,
}

async fn list(ctx: Ctx, State(s): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let account = q.account.trim().parse::<i64>().ok().filter(|a| *a > 0).map(AccountId);
    let filter = ContactFilter { owner: None, account, text: opt_text(&q.q) };
    let after = cursor(&q.cursor);
    let page = match ctx.guarded(&s).list_contacts(&filter, PageRequest { limit: PAGE_SIZE, after }).await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let names = match user_names(&s).await {
        Ok(n) => n,
        Err(e) => return error_page(&ctx, e),
    };
    let accounts = account_names(&ctx, &s, &page.items).await;
    let rows = page
        .items
        .iter()
        .map(|c| ContactRow {
            id: c.id.0,
            name: c.name.clone(),
            title: c.title.clone(),
            account_id: c.account_id.filter(|a| accounts.contains_key(a)).map(|a| a.0),
            account: c.account_id.and_then(|a| accounts.get(&a).cloned()).unwrap_or_default(),
            email: c.email.clone().unwrap_or_default(),
            phone: c.phone.clone().unwrap_or_default(),
            owner: name_of(&names, c.owner_id),
        })
        .collect();
    let account_key = account.map(|a| a.to_string()).unwrap_or_default();
    let params = [("q", q.q.as_str()), ("account", account_key.as_str())];
    let next = page.next_cursor.map(|c| {
        let c = c.to_string();
        href("/contacts", &[params[0], params[1], ("cursor", &c)])
    });
    render(&ContactsPage {
        chrome: ctx.chrome("contacts"),
        t: ctx.t.crm,
        q: q.q.trim().to_string(),
        account: account_key.clone(),
        rows,
        next,
        first: after.map(|_| href("/contacts", &params)),
        can_create: can_write(&ctx),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContactInput {
    version: String,
    name: String,
    title: String,
    account_id: String,
    email: String,
    phone: String,
    wechat_id: String,
    preferred_channel: String,
    /// The account the edit form started from: unchanged, it is left alone (even when the
    /// caller cannot read it).
    account_was: Option<String>,
    consent_email: Option<String>,
    consent_sms: Option<String>,
    consent_phone: Option<String>,
    consent_wechat: Option<String>,
}

impl ContactInput {
    fn of(c: &Contact) -> Self {
        let on = |b: bool| b.then(|| "on".to_string());
        ContactInput {
            version: c.version.to_string(),
            name: c.name.clone(),
            title: c.title.clone(),
            account_id: c.account_id.map(|a| a.to_string()).unwrap_or_default(),
            email: c.email.clone().unwrap_or_default(),
            phone: c.phone.clone().unwrap_or_default(),
            wechat_id: c.wechat_id.clone().unwrap_or_default(),
            preferred_channel: c.preferred_channel.map(|p| p.as_str().to_string()).unwrap_or_default(),
            account_was: Some(c.account_id.map(|a| a.to_string()).unwrap_or_default()),
            consent_email: on(c.consent.email),
            consent_sms: on(c.consent.sms),
            consent_phone: on(c.consent.phone),
            consent_wechat: on(c.consent.wechat),
        }
    }

    fn consent(&self) -> Consent {
        Consent {
            email: self.consent_email.is_some(),
            sms: self.consent_sms.is_some(),
            phone: self.consent_phone.is_some(),
            wechat: self.consent_wechat.is_some(),
        }
    }

    /// The parsed account and preferred channel, or the errors beside those fields.
    fn choices(&self, t: &Crm, errors: &mut FormErrors) -> (Option<AccountId>, Option<PreferredChannel>) {
        let account = match self.account_id.trim() {
            "" => None,
            raw => match raw.parse::<i64>() {
                Ok(id) => Some(AccountId(id)),
                Err(_) => {
                    errors.add("account_id", t.bad_reference);
                    None
                }
            },
        };
        let channel = match self.preferred_channel.trim() {
            "" => None,
            raw => match PreferredChannel::parse(raw) {
                Some(c) => Some(c),
                None => {
                    errors.add("preferred_channel", t.invalid_value);
                    None
                }
            },
        };
        (account, channel)
    }
}

/// The form's choices: accounts to link to and preferred channels.
struct ContactForm {
    input: ContactInput,
    account_opts: Vec<Opt>,
    channel_opts: Vec<Opt>,
    consents: Vec<(&'static str, &'static str, bool)>,
    errors: FormErrors,
}

async fn contact_form(ctx: &Ctx, s: &AppState, input: ContactInput, errors: FormErrors) -> Result<ContactForm, Error> {
    let t = ctx.t.crm;
    let account_opts = account_choices(ctx, s, "", &input.account_id).await?;
    let channel_opts = PreferredChannel::ALL
        .iter()
        .map(|c| Opt::new(c.as_str(), t.preferred_channel(*c), &input.preferred_channel))
        .collect();
    let consents = vec![
        ("consent_email", t.pref_email, input.consent_email.is_some()),
        ("consent_sms", t.pref_sms, input.consent_sms.is_some()),
        ("consent_phone", t.pref_phone, input.consent_phone.is_some()),
        ("consent_wechat", t.pref_wechat, input.consent_wechat.is_some()),
    ];
    Ok(ContactForm { input, account_opts, channel_opts, consents, errors })
}

/// Accounts matching `q` the caller can see, with `selected` kept among them.
async fn account_choices(ctx: &Ctx, s: &AppState, q: &str, selected: &str) -> Result<Vec<Opt>, Error> {
    let g = ctx.guarded(s);
    let filter = AccountFilter { owner: None, text: opt_text(q) };
    let page = g.list_accounts(&filter, PageRequest { limit: ACCOUNT_CHOICES, after: None }).await?;
    let mut opts: Vec<Opt> = page.items.iter().map(|a| Opt::new(a.id.to_string(), a.name.clone(), selected)).collect();
    if let Ok(id) = selected.trim().parse::<i64>()
        && !opts.iter().any(|o| o.selected)
    {
        let label = match g.account(AccountId(id), s.clock.now()).await {
            Ok(a) => a.name,
            Err(Error::NotFound { .. }) => format!("#{id}"),
            Err(e) => return Err(e),
        };
        opts.insert(0, Opt::new(id.to_string(), label, selected));
    }
    Ok(opts)
}

#[derive(Template)]
#[template(path = "crm_contact_new.html")]
struct NewContactPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    c: &'static Common,
    form: ContactForm,
    cancel: String,
}

async fn new_page(ctx: &Ctx, s: &AppState, input: ContactInput, errors: FormErrors, status: StatusCode) -> Response {
    let cancel = match input.account_id.trim() {
        "" => "/contacts".to_string(),
        a => format!("/accounts/{}", a.parse::<i64>().unwrap_or_default()),
    };
    let form = match contact_form(ctx, s, input, errors).await {
        Ok(f) => f,
        Err(e) => return error_page(ctx, e),
    };
    let mut res =
        render(&NewContactPage { chrome: ctx.chrome("contacts"), t: ctx.t.crm, c: ctx.t.common, form, cancel });
    *res.status_mut() = status;
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    account: String,
}

async fn new_form(ctx: Ctx, State(s): State<AppState>, Query(q): Query<NewQuery>) -> Response {
    let account_id = q.account.trim().parse::<i64>().map(|a| a.to_string()).unwrap_or_default();
    new_page(&ctx, &s, ContactInput { account_id, ..Default::default() }, FormErrors::default(), StatusCode::OK).await
}

async fn create(ctx: Ctx, State(s): State<AppState>, Form(input): Form<ContactInput>) -> Response {
    let mut errors = FormErrors::default();
    let (account_id, preferred_channel) = input.choices(ctx.t.crm, &mut errors);
    let new = NewContact {
        account_id,
        name: input.name.trim().to_string(),
        title: input.title.trim().to_string(),
        email: opt_text(&input.email),
        phone: opt_text(&input.phone),
        wechat_id: opt_text(&input.wechat_id),
        preferred_channel,
        consent: input.consent(),
        owner_id: None,
    };
    if let Err(Error::Invalid(e)) = new.validate() {
        merge(&mut errors, FormErrors::from_domain(ctx.t, &e, FIELDS));
    }
    if !errors.is_empty() {
        return new_page(&ctx, &s, input, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match ctx.guarded(&s).create_contact(&new, s.clock.now()).await {
        Ok(c) => Redirect::to(&format!("/contacts/{}", c.id)).into_response(),
        Err(e) => match refused(&ctx, e, FIELDS) {
            Ok((status, errors)) => new_page(&ctx, &s, input, errors, status).await,
            Err(e) => error_page(&ctx, e),
        },
    }
}

fn merge(into: &mut FormErrors, from: FormErrors) {
    for (f, _) in FIELDS {
        if !f.is_empty()
            && let Some(m) = from.get(f)
        {
            into.add(f, m);
        }
    }
    if from.form.is_some() {
        into.form = from.form;
    }
}

struct ContactView {
    id: i64,
    name: String,
    title: String,
    account_id: Option<i64>,
    account: String,
    email: String,
    phone: String,
    wechat_id: String,
    preferred_channel: &'static str,
    consents: Vec<&'static str>,
    owner: String,
    created: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "crm_contact.html")]
struct ContactPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Crm,
    c: &'static Common,
    contact: ContactView,
    can_change: bool,
    form: ContactForm,
}

async fn show(ctx: Ctx, State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let id = match path_id(&id, "contact") {
        Ok(id) => ContactId(id),
        Err(e) => return error_page(&ctx, e),
    };
    contact_page(&ctx, &s, id, None, FormErrors::default(), StatusCode::OK).await
}

async fn contact_page(
    ctx: &Ctx,
    s: &AppState,
    id: ContactId,
    typed: Option<ContactInput>,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let t = ctx.t.crm;
    let contact = match ctx.guarded(s).contact(id, s.clock.now()).await {
        Ok(c) => c,
        Err(e) => return error_page(ctx, e),
    };
    let names = match user_names(s).await {
        Ok(n) => n,
        Err(e) => return error_page(ctx, e),
    };
    let accounts = account_names(ctx, s, std::slice::from_ref(&contact)).await;
    let input = match typed {
        Some(typed) => ContactInput { version: contact.version.to_string(), ..typed },
        None => ContactInput::of(&contact),
    };
    let form = match contact_form(ctx, s, input, errors).await {
        Ok(f) => f,
        Err(e) => return error_page(ctx, e),
    };
    let consent = contact.consent;
    let consents = [
        (consent.email, t.pref_email),
        (consent.sms, t.pref_sms),
        (consent.phone, t.pref_phone),
        (consent.wechat, t.pref_wechat),
    ]
    .into_iter()
    .filter_map(|(on, label)| on.then_some(label))
    .collect();
    let view = ContactView {
        id: contact.id.0,
        name: contact.name.clone(),
        title: contact.title.clone(),
        account_id: contact.account_id.filter(|a| accounts.contains_key(a)).map(|a| a.0),
        account: contact.account_id.and_then(|a| accounts.get(&a).cloned()).unwrap_or_default(),
        email: contact.email.clone().unwrap_or_default(),
        phone: contact.phone.clone().unwrap_or_default(),
        wechat_id: contact.wechat_id.clone().unwrap_or_default(),
        preferred_channel: contact.preferred_channel.map(|c| t.preferred_channel(c)).unwrap_or(t.not_set),
        consents,
        owner: name_of(&names, contact.owner_id),
        created: datetime(contact.created_at, ctx.tz, ctx.locale),
        updated: datetime(contact.updated_at, ctx.tz, ctx.locale),
    };
    let mut res = render(&ContactPage {
        chrome: ctx.chrome("contacts"),
        t,
        c: ctx.t.common,
        contact: view,
        can_change: can_write(ctx),
        form,
    });
    *res.status_mut() = status;
    res
}

async fn update(
    ctx: Ctx,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Form(input): Form<ContactInput>,
) -> Response {
    let id = match path_id(&id, "contact") {
        Ok(id) => ContactId(id),
        Err(e) => return error_page(&ctx, e),
    };
    let mut errors = FormErrors::default();
    let (account_id, preferred_channel) = input.choices(ctx.t.crm, &mut errors);
    let account_unchanged = input.account_was.as_deref().map(str::trim) == Some(input.account_id.trim());
    let patch = ContactPatch {
        version: input.version.trim().parse().unwrap_or(-1),
        account_id: if account_unchanged { None } else { Some(account_id) },
        name: Some(input.name.trim().to_string()),
        title: Some(input.title.trim().to_string()),
        email: Some(opt_text(&input.email)),
        phone: Some(opt_text(&input.phone)),
        wechat_id: Some(opt_text(&input.wechat_id)),
        preferred_channel: Some(preferred_channel),
        consent: Some(input.consent()),
        owner_id: None,
    };
    if let Err(Error::Invalid(e)) = patch.validate() {
        merge(&mut errors, FormErrors::from_domain(ctx.t, &e, FIELDS));
    }
    if !errors.is_empty() {
        return contact_page(&ctx, &s, id, Some(input), errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match ctx.guarded(&s).update_contact(id, &patch, s.clock.now()).await {
        Ok(c) => Redirect::to(&format!("/contacts/{}", c.id)).into_response(),
        Err(e) => match refused(&ctx, e, FIELDS) {
            Ok((status, errors)) => contact_page(&ctx, &s, id, Some(input), errors, status).await,
            Err(e) => error_page(&ctx, e),
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OptionsQuery {
    account_q: String,
    account_id: String,
}

#[derive(Template)]
#[template(
    source = "<option value=\"\">{{ t.no_account }}</option>{% for o in opts %}<option value=\"{{ o.value }}\"{% if o.selected %} selected{% endif %}>{{ o.label }}</option>{% endfor %}",
    ext = "html"
)]
struct AccountOptions {
    t: &'static Crm,
    opts: Vec<Opt>,
}

/// The account picker's options for a search (htmx swaps them into the `<select>`).
async fn account_options(ctx: Ctx, State(s): State<AppState>, Query(q): Query<OptionsQuery>) -> Response {
    match account_choices(&ctx, &s, &q.account_q, &q.account_id).await {
        Ok(opts) => render(&AccountOptions { t: ctx.t.crm, opts }),
        Err(e) => error_page(&ctx, e),
    }
}
