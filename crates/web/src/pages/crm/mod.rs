//! The crm screens: leads, accounts, contacts, the deals list and processes — and what they
//! share: errors beside fields in the user's language, select options, paging links, amounts
//! typed in major units.

mod accounts;
mod contacts;
mod deals;
mod leads;
mod processes;
mod versions;

pub use deals::{Definitions, current_definition, node_name};

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::NaiveDate;
use salesflow_domain::currency::{Currency, MAX_MINOR, Money};
use salesflow_domain::ids::UserId;
use salesflow_domain::records::Role;
use salesflow_domain::{Error, FieldError};

use super::Ctx;
use crate::AppState;
use crate::i18n::Texts;
use crate::i18n::crm::Crm;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .merge(leads::routes())
        .merge(accounts::routes())
        .merge(contacts::routes())
        .merge(deals::routes())
        .merge(processes::routes())
        .merge(versions::routes())
}

/// Rows per list page.
const PAGE_SIZE: u32 = 50;

/// Errors of one form: each beside its field (`.field-error[data-field=…]`), plus at most one
/// about the whole form (a conflict, a refusal).
#[derive(Debug, Default)]
pub struct FormErrors {
    fields: Vec<(String, String)>,
    pub form: Option<String>,
}

impl FormErrors {
    /// The message for `field` (several are joined).
    pub fn get(&self, field: &str) -> Option<String> {
        let messages: Vec<&str> = self.fields.iter().filter(|(f, _)| f == field).map(|(_, m)| m.as_str()).collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields.push((field.to_string(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.form.is_none()
    }

    /// Domain field errors in the user's language. `fields` maps the domain's field names to
    /// the form's (`amount.minor` → `amount`); a field mapped to `""`, or one the form does not
    /// have (then named), becomes a message about the whole form.
    pub fn from_domain(t: &Texts, errors: &[FieldError], fields: &[(&str, &str)]) -> Self {
        let mut out = FormErrors::default();
        for e in errors {
            let message = translate(t, &e.message);
            let form_field = fields
                .iter()
                .find(|(domain, _)| *domain == e.field)
                .or_else(|| fields.iter().find(|(domain, _)| e.field.split('.').next() == Some(domain)))
                .map(|(_, form)| *form);
            match form_field {
                Some(f) if !f.is_empty() => out.add(f, message),
                named => {
                    let line = if named.is_some() { message } else { format!("{}: {message}", e.field) };
                    out.form = Some(match out.form.take() {
                        Some(prev) => format!("{prev} {line}"),
                        None => line,
                    });
                }
            }
        }
        out
    }
}

/// A domain validation message in the user's language; an unknown one keeps its own words.
pub fn translate(t: &Texts, message: &str) -> String {
    let c = t.crm;
    let known = if message == "is required" {
        t.common.required
    } else if message.starts_with("is longer than") {
        c.too_long
    } else if message.ends_with("is not an email address") {
        c.bad_email
    } else if message.ends_with("is not a phone number") {
        c.bad_phone
    } else if message.starts_with("needs at least one letter or digit") {
        c.needs_letter
    } else if message.starts_with("an amount cannot be negative") {
        c.amount_negative
    } else if message.starts_with("an amount cannot exceed") {
        c.amount_too_large
    } else if message.starts_with("disqualifying a lead needs a reason") {
        c.reason_required
    } else if message.starts_with("only a qualified lead can be converted") {
        c.only_qualified
    } else if message.contains("cannot become") || message.contains("becomes converted only") {
        c.status_not_allowed
    } else if message.ends_with("does not exist") || message.contains("has no published version") {
        c.bad_reference
    } else {
        return format!("{} ({message})", c.invalid_value);
    };
    known.to_string()
}

/// What a refused form submission shows: errors beside fields (422), a conflict (409) or a
/// refusal (403) above the kept input. Anything else comes back for an error page.
pub fn refused(ctx: &Ctx, error: Error, fields: &[(&str, &str)]) -> Result<(StatusCode, FormErrors), Error> {
    match error {
        Error::Invalid(errors) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, FormErrors::from_domain(ctx.t, &errors, fields)))
        }
        Error::Conflict(_) => {
            Ok((StatusCode::CONFLICT, FormErrors { form: Some(ctx.t.crm.conflict_kept.into()), ..Default::default() }))
        }
        Error::Forbidden(_) => Ok((
            StatusCode::FORBIDDEN,
            FormErrors { form: Some(ctx.t.crm.forbidden_kept.into()), ..Default::default() },
        )),
        other => Err(other),
    }
}

