//! `POST /board/move`: a card dropped on another column, its keyboard form, or a retry from
//! the override, lost-reason or route-choice form. Form-encoded fields `deal`, `version`, `to`,
//! optional `edge`, `override_reason`, `lost_reason`.
//!
//! The board script asks for JSON (`Accept: application/json`) and gets
//! `{"moved": true, "card": "<article…>", "columns": [<totals of the two columns involved>]}`,
//! or `{"moved": false, "reason": …, "panel": "<div…>"}` with the explanation and the form to
//! retry; the card moves on the page only after `moved: true`. Without script the same forms post normally: success
//! redirects to the board, a refusal renders the board with the panel.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use salesflow_domain::Error;
use salesflow_domain::guard::Guarded;
use salesflow_domain::ids::DealId;
use salesflow_domain::process::{Gate, NodeKind, ProcessDefinition};
use salesflow_domain::records::{Deal, DealFilter, DealStatus, MoveRequest, PageRequest};
use salesflow_domain::store::DealSummary;
use serde::Serialize;

use super::view::{Card, Stats, targets};
use super::{board_page, cards, movable, with_status};
use crate::AppState;
use crate::i18n::board::{Board, fill};
use crate::pages::Ctx;

#[derive(serde::Deserialize, Default)]
struct MoveForm {
    #[serde(default)]
    deal: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    to: String,
    edge: Option<String>,
    override_reason: Option<String>,
    lost_reason: Option<String>,
}

fn non_blank(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A missing exit criterion as the panel lists it.
pub struct Missing {
    pub id: String,
    pub label: String,
    pub hard: bool,
}

/// The hidden fields a retry form sends back.
pub struct Fields {
    pub deal: i64,
    pub version: i64,
    pub to: String,
    pub edge: Option<String>,
}

/// Why a move was refused and what to do about it.
pub struct Panel {
    /// `gate`, `override`, `lost_reason`, `edge`, `no_route`, `closed`, `conflict`,
    /// `forbidden`, `not_found` or `invalid`.
    pub reason: &'static str,
    pub deal: i64,
    pub heading: String,
    pub missing: Vec<Missing>,
    pub fields: Option<Fields>,
    /// Routes to choose from: (last edge, its label).
    pub routes: Vec<(String, String)>,
    pub detail: Option<String>,
    /// The reason field was sent empty.
    pub field_error: Option<&'static str>,
    /// The board to reload.
    pub reload: Option<String>,
}

impl Panel {
    fn new(reason: &'static str, deal: i64) -> Panel {
        Panel {
            reason,
            deal,
            heading: String::new(),
            missing: Vec::new(),
            fields: None,
            routes: Vec::new(),
            detail: None,
            field_error: None,
            reload: None,
        }
    }
}

#[derive(Template)]
#[template(path = "board_panel.html")]
struct PanelFragment<'a> {
    t: &'static Board,
    csrf: &'a str,
    p: &'a Panel,
}

#[derive(Template)]
#[template(path = "board_card.html")]
struct CardFragment<'a> {
    t: &'static Board,
    csrf: &'a str,
    movable: bool,
    card: &'a Card,
}

#[derive(Serialize)]
struct ColumnStats {
    node: String,
    count: u64,
    amount: String,
    amount_value: String,
    weighted: String,
    weighted_value: String,
}

impl ColumnStats {
    fn of(node: &str, s: &Stats) -> Self {
        ColumnStats {
            node: node.to_string(),
            count: s.count,
            amount: s.amount.clone(),
            amount_value: s.amount_value.clone(),
            weighted: s.weighted.clone(),
            weighted_value: s.weighted_value.clone(),
        }
    }
}

#[derive(Serialize)]
struct Moved {
    moved: bool,
    deal: i64,
    from: String,
    to: String,
    version: i64,
    message: String,
    card: String,
    columns: Vec<ColumnStats>,
}

#[derive(Serialize)]
struct Refused<'a> {
    moved: bool,
    reason: &'a str,
    panel: String,
}

fn render_to_string(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "template failed");
        String::new()
    })
}

