use chrono::{DateTime, SubsecRound, Utc};

/// Where "now" comes from. Stores never ask the database for the time, so both backends
/// write the same instants and tests can pin the clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Microsecond precision: what both databases keep, so a returned record equals a re-read one.
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}
