//! A deal's event log as sentences in the reader's language and time zone.

use std::collections::HashMap;

use chrono::NaiveDate;
use salesflow_domain::currency::Money;
use salesflow_domain::ids::UserId;
use salesflow_domain::process::{NodeKind, ProcessDefinition};
use salesflow_domain::records::{DealEvent, EventKind, User};
use serde_json::Value;

use crate::i18n::Locale;
use crate::i18n::deal::{DealTexts, fill};
use crate::pages::format;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct EventView {
    pub kind: &'static str,
    /// In the reader's time zone and language.
    pub when: String,
    /// RFC 3339, for `<time datetime>`.
    pub when_iso: String,
    pub actor: String,
    /// What happened, as one sentence per change.
    pub lines: Vec<String>,
    /// The label of the edge a move took ("客户接受").
    pub edge_label: Option<String>,
    /// Reasons and remarks: lost reason, override reason, back-dating.
    pub notes: Vec<String>,
    /// `won` or `lost` for the move that closed the deal, else empty.
    pub outcome: &'static str,
}

/// How to word events: the reader, the process the deal runs on, and who everyone is.
pub struct Wording<'a> {
    pub t: &'static DealTexts,
    pub locale: Locale,
    pub tz: chrono_tz::Tz,
    pub def: &'a ProcessDefinition,
    pub users: &'a HashMap<UserId, User>,
}

