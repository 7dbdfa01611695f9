//! Timestamps as event logs write them, to UTC microseconds.
//!
//! Accepted: `YYYY-MM-DD`, then optionally `T` or a space and `HH:MM[:SS[.fraction]]`, then
//! optionally `Z`, `±HH:MM`, `±HHMM` or `±HH`. A timestamp without a zone is taken as UTC, as
//! pm4py (pandas `utc=True`) does. Fractions beyond microseconds are truncated (pandas keeps
//! microseconds for these logs). Hand-written because the readers call it once per event and
//! the formats differ slightly between CSV (space, `.276000`) and XES (`T`, `.000`).

use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampError(pub String);

impl std::fmt::Display for TimestampError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a timestamp: {:?} (expected e.g. 2011-10-11T13:45:40.276+02:00)", self.0)
    }
}

impl std::error::Error for TimestampError {}

const MICROS_PER_SEC: i64 = 1_000_000;

/// Parses one timestamp to microseconds since the Unix epoch (UTC).
pub fn parse_timestamp(text: &str) -> Result<i64, TimestampError> {
    parse(text.trim().as_bytes()).ok_or_else(|| TimestampError(text.to_string()))
}

fn parse(s: &[u8]) -> Option<i64> {
    let mut p = Cursor { s, i: 0 };
    let year = p.digits(4)? as i32;
    p.expect(b'-')?;
    let month = p.digits(2)?;
    p.expect(b'-')?;
    let day = p.digits(2)?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let days = (date - NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days();
    let mut secs = days * 86_400;
    let mut micros = 0i64;
    if p.peek().is_some_and(|c| c == b'T' || c == b't' || c == b' ') {
        p.i += 1;
        let h = i64::from(p.digits(2)?);
        p.expect(b':')?;
        let m = i64::from(p.digits(2)?);
        let mut sec = 0i64;
        if p.peek() == Some(b':') {
            p.i += 1;
            sec = i64::from(p.digits(2)?);
            if p.peek() == Some(b'.') || p.peek() == Some(b',') {
                p.i += 1;
                let start = p.i;
                let mut scale = 100_000i64;
                while let Some(c) = p.peek().filter(u8::is_ascii_digit) {
                    micros += i64::from(c - b'0') * scale;
                    scale /= 10;
                    p.i += 1;
                }
                if p.i == start {
                    return None;
                }
            }
        }
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        secs += h * 3600 + m * 60 + sec;
    }
    match p.peek() {
        None => {}
        Some(b'Z' | b'z') => {
            p.i += 1;
        }
        Some(sign @ (b'+' | b'-')) => {
            p.i += 1;
            let oh = i64::from(p.digits(2)?);
            let mut om = 0;
            if p.peek() == Some(b':') {
                p.i += 1;
                om = i64::from(p.digits(2)?);
            } else if p.peek().is_some_and(|c| c.is_ascii_digit()) {
                om = i64::from(p.digits(2)?);
            }
            let offset = oh * 3600 + om * 60;
            // Local time = UTC + offset, so UTC = local − offset.
            secs -= if sign == b'+' { offset } else { -offset };
        }
        Some(_) => return None,
    }
    if p.i != s.len() {
        return None;
    }
    Some(secs * MICROS_PER_SEC + micros)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let d = self.s.get(self.i..self.i + n)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(d.iter().fold(0, |acc, &c| acc * 10 + u32::from(c - b'0')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn chrono_micros(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    #[test]
    fn formats_of_the_shipped_logs() {
        assert_eq!(parse_timestamp("2010-12-30 14:32:00+01:00").unwrap(), chrono_micros("2010-12-30T14:32:00+01:00"));
        assert_eq!(
            parse_timestamp("2011-10-11 13:45:40.276000+02:00").unwrap(),
            chrono_micros("2011-10-11T13:45:40.276+02:00")
        );
        assert_eq!(
            parse_timestamp("2010-12-30T14:32:00.000+01:00").unwrap(),
            chrono_micros("2010-12-30T14:32:00+01:00")
        );
        assert_eq!(parse_timestamp("2012-10-09T14:50:17+00:00").unwrap(), chrono_micros("2012-10-09T14:50:17Z"));
    }

    #[test]
    fn zones_and_variants() {
        let utc = chrono_micros("2024-03-01T00:30:00Z");
        assert_eq!(parse_timestamp("2024-03-01T08:30:00+08:00").unwrap(), utc);
        assert_eq!(parse_timestamp("2024-02-29T19:30:00-0500").unwrap(), utc);
        assert_eq!(parse_timestamp("2024-03-01T02:30:00+02").unwrap(), utc);
        assert_eq!(parse_timestamp("2024-03-01 00:30").unwrap(), utc);
        assert_eq!(parse_timestamp("2024-03-01T00:30:00.123456789Z").unwrap(), utc + 123_456);
        assert_eq!(parse_timestamp("1969-12-31T23:59:59Z").unwrap(), -1_000_000);
        assert_eq!(parse_timestamp("2024-03-01").unwrap(), chrono_micros("2024-03-01T00:00:00Z"));
    }

    #[test]
    fn rejects_garbage() {
        for bad in
            ["", "yesterday", "2024-13-01", "2024-02-30", "2024-03-01T25:00", "2024-03-01T10:00:00+", "2024-03-01x"]
        {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }
}
