//! Quote arithmetic against an independent computation: exact fractions in `u128`, rounded by
//! comparing the remainder with half the denominator, summed in a different order.

use proptest::prelude::*;
use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::selling::pricing::{BP, QuoteLine, price};

/// `num / den` rounded half up, decided on the remainder.
fn rounded(num: u128, den: u128) -> u128 {
    let (q, r) = (num / den, num % den);
    if 2 * r >= den { q + 1 } else { q }
}

struct Expected {
    nets: Vec<u128>,
    subtotal: u128,
    total_discount: u128,
    tax: u128,
    total: u128,
}

fn expected(lines: &[(i64, i64, i64, i64)], total_bp: i64) -> Expected {
    let bp = BP as u128;
    let nets: Vec<u128> = lines
        .iter()
        .map(|&(q, p, d, _)| {
            let gross = q as u128 * p as u128;
            gross - rounded(gross * d as u128, bp)
        })
        .collect();
    let subtotal: u128 = nets.iter().rev().sum();
    let total_discount = rounded(subtotal * total_bp as u128, bp);
    let tax: u128 = lines
        .iter()
        .zip(&nets)
        .map(|(&(_, _, _, t), &net)| rounded(net * (bp - total_bp as u128) * t as u128, bp * bp))
        .sum();
    Expected { nets, subtotal, total_discount, tax, total: subtotal - total_discount + tax }
}

fn quote_line((quantity, minor, discount_bp, tax_rate_bp): (i64, i64, i64, i64)) -> QuoteLine {
    QuoteLine {
        product_id: None,
        sku: String::new(),
        name: "item".into(),
        unit: String::new(),
        quantity,
        unit_price: Money { minor, currency: Currency::CNY },
        discount_bp,
        tax_rate_bp,
    }
}

fn a_line() -> impl Strategy<Value = (i64, i64, i64, i64)> {
    (
        1i64..=10_000,
        0i64..=100_000_000,
        0i64..=10_000,
        prop_oneof![Just(0i64), Just(600), Just(900), Just(1_300), 0i64..=10_000],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn totals_match_exact_fractions(lines in prop::collection::vec(a_line(), 1..8), total_bp in 0i64..=10_000) {
        let quote: Vec<QuoteLine> = lines.iter().copied().map(quote_line).collect();
        let got = price(Currency::CNY, &quote, total_bp, "o").expect("valid input prices");
        let want = expected(&lines, total_bp);
        let nets: Vec<u128> = got.lines.iter().map(|l| l.net as u128).collect();
        prop_assert_eq!(nets, want.nets);
        prop_assert_eq!(got.subtotal as u128, want.subtotal);
        prop_assert_eq!(got.total_discount as u128, want.total_discount);
        prop_assert_eq!(got.tax as u128, want.tax);
        prop_assert_eq!(got.total as u128, want.total);
        // Invariants that hold whatever the rounding.
        prop_assert_eq!(got.gross, got.line_discounts + got.subtotal);
        prop_assert!(got.total_discount <= got.subtotal);
        for l in &got.lines {
            prop_assert!(0 <= l.discount && l.discount <= l.gross);
            prop_assert!(l.tax <= l.net);
        }
    }

    #[test]
    fn no_discount_no_tax_is_plain_multiplication(lines in prop::collection::vec((1i64..=1_000_000, 0i64..=100_000_000), 1..6)) {
        let quote: Vec<QuoteLine> = lines.iter().map(|&(q, p)| quote_line((q, p, 0, 0))).collect();
        let got = price(Currency::CNY, &quote, 0, "o").expect("valid");
        let sum: i128 = lines.iter().map(|&(q, p)| q as i128 * p as i128).sum();
        prop_assert_eq!(got.total as i128, sum);
    }

    #[test]
    fn out_of_range_input_is_refused_by_name(q in -1_000i64..=0, d in 10_001i64..=1_000_000) {
        let errs = price(Currency::CNY, &[quote_line((q, 100, d, 0))], 0, "o").unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        prop_assert_eq!(fields, vec!["o.lines[0].quantity", "o.lines[0].discount_bp"]);
    }

    #[test]
    fn a_full_discount_leaves_nothing_to_pay(lines in prop::collection::vec(a_line(), 1..5)) {
        let quote: Vec<QuoteLine> = lines.iter().copied().map(quote_line).collect();
        let got = price(Currency::CNY, &quote, BP, "o").expect("valid");
        prop_assert_eq!((got.total_discount, got.tax, got.total), (got.subtotal, 0, 0));
    }
}
