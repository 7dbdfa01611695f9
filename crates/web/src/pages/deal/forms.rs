//! The deal page's selling forms: needs analysis, drafting a quote from recommended or catalog
//! products, editing a draft (quantities, prices, taxes, discounts, lines, options, the
//! recommended option, terms), discount approval, sending, contracts with their milestones, objections and
//! the stage's playbook.
//!
//! Each form posts to its own route and, on success, redirects back to the deal page. A refused
//! form renders the page again with everything typed kept and each problem beside its field.
//! Field names are unique on the page (`needs_budget`, `q2_disc_0`, `k5_status`), so the values
//! a refused form sent go back into the same inputs.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use salesflow_domain::Error;
use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::guard::{DiscountAction, ProductQuantity, QuoteEdit, QuoteFromProducts, Sending};
use salesflow_domain::ids::{ContractId, DealId, ProductId};
use salesflow_domain::records::Role;
use salesflow_domain::selling::contract::{ContractPatch, ContractStatus, MilestoneKind, NewContract, NewMilestone};
use salesflow_domain::selling::needs::{Authority, NeedsInput};
use salesflow_domain::selling::objection::{NewObjection, ObjectionPatch, PlaybookEntry, PlaybookInput};
use salesflow_domain::selling::pricing::{MAX_QUANTITY, QuoteLine};
use salesflow_domain::selling::quote::{OptionLayout, product_line, product_option, unit_price};

use super::amount::AmountError;
use super::view::{DealPage, Notice};
use super::{amount, back_to, deal_id, load, not_found, page};
use crate::AppState;
use crate::auth::{new_secret, token_hash};
use crate::i18n::deal::fill;
use crate::i18n::deal_forms::{self, SellingForms};
use crate::pages::{Ctx, error_page};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .post("/deals/{id}/needs", needs)
        .post("/deals/{id}/quotes", draft)
        .post("/deals/{id}/quotes/{number}", edit_draft)
        .post("/deals/{id}/quotes/{number}/discount", discount)
        .post("/deals/{id}/quotes/{number}/send", send)
        .post("/deals/{id}/contracts", new_contract)
        .post("/deals/{id}/contracts/{contract}", contract)
        .post("/deals/{id}/objections", new_objection)
        .post("/deals/{id}/objections/{objection}", objection)
        .post("/deals/{id}/playbook", playbook)
}

type Form = Vec<(String, String)>;
type Problems = Vec<(String, String)>;

fn parse(body: &Bytes) -> Form {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn get<'a>(f: &'a Form, key: &str) -> &'a str {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).unwrap_or("")
}

/// Whether the form has the field at all (empty or not).
fn sent(f: &Form, key: &str) -> bool {
    f.iter().any(|(k, _)| k == key)
}

