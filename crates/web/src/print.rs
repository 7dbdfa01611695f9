//! Quotes and contracts as PDF files (`salesflow-print` lays them out): the same words and
//! amounts as their printable pages, in the reader's language.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use salesflow_domain::Error;
use salesflow_domain::currency::Money;
use salesflow_domain::guard::{CustomerQuote, Guarded};
use salesflow_domain::ids::{ContractId, DealId};
use salesflow_domain::selling::contract::Contract;
use salesflow_domain::selling::pricing::{QuoteLine, Totals};
use salesflow_domain::selling::quote::Quote;
use salesflow_print::{Block, Document};

use crate::i18n::Locale;
use crate::i18n::deal::fill;
use crate::pages::format;
use crate::problem::ApiError;

/// The item table and totals of one option (or of a contract's accepted option).
fn items<'a>(lines: impl Iterator<Item = &'a QuoteLine>, totals: &Totals, locale: Locale) -> [Block; 2] {
    let t = locale.texts().quote;
    let money = |minor: i64| format::money(&Money { minor, currency: totals.currency }, locale);
    let rows = lines
        .zip(&totals.lines)
        .map(|(l, a)| {
            let name = if l.unit.is_empty() { l.name.clone() } else { format!("{} / {}", l.name, l.unit) };
            vec![
                name,
                l.quantity.to_string(),
                format::money(&l.unit_price, locale),
                format::discount(l.discount_bp),
                money(a.net),
            ]
        })
        .collect();
    let mut sums = vec![(t.subtotal.to_string(), money(totals.subtotal))];
    if totals.total_discount > 0 {
        sums.push((t.total_discount.to_string(), format!("−{}", money(totals.total_discount))));
    }
    sums.push((t.tax.to_string(), money(totals.tax)));
    sums.push((t.total.to_string(), money(totals.total)));
    [
        Block::Table {
            header: [t.item, t.quantity, t.unit_price, t.line_discount, t.amount].map(String::from).to_vec(),
            rows,
            widths: vec![5.0, 1.2, 2.2, 1.3, 2.4],
            right: vec![false, true, true, true, true],
        },
        Block::Totals(sums),
    ]
}

fn terms(payment: &str, after_sales: &str, locale: Locale) -> Option<Block> {
    let t = locale.texts().quote;
    let rows: Vec<(String, String)> = [(t.payment_terms, payment), (t.after_sales_terms, after_sales)]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (!rows.is_empty()).then_some(Block::Fields(rows))
}

/// A quote version as the customer sees it: every option with its items and totals, the
/// recommended one marked, then the terms.
pub fn quote(q: &CustomerQuote, footer: &str, locale: Locale) -> Document {
    let t = locale.texts().quote;
    let version = fill(t.version, &[("number", &q.number.to_string())]);
    let recommended = q.content.recommended_index();
    let mut blocks = Vec::new();
    for (i, (o, totals)) in q.content.options.iter().zip(&q.totals).enumerate() {
        let name = if i == recommended && q.content.options.len() > 1 {
            if locale == Locale::ZhCn {
                format!("{}（{}）", o.name, t.recommended)
            } else {
                format!("{} ({})", o.name, t.recommended.to_lowercase())
            }
        } else {
            o.name.clone()
        };
        blocks.push(Block::Heading(name));
        blocks.extend(items(o.lines.iter(), totals, locale));
    }
    blocks.extend(terms(&q.content.payment_terms, &q.content.after_sales_terms, locale));
    Document {
        title: format!("{} · {version}", t.title),
        subtitle: fill(t.valid_until, &[("date", &format::date(q.content.valid_until, locale))]),
        language: locale.tag().to_string(),
        blocks,
        footer: footer.to_string(),
    }
}

