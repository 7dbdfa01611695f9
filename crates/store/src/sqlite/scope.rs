//! List filters: `WHERE` clauses built from optional conditions, the access scope of the caller
//! and the keyset page, with their bound values.
//!
//! A scope that reaches everything adds no SQL at all, so an admin's lists keep the plans the
//! indexes were made for. Any other scope adds `(owner_id IN (?, …) OR id IN (SELECT record_id
//! FROM record_shares WHERE record_kind = '<kind>' AND user_id = ?))`. The owners are bound one
//! parameter each rather than as one JSON array (`json_each(?)`): with a list of known length
//! the planner (given `ANALYZE` statistics) sees how few rows the owner index yields and uses
//! it, where it takes a `json_each` table for a big one and walks the status index instead.
//! The price is one cached statement per number of owners — a handful in practice.

use rusqlite::types::Value;
use salesflow_domain::access::{Reach, Scope};
use salesflow_domain::records::{PageRequest, RecordKind};

use super::like_pattern;

/// What a scope restricts a list to, owned so that it can move onto a blocking thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeFilter {
    All,
    /// Records owned by these users (at least one) or shared with `user`.
    Owners {
        owners: Vec<i64>,
        user: i64,
    },
    /// Only the records shared with `user`.
    Shared {
        user: i64,
    },
}

impl ScopeFilter {
    pub fn of(scope: &Scope) -> Self {
        match scope.read_reach() {
            Reach::All => ScopeFilter::All,
            Reach::Owners(ids) if !ids.is_empty() => {
                ScopeFilter::Owners { owners: ids.iter().map(|id| id.0).collect(), user: scope.user.0 }
            }
            Reach::Owners(_) | Reach::Nothing => ScopeFilter::Shared { user: scope.user.0 },
        }
    }
}

/// A `WHERE` clause under construction: `base` (which ends in a `WHERE …`) and ` AND …`
/// conditions, each with its values.
pub struct Where {
    sql: String,
    values: Vec<Value>,
}

impl Where {
    pub fn new(base: &str) -> Self {
        Where { sql: String::from(base), values: Vec::new() }
    }

    /// Adds ` AND <cond>`; `cond` has one `?` for `value`.
    pub fn and(&mut self, cond: &str, value: Value) -> &mut Self {
        self.sql.push_str(" AND ");
        self.sql.push_str(cond);
        self.values.push(value);
        self
    }

    /// Adds the condition `column = value` when `value` is given.
    pub fn eq(&mut self, column: &str, value: Option<Value>) -> &mut Self {
        if let Some(v) = value {
            self.and(&format!("{column} = ?"), v);
        }
        self
    }

    /// Adds a case-folded substring match on `column` (a `search_text` column) when `text` is not blank.
    pub fn text(&mut self, column: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
            self.and(&format!("{column} LIKE ? ESCAPE '\\'"), Value::Text(like_pattern(t)));
        }
        self
    }

    /// Limits the rows to those `scope` reaches; `owner` and `id` are the columns of the
    /// record's owner and id, `kind` the record kind its shares are filed under.
    pub fn scope(&mut self, scope: &ScopeFilter, kind: RecordKind, owner: &str, id: &str) -> &mut Self {
        let shared = format!(
            "{id} IN (SELECT record_id FROM record_shares WHERE record_kind = '{}' AND user_id = ?)",
            kind.as_str()
        );
        match scope {
            ScopeFilter::All => {}
            ScopeFilter::Owners { owners, user } => {
                let marks = vec!["?"; owners.len()].join(", ");
                self.sql.push_str(&format!(" AND ({owner} IN ({marks}) OR {shared})"));
                self.values.extend(owners.iter().map(|o| Value::Integer(*o)));
                self.values.push(Value::Integer(*user));
            }
            ScopeFilter::Shared { user } => {
                self.and(&shared, Value::Integer(*user));
            }
        }
        self
    }

    /// Binds a value to a `?` already in the SQL (in the base statement, say).
    pub fn bind(&mut self, value: Value) -> &mut Self {
        self.values.push(value);
        self
    }

    /// Appends raw SQL (an `ORDER BY`, a `GROUP BY`, a closing parenthesis) with its values.
    pub fn push(&mut self, sql: &str, values: impl IntoIterator<Item = Value>) -> &mut Self {
        self.sql.push_str(sql);
        self.values.extend(values);
        self
    }

    /// A keyset page: rows strictly after the cursor, newest first, one row more than the page
    /// so that the page knows whether there is a next one.
    pub fn page(mut self, id: &str, page: PageRequest) -> (String, Vec<Value>) {
        if let Some(after) = page.after {
            self.and(&format!("{id} < ?"), Value::Integer(after));
        }
        self.push(&format!(" ORDER BY {id} DESC LIMIT ?"), [Value::Integer(page.limit as i64 + 1)]);
        self.finish()
    }

    pub fn finish(self) -> (String, Vec<Value>) {
        (self.sql, self.values)
    }
}

