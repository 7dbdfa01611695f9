//! Every error leaves as `application/problem+json` (RFC 9457), mapped here in one place.
//! Internal failures are logged and answered with a generic message.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use salesflow_domain::gate::MissingCriterion;
use salesflow_domain::process::ProcessIssue;
use salesflow_domain::{Error, FieldError};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Input problems, each naming its field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Exit criteria not met, when a stage move is refused at its gate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingCriterion>,
    /// True when only soft criteria are missing: retry with `override_reason`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub override_required: bool,
    /// Process validation problems, each naming its node or edge.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<ProcessIssue>,
}

/// The error type of every handler.
#[derive(Debug)]
pub struct ApiError(pub Box<Problem>);

impl ApiError {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        ApiError(Box::new(Problem {
            kind: format!("/api/problems/{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            missing: Vec::new(),
            override_required: false,
            issues: Vec::new(),
        }))
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed-request", "Malformed request", detail)
    }

    pub fn field(status: StatusCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        let mut e = Self::new(status, "invalid-input", "Invalid input", format!("{}: {}", error.field, error.message));
        e.0.errors.push(error);
        e
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Not authenticated", detail)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound { .. } => Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", e.to_string()),
            Error::Invalid(errors) => {
                let detail =
                    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
                let mut p = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", "Invalid input", detail);
                p.0.errors = errors;
                p
            }
            Error::Conflict(detail) => Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail),
            Error::GateBlocked(report) => {
                let detail = format!(
                    "cannot leave stage `{}`: {}{}",
                    report.stage,
                    report
                        .missing
                        .iter()
                        .map(|m| format!("{} ({:?})", if m.label.is_empty() { &m.id } else { &m.label }, m.gate)
                            .to_lowercase())
                        .collect::<Vec<_>>()
                        .join(", "),
                    if report.override_required { "; give an override_reason to pass these soft criteria" } else { "" }
                );
                let mut p =
                    Self::new(StatusCode::UNPROCESSABLE_ENTITY, "gate-blocked", "Exit criteria not met", detail);
                p.0.override_required = report.override_required;
                p.0.missing = report.missing;
                p
            }
            Error::ProcessInvalid(issues) => {
                let detail = issues.iter().map(|i| i.message.clone()).collect::<Vec<_>>().join("; ");
                let mut p = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "process-invalid",
                    "The process definition is invalid",
                    detail,
                );
                p.0.issues = issues;
                p
            }
            Error::Unauthenticated(detail) => Self::unauthenticated(detail),
            Error::Forbidden(detail) => Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail),
            Error::Storage(detail) => {
                tracing::error!(%detail, "storage error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "the request could not be completed",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, Json(*self.0)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, "application/problem+json".parse().expect("static header"));
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static header"));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub async fn not_found_fallback(uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", format!("no route for {}", uri.path()))
}