/// One item per line, blanks dropped (commas belong to the text: "报表靠手工，月底加班" is one).
fn items(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

fn date(f: &Form, key: &str, t: &SellingForms, problems: &mut Problems) -> Option<NaiveDate> {
    let text = get(f, key);
    if text.is_empty() {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| problems.push((key.into(), t.date_invalid.into()))).ok()
}

/// A percentage with at most two decimals, in basis points.
pub fn percent_bp(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches(['%', '％']).trim();
    let text = if text.is_empty() { "0" } else { text };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let bp = whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(format!("{frac:0<2}").parse().ok()?)?;
    (bp <= 10_000).then_some(bp)
}

/// The page again with the form's values and problems.
async fn refuse(ctx: &Ctx, s: &AppState, id: DealId, form: Form, problems: Problems, notice: Notice) -> Response {
    let loaded = match load(ctx, s, id).await {
        Ok(l) => l,
        Err(e) => return error_page(ctx, e),
    };
    let status = if problems.is_empty() { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
    let mut p = DealPage::new(ctx, &loaded, Some(notice));
    p.selling.keep(form, problems);
    page(&p, status)
}

/// Success goes back to the page; a refusal shows the form again: domain field problems beside
/// the form field `field` names (a form-wide key when it names none), a stale version or a
/// missing right as a notice.
async fn answer<T>(
    ctx: &Ctx,
    s: &AppState,
    id: DealId,
    form: Form,
    result: Result<T, Error>,
    field: impl Fn(&str) -> String,
    anchor: &str,
) -> Response {
    let t = deal_forms::of(ctx.locale);
    match result {
        Ok(_) => back_to(id, "saved", anchor),
        Err(Error::Invalid(errs)) => {
            let problems = errs.into_iter().map(|e| (field(&e.field), say(ctx, &e.message))).collect();
            refuse(ctx, s, id, form, problems, Notice::error(ctx.t.common.fix_errors)).await
        }
        Err(Error::Conflict(why)) => {
            let notice = conflict(ctx, &why).unwrap_or_else(|| t.stale.to_string());
            refuse(ctx, s, id, form, Vec::new(), Notice { kind: "error", text: notice }).await
        }
        Err(Error::Forbidden(_)) => refuse(ctx, s, id, form, Vec::new(), Notice::error(t.forbidden)).await,
        Err(e) => error_page(ctx, e),
    }
}

/// The words between `prefix` and `suffix` in `message`.
fn between<'a>(message: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix)?.split_once(suffix).map(|(x, _)| x)
}

fn contract_label(ctx: &Ctx, status: &str) -> String {
    ContractStatus::parse(status)
        .map(|s| super::selling::contract_status(s, ctx.t.deal).to_string())
        .unwrap_or_else(|| status.to_string())
}

fn quote_label(ctx: &Ctx, status: &str) -> String {
    let d = ctx.t.deal;
    match status {
        "draft" => d.quote_draft,
        "sent" => d.quote_sent,
        "accepted" => d.quote_accepted,
        "rejected" => d.quote_rejected,
        "superseded" => d.quote_superseded,
        "expired" => d.quote_expired,
        other => return other.to_string(),
    }
    .to_string()
}

/// A domain message of the selling tools in the page's language: the selling ones here, the
/// generic ones ("is required", "is longer than …") through the crm pages' `translate`; an
/// unknown one keeps its own words.
pub fn say(ctx: &Ctx, message: &str) -> String {
    let t = deal_forms::of(ctx.locale);
    if let Some(rest) = message.strip_prefix("a ")
        && let Some((from, to)) = rest.split_once(" contract cannot become ")
    {
        return fill(t.contract_step, &[("from", &contract_label(ctx, from)), ("to", &contract_label(ctx, to))]);
    }
    if let Some(titles) = message.strip_prefix("milestones still open: ") {
        let sep = if ctx.locale == crate::i18n::Locale::ZhCn { "、" } else { ", " };
        return fill(t.contract_open_milestones, &[("titles", &titles.split(", ").collect::<Vec<_>>().join(sep))]);
    }
    if let Some(currency) = message.strip_prefix("the contract is in ") {
        return fill(t.contract_currency, &[("currency", currency)]);
    }
    if let Some(rest) = message.strip_prefix("a contract is made from an accepted quote; version ")
        && let Some((number, status)) = rest.split_once(" is ")
    {
        return fill(t.contract_needs_accepted, &[("number", number), ("status", &quote_label(ctx, status))]);
    }
    if let Some(number) = message.strip_prefix("the deal has no quote version ") {
        return fill(t.no_quote_version, &[("number", number)]);
    }
    if let Some(percent) = between(message, "no option gives more than ", " % off") {
        return fill(t.nothing_to_approve, &[("percent", percent)]);
    }
    if let Some(percent) = between(message, "a discount above ", " % needs") {
        return fill(t.needs_approval, &[("percent", percent)]);
    }
    let known = match message {
        "is required to sign" => t.sign_date_required,
        "name who signed" => t.signatories_required,
        "cannot be before the start date" => t.end_before_start,
        "say why the discount is rejected" => t.reject_needs_reason,
        "the validity date has already passed" => t.validity_passed,
        "a quote needs at least one option" => t.one_option,
        "an option needs at least one line" => t.one_line,
        "must be at least 1" => t.at_least_one,
        "a price cannot be negative" => t.price_negative,
        "must be between 1 and 5" => t.intent_range,
        "too long" => ctx.t.crm.too_long,
        m if m.starts_with("a discount cannot") => t.discount_range,
        _ => return crate::pages::crm::translate(ctx.t, message),
    };
    known.to_string()
}

/// A conflict the domain reports about a record's state (not a stale read) in the page's
/// language; `None` for a stale read or an unknown one.
fn conflict(ctx: &Ctx, message: &str) -> Option<String> {
    let t = deal_forms::of(ctx.locale);
    if let Some(rest) = message.strip_prefix("quote version ") {
        if let Some((number, status)) =
            between(rest, "", " and can no longer change").and_then(|r| r.split_once(" is "))
        {
            return Some(fill(t.quote_locked, &[("number", number), ("status", &quote_label(ctx, status))]));
        }
        if let Some(number) = rest.strip_suffix(" has no discount request to decide") {
            return Some(fill(t.no_discount_request, &[("number", number)]));
        }
    }
    if let Some(rest) = message.strip_prefix("contract ")
        && !rest.contains("changed since")
        && let Some((_, status)) = rest.rsplit_once(" is ")
    {
        return Some(fill(t.contract_closed, &[("status", &contract_label(ctx, status))]));
    }
    None
}

/// An amount typed for a milestone, in the contract's currency: required for a payment (and
/// more than zero), optional for a deliverable; anything else beside `key`.
fn milestone_amount(
    f: &Form,
    key: &str,
    payment: bool,
    currency: Currency,
    t: &SellingForms,
    problems: &mut Problems,
) -> Option<Money> {
    let text = get(f, key);
    if text.is_empty() {
        if payment {
            problems.push((key.into(), t.amount_required.into()));
        }
        return None;
    }
    let why = match amount::parse(text, currency) {
        Ok(m) if m.minor == 0 && payment => t.amount_zero.to_string(),
        Ok(m) => return Some(m),
        Err(AmountError::NotANumber) => t.amount_invalid.to_string(),
        Err(AmountError::Negative) => t.amount_negative.to_string(),
        Err(AmountError::TooLarge) => t.amount_too_large.to_string(),
        Err(AmountError::TooManyDecimals(n)) => {
            fill(t.amount_decimals, &[("currency", currency.code()), ("n", &n.to_string())])
        }
    };
    problems.push((key.into(), why));
    None
}

/// One milestone typed into the fields `<prefix>kind`, `title`, `due`, `amount`; `None` when the
/// row is blank or refused (its problems beside its fields).
fn milestone(
    f: &Form,
    prefix: &str,
    currency: Currency,
    t: &SellingForms,
    problems: &mut Problems,
) -> Option<NewMilestone> {
    let key = |field: &str| format!("{prefix}{field}");
    let payment = get(f, &key("kind")) == "payment";
    if ["title", "due", "amount"].iter().all(|k| get(f, &key(k)).is_empty()) {
        return None;
    }
    let before = problems.len();
    let title = get(f, &key("title")).to_string();
    if title.is_empty() {
        problems.push((key("title"), t.required.into()));
    }
    let due = date(f, &key("due"), t, problems);
    if get(f, &key("due")).is_empty() {
        problems.push((key("due"), t.required.into()));
    }
    let amount = milestone_amount(f, &key("amount"), payment, currency, t, problems);
    let kind = if payment { MilestoneKind::Payment } else { MilestoneKind::Deliverable };
    match due {
        Some(due_date) if problems.len() == before => Some(NewMilestone { kind, title, due_date, amount }),
        _ => None,
    }
}

async fn fix(ctx: &Ctx, s: &AppState, id: DealId, form: Form, problems: Problems) -> Response {
    refuse(ctx, s, id, form, problems, Notice::error(ctx.t.common.fix_errors)).await
}

// -------------------------------------------------------------------------------------------
// Needs analysis

fn needs_input(f: &Form, t: &SellingForms, problems: &mut Problems) -> NeedsInput {
    let currency = Currency::parse(get(f, "needs_currency")).unwrap_or(Currency::CNY);
    let budget = match get(f, "needs_budget") {
        "" => None,
        text => {
            amount::parse(text, currency).map_err(|_| problems.push(("needs_budget".into(), t.required.into()))).ok()
        }
    };
    let budget: Option<Money> = budget;
    let purchase_intent = match get(f, "needs_intent") {
        "" => None,
        text => match text.parse::<u8>() {
            Ok(v @ 1..=5) => Some(v),
            _ => {
                problems.push(("needs_intent".into(), t.intent_invalid.into()));
                None
            }
        },
    };
    NeedsInput {
        version: get(f, "needs_version").parse().ok(),
        pain_points: items(get(f, "needs_pain")),
        requirements: items(get(f, "needs_requirements")),
        budget,
        decision_maker: get(f, "needs_decision").to_string(),
        authority: match get(f, "needs_authority") {
            "decides" => Some(Authority::Decides),
            "influences" => Some(Authority::Influences),
            "unknown" => Some(Authority::Unknown),
            _ => None,
        },
        timeline: date(f, "needs_timeline", t, problems),
        purchase_intent,
        competitors: items(get(f, "needs_competitors")),
        notes: get(f, "needs_notes").replace("\r\n", "\n"),
    }
}

fn needs_field(domain: &str) -> String {
    let key = match domain.split(['.', '[']).next().unwrap_or("") {
        "pain_points" => "needs_pain",
        "requirements" => "needs_requirements",
        "budget" => "needs_budget",
        "decision_maker" => "needs_decision",
        "timeline" => "needs_timeline",
        "purchase_intent" => "needs_intent",
        "competitors" => "needs_competitors",
        "notes" => "needs_notes",
        _ => "needs_form",
    };
    key.into()
}

async fn needs(ctx: Ctx, State(s): State<AppState>, Path(raw): Path<String>, body: Bytes) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let form = parse(&body);
    let mut problems = Vec::new();
    let input = needs_input(&form, deal_forms::of(ctx.locale), &mut problems);
    if !problems.is_empty() {
        return fix(&ctx, &s, id, form, problems).await;
    }
    let result = ctx.guarded(&s).save_needs(id, &input, s.clock.now()).await;
    answer(&ctx, &s, id, form, result, needs_field, "#deal-selling").await
}

