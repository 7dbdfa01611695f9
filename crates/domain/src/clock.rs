use chrono::{DateTime, Utc};

/// Where "now" comes from. Stores never ask the database for the time, so both backends
/// write the same instants and tests can pin the clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
