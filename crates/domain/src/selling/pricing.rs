//! Quote arithmetic, in integer minor units only.
//!
//! **The rounding rule** (the only place amounts are divided): a percentage of an amount is
//! rounded half up to a whole minor unit, at exactly three points —
//! 1. each line's discount: `gross × line_discount_bp / 10 000`,
//! 2. the option's total discount, once: `subtotal × total_discount_bp / 10 000`,
//! 3. each line's tax, on the line's net after the total discount rate:
//!    `net × (10 000 − total_discount_bp) × tax_rate_bp / 10 000²`.
//!
//! So `gross = quantity × unit price`, `net = gross − line discount`, `subtotal = Σ net`,
//! `total = subtotal − total discount + Σ tax`. Every amount stays within
//! [`MAX_MINOR`]; beyond it the input is refused, naming the line.

use serde::{Deserialize, Serialize};

use crate::currency::{Currency, MAX_MINOR, Money};
use crate::error::FieldError;
use crate::ids::ProductId;

/// Basis points in a whole: 1 200 bp is 12 %.
pub const BP: i64 = 10_000;
/// The most units of one item a line may carry.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteLine {
    /// The catalog product, when the line comes from the catalog.
    #[serde(default)]
    pub product_id: Option<ProductId>,
    #[serde(default)]
    pub sku: String,
    pub name: String,
    /// 套, 年, user/year …
    #[serde(default)]
    pub unit: String,
    /// Whole units, 1 to 1 000 000 000.
    pub quantity: i64,
    pub unit_price: Money,
    /// Line discount in basis points (0–10 000).
    #[serde(default)]
    pub discount_bp: i64,
    /// Tax rate in basis points (1 300 = 13 % VAT).
    #[serde(default)]
    pub tax_rate_bp: i64,
}

/// One line's amounts, in minor units of the option's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineTotals {
    pub gross: i64,
    pub discount: i64,
    pub net: i64,
    pub tax: i64,
}

/// An option's amounts, in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Totals {
    pub currency: Currency,
    pub lines: Vec<LineTotals>,
    /// Σ quantity × unit price.
    pub gross: i64,
    /// Σ line discounts.
    pub line_discounts: i64,
    /// Σ line nets.
    pub subtotal: i64,
    pub total_discount: i64,
    pub tax: i64,
    /// What the customer pays.
    pub total: i64,
}

impl Totals {
    /// Whether the discount from gross to the pre-tax amount is above `threshold_bp`, compared
    /// exactly (no rounding): `(gross − net) × 10 000 > threshold × gross`.
    pub fn discount_above(&self, threshold_bp: i64) -> bool {
        let given = (self.gross - (self.subtotal - self.total_discount)) as i128;
        given * BP as i128 > threshold_bp as i128 * self.gross as i128
    }

    /// The discount from gross to the pre-tax amount, in basis points rounded half up.
    pub fn discount_bp(&self) -> i64 {
        if self.gross == 0 {
            return 0;
        }
        let given = (self.gross - (self.subtotal - self.total_discount)) as i128;
        half_up(given * BP as i128, self.gross as i128) as i64
    }
}

/// `n / d` rounded half up; both non-negative, `d` positive.
fn half_up(n: i128, d: i128) -> i128 {
    (n + d / 2) / d
}

fn check_bp(problems: &mut Vec<FieldError>, field: String, bp: i64, what: &str) {
    if bp < 0 {
        problems.push(FieldError::new(field, format!("a {what} cannot be negative")));
    } else if bp > BP {
        problems.push(FieldError::new(field, format!("a {what} cannot exceed 100 % (10000 basis points)")));
    }
}

fn too_large(field: String) -> FieldError {
    FieldError::new(field, format!("the amount overflows: more than {MAX_MINOR} minor units"))
}