// -------------------------------------------------------------------------------------------
// Quotes

/// A new draft from the products ticked (recommended or from the catalog): one option per
/// product, cheapest first, or one option with every product; priced from the chosen price
/// book, else at list price (the domain's `content_from_products`, as the API's).
async fn draft(ctx: Ctx, State(s): State<AppState>, Path(raw): Path<String>, body: Bytes) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let form = parse(&body);
    let t = deal_forms::of(ctx.locale);
    let g = ctx.guarded(&s);
    let now = s.clock.now();
    let mut picked: Vec<i64> = Vec::new();
    for pid in form.iter().filter(|(k, _)| k == "product").filter_map(|(_, v)| v.parse().ok()) {
        if !picked.contains(&pid) {
            picked.push(pid);
        }
    }
    if picked.is_empty() {
        return fix(&ctx, &s, id, form, vec![("draft_form".into(), t.draft_choose.into())]).await;
    }
    let book = match get(&form, "price_book") {
        "" => None,
        name => Some(name.to_string()),
    };
    let req = QuoteFromProducts {
        items: picked.iter().map(|p| ProductQuantity { product_id: ProductId(*p), quantity: 1 }).collect(),
        price_book: book.clone(),
        options: if get(&form, "draft_layout") == "one" { OptionLayout::One } else { OptionLayout::Each },
        language: Some(ctx.locale.tag().to_string()),
    };
    let result = g.draft_from_products(id, &req, now).await;
    // A product the book has no price for: said in the page's words, naming its SKU.
    if let (Err(Error::Invalid(errs)), Some(name)) = (&result, &book)
        && errs.iter().any(|e| e.field == "price_book")
    {
        let (products, books) = match (g.products().await, g.price_books().await) {
            (Ok(p), Ok(b)) => (p, b),
            (Err(e), _) | (_, Err(e)) => return error_page(&ctx, e),
        };
        let book = books.into_iter().find(|b| &b.name == name);
        let missing: Vec<String> = products
            .iter()
            .filter(|p| picked.contains(&p.id.0))
            .filter(|p| book.is_some() && unit_price(book.as_ref(), &p.spec).is_none())
            .map(|p| fill(t.no_book_price, &[("sku", &p.spec.sku)]))
            .collect();
        if !missing.is_empty() {
            return fix(&ctx, &s, id, form, vec![("price_book".into(), missing.join(" "))]).await;
        }
    }
    // A product gone from the catalog since the page was shown.
    if let Err(Error::Invalid(errs)) = &result
        && errs.iter().all(|e| e.field.starts_with("items"))
    {
        return fix(&ctx, &s, id, form, vec![("draft_form".into(), t.product_unknown.into())]).await;
    }
    let field = |domain: &str| if domain == "price_book" { "price_book".into() } else { "draft_form".into() };
    answer(&ctx, &s, id, form, result, field, "#deal-quotes").await
}

