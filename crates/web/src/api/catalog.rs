//! The catalog as CSV, for spreadsheets: one product per row, UTF-8 with a byte-order mark on
//! export (so Excel shows Chinese). Prices are integer minor units, as everywhere; tags are
//! separated by `|`, bundle members written `SKU*quantity|SKU*quantity`. An import is checked
//! whole before anything is written: every bad cell is reported, named `rows[i].field`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::error::{Error, FieldError};
use salesflow_domain::selling::catalog::{BundleItem, NewProduct, Tier};

use super::selling::ProductList;
use crate::AppState;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult, Problem};

const COLUMNS: [&str; 13] = [
    "sku",
    "name_zh",
    "name_en",
    "description_zh",
    "description_en",
    "unit",
    "list_price_minor",
    "currency",
    "tax_rate_bp",
    "category",
    "tags",
    "tier",
    "bundle",
];

fn tier_name(t: Option<Tier>) -> &'static str {
    match t {
        Some(Tier::Basic) => "basic",
        Some(Tier::Standard) => "standard",
        Some(Tier::Professional) => "professional",
        None => "",
    }
}

fn csv_error(e: impl std::fmt::Display) -> ApiError {
    Error::Storage(format!("writing CSV: {e}")).into()
}

/// Every product as CSV.
#[utoipa::path(get, path = "/api/v1/products/export.csv", tag = "selling",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export(c: Caller, State(s): State<AppState>) -> ApiResult<impl IntoResponse> {
    let mut out = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    out.write_record(COLUMNS).map_err(csv_error)?;
    for p in c.guarded(&s).products().await? {
        let p = p.spec;
        let bundle: Vec<String> = p.bundle.iter().map(|b| format!("{}*{}", b.sku, b.quantity)).collect();
        let (price, tax) = (p.list_price.minor.to_string(), p.tax_rate_bp.to_string());
        out.write_record([
            p.sku.as_str(),
            &p.name_zh,
            &p.name_en,
            &p.description_zh,
            &p.description_en,
            &p.unit,
            &price,
            p.list_price.currency.code(),
            &tax,
            &p.category,
            &p.tags.join("|"),
            tier_name(p.tier),
            &bundle.join("|"),
        ])
        .map_err(csv_error)?;
    }
    let body = out.into_inner().map_err(|e| csv_error(e.into_error()))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body))
}

/// One row as a product, or the problems of its cells.
fn product(row: &csv::StringRecord, at: &[usize; 13], i: usize) -> Result<NewProduct, Vec<FieldError>> {
    let cell = |c: usize| row.get(at[c]).unwrap_or("").trim();
    let field = |name: &str| format!("rows[{i}].{name}");
    let mut problems = Vec::new();
    let number = |c: usize, problems: &mut Vec<FieldError>| {
        cell(c).parse::<i64>().unwrap_or_else(|_| {
            problems.push(FieldError::new(field(COLUMNS[c]), format!("`{}` is not a whole number", cell(c))));
            0
        })
    };
    let minor = number(6, &mut problems);
    let tax_rate_bp = if cell(8).is_empty() { 0 } else { number(8, &mut problems) };
    let currency = Currency::parse(cell(7)).unwrap_or_else(|e| {
        problems.push(FieldError::new(field("currency"), e));
        Currency::CNY
    });
    let tier = match cell(11) {
        "" => None,
        "basic" => Some(Tier::Basic),
        "standard" => Some(Tier::Standard),
        "professional" => Some(Tier::Professional),
        other => {
            problems.push(FieldError::new(field("tier"), format!("`{other}` is not basic, standard or professional")));
            None
        }
    };
    let split = |c: usize| cell(c).split('|').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
    let mut bundle = Vec::new();
    for member in split(12) {
        match member.split_once('*').map(|(sku, q)| (sku.trim(), q.trim().parse::<i64>())) {
            Some((sku, Ok(quantity))) => bundle.push(BundleItem { sku: sku.into(), quantity }),
            _ => problems.push(FieldError::new(field("bundle"), format!("`{member}` is not SKU*quantity"))),
        }
    }
    let new = NewProduct {
        sku: cell(0).into(),
        name_zh: cell(1).into(),
        name_en: cell(2).into(),
        description_zh: cell(3).into(),
        description_en: cell(4).into(),
        unit: cell(5).into(),
        list_price: Money { minor, currency },
        tax_rate_bp,
        category: cell(9).into(),
        tags: split(10).collect(),
        tier,
        bundle,
        facts: vec![],
    };
    if let Err(Error::Invalid(errs)) = new.validate() {
        problems.extend(errs.into_iter().map(|e| FieldError::new(field(&e.field), e.message)));
    }
    if problems.is_empty() { Ok(new) } else { Err(problems) }
}

/// Adds the products of a CSV file (managers and admins); nothing is added unless every row is
/// valid and every SKU new.
#[utoipa::path(post, path = "/api/v1/products/import", tag = "selling", request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = ProductList), (status = 403, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn import(
    c: Caller,
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<ProductList>)> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.starts_with("text/csv") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            format!("send the catalog as text/csv, not `{content_type}`"),
        ));
    }
    let g = c.guarded(&s);
    g.check_catalog_editor(s.clock.now()).await?;
    let text = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&body);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text);
    let head = reader.headers().map_err(|e| ApiError::bad_request(format!("the CSV does not read: {e}")))?.clone();
    let mut at = [0usize; 13];
    let mut problems = Vec::new();
    for (c, name) in COLUMNS.iter().enumerate() {
        match head.iter().position(|h| h.trim() == *name) {
            Some(i) => at[c] = i,
            None => problems.push(FieldError::new("header", format!("column `{name}` is missing"))),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems).into());
    }
    let mut seen: Vec<String> = g.products().await?.into_iter().map(|p| p.spec.sku).collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ApiError::bad_request(format!("row {i} does not read: {e}")))?;
        // A SKU twice in the file, or already in the catalog, whatever else is wrong with the row.
        let sku = record.get(at[0]).unwrap_or("").trim().to_string();
        let repeated = !sku.is_empty() && seen.contains(&sku);
        seen.push(sku.clone());
        match product(&record, &at, i) {
            Ok(p) if !repeated => rows.push(p),
            Ok(_) => {}
            Err(errs) => problems.extend(errs),
        }
        if repeated {
            problems.push(FieldError::new(format!("rows[{i}].sku"), format!("`{sku}` is already in the catalog")));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems).into());
    }
    let now = s.clock.now();
    let mut items = Vec::with_capacity(rows.len());
    for p in &rows {
        items.push(g.create_product(p, now).await?);
    }
    Ok((StatusCode::CREATED, axum::Json(ProductList { items })))
}
