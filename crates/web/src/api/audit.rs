//! The audit log, for admins.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use salesflow_domain::ids::UserId;
use salesflow_domain::records::{AuditAction, AuditEntry, AuditFilter};
use serde::Deserialize;

use super::{Paging, page_type};
use crate::AppState;
use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::problem::{ApiResult, Problem};

page_type!(AuditPage, AuditEntry);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    actor: Option<i64>,
    action: Option<AuditAction>,
    /// `deal`, `lead`, `account`, `contact`, `user`, `team`, `api_token`, `process`, `session`.
    subject_kind: Option<String>,
    subject_id: Option<i64>,
    /// From this instant (inclusive).
    from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive).
    to: Option<DateTime<Utc>>,
    limit: Option<u32>,
    cursor: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "users", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = Problem)))]
pub async fn list(
    c: Caller,
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let page = Paging { limit: q.limit, cursor: q.cursor }.page()?;
    let filter = AuditFilter {
        actor: q.actor.map(UserId),
        action: q.action,
        subject_kind: q.subject_kind,
        subject_id: q.subject_id,
        from: q.from,
        to: q.to,
    };
    Ok(Json(c.guarded(&s).audit_log(&filter, page, s.clock.now()).await?.into()))
}
