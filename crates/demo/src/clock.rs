//! Business hours without a time-zone database: the handful of zones the demo team lives in,
//! with their daylight-saving rules, and a monotone map from continuous time onto weekday
//! working hours.

/// Seconds since the Unix epoch.
pub type Secs = i64;

pub const DAY: Secs = 86_400;
const WEEK: Secs = 7 * DAY;
/// 09:00–18:30 local time.
const OPEN: Secs = 9 * 3600;
const WORK: Secs = 9 * 3600 + 1800;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dst {
    None,
    /// Second Sunday of March to first Sunday of November, 02:00 local.
    Us,
    /// Last Sunday of March to last Sunday of October, 01:00 UTC.
    Eu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    standard: Secs,
    dst: Dst,
}

impl Zone {
    /// The zone for an IANA name; unknown names fall back to `fallback_hours` east of UTC.
    pub fn named(name: &str, fallback_hours: i64) -> Zone {
        let (h, m, dst) = match name {
            "Asia/Shanghai" | "Asia/Chongqing" | "Asia/Hong_Kong" | "Asia/Taipei" | "Asia/Singapore"
            | "Asia/Kuala_Lumpur" | "Asia/Manila" | "Australia/Perth" => (8, 0, Dst::None),
            "Asia/Tokyo" | "Asia/Seoul" => (9, 0, Dst::None),
            "Asia/Kolkata" => (5, 30, Dst::None),
            "Asia/Dubai" => (4, 0, Dst::None),
            "UTC" | "Etc/UTC" => (0, 0, Dst::None),
            "Europe/London" | "Europe/Dublin" | "Europe/Lisbon" => (0, 0, Dst::Eu),
            "Europe/Berlin" | "Europe/Paris" | "Europe/Amsterdam" | "Europe/Madrid" | "Europe/Rome"
            | "Europe/Stockholm" | "Europe/Zurich" | "Europe/Vienna" | "Europe/Brussels" => (1, 0, Dst::Eu),
            "America/New_York" | "America/Toronto" => (-5, 0, Dst::Us),
            "America/Chicago" => (-6, 0, Dst::Us),
            "America/Denver" => (-7, 0, Dst::Us),
            "America/Los_Angeles" | "America/Vancouver" => (-8, 0, Dst::Us),
            _ => (fallback_hours, 0, Dst::None),
        };
        Zone { standard: h * 3600 + m * 60, dst }
    }

    /// Offset east of UTC at instant `t`.
    pub fn offset(&self, t: Secs) -> Secs {
        let dst = match self.dst {
            Dst::None => false,
            Dst::Us => {
                let (y, _, _) = civil_from_days((t + self.standard).div_euclid(DAY));
                let march = days_from_civil(y, 3, 1);
                let start_day = march + (6 - weekday(march)).rem_euclid(7) + 7;
                let nov = days_from_civil(y, 11, 1);
                let end_day = nov + (6 - weekday(nov)).rem_euclid(7);
                let start = start_day * DAY + 7200 - self.standard;
                let end = end_day * DAY + 7200 - self.standard - 3600;
                t >= start && t < end
            }
            Dst::Eu => {
                let (y, _, _) = civil_from_days(t.div_euclid(DAY));
                let last_sunday = |m: u32, d: u32| {
                    let day = days_from_civil(y, m, d);
                    day - (weekday(day) + 1).rem_euclid(7)
                };
                let start = last_sunday(3, 31) * DAY + 3600;
                let end = last_sunday(10, 31) * DAY + 3600;
                t >= start && t < end
            }
        };
        self.standard + if dst { 3600 } else { 0 }
    }

    /// Maps continuous time onto this zone's working hours, week by week: the whole local week
    /// is squeezed linearly into Monday–Friday 09:00–18:30. Monotone, and durations keep their
    /// length on average, so simulated stage times stay honest.
    pub fn to_business(&self, t: Secs) -> Secs {
        let off = self.offset(t);
        // Weeks start on a Monday; 1970-01-01 was a Thursday.
        let base = t + off + 3 * DAY;
        let week = base.div_euclid(WEEK);
        let within = base.rem_euclid(WEEK);
        let b = within * (5 * WORK) / WEEK;
        let day = b / WORK;
        let local = week * WEEK - 3 * DAY + day * DAY + OPEN + (b - day * WORK);
        local - off
    }

    /// The local calendar day (days since the epoch) of instant `t`.
    pub fn local_day(&self, t: Secs) -> i64 {
        (t + self.offset(t)).div_euclid(DAY)
    }
}

/// Monday = 0 … Sunday = 6.
pub fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, TimeZone, Timelike, Utc};

    #[test]
    fn civil_round_trip() {
        for z in [-1000, 0, 1, 19_000, 20_000, 20_500] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
            let nd = NaiveDate::from_num_days_from_ce_opt(z as i32 + 719_163).unwrap();
            assert_eq!((nd.year() as i64, nd.month(), nd.day()), (y, m, d));
        }
    }

    #[test]
    fn daylight_saving() {
        let ny = Zone::named("America/New_York", 0);
        let t = |y, m, d, h| Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().timestamp();
        assert_eq!(ny.offset(t(2025, 1, 15, 12)), -5 * 3600);
        assert_eq!(ny.offset(t(2025, 7, 15, 12)), -4 * 3600);
        assert_eq!(ny.offset(t(2025, 3, 9, 6)), -5 * 3600);
        assert_eq!(ny.offset(t(2025, 3, 9, 8)), -4 * 3600);
        let london = Zone::named("Europe/London", 0);
        assert_eq!(london.offset(t(2025, 3, 30, 0)), 0);
        assert_eq!(london.offset(t(2025, 3, 30, 2)), 3600);
        assert_eq!(london.offset(t(2025, 10, 26, 2)), 0);
        assert_eq!(Zone::named("Asia/Shanghai", 0).offset(t(2025, 7, 1, 0)), 8 * 3600);
    }

    #[test]
    fn business_hours_are_monotone_weekdays() {
        let sh = Zone::named("Asia/Shanghai", 8);
        let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap().timestamp();
        let mut prev = i64::MIN;
        for k in 0..(60 * 24 * 4) {
            let t = start + k * 900;
            let b = sh.to_business(t);
            assert!(b >= prev);
            prev = b;
            let local = Utc.timestamp_opt(b + 8 * 3600, 0).unwrap();
            assert!(local.weekday().num_days_from_monday() < 5, "{local}");
            let minutes = local.hour() * 60 + local.minute();
            assert!((9 * 60..18 * 60 + 30).contains(&minutes), "{local}");
        }
    }
}
