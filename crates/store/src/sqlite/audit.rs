//! The audit log: append-only (triggers refuse UPDATE and DELETE), listed newest first.

use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};
use salesflow_domain::error::Result;
use salesflow_domain::records::*;

use super::rows::AUDIT_COLS;
use super::scope::Where;
use super::{all, exec, opt_ts, rows, ts};

pub fn append(conn: &Connection, e: &NewAuditEntry) -> Result<()> {
    exec(
        conn,
        "INSERT INTO audit_log (at, actor_id, action, subject_kind, subject_id, address, detail, old_value, new_value) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            ts(e.at),
            e.actor_id.map(|a| a.0),
            e.action.as_str(),
            e.subject_kind,
            e.subject_id,
            e.address,
            e.detail,
            e.old_value.as_ref().map(|v| v.to_string()),
            e.new_value.as_ref().map(|v| v.to_string()),
        ],
    )?;
    Ok(())
}

pub fn list(conn: &Connection, f: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
    let mut w = Where::new(&format!("SELECT {AUDIT_COLS} FROM audit_log WHERE 1 = 1"));
    w.eq("actor_id", f.actor.map(|a| Value::Integer(a.0)))
        .eq("action", f.action.map(|a| Value::Text(a.as_str().into())))
        .eq("subject_kind", f.subject_kind.clone().map(Value::Text))
        .eq("subject_id", f.subject_id.map(Value::Integer));
    if let Some(from) = opt_ts(f.from) {
        w.and("at >= ?", Value::Text(from));
    }
    if let Some(to) = opt_ts(f.to) {
        w.and("at < ?", Value::Text(to));
    }
    let (sql, values) = w.page("id", page);
    let items = all(conn, &sql, params_from_iter(values), rows::audit)?;
    Ok(Page::from_rows(items, page.limit, |e| e.id))
}
