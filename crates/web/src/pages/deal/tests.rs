//! The deal page's form logic: which patch an edit asks for, which route a move names.

use chrono::{NaiveDate, TimeZone, Utc};
use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::ids::{AccountId, DealId, ProcessId, UserId};
use salesflow_domain::records::{Deal, DealStatus};

use super::*;

fn deal() -> Deal {
    let at = Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).unwrap();
    Deal {
        id: DealId(1),
        title: "年度采购".into(),
        account_id: AccountId(1),
        contact_ids: vec![],
        owner_id: UserId(1),
        process_id: ProcessId(1),
        process_version: 1,
        current_node: "needs_analysis".into(),
        amount: Some(Money { minor: 1_250_000, currency: Currency::CNY }),
        expected_close_date: None,
        probability: 25,
        probability_overridden: false,
        status: DealStatus::Open,
        lost_reason: None,
        needs_summary: String::new(),
        channel: None,
        lead_id: None,
        completed_steps: vec![],
        needs_known: Vec::new(),
        version: 4,
        stage_entered_at: at,
        created_at: at,
        updated_at: at,
        closed_at: None,
    }
}

fn form(fields: &[(&str, &str)]) -> EditForm {
    let body = serde_urlencoded::to_string(fields).unwrap();
    parse_form(&Bytes::from(body))
}

fn t() -> &'static crate::i18n::deal::DealTexts {
    crate::i18n::EN.deal
}

/// The form as the page renders it, unchanged: nothing to patch.
fn unchanged() -> Vec<(&'static str, &'static str)> {
    vec![
        ("version", "4"),
        ("title", "年度采购"),
        ("amount", "12500.00"),
        ("currency", "CNY"),
        ("probability", "25"),
        ("expected_close_date", ""),
        ("needs_summary", ""),
    ]
}

fn with(field: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut f = unchanged();
    f.retain(|(k, _)| *k != field);
    f.push((field, value));
    f
}

#[test]
fn an_unchanged_form_changes_nothing_not_even_the_probability_override() {
    let p = edit_patch(&form(&unchanged()), &deal(), t()).unwrap();
    assert_eq!(p.version, 4);
    assert!(p.title.is_none() && p.amount.is_none() && p.probability.is_none());
    assert!(p.expected_close_date.is_none() && p.needs_summary.is_none() && p.contact_ids.is_none());
}

#[test]
fn changed_fields_become_the_patch() {
    let p = edit_patch(&form(&with("amount", "12,500.50")), &deal(), t()).unwrap();
    assert_eq!(p.amount, Some(Some(Money { minor: 1_250_050, currency: Currency::CNY })));
    let p = edit_patch(&form(&with("amount", "")), &deal(), t()).unwrap();
    assert_eq!(p.amount, Some(None), "an emptied amount is cleared");
    let p = edit_patch(&form(&with("currency", "USD")), &deal(), t()).unwrap();
    assert_eq!(p.amount, Some(Some(Money { minor: 1_250_000, currency: Currency::USD })));
    let p = edit_patch(&form(&with("probability", "60")), &deal(), t()).unwrap();
    assert_eq!(p.probability, Some(Some(60)));
    let p = edit_patch(&form(&with("expected_close_date", "2025-06-30")), &deal(), t()).unwrap();
    assert_eq!(p.expected_close_date, Some(NaiveDate::from_ymd_opt(2025, 6, 30)));
    let p = edit_patch(&form(&with("title", "  年度采购（续） ")), &deal(), t()).unwrap();
    assert_eq!(p.title.as_deref(), Some("年度采购（续）"));
    let p = edit_patch(&form(&with("needs_summary", "痛点：\r\n报表慢")), &deal(), t()).unwrap();
    assert_eq!(p.needs_summary.as_deref(), Some("痛点：\n报表慢"));
}

#[test]
fn an_emptied_probability_returns_to_the_stage_default_only_when_overridden() {
    let mut d = deal();
    assert!(edit_patch(&form(&with("probability", "")), &d, t()).unwrap().probability.is_none());
    d.probability_overridden = true;
    assert_eq!(edit_patch(&form(&with("probability", "")), &d, t()).unwrap().probability, Some(None));
}

#[test]
fn fields_not_sent_are_left_alone() {
    let p = edit_patch(&form(&[("version", "4"), ("title", "新名称")]), &deal(), t()).unwrap();
    assert_eq!(p.title.as_deref(), Some("新名称"));
    assert!(p.amount.is_none() && p.needs_summary.is_none() && p.expected_close_date.is_none());
}

#[test]
fn every_bad_field_is_reported_at_once_in_the_readers_words() {
    let mut f = unchanged();
    f.retain(|(k, _)| !["title", "amount", "probability", "expected_close_date"].contains(k));
    f.extend([("title", " "), ("amount", "12.505"), ("probability", "150"), ("expected_close_date", "31/02/2025")]);
    let problems = edit_patch(&form(&f), &deal(), t()).unwrap_err();
    let fields: Vec<&str> = problems.iter().map(|(f, _)| *f).collect();
    assert_eq!(fields, vec!["title", "amount", "probability", "expected_close_date"]);
    assert_eq!(problems[1].1, "CNY amounts have at most 2 decimal places.");

    let problems = edit_patch(&form(&with("amount", "-5")), &deal(), t()).unwrap_err();
    assert_eq!(problems, vec![("amount", "The amount cannot be negative.".to_string())]);
    let problems = edit_patch(&form(&with("currency", "RMB")), &deal(), t()).unwrap_err();
    assert_eq!(problems, vec![("currency", "Choose a valid currency.".to_string())]);
    let long = "长".repeat(201);
    let mut f = unchanged();
    f.retain(|(k, _)| *k != "title");
    let f: Vec<(&str, &str)> = f.into_iter().chain([("title", long.as_str())]).collect();
    let problems = edit_patch(&form(&f), &deal(), t()).unwrap_err();
    assert_eq!(problems, vec![("title", "The title is too long.".to_string())], "the domain's length rule");
}

#[test]
fn a_move_names_its_target_and_optionally_the_edge() {
    assert_eq!(route_choice("won", ""), ("won".into(), None));
    assert_eq!(route_choice("lost|declined", ""), ("lost".into(), Some("declined".into())));
    assert_eq!(route_choice("lost|declined", "free_trial_lost"), ("lost".into(), Some("free_trial_lost".into())));
    assert_eq!(route_choice(" lost ", " "), ("lost".into(), None));
}

#[test]
fn domain_field_paths_map_to_form_fields() {
    assert_eq!(form_field("amount.minor"), "amount");
    assert_eq!(form_field("contact_ids[2]"), "contacts");
    assert_eq!(form_field("edge"), "to");
    assert_eq!(form_field("occurred_at"), "");
}
