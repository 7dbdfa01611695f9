//! Amounts as people type them: major units with the currency's minor digits
//! (`12,500.50` CNY → 1 250 050 fen). Exact: integers only, never a float.

use salesflow_domain::currency::{Currency, MAX_MINOR, Money};

/// Why a typed amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// Not a number: letters, misplaced separators, two decimal points, nothing before the point.
    NotANumber,
    Negative,
    /// More digits after the point than the currency has (the currency's count is given).
    TooManyDecimals(u8),
    /// Above the domain's maximum amount.
    TooLarge,
}

/// Full-width digits and punctuation (typed with a Chinese input method) as their ASCII forms.
fn half_width(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
        '，' => ',',
        '．' | '。' => '.',
        '－' => '-',
        _ => c,
    }
}

/// Parses `text` (already known to be non-empty) as an amount of `currency` in major units.
///
/// Accepted: digits with an optional decimal point and at most as many decimals as the
/// currency has (`12500`, `12500.5`, `12500.50`), thousands separators in the right places
/// (`12,500.50`), surrounding spaces, full-width digits. Refused: signs, exponents, other
/// separators, more decimals than the currency has, more than [`MAX_MINOR`] minor units.
pub fn parse(text: &str, currency: Currency) -> Result<Money, AmountError> {
    let s: String = text.trim().chars().map(half_width).collect();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.as_str()),
    };
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit() || c == ',') {
        return Err(AmountError::NotANumber);
    }
    if whole.contains(',') {
        // Thousands separators: a first group of 1–3 digits, then groups of exactly 3.
        let mut groups = whole.split(',');
        let first = groups.next().unwrap_or("");
        if first.is_empty() || first.len() > 3 || groups.any(|g| g.len() != 3) {
            return Err(AmountError::NotANumber);
        }
    }
    let frac = match frac {
        Some(f) if f.is_empty() || !f.chars().all(|c| c.is_ascii_digit()) => return Err(AmountError::NotANumber),
        Some(f) => f,
        None => "",
    };
    let exponent = currency.exponent();
    if frac.len() > exponent as usize {
        return Err(AmountError::TooManyDecimals(exponent));
    }
    // The decimals padded to the currency's exponent: "12.5" CNY is 1250 fen.
    let padding = std::iter::repeat_n('0', exponent as usize - frac.len());
    let mut minor: i64 = 0;
    for d in whole.chars().filter(|c| *c != ',').chain(frac.chars()).chain(padding) {
        let d = i64::from(d as u8 - b'0');
        minor = minor.checked_mul(10).and_then(|m| m.checked_add(d)).ok_or(if negative {
            AmountError::Negative
        } else {
            AmountError::TooLarge
        })?;
    }
    if negative && minor > 0 {
        return Err(AmountError::Negative);
    }
    if minor > MAX_MINOR {
        return Err(AmountError::TooLarge);
    }
    Ok(Money { minor, currency })
}

/// An amount as the form shows it for editing: major units without grouping (`12500.50`).
pub fn plain(m: &Money) -> String {
    let exp = u32::from(m.currency.exponent());
    let scale = 10i64.pow(exp);
    if exp == 0 {
        m.minor.to_string()
    } else {
        format!("{}.{:0width$}", m.minor / scale, m.minor % scale, width = exp as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(text: &str) -> Result<i64, AmountError> {
        parse(text, Currency::CNY).map(|m| m.minor)
    }

    #[test]
    fn reads_major_units_with_the_currencys_minor_digits() {
        assert_eq!(cny("12,500.50"), Ok(1_250_050));
        assert_eq!(cny("12500.50"), Ok(1_250_050));
        assert_eq!(cny("12500.5"), Ok(1_250_050));
        assert_eq!(cny("12500"), Ok(1_250_000));
        assert_eq!(cny(" 1,234,567.89 "), Ok(123_456_789));
        assert_eq!(cny("0.01"), Ok(1));
        assert_eq!(cny("0"), Ok(0));
        assert_eq!(cny("-0"), Ok(0));
        assert_eq!(cny("００７，５００．２５"), Ok(750_025), "full-width input from a Chinese IME");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(parse("12,500", jpy).map(|m| m.minor), Ok(12_500));
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(parse("1.234", kwd).map(|m| m.minor), Ok(1_234));
        assert_eq!(parse("1.2", kwd).map(|m| m.minor), Ok(1_200));
    }

    #[test]
    fn refuses_what_is_not_exactly_an_amount() {
        assert_eq!(cny("12.505"), Err(AmountError::TooManyDecimals(2)));
        assert_eq!(parse("5.0", Currency::parse("JPY").unwrap()), Err(AmountError::TooManyDecimals(0)));
        assert_eq!(cny("-5"), Err(AmountError::Negative));
        assert_eq!(cny("-1,000.00"), Err(AmountError::Negative));
        for bad in [
            "abc",
            "12a",
            "1e5",
            "+5",
            "--5",
            "-",
            ".",
            ".5",
            "5.",
            "1.2.3",
            "1,23",
            "12,34,567",
            ",123",
            "1,,000",
            "1 000",
            "¥100",
            "0x10",
            "NaN",
            "1,000.5,0",
            "12.-5",
        ] {
            assert_eq!(cny(bad), Err(AmountError::NotANumber), "{bad}");
        }
    }

    #[test]
    fn refuses_more_than_the_domain_maximum_and_never_overflows() {
        // MAX_MINOR is 10^15 minor units: 10^13 yuan.
        assert_eq!(cny("10,000,000,000,000.00"), Ok(MAX_MINOR));
        assert_eq!(cny("10000000000000.01"), Err(AmountError::TooLarge));
        assert_eq!(cny("99999999999999999999999999"), Err(AmountError::TooLarge));
    }

    #[test]
    fn shows_amounts_for_editing_without_grouping() {
        assert_eq!(plain(&Money { minor: 1_250_050, currency: Currency::CNY }), "12500.50");
        assert_eq!(plain(&Money { minor: 5, currency: Currency::CNY }), "0.05");
        assert_eq!(plain(&Money { minor: 12_500, currency: Currency::parse("JPY").unwrap() }), "12500");
        let m = Money { minor: 987_654_321, currency: Currency::CNY };
        assert_eq!(parse(&plain(&m), Currency::CNY), Ok(m), "what the form shows parses back");
    }
}
