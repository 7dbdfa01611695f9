//! The customer's quote page, `/q/<token>`: no sign-in, in the quote's language (or the one the
//! customer switches to), the options side by side, accept one or reject with a reason. Forms
//! post back and are answered with a redirect to the page, which then shows the decision.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use salesflow_domain::Error;
use salesflow_domain::currency::Money;
use salesflow_domain::guard::{CustomerDesk, CustomerQuote};
use salesflow_domain::selling::quote::QuoteStatus;
use serde::Deserialize;

use super::{format, render};
use crate::AppState;
use crate::auth::{origin_of, token_hash};
use crate::i18n::Locale;
use crate::i18n::deal::fill;
use crate::i18n::quote::QuoteTexts;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default().get("/q/{token}", page).post("/q/{token}/accept", accept).post("/q/{token}/reject", reject)
}

struct LineView {
    name: String,
    unit: String,
    quantity: i64,
    unit_price: String,
    discount: String,
    net: String,
}

struct OptionView {
    key: String,
    name: String,
    recommended: bool,
    lines: Vec<LineView>,
    subtotal: String,
    total_discount: Option<String>,
    tax: String,
    total: String,
}

struct QuoteView {
    version: String,
    valid_until: String,
    status: &'static str,
    status_text: String,
    open: bool,
    options: Vec<OptionView>,
    payment_terms: String,
    after_sales_terms: String,
}

#[derive(Template)]
#[template(path = "customer_quote.html")]
struct QuotePage<'a> {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static QuoteTexts,
    token: &'a str,
    quote: Option<QuoteView>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn view(q: &CustomerQuote, locale: Locale) -> QuoteView {
    let t = locale.texts().quote;
    let currency = q.content.currency;
    let money = |minor: i64| format::money(&Money { minor, currency }, locale);
    let recommended = q.content.recommended_index();
    let options = q
        .content
        .options
        .iter()
        .zip(&q.totals)
        .enumerate()
        .map(|(i, (o, totals))| OptionView {
            key: o.key.clone(),
            name: o.name.clone(),
            recommended: i == recommended,
            lines: o
                .lines
                .iter()
                .zip(&totals.lines)
                .map(|(l, a)| LineView {
                    name: l.name.clone(),
                    unit: l.unit.clone(),
                    quantity: l.quantity,
                    unit_price: format::money(&l.unit_price, locale),
                    discount: format::discount(l.discount_bp),
                    net: money(a.net),
                })
                .collect(),
            subtotal: money(totals.subtotal),
            total_discount: (totals.total_discount > 0).then(|| money(totals.total_discount)),
            tax: money(totals.tax),
            total: money(totals.total),
        })
        .collect();
    let date = format::date(q.content.valid_until, locale);
    let decision = q.decision.as_ref();
    let option_name = decision
        .and_then(|d| d.option.as_ref())
        .and_then(|k| q.content.options.iter().find(|o| &o.key == k))
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let reason = decision.and_then(|d| d.reason.clone()).unwrap_or_default();
    let status_text = match q.status {
        QuoteStatus::Sent => t.status_sent.to_string(),
        QuoteStatus::Accepted => fill(t.status_accepted, &[("option", &option_name)]),
        QuoteStatus::Rejected => fill(t.status_rejected, &[("reason", &reason)]),
        QuoteStatus::Superseded => t.status_superseded.to_string(),
        QuoteStatus::Expired => fill(t.status_expired, &[("date", &date)]),
        QuoteStatus::Draft => t.status_draft.to_string(),
    };
    QuoteView {
        version: fill(t.version, &[("number", &q.number.to_string())]),
        valid_until: fill(t.valid_until, &[("date", &date)]),
        status: q.status.as_str(),
        status_text,
        open: q.status == QuoteStatus::Sent,
        options,
        payment_terms: q.content.payment_terms.clone(),
        after_sales_terms: q.content.after_sales_terms.clone(),
    }
}

fn page_response(
    status: StatusCode,
    locale: Locale,
    token: &str,
    quote: Option<&CustomerQuote>,
    error: Option<String>,
) -> Response {
    let other = if locale == Locale::ZhCn { Locale::En } else { Locale::ZhCn };
    let page = QuotePage {
        lang: locale.tag(),
        other_lang: other.tag(),
        t: locale.texts().quote,
        token,
        quote: quote.map(|q| view(q, locale)),
        error,
    };
    let mut res = render(&page);
    *res.status_mut() = status;
    res.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    res
}

/// The language asked for, else the quote's own.
fn locale_of(asked: Option<&str>, q: Option<&CustomerQuote>) -> Locale {
    asked.and_then(Locale::parse).or_else(|| q.and_then(|q| Locale::parse(&q.content.language))).unwrap_or(Locale::ZhCn)
}

async fn page(
    parts: Parts,
    State(s): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let origin = origin_of(&parts);
    match CustomerDesk::new(&*s.store, &origin).view(&token_hash(&token), s.clock.now()).await {
        Ok(quote) => {
            page_response(StatusCode::OK, locale_of(q.lang.as_deref(), Some(&quote)), &token, Some(&quote), None)
        }
        Err(Error::NotFound { .. }) => {
            let locale = locale_of(q.lang.as_deref(), None);
            page_response(StatusCode::NOT_FOUND, locale, &token, None, Some(locale.texts().quote.not_found.into()))
        }
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
struct AnswerForm {
    #[serde(default)]
    option: String,
    #[serde(default)]
    reason: String,
}

async fn answer(s: AppState, parts: Parts, token: String, form: AnswerForm, accept: bool) -> Response {
    let origin = origin_of(&parts);
    let desk = CustomerDesk::new(&*s.store, &origin);
    let now = s.clock.now();
    let hash = token_hash(&token);
    let done =
        if accept { desk.accept(&hash, &form.option, now).await } else { desk.reject(&hash, &form.reason, now).await };
    let (status, message) = match done {
        Ok(_) => return Redirect::to(&format!("/q/{token}")).into_response(),
        Err(Error::NotFound { .. }) => (StatusCode::NOT_FOUND, None),
        Err(Error::Conflict(m)) => (StatusCode::CONFLICT, Some(m)),
        Err(Error::Invalid(errs)) => (StatusCode::UNPROCESSABLE_ENTITY, errs.first().map(|e| e.message.clone())),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    // Shown again as it stands, with what went wrong; reading it here records no second visit.
    let quote = s.store.quote_by_token(&hash).await.ok().flatten();
    let seen = quote.as_ref().map(|q| CustomerQuote::of(q, now));
    let locale = locale_of(None, seen.as_ref());
    let t = locale.texts().quote;
    let message = match (status, message) {
        (StatusCode::NOT_FOUND, _) => t.not_found.to_string(),
        (StatusCode::UNPROCESSABLE_ENTITY, _) if !accept => t.reason_required.to_string(),
        (_, m) => m.unwrap_or_default(),
    };
    page_response(status, locale, &token, seen.as_ref(), Some(message))
}

async fn accept(
    parts: Parts,
    State(s): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let form = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    answer(s, parts, token, form, true).await
}

async fn reject(
    parts: Parts,
    State(s): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let form = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    answer(s, parts, token, form, false).await
}
