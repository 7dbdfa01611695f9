//! The needs analysis of a deal (需求分析): pain points, requirements, budget, who decides,
//! timeline, purchase intent and competitors.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::currency::Money;
use crate::error::Error;
use crate::ids::{DealId, UserId};
use crate::records::{NAME_MAX, Problems, TEXT_MAX};

/// How far the named decision maker can decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Authority {
    /// Signs alone.
    Decides,
    /// Recommends; someone else signs.
    Influences,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedsInput {
    /// The version read; absent for the first analysis of a deal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(default)]
    pub pain_points: Vec<String>,
    /// Features the customer needs; matched against product tags.
    #[serde(default)]
    pub requirements: Vec<String>,
    pub budget: Option<Money>,
    #[serde(default)]
    pub decision_maker: String,
    pub authority: Option<Authority>,
    /// When the customer wants to decide or go live.
    pub timeline: Option<NaiveDate>,
    /// 1 (just looking) to 5 (ready to buy).
    pub purchase_intent: Option<u8>,
    #[serde(default)]
    pub competitors: Vec<String>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NeedsAnalysis {
    pub deal_id: DealId,
    #[serde(flatten)]
    pub input: NeedsInput,
    pub updated_by: UserId,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl NeedsAnalysis {
    /// The analysis `input` makes of a deal's `current` one: the first (version 1) when there is
    /// none and `input` names no version, else the next when `input.version` is the one read.
    /// Anything else is a conflict; the store writes the result only at that version.
    pub fn next(
        deal: DealId,
        current: Option<&NeedsAnalysis>,
        input: &NeedsInput,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<NeedsAnalysis, Error> {
        let version = match (current, input.version) {
            (None, None) => 1,
            (Some(c), Some(v)) if c.version == v => v + 1,
            (None, Some(_)) => {
                return Err(Error::Conflict(format!("deal {deal} has no needs analysis yet; omit `version`")));
            }
            _ => {
                return Err(Error::Conflict(format!(
                    "needs analysis of deal {deal} was changed by someone else since you read it; reload and try again"
                )));
            }
        };
        let input = NeedsInput { version: None, ..input.clone() };
        Ok(NeedsAnalysis { deal_id: deal, input, updated_by: by, updated_at: now, version })
    }
}

/// A part of the analysis an exit criterion can ask for ("budget known before quoting").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NeedsPart {
    PainPoints,
    Requirements,
    Budget,
    DecisionMaker,
    Timeline,
    PurchaseIntent,
    Competitors,
}

impl NeedsPart {
    pub const ALL: [NeedsPart; 7] = [
        NeedsPart::PainPoints,
        NeedsPart::Requirements,
        NeedsPart::Budget,
        NeedsPart::DecisionMaker,
        NeedsPart::Timeline,
        NeedsPart::PurchaseIntent,
        NeedsPart::Competitors,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NeedsPart::PainPoints => "pain_points",
            NeedsPart::Requirements => "requirements",
            NeedsPart::Budget => "budget",
            NeedsPart::DecisionMaker => "decision_maker",
            NeedsPart::Timeline => "timeline",
            NeedsPart::PurchaseIntent => "purchase_intent",
            NeedsPart::Competitors => "competitors",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl NeedsInput {
    /// The parts known, in the order of [`NeedsPart::ALL`]: what a deal carries for its gates.
    pub fn known_parts(&self) -> Vec<NeedsPart> {
        NeedsPart::ALL.into_iter().filter(|p| self.known(*p)).collect()
    }

    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems::default();
        let list = |p: &mut Problems, field: &str, items: &[String]| {
            for (i, v) in items.iter().enumerate() {
                p.text(&format!("{field}[{i}]"), v, true, NAME_MAX);
            }
        };
        list(&mut p, "pain_points", &self.pain_points);
        list(&mut p, "requirements", &self.requirements);
        list(&mut p, "competitors", &self.competitors);
        p.text("decision_maker", &self.decision_maker, false, NAME_MAX);
        p.text("notes", &self.notes, false, TEXT_MAX);
        if let Some(m) = self.budget
            && let Err(Error::Invalid(errs)) = m.checked("budget")
        {
            p.0.extend(errs);
        }
        if self.purchase_intent.is_some_and(|v| !(1..=5).contains(&v)) {
            p.push("purchase_intent", "must be between 1 and 5");
        }
        p.finish()
    }

    pub fn known(&self, part: NeedsPart) -> bool {
        match part {
            NeedsPart::PainPoints => !self.pain_points.is_empty(),
            NeedsPart::Requirements => !self.requirements.is_empty(),
            NeedsPart::Budget => self.budget.is_some_and(|b| b.minor > 0),
            NeedsPart::DecisionMaker => !self.decision_maker.trim().is_empty(),
            NeedsPart::Timeline => self.timeline.is_some(),
            NeedsPart::PurchaseIntent => self.purchase_intent.is_some(),
            NeedsPart::Competitors => !self.competitors.is_empty(),
        }
    }

    /// The parts of `required` not yet known, in the order asked.
    pub fn missing(&self, required: &[NeedsPart]) -> Vec<NeedsPart> {
        required.iter().copied().filter(|p| !self.known(*p)).collect()
    }
}

/// The parts of `required` a deal without any analysis, or with `needs`, still misses.
pub fn missing(needs: Option<&NeedsAnalysis>, required: &[NeedsPart]) -> Vec<NeedsPart> {
    match needs {
        Some(n) => n.input.missing(required),
        None => required.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::currency::Currency;

    #[test]
    fn each_analysis_follows_the_version_read() {
        let now = "2026-11-27T08:00:00Z".parse().unwrap();
        let input = NeedsInput { requirements: vec!["报表".into()], ..Default::default() };
        let first = NeedsAnalysis::next(DealId(3), None, &input, UserId(1), now).unwrap();
        assert_eq!((first.version, first.input.version), (1, None));
        let stale = NeedsInput { version: Some(7), ..input.clone() };
        assert!(matches!(NeedsAnalysis::next(DealId(3), None, &stale, UserId(1), now), Err(Error::Conflict(_))));
        assert!(matches!(
            NeedsAnalysis::next(DealId(3), Some(&first), &stale, UserId(1), now),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            NeedsAnalysis::next(DealId(3), Some(&first), &input, UserId(1), now),
            Err(Error::Conflict(_))
        ));
        let read = NeedsInput { version: Some(1), ..input };
        assert_eq!(NeedsAnalysis::next(DealId(3), Some(&first), &read, UserId(2), now).unwrap().version, 2);
    }

    #[test]
    fn reports_what_is_missing_and_bad_values() {
        let mut n = NeedsInput { requirements: vec!["报表".into()], ..Default::default() };
        let ask = [NeedsPart::Budget, NeedsPart::Requirements, NeedsPart::DecisionMaker];
        assert_eq!(n.missing(&ask), [NeedsPart::Budget, NeedsPart::DecisionMaker]);
        n.budget = Some(Money { minor: 10_000_000, currency: Currency::CNY });
        n.decision_maker = "王总".into();
        assert!(n.missing(&ask).is_empty());
        assert_eq!(missing(None, &ask), ask);
        n.purchase_intent = Some(6);
        n.budget = Some(Money { minor: -1, currency: Currency::CNY });
        let Err(Error::Invalid(errs)) = n.validate() else { panic!("invalid") };
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["budget.minor", "purchase_intent"]);
    }
}
