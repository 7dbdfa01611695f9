use serde::Serialize;

use crate::gate::GateReport;
use crate::process::ProcessIssue;

/// One input problem, named by its field path (`amount.currency`, `lost_reason`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// The one error type of the domain and of every store. The HTTP edge maps each variant to a
/// status code in a single place.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{entity} {id} does not exist")]
    NotFound { entity: &'static str, id: String },
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("the exit criteria of stage `{}` are not met", .0.stage)]
    GateBlocked(GateReport),
    #[error("the process definition is invalid ({} problems)", .0.len())]
    ProcessInvalid(Vec<ProcessIssue>),
    #[error("not authenticated: {0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this (a viewer writing, a manager changing roles).
    /// Records the caller may not read are `NotFound` instead, so that their existence does
    /// not leak.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("storage failure: {0}")]
    Storage(String),
}

impl Error {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Error::NotFound { entity, id: id.to_string() }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError::new(field, message)])
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
