//! Price books (价目表): the list, a new book and a book's prices by SKU, its currency and
//! customer group. Everyone reads them; managers and admins keep them through
//! `Guarded::save_price_book` (versioned, audited), which refuses anyone else.
//!
//! A book is named once: its name is its key, so the edit form shows it but does not change it.
//! Prices are typed in major units of the book's currency; each row's problem stands beside the
//! row and names it ("第 3 行 …"), a SKU the catalog lacks included.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use salesflow_domain::Error;
use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::records::Role;
use salesflow_domain::selling::catalog::{PriceBook, PriceBookEntry, Product};

use super::crm::{FormErrors, Opt, currency_options, translate};
use super::deal::{AmountError, parse_amount, plain_amount};
use super::{Chrome, Ctx, error_page, format, render};
use crate::AppState;
use crate::i18n::deal::fill;
use crate::i18n::price_books::{self, PriceBookTexts};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .get("/price-books", list)
        .post("/price-books", create)
        .get("/price-books/new", new_form)
        .get("/price-books/{name}", show)
        .post("/price-books/{name}", update)
}

/// Blank rows offered after a book's prices.
const BLANK_ROWS: usize = 3;
/// Rows read from one form at most.
const MAX_ROWS: usize = 1_000;

type Form = Vec<(String, String)>;

fn get<'a>(f: &'a Form, key: &str) -> &'a str {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).unwrap_or("")
}

/// A book's name as one path segment.
pub fn path_of(name: &str) -> String {
    let mut out = String::from("/price-books/");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_editor(ctx: &Ctx) -> bool {
    matches!(ctx.user().role, Role::Admin | Role::Manager)
}

struct BookRow {
    href: String,
    name: String,
    currency: String,
    group: String,
    entries: String,
}

#[derive(Template)]
#[template(path = "price_books.html")]
struct ListPage<'a> {
    chrome: Chrome<'a>,
    t: &'static PriceBookTexts,
    rows: Vec<BookRow>,
    can_edit: bool,
    saved: bool,
}

async fn list(ctx: Ctx, State(s): State<AppState>, axum::extract::RawQuery(q): axum::extract::RawQuery) -> Response {
    let books = match ctx.guarded(&s).price_books().await {
        Ok(b) => b,
        Err(e) => return error_page(&ctx, e),
    };
    let t = price_books::of(ctx.locale);
    let mut rows: Vec<BookRow> = books
        .iter()
        .map(|b| BookRow {
            href: path_of(&b.name),
            name: b.name.clone(),
            currency: b.currency.code().to_string(),
            group: b.customer_group.clone(),
            entries: fill(t.entry_count, &[("n", &b.prices.len().to_string())]),
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    render(&ListPage {
        chrome: ctx.chrome("price-books"),
        t,
        rows,
        can_edit: is_editor(&ctx),
        saved: q.as_deref() == Some("saved"),
    })
}

/// One row of the form: what was typed (or stored), and the catalog's list price beside it.
struct Row {
    sku: String,
    price: String,
    list_price: String,
}

#[derive(Template)]
#[template(path = "price_book.html")]
struct BookPage<'a> {
    chrome: Chrome<'a>,
    t: &'static PriceBookTexts,
    /// `None` for a new book.
    existing: Option<String>,
    action: String,
    name: String,
    currencies: Vec<Opt>,
    group: String,
    version: String,
    rows: Vec<Row>,
    /// SKU and product name of the catalog, for the datalist.
    skus: Vec<(String, String)>,
    can_edit: bool,
    errors: FormErrors,
}

impl BookPage<'_> {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.get(field)
    }

    fn err_row(&self, field: &str, i: &usize) -> Option<String> {
        self.errors.get(&format!("{field}_{i}"))
    }
}

/// What the form shows: a stored book, or what a refused submission typed.
struct Typed {
    name: String,
    currency: String,
    group: String,
    version: String,
    rows: Vec<(String, String)>,
}

impl Typed {
    fn of(b: &PriceBook) -> Self {
        Typed {
            name: b.name.clone(),
            currency: b.currency.code().to_string(),
            group: b.customer_group.clone(),
            version: b.version.map(|v| v.to_string()).unwrap_or_default(),
            rows: b
                .prices
                .iter()
                .map(|e| (e.sku.clone(), plain_amount(&Money { minor: e.unit_price_minor, currency: b.currency })))
                .collect(),
        }
    }