pub async fn move_card(ctx: Ctx, State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let wants_json =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"));
    let form: MoveForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let (Ok(deal), Ok(version)) = (form.deal.trim().parse::<i64>(), form.version.trim().parse::<i64>()) else {
        if !wants_json {
            return (StatusCode::BAD_REQUEST, "deal and version must be numbers").into_response();
        }
        let panel = Panel {
            heading: ctx.t.board.invalid.to_string(),
            detail: Some("deal, version: a number is required".into()),
            ..Panel::new("invalid", 0)
        };
        let html = render_to_string(&PanelFragment { t: ctx.t.board, csrf: &ctx.csrf, p: &panel });
        return (StatusCode::BAD_REQUEST, Json(Refused { moved: false, reason: panel.reason, panel: html }))
            .into_response();
    };
    let req = MoveRequest {
        to: form.to.trim().to_string(),
        edge: non_blank(&form.edge),
        version,
        occurred_at: None,
        override_reason: non_blank(&form.override_reason),
        lost_reason: non_blank(&form.lost_reason),
    };
    let g = ctx.guarded(&s);
    match g.move_deal(DealId(deal), &req, s.clock.now()).await {
        Ok((moved, event)) => match moved_response(&ctx, &s, &g, moved, event.from_node, wants_json).await {
            Ok(res) => res,
            Err(e) => crate::problem::ApiError::from(e).into_response(),
        },
        Err(e) => refused_response(&ctx, &s, &g, DealId(deal), &req, &form, e, wants_json).await,
    }
}

/// The deal as lists show it (with its account's name), read through the scope: the one row
/// at or below its id among the deals of its account in its node.
async fn summary_of(g: &Guarded<'_>, deal: &Deal) -> Result<Option<DealSummary>, Error> {
    let filter = DealFilter {
        process: Some(deal.process_id),
        stage: Some(deal.current_node.clone()),
        status: Some(deal.status),
        account: Some(deal.account_id),
        ..Default::default()
    };
    let page = g.list_deals(&filter, PageRequest { limit: 1, after: Some(deal.id.0 + 1) }).await?;
    Ok(page.items.into_iter().next().filter(|d| d.id == deal.id))
}

async fn moved_response(
    ctx: &Ctx,
    s: &AppState,
    g: &Guarded<'_>,
    deal: Deal,
    from: String,
    wants_json: bool,
) -> Result<Response, Error> {
    let board_url = format!("/board?process={}", deal.process_id.0);
    if !wants_json {
        return Ok(Redirect::to(&board_url).into_response());
    }
    let summary = match summary_of(g, &deal).await? {
        Some(summary) => summary,
        None => DealSummary {
            id: deal.id,
            title: deal.title.clone(),
            account_id: deal.account_id,
            account_name: String::new(),
            owner_id: deal.owner_id,
            process_id: deal.process_id,
            process_version: deal.process_version,
            current_node: deal.current_node.clone(),
            amount: deal.amount,
            expected_close_date: deal.expected_close_date,
            probability: deal.probability,
            status: deal.status,
            stage_entered_at: deal.stage_entered_at,
            version: deal.version,
        },
    };
    let card = cards(ctx, s, std::slice::from_ref(&summary)).await?.remove(0);
    let html = render_to_string(&CardFragment { t: ctx.t.board, csrf: &ctx.csrf, movable: movable(ctx), card: &card });
    // Only the two columns the card left and entered change: their totals, read concurrently
    // (each walks one node of the stage index), not the whole board again.
    let of_node =
        |node: &str| DealFilter { process: Some(deal.process_id), stage: Some(node.to_string()), ..Default::default() };
    let (left, entered) = (of_node(&from), of_node(&deal.current_node));
    let (left, entered) = tokio::join!(g.stage_totals(&left), g.stage_totals(&entered));
    let columns: Vec<ColumnStats> = [(from.as_str(), left?), (deal.current_node.as_str(), entered?)]
        .into_iter()
        .map(|(node, rows)| {
            let totals = rows.into_iter().find(|r| r.node == node).map(|r| r.totals).unwrap_or_default();
            ColumnStats::of(node, &Stats::of(&totals, ctx.locale))
        })
        .collect();
    let version = s.store.process_version(deal.process_id, deal.process_version).await?;
    let to_name = version.definition.node(&deal.current_node).map(|n| n.name.clone());
    Ok(Json(Moved {
        moved: true,
        deal: deal.id.0,
        from,
        to: deal.current_node.clone(),
        version: deal.version,
        message: fill(
            ctx.t.board.moved,
            &[("deal", &deal.title), ("to", to_name.as_deref().unwrap_or(&deal.current_node))],
        ),
        card: html,
        columns,
    })
    .into_response())
}