/// One `<option>`.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: &str) -> Self {
        let value = value.into();
        let selected = value == selected;
        Opt { value, label: label.into(), selected }
    }
}

/// Currencies offered in forms: the ones Chinese sales teams quote in most.
pub const CURRENCIES: [&str; 11] = ["CNY", "HKD", "TWD", "USD", "EUR", "JPY", "GBP", "SGD", "KRW", "AUD", "CAD"];

pub fn currency_options(selected: &str) -> Vec<Opt> {
    let selected = if selected.trim().is_empty() { "CNY".to_string() } else { selected.trim().to_ascii_uppercase() };
    let mut opts: Vec<Opt> = CURRENCIES.iter().map(|c| Opt::new(*c, *c, &selected)).collect();
    if !CURRENCIES.contains(&selected.as_str()) && Currency::parse(&selected).is_ok() {
        opts.push(Opt::new(selected.clone(), selected.clone(), &selected));
    }
    opts
}

/// A link to `path` with the non-empty query parameters.
pub fn href(path: &str, params: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in params.iter().filter(|(_, v)| !v.trim().is_empty()) {
        q.append_pair(k, v.trim());
        any = true;
    }
    if any { format!("{path}?{}", q.finish()) } else { path.to_string() }
}

/// Text with surrounding blanks removed; `None` when nothing is left.
pub fn opt_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// A keyset cursor from the query string (ignored when it is not a number).
pub fn cursor(raw: &str) -> Option<i64> {
    raw.trim().parse().ok().filter(|c: &i64| *c > 0)
}

/// A record id from the path; anything else is "not found".
pub fn path_id(raw: &str, entity: &'static str) -> Result<i64, Error> {
    raw.parse::<i64>().map_err(|_| Error::not_found(entity, raw))
}

/// Names of every user, for owner columns and pickers (one query).
pub async fn user_names(s: &AppState) -> Result<HashMap<UserId, String>, Error> {
    Ok(s.store.list_users().await?.into_iter().map(|u| (u.id, u.name)).collect())
}

pub fn name_of(names: &HashMap<UserId, String>, id: UserId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
}

/// Viewers read; everyone else may create records.
pub fn can_write(ctx: &Ctx) -> bool {
    ctx.user().role != Role::Viewer
}

/// Sums per currency as one line: `¥12,500.00 + USD 3,000.00`; a dash when there are none.
pub fn money_list(sums: &[Money], locale: crate::i18n::Locale) -> String {
    if sums.is_empty() {
        return "—".into();
    }
    sums.iter().map(|m| super::format::money(m, locale)).collect::<Vec<_>>().join(" + ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    Malformed,
    Decimals,
    Negative,
    TooLarge,
}

impl AmountError {
    pub fn message(&self, t: &Crm) -> &'static str {
        match self {
            AmountError::Malformed => t.bad_amount,
            AmountError::Decimals => t.amount_decimals,
            AmountError::Negative => t.amount_negative,
            AmountError::TooLarge => t.amount_too_large,
        }
    }
}

/// An amount typed in major units (`12500.00`, `12,500`, `¥12500.5`) as minor units of
/// `currency`; empty is `None`. No floats: the digits are read as they are.
pub fn parse_amount(text: &str, currency: Currency) -> Result<Option<Money>, AmountError> {
    let cleaned: String = text
        .trim()
        .trim_start_matches(['¥', '￥', '$', '€', '£'])
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '，'))
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    if cleaned.starts_with('-') {
        return Err(AmountError::Negative);
    }
    let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(AmountError::Malformed);
    }
    let exp = currency.exponent() as usize;
    let frac = frac.trim_end_matches('0');
    if frac.len() > exp {
        return Err(AmountError::Decimals);
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 16 {
        return Err(AmountError::TooLarge);
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| AmountError::TooLarge)? };
    let frac_minor: i64 =
        if frac.is_empty() { 0 } else { format!("{frac:0<exp$}").parse().map_err(|_| AmountError::Malformed)? };
    let minor = whole
        .checked_mul(10i64.pow(exp as u32))
        .and_then(|w| w.checked_add(frac_minor))
        .filter(|m| *m <= MAX_MINOR)
        .ok_or(AmountError::TooLarge)?;
    Ok(Some(Money { minor, currency }))
}

/// `2025-03-03` from an `<input type=date>`; empty is `None`.
pub fn parse_date(text: &str) -> Result<Option<NaiveDate>, chrono::ParseError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").map(Some)
}

