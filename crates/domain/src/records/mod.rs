//! The CRM records: who sells (users), to whom (accounts, contacts), what comes in (leads),
//! what is pursued (deals) and what happened to it (deal events).

mod account;
mod audit;
mod contact;
mod deal;
mod event;
mod lead;
mod page;
mod user;

pub use account::*;
pub use audit::*;
pub use contact::*;
pub use deal::*;
pub use event::*;
pub use lead::*;
pub use page::*;
pub use user::*;

use crate::error::FieldError;

/// The items in their first-seen order, each once.
pub fn unique<T: Copy + Eq + std::hash::Hash>(items: &[T]) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    items.iter().copied().filter(|i| seen.insert(*i)).collect()
}

/// Trimmed text, or `None` when nothing is left.
pub fn trimmed(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Collects field problems so that a caller hears about all of them at once.
#[derive(Default)]
pub(crate) struct Problems(pub Vec<FieldError>);

impl Problems {
    pub fn text(&mut self, field: &str, value: &str, required: bool, max: usize) {
        let len = value.trim().chars().count();
        if required && len == 0 {
            self.0.push(FieldError::new(field, "is required"));
        } else if value.chars().count() > max {
            self.0.push(FieldError::new(field, format!("is longer than {max} characters")));
        }
    }

    pub fn opt_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            self.text(field, v, false, max);
        }
    }

    pub fn email(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value.filter(|v| !v.trim().is_empty())
            && crate::normalize::email(v).is_none()
        {
            self.0.push(FieldError::new(field, format!("`{v}` is not an email address")));
        }
    }

    pub fn phone(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            let allowed = v.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if !allowed || crate::normalize::phone(v).is_none() {
                self.0.push(FieldError::new(field, format!("`{v}` is not a phone number")));
            }
        }
    }

    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn finish(self) -> Result<(), crate::Error> {
        if self.0.is_empty() { Ok(()) } else { Err(crate::Error::Invalid(self.0)) }
    }
}

pub(crate) const NAME_MAX: usize = 200;
pub(crate) const TEXT_MAX: usize = 10_000;