/// Prices the lines of one option in `currency` with a total discount of `discount_bp`.
/// `field` prefixes every problem (`options[1]`); every problem is reported, not just the first.
pub fn price(
    currency: Currency,
    lines: &[QuoteLine],
    discount_bp: i64,
    field: &str,
) -> Result<Totals, Vec<FieldError>> {
    let mut problems = Vec::new();
    if lines.is_empty() {
        problems.push(FieldError::new(format!("{field}.lines"), "an option needs at least one line"));
    }
    check_bp(&mut problems, format!("{field}.discount_bp"), discount_bp, "discount");
    for (i, l) in lines.iter().enumerate() {
        let at = format!("{field}.lines[{i}]");
        if l.name.trim().is_empty() {
            problems.push(FieldError::new(format!("{at}.name"), "is required"));
        }
        if l.quantity < 0 {
            problems.push(FieldError::new(format!("{at}.quantity"), "a quantity cannot be negative"));
        } else if l.quantity == 0 {
            problems.push(FieldError::new(format!("{at}.quantity"), "must be at least 1"));
        } else if l.quantity > MAX_QUANTITY {
            problems.push(FieldError::new(format!("{at}.quantity"), format!("cannot exceed {MAX_QUANTITY}")));
        }
        if l.unit_price.currency != currency {
            problems.push(FieldError::new(
                format!("{at}.unit_price.currency"),
                format!("is {}, but the quote is in {currency}: one quote, one currency", l.unit_price.currency),
            ));
        }
        if l.unit_price.minor < 0 {
            problems.push(FieldError::new(format!("{at}.unit_price.minor"), "a price cannot be negative"));
        } else if l.unit_price.minor > MAX_MINOR {
            problems.push(too_large(format!("{at}.unit_price.minor")));
        }
        check_bp(&mut problems, format!("{at}.discount_bp"), l.discount_bp, "discount");
        check_bp(&mut problems, format!("{at}.tax_rate_bp"), l.tax_rate_bp, "tax rate");
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let max = MAX_MINOR as i128;
    let (bp, keep) = (BP as i128, (BP - discount_bp) as i128);
    let mut out = Vec::with_capacity(lines.len());
    let (mut gross, mut line_discounts, mut subtotal) = (0i128, 0i128, 0i128);
    for (i, l) in lines.iter().enumerate() {
        // Quantity ≤ 10⁹ and price ≤ 10¹⁵: the product fits an i128 with room to spare.
        let g = l.quantity as i128 * l.unit_price.minor as i128;
        if g > max {
            problems.push(too_large(format!("{field}.lines[{i}].quantity")));
            continue;
        }
        let d = half_up(g * l.discount_bp as i128, bp);
        let net = g - d;
        gross += g;
        line_discounts += d;
        subtotal += net;
        out.push((g, d, net));
    }
    if gross > max {
        problems.push(too_large(format!("{field}.lines")));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let total_discount = half_up(subtotal * discount_bp as i128, bp);
    let mut tax = 0i128;
    let lines: Vec<LineTotals> = out
        .into_iter()
        .zip(lines)
        .map(|((g, d, net), l)| {
            let t = half_up(net * keep * l.tax_rate_bp as i128, bp * bp);
            tax += t;
            LineTotals { gross: g as i64, discount: d as i64, net: net as i64, tax: t as i64 }
        })
        .collect();
    let total = subtotal - total_discount + tax;
    if total > max {
        return Err(vec![too_large(format!("{field}.lines"))]);
    }
    Ok(Totals {
        currency,
        lines,
        gross: gross as i64,
        line_discounts: line_discounts as i64,
        subtotal: subtotal as i64,
        total_discount: total_discount as i64,
        tax: tax as i64,
        total: total as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(minor: i64) -> Money {
        Money { minor, currency: Currency::CNY }
    }

    fn line(quantity: i64, price: i64, discount_bp: i64, tax_rate_bp: i64) -> QuoteLine {
        QuoteLine {
            product_id: None,
            sku: "S".into(),
            name: "标准版".into(),
            unit: "套".into(),
            quantity,
            unit_price: cny(price),
            discount_bp,
            tax_rate_bp,
        }
    }

    #[test]
    fn a_worked_example() {
        // 3 × 333.33 at 10 % off and 13 % VAT, plus 1 × 0.05 untaxed; 12 % off the whole.
        let t = price(Currency::CNY, &[line(3, 33_333, 1_000, 1_300), line(1, 5, 0, 0)], 1_200, "options[0]").unwrap();
        assert_eq!(t.lines[0], LineTotals { gross: 99_999, discount: 10_000, net: 89_999, tax: 10_296 });
        // 89 999 × 0.88 × 0.13 = 10 295.8856 → 10 296.
        assert_eq!(t.lines[1], LineTotals { gross: 5, discount: 0, net: 5, tax: 0 });
        assert_eq!((t.gross, t.line_discounts, t.subtotal), (100_004, 10_000, 90_004));
        // 90 004 × 0.12 = 10 800.48 → 10 800.
        assert_eq!(t.total_discount, 10_800);
        assert_eq!(t.total, 90_004 - 10_800 + 10_296);
        assert!(t.discount_above(2_000), "20.8 % given");
        assert!(!t.discount_above(2_100));
        assert_eq!(t.discount_bp(), 2_080);
    }

    #[test]
    fn half_a_minor_unit_rounds_up() {
        let t = price(Currency::CNY, &[line(1, 5, 1_000, 0)], 0, "o").unwrap();
        assert_eq!(t.lines[0].discount, 1, "0.5 → 1");
        let t = price(Currency::CNY, &[line(1, 4, 1_000, 0)], 0, "o").unwrap();
        assert_eq!(t.lines[0].discount, 0, "0.4 → 0");
    }

    #[test]
    fn bad_input_names_every_field() {
        let usd = QuoteLine { unit_price: Money { minor: 1, currency: Currency::USD }, ..line(1, 1, 0, 0) };
        let errs = price(Currency::CNY, &[line(-1, 100, 10_001, 0), usd], -5, "options[2]").unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "options[2].discount_bp",
                "options[2].lines[0].quantity",
                "options[2].lines[0].discount_bp",
                "options[2].lines[1].unit_price.currency"
            ]
        );
        assert!(errs[2].message.contains("100 %"));
        let errs = price(Currency::CNY, &[line(MAX_QUANTITY, MAX_MINOR, 0, 0)], 0, "o").unwrap_err();
        assert_eq!(errs[0].field, "o.lines[0].quantity");
        assert!(errs[0].message.contains("overflows"));
        let errs = price(Currency::CNY, &[line(1, MAX_MINOR, 0, 0), line(1, MAX_MINOR, 0, 0)], 0, "o").unwrap_err();
        assert_eq!(errs[0].field, "o.lines");
        let errs = price(Currency::CNY, &[line(1, MAX_MINOR, 0, 10_000)], 0, "o").unwrap_err();
        assert_eq!(errs[0].field, "o.lines", "tax pushes the total over");
    }
}