fn quote_number(raw: &str) -> Option<i32> {
    raw.parse().ok().filter(|n| *n > 0)
}

async fn edit_draft(
    ctx: Ctx,
    State(s): State<AppState>,
    Path((raw, number)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let Some(n) = quote_number(&number) else { return not_found(&ctx, &raw) };
    let form = parse(&body);
    let t = deal_forms::of(ctx.locale);
    let g = ctx.guarded(&s);
    let now = s.clock.now();
    let quotes = match g.quotes(id, now).await {
        Ok(q) => q,
        Err(e) => return error_page(&ctx, e),
    };
    let Some(q) = quotes.into_iter().find(|q| q.number == n) else {
        return error_page(&ctx, Error::not_found("quote", n));
    };
    let mut content = q.content.clone();
    let currency = content.currency;
    let zh = content.language != "en";
    let mut problems: Problems = Vec::new();
    // The catalog, only when a line or an option is added from it.
    let adding = form.iter().any(|(k, v)| {
        !v.trim().is_empty() && (k == &format!("q{n}_newopt") || k.starts_with(&format!("q{n}_addprod_")))
    });
    let (products, book) = if adding {
        let products = match g.products().await {
            Ok(p) => p,
            Err(e) => return error_page(&ctx, e),
        };
        // The book the version was drafted from, if it is still kept.
        let book = match &q.price_book {
            Some(name) => match g.price_books().await {
                Ok(books) => books.into_iter().find(|b| &b.name == name),
                Err(e) => return error_page(&ctx, e),
            },
            None => None,
        };
        (products, book)
    } else {
        (Vec::new(), None)
    };
    // A catalog product and a quantity from two fields, priced from the version's price book
    // (a product it lacks: at list price) in the quote's currency; `None` when the product
    // field is empty.
    let pick = |product_key: &str, qty_key: &str, problems: &mut Problems| -> Option<QuoteLine> {
        let text = get(&form, product_key);
        if text.is_empty() {
            return None;
        }
        let quantity = match get(&form, qty_key) {
            "" => 1,
            q => match q.parse::<i64>() {
                Ok(q) if (1..=MAX_QUANTITY).contains(&q) => q,
                _ => {
                    problems.push((qty_key.to_string(), t.quantity_invalid.into()));
                    return None;
                }
            },
        };
        let Some(p) = text.parse::<i64>().ok().and_then(|pid| products.iter().find(|p| p.id.0 == pid && p.active))
        else {
            problems.push((product_key.to_string(), t.product_unknown.into()));
            return None;
        };
        let priced = book.as_ref().and_then(|b| unit_price(Some(b), &p.spec)).or(Some(p.spec.list_price));
        match priced.filter(|m| m.currency == currency) {
            Some(price) => Some(product_line(p, quantity, price, zh)),
            None => {
                problems.push((product_key.to_string(), fill(t.list_price_currency, &[("sku", &p.spec.sku)])));
                None
            }
        }
    };
    for (oi, o) in content.options.iter_mut().enumerate() {
        let key = format!("q{n}_disc_{oi}");
        match percent_bp(get(&form, &key)) {
            Some(bp) => o.discount_bp = bp,
            None => problems.push((key, t.percent_invalid.into())),
        }
        for (li, l) in o.lines.iter_mut().enumerate() {
            let key = format!("q{n}_qty_{oi}_{li}");
            match get(&form, &key).parse::<i64>() {
                Ok(q) if q > 0 => l.quantity = q,
                _ => problems.push((key, t.quantity_invalid.into())),
            }
            let key = format!("q{n}_ldisc_{oi}_{li}");
            match percent_bp(get(&form, &key)) {
                Some(bp) => l.discount_bp = bp,
                None => problems.push((key, t.percent_invalid.into())),
            }
            // Unit price and tax rate: a form without the field leaves them as they are.
            let key = format!("q{n}_price_{oi}_{li}");
            if sent(&form, &key) {
                match amount::parse(get(&form, &key), currency) {
                    Ok(m) => l.unit_price = m,
                    Err(_) => problems.push((key, t.price_invalid.into())),
                }
            }
            let key = format!("q{n}_tax_{oi}_{li}");
            if sent(&form, &key) {
                match percent_bp(get(&form, &key)) {
                    Some(bp) => l.tax_rate_bp = bp,
                    None => problems.push((key, t.tax_invalid.into())),
                }
            }
        }
        // Lines ticked for removal go; a line added from the catalog joins.
        let mut li = 0;
        o.lines.retain(|_| {
            li += 1;
            get(&form, &format!("q{n}_rmline_{oi}_{}", li - 1)) != "true"
        });
        let dropped = get(&form, &format!("q{n}_drop_{oi}")) == "true";
        if let Some(line) = pick(&format!("q{n}_addprod_{oi}"), &format!("q{n}_addqty_{oi}"), &mut problems) {
            o.lines.push(line);
        }
        if o.lines.is_empty() && !dropped {
            problems.push((format!("q{n}_lines_{oi}"), t.keep_one_line.into()));
        }
    }
    // The recommended option, by its index on the form.
    match get(&form, &format!("q{n}_rec")).parse::<usize>().ok().and_then(|i| content.options.get(i)) {
        Some(o) => content.recommended = Some(o.key.clone()),
        None if sent(&form, &format!("q{n}_rec")) && !get(&form, &format!("q{n}_rec")).is_empty() => {
            problems.push((format!("q{n}_rec"), t.recommended_invalid.into()))
        }
        None => {}
    }
    // Options ticked for removal go; at least one must stay.
    let keep: Vec<bool> =
        (0..content.options.len()).map(|oi| get(&form, &format!("q{n}_drop_{oi}")) != "true").collect();
    if !keep.contains(&true) {
        problems.push((format!("q{n}_form"), t.keep_one_option.into()));
    }
    let mut index = 0;
    content.options.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    if content.recommended.as_ref().is_some_and(|r| !content.options.iter().any(|o| &o.key == r)) {
        content.recommended = None;
    }
    // A new option of one catalog product, keyed by its SKU (numbered when the key is taken).
    if let Some(line) = pick(&format!("q{n}_newopt"), &format!("q{n}_newoptqty"), &mut problems)
        && let Some(p) = products.iter().find(|p| Some(p.id) == line.product_id)
    {
        let mut option = product_option(p, line.quantity, line.unit_price, zh);
        let base = option.key.clone();
        let mut i = 1;
        while content.options.iter().any(|o| o.key == option.key) {
            i += 1;
            option.key = format!("{base}-{i}");
        }
        content.options.push(option);
    }
    content.payment_terms = get(&form, &format!("q{n}_payment")).to_string();
    content.after_sales_terms = get(&form, &format!("q{n}_after")).to_string();
    match date(&form, &format!("q{n}_valid"), t, &mut problems) {
        Some(d) => content.valid_until = d,
        None if get(&form, &format!("q{n}_valid")).is_empty() => {
            problems.push((format!("q{n}_valid"), t.required.into()))
        }
        None => {}
    }
    if !problems.is_empty() {
        return fix(&ctx, &s, id, form, problems).await;
    }
    let version = get(&form, &format!("q{n}_version")).parse().unwrap_or(-1);
    let result = g.edit_quote(id, n, QuoteEdit { version, content }, now).await;
    let field = move |domain: &str| {
        if domain == "recommended" {
            format!("q{n}_rec")
        } else if domain.contains("valid_until") {
            format!("q{n}_valid")
        } else if domain.contains("payment_terms") {
            format!("q{n}_payment")
        } else if domain.contains("after_sales") {
            format!("q{n}_after")
        } else {
            format!("q{n}_form")
        }
    };
    answer(&ctx, &s, id, form, result, field, "#deal-quotes").await
}

async fn discount(
    ctx: Ctx,
    State(s): State<AppState>,
    Path((raw, number)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let Some(n) = quote_number(&number) else { return not_found(&ctx, &raw) };
    let form = parse(&body);
    let g = ctx.guarded(&s);
    let now = s.clock.now();
    let version = get(&form, &format!("q{n}_version")).parse().unwrap_or(-1);
    let result = match get(&form, "action") {
        "request" => {
            let req = DiscountAction { version, approve: None, comment: get(&form, &format!("q{n}_comment")).into() };
            g.request_discount(id, n, &req, s.selling.approval_threshold_bp, now).await
        }
        decision => {
            let comment = get(&form, &format!("q{n}_decision")).to_string();
            let req = DiscountAction { version, approve: Some(decision == "approve"), comment };
            g.decide_discount(id, n, &req, now).await
        }
    };
    answer(&ctx, &s, id, form, result, |_| format!("q{n}_form"), "#deal-quotes").await
}

/// Sends a draft and shows the customer's link on the page this once (no redirect: the link
/// must not end up in a URL or the history).
async fn send(
    ctx: Ctx,
    State(s): State<AppState>,
    Path((raw, number)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let Some(n) = quote_number(&number) else { return not_found(&ctx, &raw) };
    let form = parse(&body);
    let t = deal_forms::of(ctx.locale);
    let g = ctx.guarded(&s);
    let now = s.clock.now();
    let token = new_secret("q_");
    let version = get(&form, &format!("q{n}_version")).parse().unwrap_or(-1);
    let sending = Sending { version, threshold_bp: s.selling.approval_threshold_bp, token_hash: token_hash(&token) };
    match g.send_quote(id, n, &sending, now).await {
        Ok(_) => {}
        // The domain's reasons in the page's words.
        Err(Error::Invalid(errs)) => {
            let threshold = super::selling::bp_text(s.selling.approval_threshold_bp);
            let problems = errs
                .into_iter()
                .map(|e| {
                    let message = match e.field.as_str() {
                        "discount" => fill(t.needs_approval, &[("percent", &threshold)]),
                        "content.valid_until" => t.validity_passed.to_string(),
                        _ => say(&ctx, &e.message),
                    };
                    (format!("q{n}_form"), message)
                })
                .collect();
            return fix(&ctx, &s, id, form, problems).await;
        }
        Err(e) => return answer::<()>(&ctx, &s, id, form, Err(e), |_| format!("q{n}_form"), "#deal-quotes").await,
    }
    let moved = match g.advance_after_send(id, n, now).await {
        Ok(m) => m,
        Err(e) => return error_page(&ctx, e),
    };
    let loaded = match load(&ctx, &s, id).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, e),
    };
    let note = match (&moved.deal_moved_to, moved.deal_not_moved.is_empty()) {
        (Some(to), _) => {
            let name = loaded.process.definition.node(to).map(|n| n.name.clone()).unwrap_or_else(|| to.clone());
            fill(t.sent_moved, &[("to", &name)])
        }
        (None, false) => fill(t.sent_not_moved, &[("why", &moved.deal_not_moved.join("; "))]),
        (None, true) => String::new(),
    };
    let message = fill(t.sent_link, &[("number", &n.to_string())]);
    let notice = Notice { kind: "ok", text: message.clone() };
    let mut p = DealPage::new(&ctx, &loaded, Some(notice));
    p.selling.sent = Some((message, s.selling.customer_link(&headers, &token, s.auth.secure_cookies), note));
    page(&p, StatusCode::OK)
}

// -------------------------------------------------------------------------------------------
// Contracts

async fn new_contract(ctx: Ctx, State(s): State<AppState>, Path(raw): Path<String>, body: Bytes) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let form = parse(&body);
    let t = deal_forms::of(ctx.locale);
    let mut problems = Vec::new();
    for key in ["c_seller", "c_buyer"] {
        if get(&form, key).is_empty() {
            problems.push((key.to_string(), t.required.to_string()));
        }
    }
    let start_date = date(&form, "c_start", t, &mut problems);
    let end_date = date(&form, "c_end", t, &mut problems);
    let quote_number: i32 = get(&form, "c_quote").parse().unwrap_or(0);
    let g = ctx.guarded(&s);
    let now = s.clock.now();
    // Amounts are in the accepted quote's currency.
    let currency = match g.quotes(id, now).await {
        Ok(q) => q.iter().find(|q| q.number == quote_number).map_or(Currency::CNY, |q| q.content.currency),
        Err(e) => return error_page(&ctx, e),
    };
    // The initial milestones: blank rows are skipped; `rows[i]` is the form row of milestone `i`.
    let mut milestones = Vec::new();
    let mut rows = Vec::new();
    for row in 0..super::selling::INITIAL_MILESTONES {
        if let Some(m) = milestone(&form, &format!("c_ms{row}_"), currency, t, &mut problems) {
            milestones.push(m);
            rows.push(row);
        }
    }
    if !problems.is_empty() {
        return fix(&ctx, &s, id, form, problems).await;
    }
    let new = NewContract {
        quote_number,
        seller: get(&form, "c_seller").into(),
        buyer: get(&form, "c_buyer").into(),
        start_date,
        end_date,
        milestones,
    };
    let result = g.create_contract(id, &new, now).await;
    let field = move |domain: &str| {
        if let Some(rest) = domain.strip_prefix("milestones[")
            && let Some((i, tail)) = rest.split_once(']')
        {
            let row = i.parse::<usize>().ok().and_then(|i| rows.get(i).copied()).unwrap_or(0);
            let f = if tail.starts_with(".amount") { "amount" } else { "title" };
            return format!("c_ms{row}_{f}");
        }
        match domain {
            "seller" => "c_seller",
            "buyer" => "c_buyer",
            "end_date" => "c_end",
            _ => "c_form",
        }
        .to_string()
    };
    answer(&ctx, &s, id, form, result, field, "#deal-contracts").await
}

