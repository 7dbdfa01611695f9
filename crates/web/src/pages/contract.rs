//! A contract as a printable document (browsers save it as PDF): parties, items and amounts
//! exactly as accepted, terms, signing and milestones, in the reader's language.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use salesflow_domain::Error;
use salesflow_domain::currency::Money;
use salesflow_domain::ids::{ContractId, DealId};

use super::{Ctx, error_page, format, render};
use crate::AppState;
use crate::i18n::deal::fill;
use crate::i18n::quote::QuoteTexts;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default().get("/deals/{id}/contracts/{contract}/print", print)
}

struct Line {
    name: String,
    unit: String,
    quantity: i64,
    unit_price: String,
    discount: String,
    net: String,
}

#[derive(Template)]
#[template(path = "contract_print.html")]
struct ContractPrint {
    lang: &'static str,
    t: &'static QuoteTexts,
    deal_id: i64,
    contract_id: i64,
    deal_title: String,
    number: String,
    from_quote: String,
    seller: String,
    buyer: String,
    term: String,
    signed_on: String,
    signatories: String,
    lines: Vec<Line>,
    subtotal: String,
    total_discount: Option<String>,
    tax: String,
    total: String,
    payment_terms: String,
    after_sales_terms: String,
    /// Title, due date, amount, done or open.
    milestones: Vec<(String, String, String, &'static str)>,
}

async fn print(ctx: Ctx, State(s): State<AppState>, Path((id, contract)): Path<(i64, i64)>) -> Response {
    let (deal_id, contract_id) = (DealId(id), ContractId(contract));
    let g = ctx.guarded(&s);
    let now = s.clock.now();
    let loaded = async {
        let deal = g.deal(deal_id, now).await?;
        let c = g.contracts(deal_id, now).await?.into_iter().find(|c| c.id == contract_id);
        Ok::<_, Error>((deal, c.ok_or_else(|| Error::not_found("contract", contract))?))
    };
    let (deal, c) = match loaded.await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let locale = ctx.locale;
    let t = ctx.t.quote;
    let currency = c.totals.currency;
    let money = |minor: i64| format::money(&Money { minor, currency }, locale);
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| format::date(d, locale)).unwrap_or_default();
    let term = match (c.start_date, c.end_date) {
        (None, None) => String::new(),
        (a, b) => format!("{} – {}", date(a), date(b)),
    };
    let page = ContractPrint {
        lang: locale.tag(),
        t,
        deal_id: id,
        contract_id: contract,
        deal_title: deal.title,
        number: c.number.clone(),
        from_quote: fill(t.from_quote, &[("number", &c.quote_number.to_string()), ("option", &c.option)]),
        seller: c.seller.clone(),
        buyer: c.buyer.clone(),
        term,
        signed_on: date(c.signed_date),
        signatories: c.signatories.join(if locale == crate::i18n::Locale::ZhCn { "、" } else { ", " }),
        lines: c
            .items
            .iter()
            .map(|i| Line {
                name: i.line.name.clone(),
                unit: i.line.unit.clone(),
                quantity: i.line.quantity,
                unit_price: format::money(&i.line.unit_price, locale),
                discount: format::discount(i.line.discount_bp),
                net: money(i.amounts.net),
            })
            .collect(),
        subtotal: money(c.totals.subtotal),
        total_discount: (c.totals.total_discount > 0).then(|| money(c.totals.total_discount)),
        tax: money(c.totals.tax),
        total: money(c.totals.total),
        payment_terms: c.payment_terms.clone(),
        after_sales_terms: c.after_sales_terms.clone(),
        milestones: c
            .milestones
            .iter()
            .map(|m| {
                let amount = m.spec.amount.map(|a| format::money(&a, locale)).unwrap_or_default();
                let state = if m.done_at.is_some() { t.milestone_done } else { t.milestone_open };
                (m.spec.title.clone(), format::date(m.spec.due_date, locale), amount, state)
            })
            .collect(),
    };
    render(&page)
}
