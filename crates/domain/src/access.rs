//! Who may see and change which records: the rules, in one place.
//!
//! - an **admin** reads and writes everything;
//! - a **manager** reads and writes the records of the members of the teams they manage, and
//!   their own;
//! - a **rep** reads and writes their own records;
//! - a **viewer** reads what the members of their teams own, and writes nothing;
//! - everyone also reaches the records shared with them (a viewer only reads them).
//!
//! A [`Scope`] is these rules resolved for one user. Every store list takes one and turns it
//! into a `WHERE` clause (so counts and sums see exactly the rows a list would show), and
//! [`crate::guard::Guarded`] checks single records with it before any read or write.

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::records::{Role, TeamReach, User};

/// Whose records a scope reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    All,
    /// Records owned by these users (sorted, unique); records shared with the scope's user come on top.
    Owners(Vec<UserId>),
    /// No owned records at all (a viewer's writes).
    Nothing,
}

impl Reach {
    fn owners(ids: impl IntoIterator<Item = UserId>) -> Reach {
        Reach::Owners(ids.into_iter().collect::<BTreeSet<_>>().into_iter().collect())
    }

    pub fn covers(&self, owner: UserId) -> bool {
        match self {
            Reach::All => true,
            Reach::Owners(ids) => ids.binary_search(&owner).is_ok(),
            Reach::Nothing => false,
        }
    }
}

/// The access rules resolved for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub user: UserId,
    pub role: Role,
    read: Reach,
    write: Reach,
}

impl Scope {
    /// The scope of `user`, given the teams they manage and belong to.
    pub fn for_user(user: &User, teams: &TeamReach) -> Scope {
        let me = std::iter::once(user.id);
        let (read, write) = match user.role {
            Role::Admin => (Reach::All, Reach::All),
            Role::Manager => {
                let reach = Reach::owners(me.chain(teams.managed.iter().copied()));
                (reach.clone(), reach)
            }
            Role::Rep => (Reach::owners(me.clone()), Reach::owners(me)),
            Role::Viewer => (
                Reach::owners(me.chain(teams.fellow.iter().copied()).chain(teams.managed.iter().copied())),
                Reach::Nothing,
            ),
        };
        Scope { user: user.id, role: user.role, read, write }
    }

    /// An administrator's scope: everything. For the command line and tests.
    pub fn admin(user: UserId) -> Scope {
        Scope { user, role: Role::Admin, read: Reach::All, write: Reach::All }
    }

    /// Whose records lists show; records shared with [`Scope::user`] are added unless this is `All`.
    pub fn read_reach(&self) -> &Reach {
        &self.read
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn can_read(&self, owner: UserId, shared_with_me: bool) -> bool {
        self.read.covers(owner) || shared_with_me
    }

    pub fn can_write(&self, owner: UserId, shared_with_me: bool) -> bool {
        self.role != Role::Viewer && (self.write.covers(owner) || shared_with_me)
    }

    /// Whether records may be given to `owner` (on create or reassignment).
    pub fn can_assign_to(&self, owner: UserId) -> bool {
        self.write.covers(owner)
    }

    /// Refuses anything but reading for a viewer.
    pub fn require_writer(&self) -> Result<()> {
        if self.role == Role::Viewer {
            return Err(Error::Forbidden("a viewer reads and writes nothing".into()));
        }
        Ok(())
    }

    /// Refuses anyone but an admin.
    pub fn require_admin(&self, what: &str) -> Result<()> {
        if self.role != Role::Admin {
            return Err(Error::Forbidden(format!("only an admin may {what}")));
        }
        Ok(())
    }

    /// Processes are drawn and published by admins and managers.
    pub fn require_process_editor(&self) -> Result<()> {
        if !matches!(self.role, Role::Admin | Role::Manager) {
            return Err(Error::Forbidden("only an admin or a manager may change processes".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
    fn each_role_reaches_what_the_rules_say() {
        let teams = TeamReach { managed: vec![UserId(3), UserId(2)], fellow: vec![UserId(5)] };
        let admin = Scope::for_user(&user(1, Role::Admin), &teams);
        assert!(admin.can_read(UserId(99), false) && admin.can_write(UserId(99), false));

        let manager = Scope::for_user(&user(1, Role::Manager), &teams);
        assert_eq!(manager.read_reach(), &Reach::Owners(vec![UserId(1), UserId(2), UserId(3)]));
        assert!(manager.can_write(UserId(3), false));
        assert!(!manager.can_read(UserId(5), false), "a manager's reach is the teams they manage");
        assert!(manager.can_assign_to(UserId(2)) && !manager.can_assign_to(UserId(9)));

        let rep = Scope::for_user(&user(4, Role::Rep), &teams);
        assert!(rep.can_write(UserId(4), false));
        assert!(!rep.can_read(UserId(3), false));
        assert!(rep.can_read(UserId(3), true) && rep.can_write(UserId(3), true), "shared records are reachable");
        assert!(!rep.can_assign_to(UserId(3)));

        let viewer = Scope::for_user(&user(6, Role::Viewer), &teams);
        assert!(viewer.can_read(UserId(5), false) && viewer.can_read(UserId(6), false));
        assert!(!viewer.can_write(UserId(6), false) && !viewer.can_write(UserId(5), true));
        assert!(viewer.require_writer().is_err());
        assert!(!viewer.can_assign_to(UserId(6)));
    }
}