/// Only links a browser may follow safely: site paths and web addresses.
pub fn safe_link(link: &str) -> Option<&str> {
    let l = link.trim();
    let ok = (l.starts_with('/') && !l.starts_with("//")) || l.starts_with("https://") || l.starts_with("http://");
    ok.then_some(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, ZH_CN};

    #[test]
    fn amounts_are_read_in_major_units_without_floats() {
        let cny = Currency::CNY;
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        let minor = |t: &str, c| parse_amount(t, c).map(|m| m.map(|m| m.minor));
        assert_eq!(minor("12500.00", cny), Ok(Some(1_250_000)));
        assert_eq!(minor("12,500", cny), Ok(Some(1_250_000)));
        assert_eq!(minor(" ¥12500.5 ", cny), Ok(Some(1_250_050)));
        assert_eq!(minor("0.07", cny), Ok(Some(7)));
        assert_eq!(minor(".5", cny), Ok(Some(50)));
        assert_eq!(minor("1.230", cny), Ok(Some(123)));
        assert_eq!(minor("", cny), Ok(None));
        assert_eq!(minor("   ", cny), Ok(None));
        assert_eq!(minor("5000", jpy), Ok(Some(5000)));
        assert_eq!(minor("5000.5", jpy), Err(AmountError::Decimals));
        assert_eq!(minor("1.234", kwd), Ok(Some(1234)));
        assert_eq!(minor("1.001", cny), Err(AmountError::Decimals));
        assert_eq!(minor("-3", cny), Err(AmountError::Negative));
        assert_eq!(minor("12a", cny), Err(AmountError::Malformed));
        assert_eq!(minor("1.2.3", cny), Err(AmountError::Malformed));
        assert_eq!(minor(".", cny), Err(AmountError::Malformed));
        assert_eq!(minor("1e5", cny), Err(AmountError::Malformed));
        assert_eq!(minor("99999999999999999999", cny), Err(AmountError::TooLarge));
        assert_eq!(minor("10000000000000.01", cny), Err(AmountError::TooLarge));
        assert_eq!(minor("10000000000000", cny), Ok(Some(MAX_MINOR)));
    }

    #[test]
    fn domain_errors_land_beside_their_fields_in_the_users_language() {
        let errors = vec![
            FieldError::new("name", "is required"),
            FieldError::new("email", "`x@` is not an email address"),
            FieldError::new("amount.minor", "an amount cannot be negative"),
            FieldError::new("owner_id", "user 9 is deactivated"),
        ];
        let fields = [("name", "name"), ("email", "email"), ("amount", "amount")];
        let zh = FormErrors::from_domain(&ZH_CN, &errors, &fields);
        assert_eq!(zh.get("name").as_deref(), Some(ZH_CN.common.required));
        assert_eq!(zh.get("email").as_deref(), Some(ZH_CN.crm.bad_email));
        assert_eq!(zh.get("amount").as_deref(), Some(ZH_CN.crm.amount_negative));
        assert_eq!(zh.get("phone"), None);
        let form = zh.form.expect("an error without a field is about the form");
        assert!(form.starts_with("owner_id: ") && form.contains("user 9 is deactivated"), "{form}");
        let en = FormErrors::from_domain(&EN, &errors[..1], &fields);
        assert_eq!(en.get("name").as_deref(), Some("This field is required."));
        assert!(en.form.is_none());
    }

    #[test]
    fn links_keep_filters_and_drop_empty_ones() {
        assert_eq!(
            href("/leads", &[("q", "晨光 文具"), ("status", ""), ("cursor", "42")]),
            "/leads?q=%E6%99%A8%E5%85%89+%E6%96%87%E5%85%B7&cursor=42"
        );
        assert_eq!(href("/leads", &[("q", " ")]), "/leads");
        assert_eq!(cursor("17"), Some(17));
        assert_eq!(cursor("x"), None);
        assert_eq!(cursor("-1"), None);
    }

    #[test]
    fn only_safe_links_are_followed() {
        assert_eq!(safe_link("/leads"), Some("/leads"));
        assert_eq!(safe_link("https://example.com/a"), Some("https://example.com/a"));
        assert_eq!(safe_link("javascript:alert(1)"), None);
        assert_eq!(safe_link("//evil.example"), None);
    }

    #[test]
    fn currency_options_default_to_cny_and_keep_an_unusual_choice() {
        let opts = currency_options("");
        assert!(opts.iter().any(|o| o.value == "CNY" && o.selected));
        let opts = currency_options("chf");
        assert!(opts.iter().any(|o| o.value == "CHF" && o.selected));
        assert_eq!(opts.iter().filter(|o| o.selected).count(), 1);
    }
}