#[allow(clippy::too_many_arguments)]
async fn refused_response(
    ctx: &Ctx,
    s: &AppState,
    g: &Guarded<'_>,
    id: DealId,
    req: &MoveRequest,
    form: &MoveForm,
    error: Error,
    wants_json: bool,
) -> Response {
    let now = s.clock.now();
    // The deal as it stands (unchanged by the refused move), to explain the refusal in its terms.
    let deal = match &error {
        Error::NotFound { .. } | Error::Forbidden(_) => None,
        _ => g.deal(id, now).await.ok(),
    };
    let def = match &deal {
        Some(d) => s.store.process_version(d.process_id, d.process_version).await.ok(),
        None => None,
    };
    let (status, panel) =
        match panel_for(ctx.t, id, deal.as_ref(), def.as_ref().map(|v| &v.definition), req, form, error) {
            Ok(p) => p,
            Err(e) => return crate::problem::ApiError::from(e).into_response(),
        };
    let html = render_to_string(&PanelFragment { t: ctx.t.board, csrf: &ctx.csrf, p: &panel });
    if wants_json {
        return (status, Json(Refused { moved: false, reason: panel.reason, panel: html })).into_response();
    }
    let process = deal.map(|d| d.process_id.0.to_string());
    match board_page(ctx, s, process.as_deref(), Some(html)).await {
        Ok(page) => with_status(page, status),
        Err(e) => crate::pages::error_page(ctx, e),
    }
}