    fn from_form(f: &Form) -> Self {
        let count = f
            .iter()
            .filter_map(|(k, _)| k.strip_prefix("sku_").or_else(|| k.strip_prefix("price_")))
            .filter_map(|i| i.parse::<usize>().ok())
            .filter(|i| *i < MAX_ROWS)
            .map(|i| i + 1)
            .max()
            .unwrap_or(0);
        Typed {
            name: get(f, "name").to_string(),
            currency: get(f, "currency").to_ascii_uppercase(),
            group: get(f, "customer_group").to_string(),
            version: get(f, "version").to_string(),
            rows: (0..count)
                .map(|i| (get(f, &format!("sku_{i}")).to_string(), get(f, &format!("price_{i}")).to_string()))
                .collect(),
        }
    }
}

fn book_page(
    ctx: &Ctx,
    existing: Option<&str>,
    typed: Typed,
    products: &[Product],
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let t = price_books::of(ctx.locale);
    let zh = ctx.locale == crate::i18n::Locale::ZhCn;
    let mut rows: Vec<Row> = typed
        .rows
        .into_iter()
        .map(|(sku, price)| {
            let list_price = products
                .iter()
                .find(|p| p.spec.sku == sku)
                .map(|p| format::money(&p.spec.list_price, ctx.locale))
                .unwrap_or_default();
            Row { sku, price, list_price }
        })
        .collect();
    let blanks = if rows.is_empty() { BLANK_ROWS + 2 } else { BLANK_ROWS };
    if errors.is_empty() || rows.iter().all(|r| !r.sku.is_empty() || !r.price.is_empty()) {
        rows.extend((0..blanks).map(|_| Row { sku: String::new(), price: String::new(), list_price: String::new() }));
    }
    let mut skus: Vec<(String, String)> =
        products.iter().map(|p| (p.spec.sku.clone(), p.name(zh).to_string())).collect();
    skus.sort();
    let page = BookPage {
        chrome: ctx.chrome("price-books"),
        t,
        action: existing.map(path_of).unwrap_or_else(|| "/price-books".into()),
        existing: existing.map(str::to_string),
        name: typed.name,
        currencies: currency_options(&typed.currency),
        group: typed.group,
        version: typed.version,
        rows,
        skus,
        can_edit: is_editor(ctx),
        errors,
    };
    let mut res = render(&page);
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

async fn new_form(ctx: Ctx, State(s): State<AppState>) -> Response {
    if !is_editor(&ctx) {
        return error_page(&ctx, Error::Forbidden("price books are kept by managers".into()));
    }
    let products = match ctx.guarded(&s).products().await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let typed = Typed {
        name: String::new(),
        currency: "CNY".into(),
        group: String::new(),
        version: String::new(),
        rows: vec![],
    };
    book_page(&ctx, None, typed, &products, FormErrors::default(), StatusCode::OK)
}

async fn show(ctx: Ctx, State(s): State<AppState>, Path(name): Path<String>) -> Response {
    let g = ctx.guarded(&s);
    let (books, products) = match tokio::try_join!(g.price_books(), g.products()) {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let Some(book) = books.into_iter().find(|b| b.name == name) else {
        return error_page(&ctx, Error::not_found("price_book", name));
    };
    book_page(&ctx, Some(&book.name), Typed::of(&book), &products, FormErrors::default(), StatusCode::OK)
}

async fn create(ctx: Ctx, State(s): State<AppState>, body: Bytes) -> Response {
    save(ctx, s, None, body).await
}

async fn update(ctx: Ctx, State(s): State<AppState>, Path(name): Path<String>, body: Bytes) -> Response {
    save(ctx, s, Some(name), body).await
}

fn amount_message(e: AmountError, ctx: &Ctx) -> &'static str {
    let c = ctx.t.crm;
    match e {
        AmountError::NotANumber => c.bad_amount,
        AmountError::Negative => c.amount_negative,
        AmountError::TooManyDecimals(_) => c.amount_decimals,
        AmountError::TooLarge => c.amount_too_large,
    }
}

/// Reads the form into a book, every problem beside its field; `rows[i]` is the form row of
/// the book's entry `i`.
fn read(ctx: &Ctx, typed: &Typed, existing: Option<&str>, products: &[Product]) -> (PriceBook, Vec<usize>, FormErrors) {
    let t = price_books::of(ctx.locale);
    let mut errors = FormErrors::default();
    let currency = match Currency::parse(&typed.currency) {
        Ok(c) => c,
        Err(_) => {
            errors.add("currency", ctx.t.crm.bad_currency);
            Currency::CNY
        }
    };
    let mut prices: Vec<PriceBookEntry> = Vec::new();
    let mut rows = Vec::new();
    for (i, (sku, price)) in typed.rows.iter().enumerate() {
        let row = (i + 1).to_string();
        if sku.is_empty() && price.is_empty() {
            continue;
        }
        let mut ok = true;
        if sku.is_empty() {
            errors.add(&format!("sku_{i}"), fill(t.sku_required, &[("row", &row)]));
            ok = false;
        } else if !products.iter().any(|p| &p.spec.sku == sku) {
            errors.add(&format!("sku_{i}"), fill(t.unknown_sku, &[("row", &row), ("sku", sku)]));
            ok = false;
        } else if prices.iter().any(|e| &e.sku == sku) {
            errors.add(&format!("sku_{i}"), fill(t.twice, &[("row", &row), ("sku", sku)]));
            ok = false;
        }
        let minor = if price.is_empty() {
            errors.add(&format!("price_{i}"), fill(t.price_required, &[("row", &row)]));
            None
        } else {
            match parse_amount(price, currency) {
                Ok(m) => Some(m.minor),
                Err(e) => {
                    errors.add(
                        &format!("price_{i}"),
                        fill(t.bad_price, &[("row", &row), ("why", amount_message(e, ctx))]),
                    );
                    None
                }
            }
        };
        if let (true, Some(unit_price_minor)) = (ok, minor) {
            prices.push(PriceBookEntry { sku: sku.clone(), unit_price_minor });
            rows.push(i);
        }
    }
    let book = PriceBook {
        name: existing.map(str::to_string).unwrap_or_else(|| typed.name.clone()),
        currency,
        customer_group: typed.group.clone(),
        prices,
        version: if existing.is_some() { Some(typed.version.parse().unwrap_or(-1)) } else { None },
    };
    (book, rows, errors)
}

async fn save(ctx: Ctx, s: AppState, existing: Option<String>, body: Bytes) -> Response {
    let form: Form = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let typed = Typed::from_form(&form);
    let g = ctx.guarded(&s);
    let now = s.clock.now();
    let products = match g.products().await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let t = price_books::of(ctx.locale);
    let (book, rows, mut errors) = read(&ctx, &typed, existing.as_deref(), &products);
    // The guard refuses (and audits) a caller who may not keep price books before anything else.
    let result = if errors.is_empty() || !is_editor(&ctx) {
        g.save_price_book(&book, now).await
    } else {
        Err(Error::Invalid(Vec::new()))
    };
    let mut typed = typed;
    let status = match result {
        Ok(_) => return Redirect::to("/price-books?saved").into_response(),
        Err(Error::Invalid(found)) => {
            for e in found {
                let message = translate(ctx.t, &e.message);
                let field = match e.field.as_str() {
                    "name" => "name".to_string(),
                    "customer_group" => "customer_group".to_string(),
                    f => match f.strip_prefix("prices[").and_then(|r| r.split_once(']')) {
                        Some((i, rest)) => {
                            let row = i.parse::<usize>().ok().and_then(|i| rows.get(i).copied()).unwrap_or(0);
                            let kind = if rest.contains("price") { "price" } else { "sku" };
                            format!("{kind}_{row}")
                        }
                        None => String::new(),
                    },
                };
                if field.is_empty() {
                    errors.form = Some(message);
                } else {
                    errors.add(&field, message);
                }
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(Error::Conflict(_)) => {
            errors.form = Some(if existing.is_some() { t.stale } else { t.exists }.to_string());
            // A stale edit keeps what was typed, against the version now stored.
            if let Some(name) = &existing
                && let Ok(books) = g.price_books().await
                && let Some(v) = books.into_iter().find(|b| &b.name == name).and_then(|b| b.version)
            {
                typed.version = v.to_string();
            }
            StatusCode::CONFLICT
        }
        Err(Error::Forbidden(_)) => {
            let mut refused = FormErrors::default();
            refused.form = Some(t.forbidden.to_string());
            errors = refused;
            StatusCode::FORBIDDEN
        }
        Err(e) => return error_page(&ctx, e),
    };
    book_page(&ctx, existing.as_deref(), typed, &products, errors, status)
}