impl Wording<'_> {
    pub fn node_name(&self, id: &str) -> String {
        self.def.node(id).map(|n| n.name.clone()).unwrap_or_else(|| id.to_string())
    }

    pub fn user_name(&self, id: UserId) -> String {
        self.users.get(&id).map(|u| u.name.clone()).unwrap_or_else(|| self.t.unknown_user.to_string())
    }

    fn money(&self, v: &Value) -> String {
        match serde_json::from_value::<Option<Money>>(v.clone()) {
            Ok(Some(m)) => format::money(&m, self.locale),
            _ => self.t.not_set.to_string(),
        }
    }

    fn date(&self, v: &Value) -> String {
        match serde_json::from_value::<Option<NaiveDate>>(v.clone()) {
            Ok(Some(d)) => format::date(d, self.locale),
            _ => self.t.not_set.to_string(),
        }
    }

    fn user(&self, v: &Value) -> String {
        v.as_i64().map(|id| self.user_name(UserId(id))).unwrap_or_else(|| self.t.unknown_user.to_string())
    }

    /// The label of an exit criterion of `stage`, or its id when the stage no longer has it.
    fn criterion_label(&self, stage: &str, id: &str) -> String {
        self.def
            .stage(stage)
            .and_then(|s| s.exit_criteria.iter().find(|c| c.id == id))
            .map(|c| if c.label.trim().is_empty() { c.id.clone() } else { c.label.clone() })
            .unwrap_or_else(|| id.to_string())
    }

    /// Every event, newest first.
    pub fn timeline(&self, events: &[DealEvent]) -> Vec<EventView> {
        events.iter().rev().map(|e| self.event(e)).collect()
    }

    pub fn event(&self, e: &DealEvent) -> EventView {
        let t = self.t;
        let d = &e.details;
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        let mut lines = Vec::new();
        let mut notes = Vec::new();
        let mut edge_label = None;
        let mut outcome = "";
        match e.kind {
            EventKind::Created => lines.push(fill(t.ev_created, &[("to", &self.node_name(&e.to_node))])),
            EventKind::Moved => {
                let (from, to) = (self.node_name(&e.from_node), self.node_name(&e.to_node));
                let template = match self.def.node(&e.to_node).map(|n| &n.kind) {
                    Some(NodeKind::Won) => {
                        outcome = "won";
                        t.ev_won
                    }
                    Some(NodeKind::Lost) => {
                        outcome = "lost";
                        t.ev_lost
                    }
                    _ => t.ev_moved,
                };
                lines.push(fill(template, &[("from", &from), ("to", &to)]));
                edge_label = d["label"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| {
                        let edge = e.edge_id.as_deref()?;
                        self.def.edges.iter().find(|x| x.id == edge).map(|x| x.label.clone())
                    })
                    .filter(|l| !l.trim().is_empty() && *l != to);
                if let Some(ids) = d["overridden"].as_array() {
                    let criteria: Vec<String> =
                        ids.iter().filter_map(Value::as_str).map(|id| self.criterion_label(&e.from_node, id)).collect();
                    let sep = if self.locale == Locale::ZhCn { "、" } else { ", " };
                    notes.push(fill(
                        t.ev_overridden,
                        &[("criteria", &criteria.join(sep)), ("reason", &text(&d["override_reason"]))],
                    ));
                }
                if let Some(reason) = d["lost_reason"].as_str() {
                    notes.push(format!(
                        "{}{}{reason}",
                        t.lost_reason,
                        if self.locale == Locale::ZhCn { "：" } else { ": " }
                    ));
                }
            }
            EventKind::StepCompleted | EventKind::StepReopened => {
                let name = d["name"].as_str().or_else(|| d["step"].as_str()).unwrap_or("");
                let template =
                    if e.kind == EventKind::StepCompleted { t.ev_step_completed } else { t.ev_step_reopened };
                lines.push(fill(template, &[("step", name)]));
            }
            EventKind::AmountChanged => {
                lines.push(fill(t.ev_amount, &[("old", &self.money(&d["old"])), ("new", &self.money(&d["new"]))]));
            }
            EventKind::ProbabilityChanged => {
                let (old, new) = (d["old"].to_string(), d["new"].to_string());
                let mut line = fill(t.ev_probability, &[("old", &old), ("new", &new)]);
                if d["overridden"] == Value::Bool(false) {
                    line.push_str(t.ev_probability_default);
                }
                lines.push(line);
            }
            EventKind::CloseDateChanged => {
                lines.push(fill(t.ev_close_date, &[("old", &self.date(&d["old"])), ("new", &self.date(&d["new"]))]));
            }
            EventKind::OwnerChanged => {
                lines.push(fill(t.ev_owner, &[("old", &self.user(&d["old"])), ("new", &self.user(&d["new"]))]));
            }
            EventKind::Migrated => {
                let version = d["to_version"].to_string();
                lines.push(fill(t.ev_migrated, &[("version", &version), ("to", &self.node_name(&e.to_node))]));
            }
            EventKind::Updated => {
                if d.get("title").is_some() {
                    let (old, new) = (text(&d["title"]["old"]), text(&d["title"]["new"]));
                    lines.push(fill(t.ev_title, &[("old", &old), ("new", &new)]));
                }
                if d.get("needs_summary").is_some() {
                    lines.push(t.ev_needs.to_string());
                }
                if d.get("contact_ids").is_some() {
                    lines.push(t.ev_contacts.to_string());
                }
                if lines.is_empty() {
                    lines.push(t.ev_updated.to_string());
                }
            }
            EventKind::NeedsUpdated => lines.push(t.ev_needs_analysis.to_string()),
            EventKind::ObjectionLogged => {
                let template =
                    if d["resolved"] == Value::Bool(true) { t.ev_objection_resolved } else { t.ev_objection };
                lines.push(fill(template, &[("text", &text(&d["text"]))]));
                if let Some(a) = d["answer"].as_str().filter(|a| !a.is_empty()) {
                    notes.push(a.to_string());
                }
            }
            _ => {
                let field = |k: &str| match &d[k] {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    v => v.to_string(),
                };
                let discount = d["discount_bp"].as_i64().map(|bp| format!("{}.{:02} %", bp / 100, bp % 100));
                let discount = discount.unwrap_or_default();
                let template = match e.kind {
                    EventKind::QuoteCreated => t.ev_quote_created,
                    EventKind::QuoteUpdated if d.get("superseded_by").is_some() => t.ev_quote_superseded,
                    EventKind::QuoteUpdated => t.ev_quote_updated,
                    EventKind::DiscountRequested => t.ev_discount_requested,
                    EventKind::DiscountDecided if d["approved"] == Value::Bool(true) => t.ev_discount_approved,
                    EventKind::DiscountDecided => t.ev_discount_rejected,
                    EventKind::QuoteSent => t.ev_quote_sent,
                    EventKind::QuoteViewed => t.ev_quote_viewed,
                    EventKind::QuoteAccepted => t.ev_quote_accepted,
                    EventKind::QuoteRejected => t.ev_quote_rejected,
                    EventKind::ContractCreated => t.ev_contract_created,
                    EventKind::ContractStatusChanged => t.ev_contract_status,
                    EventKind::MilestoneDone => t.ev_milestone_done,
                    _ => t.ev_updated,
                };
                let values = [
                    ("quote", field("quote")),
                    ("by", field("superseded_by")),
                    ("discount", discount),
                    ("option", field("option")),
                    ("reason", field("reason")),
                    ("contract", field("contract")),
                    ("status", field("to")),
                    ("title", field("title")),
                ];
                let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
                lines.push(fill(template, &pairs));
                if let Some(c) = d["comment"].as_str().filter(|c| !c.is_empty()) {
                    notes.push(c.to_string());
                }
            }
        }
        // Written more than an hour after it happened: say so, with when it was recorded.
        if e.recorded_at - e.occurred_at > chrono::Duration::hours(1) {
            let at = format::datetime(e.recorded_at, self.tz, self.locale);
            notes.push(fill(t.ev_backdated, &[("at", &at)]));
        }
        EventView {
            kind: e.kind.as_str(),
            when: format::datetime(e.occurred_at, self.tz, self.locale),
            when_iso: e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            actor: self.user_name(e.actor_id),
            lines,
            edge_label,
            notes,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use salesflow_domain::ids::{DealId, ProcessId};
    use salesflow_domain::records::Role;
    use serde_json::json;

    use super::*;

    fn def() -> ProcessDefinition {
        salesflow_domain::templates::get("seed-five-stage.zh-CN").expect("the shipped seed process")
    }

    fn event(kind: EventKind, from: &str, to: &str, details: Value) -> DealEvent {
        let at = Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).unwrap();
        DealEvent {
            id: 1,
            deal_id: DealId(1),
            seq: 1,
            kind,
            process_id: ProcessId(1),
            process_version: 1,
            from_node: from.into(),
            to_node: to.into(),
            edge_id: None,
            actor_id: UserId(7),
            occurred_at: at,
            recorded_at: at,
            amount_minor: None,
            currency: None,
            probability: 10,
            expected_close_date: None,
            details,
        }
    }

    fn users() -> HashMap<UserId, User> {
        let mk = |id: i64, name: &str| User {
            id: UserId(id),
            name: name.into(),
            email: format!("u{id}@example.com"),
            locale: "zh-CN".into(),
            time_zone: "Asia/Shanghai".into(),
            role: Role::Rep,
            active: true,
        };
        HashMap::from([(UserId(7), mk(7, "王芳")), (UserId(8), mk(8, "李雷"))])
    }

    #[test]
    fn moves_changes_and_reasons_read_as_sentences() {
        let def = def();
        let users = users();
        let zh = Wording {
            t: crate::i18n::ZH_CN.deal,
            locale: Locale::ZhCn,
            tz: chrono_tz::Asia::Shanghai,
            def: &def,
            users: &users,
        };
        let moved = event(
            EventKind::Moved,
            "needs_analysis",
            "recommendation",
            json!({"route": ["needs_confirmed"], "label": "需求已明确", "overridden": ["c_intent"], "override_reason": "客户口头确认"}),
        );
        let v = zh.event(&moved);
        assert_eq!(v.lines, vec!["从「客户接触与需求分析」推进到「产品/服务推荐」"]);
        assert_eq!(v.edge_label.as_deref(), Some("需求已明确"));
        assert_eq!(v.when, "2025年3月3日 17:00", "in the reader's time zone");
        assert_eq!(v.actor, "王芳");
        assert!(v.notes[0].contains("客户口头确认") && v.notes[0].contains("客户尚未明确购买意向"), "{:?}", v.notes);

        let lost = event(EventKind::Moved, "negotiation", "lost", json!({"label": "丢单", "lost_reason": "预算被砍"}));
        let v = zh.event(&lost);
        assert_eq!(v.outcome, "lost");
        assert_eq!(v.notes, vec!["输单原因：预算被砍"]);

        let amount = event(
            EventKind::AmountChanged,
            "negotiation",
            "negotiation",
            json!({"old": null, "new": {"minor": 1_250_050, "currency": "CNY"}}),
        );
        assert_eq!(zh.event(&amount).lines, vec!["金额：未填写 → ¥12,500.50"]);

        let owner = event(EventKind::OwnerChanged, "a", "a", json!({"old": 7, "new": 8}));
        assert_eq!(zh.event(&owner).lines, vec!["负责人：王芳 → 李雷"]);

        let en = Wording { t: crate::i18n::EN.deal, locale: Locale::En, tz: chrono_tz::UTC, ..zh };
        let v = en.event(&amount);
        assert_eq!(v.lines, vec!["Amount: Not set → CNY 12,500.50"]);
        assert_eq!(v.when, "3 Mar 2025, 09:00");
        let step = event(EventKind::StepCompleted, "a", "a", json!({"step": "check_fit", "name": "Check fit"}));
        assert_eq!(en.event(&step).lines, vec!["Completed the step “Check fit”"]);
        let p = event(EventKind::ProbabilityChanged, "a", "a", json!({"old": 40, "new": 25, "overridden": false}));
        assert_eq!(en.event(&p).lines, vec!["Probability: 40% → 25% (back to the stage default)"]);
        let d = event(EventKind::CloseDateChanged, "a", "a", json!({"old": "2025-03-03", "new": null}));
        assert_eq!(en.event(&d).lines, vec!["Expected close: 3 Mar 2025 → Not set"]);
    }

    #[test]
    fn back_dated_events_say_when_they_were_recorded() {
        let def = def();
        let users = users();
        let en = Wording { t: crate::i18n::EN.deal, locale: Locale::En, tz: chrono_tz::UTC, def: &def, users: &users };
        let mut e = event(EventKind::Created, "lead_identification", "lead_identification", json!({"title": "x"}));
        e.recorded_at = e.occurred_at + chrono::Duration::days(2);
        let v = en.event(&e);
        assert_eq!(v.notes, vec!["back-dated, recorded 5 Mar 2025, 09:00"]);
        assert_eq!(v.lines, vec!["Created the deal in 潜在客户识别"]);
    }
}