/// One contract form, three buttons: step the status, add a milestone, tick one done or paid.
async fn contract(
    ctx: Ctx,
    State(s): State<AppState>,
    Path((raw, contract)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let Ok(c) = contract.parse::<i64>() else { return not_found(&ctx, &raw) };
    let form = parse(&body);
    let t = deal_forms::of(ctx.locale);
    let k = |f: &str| format!("k{c}_{f}");
    let mut problems = Vec::new();
    let mut patch = ContractPatch { version: get(&form, &k("version")).parse().unwrap_or(-1), ..Default::default() };
    match get(&form, "action") {
        "status" => {
            patch.status = ContractStatus::parse(get(&form, &k("status")));
            if patch.status == Some(ContractStatus::Signed) {
                patch.signed_date = date(&form, &k("signed"), t, &mut problems);
                let names = items(get(&form, &k("signatories")));
                patch.signatories = (!names.is_empty()).then_some(names);
            }
        }
        "milestone" => {
            // The amount is in the contract's currency.
            let currency = match ctx.guarded(&s).contracts(id, s.clock.now()).await {
                Ok(all) => match all.into_iter().find(|x| x.id == ContractId(c)) {
                    Some(x) => x.totals.currency,
                    None => return error_page(&ctx, Error::not_found("contract", c)),
                },
                Err(e) => return error_page(&ctx, e),
            };
            let prefix = k("ms_");
            let blank = ["title", "due", "amount"].iter().all(|f| get(&form, &format!("{prefix}{f}")).is_empty());
            if blank {
                problems.push((k("ms_title"), t.required.into()));
                problems.push((k("ms_due"), t.required.into()));
            } else if let Some(m) = milestone(&form, &prefix, currency, t, &mut problems) {
                patch.add_milestones.push(m);
            }
        }
        _ => patch.complete_milestones = get(&form, "done").parse().ok().into_iter().collect(),
    }
    if !problems.is_empty() {
        return fix(&ctx, &s, id, form, problems).await;
    }
    let result = ctx.guarded(&s).update_contract(id, ContractId(c), &patch, s.clock.now()).await;
    let field = move |domain: &str| {
        let f = match domain.split(['.', '[']).next().unwrap_or("") {
            "signed_date" => "signed",
            "signatories" => "signatories",
            "status" => "status",
            "add_milestones" if domain.contains(".amount") => "ms_amount",
            "add_milestones" => "ms_title",
            _ => "form",
        };
        format!("k{c}_{f}")
    };
    answer(&ctx, &s, id, form, result, field, "#deal-contracts").await
}

// -------------------------------------------------------------------------------------------
// Objections and the playbook

async fn new_objection(ctx: Ctx, State(s): State<AppState>, Path(raw): Path<String>, body: Bytes) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let form = parse(&body);
    let t = deal_forms::of(ctx.locale);
    let Some(kind) = super::selling::parse_kind(get(&form, "o_kind")) else {
        return fix(&ctx, &s, id, form, vec![("o_kind".into(), t.required.into())]).await;
    };
    if get(&form, "o_text").is_empty() {
        return fix(&ctx, &s, id, form, vec![("o_text".into(), t.required.into())]).await;
    }
    let new = NewObjection {
        kind,
        text: get(&form, "o_text").into(),
        answer: get(&form, "o_answer").into(),
        resolved: get(&form, "o_resolved") == "true",
    };
    let result = ctx.guarded(&s).raise_objection(id, new, s.clock.now()).await;
    let field = |domain: &str| if domain == "answer" { "o_answer".into() } else { "o_text".to_string() };
    answer(&ctx, &s, id, form, result, field, "#deal-objections").await
}

