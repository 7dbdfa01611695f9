//! Objections (异议) a customer raises, logged per deal and stage with the answer given, and the
//! per-stage playbook of common objections → recommended answer → evidence that managers keep.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::quote::DealNote;
use crate::error::Error;
use crate::ids::{DealId, ProcessId, UserId};
use crate::records::{EventKind, NAME_MAX, Problems, TEXT_MAX};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionKind {
    Price,
    Timing,
    Competitor,
    Features,
    Trust,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObjection {
    pub kind: ObjectionKind,
    /// What the customer said.
    pub text: String,
    /// The answer given, if any yet.
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub resolved: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Objection {
    pub id: i64,
    pub deal_id: DealId,
    /// The stage the deal was in when it was raised.
    pub stage: String,
    #[serde(flatten)]
    pub spec: NewObjection,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// Record the answer given or that the objection is resolved.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionPatch {
    pub version: i64,
    pub answer: Option<String>,
    pub resolved: Option<bool>,
}

fn check(p: &mut Problems, o: &NewObjection) {
    p.text("text", &o.text, true, TEXT_MAX);
    p.text("answer", &o.answer, false, TEXT_MAX);
}

impl Objection {
    pub fn raise(
        deal: DealId,
        stage: &str,
        new: NewObjection,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<(Objection, DealNote), Error> {
        let mut p = Problems::default();
        check(&mut p, &new);
        p.finish()?;
        let o = Objection {
            id: 0,
            deal_id: deal,
            stage: stage.into(),
            spec: NewObjection { text: new.text.trim().into(), answer: new.answer.trim().into(), ..new },
            created_by: by,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let note = o.note();
        Ok((o, note))
    }

    fn note(&self) -> DealNote {
        let mut details = json!({ "kind": self.spec.kind, "text": self.spec.text, "answer": self.spec.answer,
            "resolved": self.spec.resolved });
        if self.id != 0 {
            details["objection"] = json!(self.id);
        }
        DealNote { kind: EventKind::ObjectionLogged, details }
    }

    pub fn apply(&mut self, patch: &ObjectionPatch, now: DateTime<Utc>) -> Result<DealNote, Error> {
        if patch.version != self.version {
            return Err(Error::Conflict(format!(
                "objection {} changed since it was read (version {}, now {})",
                self.id, patch.version, self.version
            )));
        }
        let mut next = self.spec.clone();
        if let Some(a) = &patch.answer {
            next.answer = a.trim().into();
        }
        if let Some(r) = patch.resolved {
            next.resolved = r;
        }
        let mut p = Problems::default();
        check(&mut p, &next);
        p.finish()?;
        self.spec = next;
        self.updated_at = now;
        self.version += 1;
        Ok(self.note())
    }
}

/// One entry of a stage's playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookEntry {
    pub kind: ObjectionKind,
    /// The objection as customers put it.
    pub objection: String,
    pub answer: String,
    /// The facts, cases or numbers that back the answer.
    #[serde(default)]
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookInput {
    /// The version read; absent for a stage without a playbook yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    pub entries: Vec<PlaybookEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Playbook {
    pub process_id: ProcessId,
    pub stage: String,
    pub entries: Vec<PlaybookEntry>,
    pub updated_by: UserId,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl PlaybookInput {
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        for (i, e) in self.entries.iter().enumerate() {
            p.text(&format!("entries[{i}].objection"), &e.objection, true, NAME_MAX);
            p.text(&format!("entries[{i}].answer"), &e.answer, true, TEXT_MAX);
            p.text(&format!("entries[{i}].evidence"), &e.evidence, false, TEXT_MAX);
        }
        p.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_objection_is_logged_answered_and_resolved() {
        let now = "2026-12-01T08:00:00Z".parse().unwrap();
        let new = NewObjection {
            kind: ObjectionKind::Price,
            text: " 太贵了 ".into(),
            answer: String::new(),
            resolved: false,
        };
        let (mut o, note) = Objection::raise(DealId(3), "negotiation", new, UserId(7), now).unwrap();
        assert_eq!((o.spec.text.as_str(), note.kind), ("太贵了", EventKind::ObjectionLogged));
        let patch =
            ObjectionPatch { version: 1, answer: Some("三年总拥有成本低 20%".into()), resolved: Some(true) };
        let note = o.apply(&patch, now).unwrap();
        assert_eq!((note.details["resolved"].as_bool(), o.version), (Some(true), 2));
        assert!(matches!(o.apply(&patch, now), Err(Error::Conflict(_))), "a stale version");
        let empty =
            NewObjection { kind: ObjectionKind::Other, text: " ".into(), answer: String::new(), resolved: false };
        assert!(matches!(Objection::raise(DealId(3), "x", empty, UserId(7), now), Err(Error::Invalid(_))));
        let bad = PlaybookInput {
            version: None,
            entries: vec![PlaybookEntry {
                kind: ObjectionKind::Price,
                objection: "太贵".into(),
                answer: String::new(),
                evidence: String::new(),
            }],
        };
        let Err(Error::Invalid(errs)) = bad.validate() else { panic!("invalid") };
        assert_eq!(errs[0].field, "entries[0].answer");
    }
}