/// The panel explaining a refused move; errors no panel explains (storage failures) pass on.
fn panel_for(
    t: &crate::i18n::Texts,
    id: DealId,
    deal: Option<&Deal>,
    def: Option<&ProcessDefinition>,
    req: &MoveRequest,
    form: &MoveForm,
    error: Error,
) -> Result<(StatusCode, Panel), Error> {
    let b = t.board;
    let name = |node: &str| def.and_then(|d| d.node(node)).map(|n| n.name.clone()).unwrap_or_else(|| node.to_string());
    let title = deal.map(|d| d.title.clone()).unwrap_or_default();
    let board_url = deal.map(|d| format!("/board?process={}", d.process_id.0)).unwrap_or_else(|| "/board".into());
    // The retry sends back the version the user saw: a change since then is still a conflict.
    let fields = |edge: Option<String>| Fields { deal: id.0, version: req.version, to: req.to.clone(), edge };
    let mut panel = Panel::new("invalid", id.0);
    let status = match error {
        Error::GateBlocked(report) => {
            panel.missing = report
                .missing
                .iter()
                .map(|m| Missing {
                    id: m.id.clone(),
                    label: if m.label.trim().is_empty() { m.id.clone() } else { m.label.clone() },
                    hard: m.gate == Gate::Hard,
                })
                .collect();
            if report.override_required {
                panel.reason = "override";
                panel.heading = fill(b.override_title, &[("deal", &title), ("to", &name(&req.to))]);
                panel.fields = Some(fields(req.edge.clone()));
                if form.override_reason.is_some() {
                    panel.field_error = Some(t.common.required);
                }
            } else {
                panel.reason = "gate";
                panel.heading = fill(b.gate_title, &[("deal", &title), ("stage", &name(&report.stage))]);
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Error::Invalid(errors) => {
            let names = |field: &str| errors.iter().any(|e| e.field == field);
            let to_lost = def.is_some_and(|d| matches!(d.node(&req.to).map(|n| &n.kind), Some(NodeKind::Lost)));
            let open = deal.is_none_or(|d| d.status == DealStatus::Open);
            if names("lost_reason") && to_lost {
                panel.reason = "lost_reason";
                panel.heading = fill(b.lost_title, &[("deal", &title)]);
                panel.fields = Some(fields(req.edge.clone()));
                if form.lost_reason.is_some() {
                    panel.field_error = Some(t.common.required);
                }
            } else if names("to") && !open {
                let node = deal.map(|d| name(&d.current_node)).unwrap_or_default();
                panel.reason = "closed";
                panel.heading = fill(b.closed, &[("deal", &title), ("stage", &node)]);
            } else if names("to") || names("edge") {
                let from = deal.map(|d| d.current_node.clone()).unwrap_or_default();
                let routes = def.map(|d| d.routes_from(&from)).unwrap_or_default();
                let to_target: Vec<_> = routes.iter().filter(|r| r.to == req.to).collect();
                if req.edge.is_none() && to_target.len() > 1 {
                    panel.reason = "edge";
                    panel.heading = fill(b.choose_route, &[("to", &name(&req.to))]);
                    panel.fields = Some(fields(None));
                    panel.routes =
                        to_target.iter().filter_map(|r| r.edges.last().map(|e| (e.clone(), r.label.clone()))).collect();
                } else {
                    panel.reason = "no_route";
                    panel.heading = fill(b.no_route, &[("from", &name(&from)), ("to", &name(&req.to))]);
                    let allowed: Vec<String> =
                        def.map(|d| targets(d, &from)).unwrap_or_default().into_iter().map(|t| t.name).collect();
                    let list = if allowed.is_empty() { b.none.to_string() } else { allowed.join(" · ") };
                    panel.detail = Some(format!("{} {list}", b.allowed));
                }
            } else {
                panel.reason = "invalid";
                panel.heading = b.invalid.to_string();
                panel.detail =
                    Some(errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "));
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Error::Conflict(_) => {
            panel.reason = "conflict";
            panel.heading = fill(b.conflict, &[("deal", &title)]);
            panel.reload = Some(board_url);
            StatusCode::CONFLICT
        }
        Error::NotFound { .. } => {
            panel.reason = "not_found";
            panel.heading = t.common.not_found.to_string();
            StatusCode::NOT_FOUND
        }
        Error::Forbidden(_) => {
            panel.reason = "forbidden";
            panel.heading = t.common.forbidden.to_string();
            StatusCode::FORBIDDEN
        }
        other => return Err(other),
    };
    Ok((status, panel))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use salesflow_domain::error::FieldError;
    use salesflow_domain::gate::{GateReport, MissingCriterion};
    use salesflow_domain::ids::{AccountId, ProcessId, UserId};
    use salesflow_domain::process::{Edge, Requirement};

    use super::*;
    use crate::i18n::EN;

    fn seed() -> ProcessDefinition {
        salesflow_domain::templates::get("seed-five-stage.zh-CN").expect("the seed template")
    }

    fn deal(node: &str, status: DealStatus) -> Deal {
        let now = Utc::now();
        Deal {
            id: DealId(9),
            title: "年度采购".into(),
            account_id: AccountId(1),
            contact_ids: Vec::new(),
            owner_id: UserId(2),
            process_id: ProcessId(1),
            process_version: 1,
            current_node: node.into(),
            amount: None,
            expected_close_date: None,
            probability: 60,
            probability_overridden: false,
            status,
            lost_reason: None,
            needs_summary: String::new(),
            channel: None,
            lead_id: None,
            completed_steps: Vec::new(),
            needs_known: Vec::new(),
            version: 4,
            stage_entered_at: now,
            created_at: now,
            updated_at: now,
            closed_at: None,
        }
    }

    fn req(to: &str) -> MoveRequest {
        MoveRequest {
            to: to.into(),
            edge: None,
            version: 4,
            occurred_at: None,
            override_reason: None,
            lost_reason: None,
        }
    }

    fn missing(id: &str, gate: Gate) -> MissingCriterion {
        MissingCriterion { id: id.into(), gate, requires: Requirement::Step("x".into()), label: String::new() }
    }

    fn panel(
        deal: &Deal,
        def: &ProcessDefinition,
        req: &MoveRequest,
        form: &MoveForm,
        e: Error,
    ) -> (StatusCode, Panel) {
        panel_for(&EN, deal.id, Some(deal), Some(def), req, form, e).expect("a panel")
    }

    #[test]
    fn gates_become_the_missing_list_or_the_override_form() {
        let (def, d) = (seed(), deal("negotiation", DealStatus::Open));
        let hard = GateReport {
            stage: "negotiation".into(),
            missing: vec![missing("c_quote", Gate::Hard), missing("c_soft", Gate::Soft)],
            override_required: false,
        };
        let (status, p) = panel(&d, &def, &req("signing"), &MoveForm::default(), Error::GateBlocked(hard));
        assert_eq!((status, p.reason), (StatusCode::UNPROCESSABLE_ENTITY, "gate"));
        assert_eq!(
            p.missing.iter().map(|m| (m.id.as_str(), m.hard)).collect::<Vec<_>>(),
            [("c_quote", true), ("c_soft", false)]
        );
        assert_eq!(p.missing[0].label, "c_quote", "an unlabelled criterion shows its id");
        assert!(p.heading.contains("报价与谈判") && p.fields.is_none());

        let soft = GateReport {
            stage: "negotiation".into(),
            missing: vec![missing("c_soft", Gate::Soft)],
            override_required: true,
        };
        let sent_empty = MoveForm { override_reason: Some("  ".into()), ..MoveForm::default() };
        let (_, p) = panel(&d, &def, &req("signing"), &sent_empty, Error::GateBlocked(soft));
        assert_eq!(p.reason, "override");
        let f = p.fields.expect("the retry fields");
        assert_eq!((f.deal, f.version, f.to.as_str()), (9, 4, "signing"));
        assert!(p.field_error.is_some(), "an empty reason was sent");
    }

    #[test]
    fn invalid_moves_explain_themselves() {
        let def = seed();
        let open = deal("negotiation", DealStatus::Open);
        let lost_reason = Error::Invalid(vec![FieldError::new("lost_reason", "needed")]);
        let (_, p) = panel(&open, &def, &req("lost"), &MoveForm::default(), lost_reason);
        assert_eq!((p.reason, p.field_error), ("lost_reason", None));

        let no_edge = || Error::invalid("to", "no edge");
        let (_, p) = panel(&open, &def, &req("won"), &MoveForm::default(), no_edge());
        assert_eq!(p.reason, "no_route");
        assert_eq!(
            p.detail.as_deref(),
            Some("It can move to: 签约与合同执行 · 提供分层产品套餐 · 输单"),
            "board order"
        );

        let won = deal("won", DealStatus::Won);
        let (_, p) = panel(&won, &def, &req("lost"), &MoveForm::default(), no_edge());
        assert_eq!(p.reason, "closed");
        assert!(p.heading.contains("赢单"));

        let (status, p) = panel(&open, &def, &req("signing"), &MoveForm::default(), Error::Conflict("stale".into()));
        assert_eq!(
            (status, p.reason, p.reload.as_deref()),
            (StatusCode::CONFLICT, "conflict", Some("/board?process=1"))
        );

        let storage = panel_for(
            &EN,
            open.id,
            Some(&open),
            Some(&def),
            &req("x"),
            &MoveForm::default(),
            Error::Storage("disk".into()),
        );
        assert!(matches!(storage, Err(Error::Storage(_))), "failures are no panel");
    }

    #[test]
    fn several_routes_to_one_node_offer_a_choice() {
        let mut def = seed();
        def.edges.push(Edge {
            id: "quote_lost".into(),
            from: "quote_decision".into(),
            to: "lost".into(),
            label: "客户放弃".into(),
        });
        let d = deal("negotiation", DealStatus::Open);
        let (_, p) = panel(&d, &def, &req("lost"), &MoveForm::default(), Error::invalid("edge", "several routes"));
        assert_eq!(p.reason, "edge");
        let routes: Vec<(&str, &str)> = p.routes.iter().map(|(e, l)| (e.as_str(), l.as_str())).collect();
        assert_eq!(routes, [("negotiation_lost", "丢单"), ("quote_lost", "客户放弃")]);
        assert_eq!(p.fields.map(|f| f.edge), Some(None));
    }
}
