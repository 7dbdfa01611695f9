//! Numbers, money and dates as each language writes them, in the user's time zone.

use chrono::{DateTime, NaiveDate, Utc};
use salesflow_domain::currency::Money;

use crate::i18n::Locale;

/// `12,500.00` with the currency: `¥12,500.00` for CNY in Chinese, `CNY 12,500.00` in English.
pub fn money(m: &Money, locale: Locale) -> String {
    let plain = m.display(); // "12,500.00 CNY"
    let number = plain.rsplit_once(' ').map(|(n, _)| n.to_string()).unwrap_or(plain.clone());
    let code = m.currency.code();
    match (locale, code) {
        (Locale::ZhCn, "CNY") => format!("¥{number}"),
        (Locale::ZhCn, _) => format!("{number} {code}"),
        (Locale::En, _) => format!("{code} {number}"),
    }
}

/// `2025年3月3日` / `3 Mar 2025`.
pub fn date(d: NaiveDate, locale: Locale) -> String {
    match locale {
        Locale::ZhCn => d.format("%Y年%-m月%-d日").to_string(),
        Locale::En => d.format("%-d %b %Y").to_string(),
    }
}

/// Date and time in `tz`: `2025年3月3日 17:00` / `3 Mar 2025, 17:00`.
pub fn datetime(t: DateTime<Utc>, tz: chrono_tz::Tz, locale: Locale) -> String {
    let local = t.with_timezone(&tz);
    match locale {
        Locale::ZhCn => local.format("%Y年%-m月%-d日 %H:%M").to_string(),
        Locale::En => local.format("%-d %b %Y, %H:%M").to_string(),
    }
}

/// A percentage in basis points with two decimals: `12.00%`.
pub fn percent(bp: i64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// A line's discount: [`percent`], or nothing when there is none.
pub fn discount(bp: i64) -> String {
    if bp == 0 { String::new() } else { percent(bp) }
}

/// Whole days between two instants (for "days in stage").
pub fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_days().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesflow_domain::currency::Currency;

    #[test]
    fn money_and_dates_read_naturally_in_both_languages() {
        let m = Money::new(1_250_000, Currency::CNY).unwrap();
        assert_eq!(money(&m, Locale::ZhCn), "¥12,500.00");
        assert_eq!(money(&m, Locale::En), "CNY 12,500.00");
        let d = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
        assert_eq!(date(d, Locale::ZhCn), "2025年3月3日");
        assert_eq!(date(d, Locale::En), "3 Mar 2025");
        let t = d.and_hms_opt(9, 0, 0).unwrap().and_utc();
        assert_eq!(datetime(t, chrono_tz::Asia::Shanghai, Locale::ZhCn), "2025年3月3日 17:00");
    }
}
