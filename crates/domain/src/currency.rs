//! Money as integer minor units with an ISO 4217 currency. Floats never touch an amount.

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError};

/// Active ISO 4217 codes with their minor-unit exponent.
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// An ISO 4217 currency code. Once a `Currency` exists it names a real currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "CNY")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const CNY: Currency = Currency(*b"CNY");
    pub const USD: Currency = Currency(*b"USD");

    pub fn parse(code: &str) -> Result<Self, String> {
        let upper = code.trim().to_ascii_uppercase();
        match ISO_4217.iter().find(|(c, _)| *c == upper) {
            Some((c, _)) => {
                let b = c.as_bytes();
                Ok(Currency([b[0], b[1], b[2]]))
            }
            None => Err(format!("`{code}` is not an ISO 4217 currency code")),
        }
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ISO codes are ASCII")
    }

    /// Digits after the decimal point (2 for CNY, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u8 {
        ISO_4217.iter().find(|(c, _)| *c == self.code()).map(|(_, e)| *e).unwrap_or(2)
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount in integer minor units (fen, cents) of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// Minor units: 1250000 CNY is 12,500.00 yuan.
    pub minor: i64,
    pub currency: Currency,
}

/// The largest amount a deal may carry: 10^15 minor units, far beyond any real deal, small
/// enough that sums of a million deals cannot overflow an i64.
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Result<Self, Error> {
        Self { minor, currency }.checked("amount")
    }

    /// Checks the range of an amount that arrived from outside.
    pub fn checked(self, field: &str) -> Result<Self, Error> {
        if self.minor < 0 {
            return Err(Error::Invalid(vec![FieldError::new(
                format!("{field}.minor"),
                "an amount cannot be negative",
            )]));
        }
        if self.minor > MAX_MINOR {
            return Err(Error::Invalid(vec![FieldError::new(
                format!("{field}.minor"),
                format!("an amount cannot exceed {MAX_MINOR} minor units"),
            )]));
        }
        Ok(self)
    }

    /// "12,500.00 CNY" — a plain rendering for logs and CLI output.
    pub fn display(&self) -> String {
        let exp = self.currency.exponent() as u32;
        let scale = 10i64.pow(exp);
        let whole = self.minor / scale;
        let frac = self.minor % scale;
        let mut digits = whole.to_string();
        let mut grouped = String::new();
        while digits.len() > 3 {
            let tail = digits.split_off(digits.len() - 3);
            grouped = format!(",{tail}{grouped}");
        }
        grouped = format!("{digits}{grouped}");
        if exp == 0 {
            format!("{grouped} {}", self.currency)
        } else {
            format!("{grouped}.{frac:0width$} {}", self.currency, width = exp as usize)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_codes_only() {
        assert_eq!(Currency::parse("cny").unwrap(), Currency::CNY);
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("RMB").is_err());
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
    }

    #[test]
    fn displays_minor_units() {
        assert_eq!(Money::new(1_250_000, Currency::CNY).unwrap().display(), "12,500.00 CNY");
        assert_eq!(Money::new(5, Currency::parse("JPY").unwrap()).unwrap().display(), "5 JPY");
        assert!(Money::new(-1, Currency::CNY).is_err());
        assert!(Money::new(i64::MAX, Currency::CNY).is_err());
    }
}