async fn objection(
    ctx: Ctx,
    State(s): State<AppState>,
    Path((raw, objection)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let Ok(o) = objection.parse::<i64>() else { return not_found(&ctx, &raw) };
    let form = parse(&body);
    let answer_text = get(&form, &format!("o{o}_answer"));
    let patch = ObjectionPatch {
        version: get(&form, &format!("o{o}_version")).parse().unwrap_or(-1),
        answer: (!answer_text.is_empty()).then(|| answer_text.to_string()),
        resolved: Some(true),
    };
    let result = ctx.guarded(&s).update_objection(id, o, &patch, s.clock.now()).await;
    answer(&ctx, &s, id, form, result, move |_| format!("o{o}_answer"), "#deal-objections").await
}

/// Managers add an entry to the current stage's playbook or remove one.
async fn playbook(ctx: Ctx, State(s): State<AppState>, Path(raw): Path<String>, body: Bytes) -> Response {
    let Some(id) = deal_id(&raw) else { return not_found(&ctx, &raw) };
    let form = parse(&body);
    let t = deal_forms::of(ctx.locale);
    let g = ctx.guarded(&s);
    let now = s.clock.now();
    if !matches!(g.scope().role, Role::Admin | Role::Manager) {
        return refuse(&ctx, &s, id, form, Vec::new(), Notice::error(t.forbidden)).await;
    }
    let deal = match g.deal(id, now).await {
        Ok(d) => d,
        Err(e) => return error_page(&ctx, e),
    };
    let current = match g.playbook(deal.process_id, &deal.current_node).await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let mut entries = current.as_ref().map(|p| p.entries.clone()).unwrap_or_default();
    if let Ok(i) = get(&form, "pb_remove").parse::<usize>() {
        if i < entries.len() {
            entries.remove(i);
        }
    } else {
        let mut problems = Vec::new();
        for key in ["pb_objection", "pb_answer"] {
            if get(&form, key).is_empty() {
                problems.push((key.to_string(), t.required.to_string()));
            }
        }
        let kind = super::selling::parse_kind(get(&form, "pb_kind"));
        if kind.is_none() {
            problems.push(("pb_kind".into(), t.required.into()));
        }
        if let (Some(kind), true) = (kind, problems.is_empty()) {
            entries.push(PlaybookEntry {
                kind,
                objection: get(&form, "pb_objection").into(),
                answer: get(&form, "pb_answer").into(),
                evidence: get(&form, "pb_evidence").into(),
            });
        } else {
            return fix(&ctx, &s, id, form, problems).await;
        }
    }
    let input = PlaybookInput { version: current.as_ref().map(|p| p.version), entries };
    let result = g.save_playbook(deal.process_id, &deal.current_node, &input, now).await;
    answer(&ctx, &s, id, form, result, |_| "pb_objection".into(), "#deal-playbook").await
}

#[cfg(test)]
mod tests {
    use super::{items, percent_bp};

    #[test]
    fn percentages_and_lists() {
        assert_eq!(percent_bp("12"), Some(1_200));
        assert_eq!(percent_bp("12.5 %"), Some(1_250));
        assert_eq!(percent_bp(""), Some(0));
        for bad in ["-1", "101", "1.234", "abc"] {
            assert_eq!(percent_bp(bad), None, "{bad}");
        }
        assert_eq!(items("报表\r\n审批，移动端\n\n"), vec!["报表", "审批，移动端"]);
    }
}