/// A contract: parties and dates, the accepted items and amounts exactly, terms, milestones.
pub fn contract(c: &Contract, locale: Locale) -> Document {
    let t = locale.texts().quote;
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| format::date(d, locale)).unwrap_or_default();
    let mut parties = vec![(t.seller.to_string(), c.seller.clone()), (t.buyer.to_string(), c.buyer.clone())];
    if c.start_date.is_some() || c.end_date.is_some() {
        parties.push((t.term.to_string(), format!("{} – {}", date(c.start_date), date(c.end_date))));
    }
    if c.signed_date.is_some() {
        parties.push((t.signed_on.to_string(), date(c.signed_date)));
    }
    if !c.signatories.is_empty() {
        let sep = if locale == Locale::ZhCn { "、" } else { ", " };
        parties.push((t.signatories.to_string(), c.signatories.join(sep)));
    }
    let mut blocks = vec![Block::Fields(parties)];
    blocks.extend(items(c.items.iter().map(|i| &i.line), &c.totals, locale));
    blocks.extend(terms(&c.payment_terms, &c.after_sales_terms, locale));
    if !c.milestones.is_empty() {
        blocks.push(Block::Heading(t.milestones.to_string()));
        let rows = c
            .milestones
            .iter()
            .map(|m| {
                vec![
                    m.spec.title.clone(),
                    format::date(m.spec.due_date, locale),
                    m.spec.amount.map(|a| format::money(&a, locale)).unwrap_or_default(),
                    if m.done_at.is_some() { t.milestone_done } else { t.milestone_open }.to_string(),
                ]
            })
            .collect();
        blocks.push(Block::Table {
            header: vec![t.item.into(), t.due.into(), t.amount.into(), String::new()],
            rows,
            widths: vec![5.0, 2.2, 2.4, 1.6],
            right: vec![false, false, true, false],
        });
    }
    Document {
        title: format!("{} {}", t.contract_title, c.number),
        subtitle: fill(t.from_quote, &[("number", &c.quote_number.to_string()), ("option", &c.option)]),
        language: locale.tag().to_string(),
        blocks,
        footer: c.number.clone(),
    }
}

/// The document as a PDF download named `name`; a missing font is a 503 naming what to install.
pub fn response(doc: &Document, name: &str) -> Response {
    match salesflow_print::pdf(doc) {
        Ok(bytes) => {
            let mut res = bytes.into_response();
            let headers = res.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
            let safe: String =
                name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
            if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{safe}\"")) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "PDF not written");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "pdf-unavailable", "PDF unavailable", e.to_string())
                .into_response()
        }
    }
}

/// The language asked for (`?lang=`), else `fallback`.
fn language(asked: Option<&str>, fallback: Locale) -> Locale {
    asked.and_then(Locale::parse).unwrap_or(fallback)
}

/// A deal's quote version for whoever may read the deal, in the language asked for, else the
/// quote's own.
pub async fn deal_quote(
    g: &Guarded<'_>,
    deal: DealId,
    number: i32,
    asked: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Response, Error> {
    let q = g.quotes(deal, now).await?.into_iter().find(|q| q.number == number);
    Ok(quote_response(&q.ok_or_else(|| Error::not_found("quote", number))?, asked, now))
}

/// A quote version as the customer sees it, as a PDF download, in the language asked for,
/// else the quote's own; referred to as `报价单 #42-2` by both sides.
pub fn quote_response(q: &Quote, asked: Option<&str>, now: DateTime<Utc>) -> Response {
    let locale = language(asked, Locale::parse(&q.content.language).unwrap_or(Locale::ZhCn));
    let reference = format!("{} #{}-{}", locale.texts().quote.title, q.deal_id.0, q.number);
    let name = format!("quote-{}-{}.pdf", q.deal_id.0, q.number);
    response(&quote(&CustomerQuote::of(q, now), &reference, locale), &name)
}

/// A deal's contract for whoever may read the deal.
pub async fn deal_contract(
    g: &Guarded<'_>,
    deal: DealId,
    id: ContractId,
    locale: Locale,
    now: DateTime<Utc>,
) -> Result<Response, Error> {
    let c = g.contracts(deal, now).await?.into_iter().find(|c| c.id == id);
    let c = c.ok_or_else(|| Error::not_found("contract", id.0))?;
    Ok(response(&contract(&c, locale), &format!("{}.pdf", c.number)))
}