/// A keyset page of the rows a scope that is not `All` reaches, without sorting all of them.
///
/// `owner_id IN (…) OR id IN (shares)` makes SQLite collect every row of every owner and sort
/// them before the limit: seconds for a rep with 80,000 deals. Instead each owner gets one
/// branch that walks that owner's index newest first and stops at the page size, the shared
/// records another, and the outer query reads only those ids: `select` must end in
/// `WHERE <id> IN (`; `branch` is the `SELECT <id> FROM … WHERE 1 = 1` each branch starts from;
/// `filters` adds the list's own conditions to a branch.
#[allow(clippy::too_many_arguments)]
pub fn scoped_page(
    select: &str,
    branch: &str,
    filters: impl Fn(&mut Where),
    scope: &ScopeFilter,
    kind: RecordKind,
    owner: &str,
    id: &str,
    page: PageRequest,
) -> (String, Vec<Value>) {
    let (owners, user) = match scope {
        ScopeFilter::All => (Vec::new(), None),
        ScopeFilter::Owners { owners, user } => (owners.clone(), Some(*user)),
        ScopeFilter::Shared { user } => (Vec::new(), Some(*user)),
    };
    let mut sql = String::from(select);
    let mut values = Vec::new();
    let mut first = true;
    let mut add = |w: Where, sql: &mut String, values: &mut Vec<Value>| {
        let (branch_sql, branch_values) = w.page(id, page);
        if !std::mem::take(&mut first) {
            sql.push_str(" UNION ALL ");
        }
        sql.push_str("SELECT * FROM (");
        sql.push_str(&branch_sql);
        sql.push(')');
        values.extend(branch_values);
    };
    for o in owners {
        let mut w = Where::new(branch);
        filters(&mut w);
        w.and(&format!("{owner} = ?"), Value::Integer(o));
        add(w, &mut sql, &mut values);
    }
    if let Some(user) = user {
        let mut w = Where::new(branch);
        filters(&mut w);
        w.and(
            &format!(
                "{id} IN (SELECT record_id FROM record_shares WHERE record_kind = '{}' AND user_id = ?)",
                kind.as_str()
            ),
            Value::Integer(user),
        );
        add(w, &mut sql, &mut values);
    }
    sql.push_str(&format!(") ORDER BY {id} DESC LIMIT ?"));
    values.push(Value::Integer(page.limit as i64 + 1));
    (sql, values)
}

#[cfg(test)]
mod tests {
    use salesflow_domain::ids::UserId;
    use salesflow_domain::records::{Role, TeamReach, User};

    use super::*;

    fn user(id: i64, role: Role) -> User {
        User {
            id: UserId(id),
            name: format!("u{id}"),
            email: format!("u{id}@example.com"),
            locale: "en".into(),
            time_zone: "UTC".into(),
            role,
            active: true,
        }
    }

    #[test]
    fn an_admin_scope_adds_no_sql() {
        let mut w = Where::new("SELECT id FROM deals d WHERE 1 = 1");
        w.scope(&ScopeFilter::of(&Scope::admin(UserId(1))), RecordKind::Deal, "d.owner_id", "d.id");
        assert_eq!(w.finish(), ("SELECT id FROM deals d WHERE 1 = 1".to_string(), vec![]));
    }

    #[test]
    fn other_scopes_add_owners_and_shares() {
        let teams = TeamReach { managed: vec![UserId(3), UserId(2)], fellow: vec![] };
        let manager = Scope::for_user(&user(7, Role::Manager), &teams);
        let mut w = Where::new("SELECT id FROM deals d WHERE 1 = 1");
        w.scope(&ScopeFilter::of(&manager), RecordKind::Deal, "d.owner_id", "d.id");
        let (sql, values) = w.finish();
        assert_eq!(
            sql,
            "SELECT id FROM deals d WHERE 1 = 1 AND (d.owner_id IN (?, ?, ?) OR d.id IN \
             (SELECT record_id FROM record_shares WHERE record_kind = 'deal' AND user_id = ?))"
        );
        let ints = |v: &[i64]| v.iter().map(|i| Value::Integer(*i)).collect::<Vec<_>>();
        assert_eq!(values, ints(&[2, 3, 7, 7]));

        let shared = ScopeFilter::Shared { user: 9 };
        let mut w = Where::new("SELECT id FROM leads WHERE 1 = 1");
        w.scope(&shared, RecordKind::Lead, "owner_id", "id");
        let (sql, values) = w.finish();
        assert!(
            sql.ends_with(
                " AND id IN (SELECT record_id FROM record_shares WHERE record_kind = 'lead' AND user_id = ?)"
            )
        );
        assert_eq!(values, vec![Value::Integer(9)]);
    }
}
