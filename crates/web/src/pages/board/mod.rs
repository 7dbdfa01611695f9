//! The pipeline board: one column per stage of a published process in process order, then
//! Won and Lost. Column headers carry the count and sums the database computes over the
//! caller's visible deals (`stage_totals`, one query); cards load per column, 20 at a time
//! (`/board/{process}/columns/{node}?cursor=…`), so the page itself renders without reading
//! a single card. Moving a card is `POST /board/move` ([`moves`]).

mod moves;
mod view;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use salesflow_domain::Error;
use salesflow_domain::ids::ProcessId;
use salesflow_domain::process::ProcessDefinition;
use salesflow_domain::records::{DealFilter, PageRequest, Role};
use salesflow_domain::store::{DealSummary, ProcessSummary, ProcessVersion};

use super::{Chrome, Ctx, error_page, render};
use crate::AppState;
use crate::i18n::board::{Board, fill};
use crate::routes::Routes;
use view::{Card, Column, PAGE_SIZE};

pub fn routes() -> Routes {
    Routes::default()
        .get("/board", board)
        .get("/board/{id}/columns/{node}", column)
        .post("/board/move", moves::move_card)
}

/// A published process as the picker lists it.
struct Choice {
    id: i64,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage<'a> {
    chrome: Chrome<'a>,
    t: &'static Board,
    choices: Vec<Choice>,
    process: Option<i64>,
    columns: Vec<Column>,
    /// A refused move (without script): the panel, already rendered.
    panel: Option<String>,
}

impl BoardPage<'_> {
    fn process_id(&self) -> i64 {
        self.process.unwrap_or_default()
    }

    /// The first page of a column's cards.
    fn cards_url(&self, c: &Column) -> String {
        format!("/board/{}/columns/{}", self.process_id(), url_segment(&c.node))
    }

    fn column_hint(&self, c: &Column) -> String {
        let mut bits = Vec::new();
        if let Some(p) = c.probability {
            bits.push(fill(self.t.probability, &[("n", &p.to_string())]));
        }
        if let Some(d) = c.sla_days {
            bits.push(fill(self.t.sla, &[("n", &d.to_string())]));
        }
        if c.older {
            bits.push(self.t.older_version.to_string());
        }
        bits.join(" · ")
    }
}

#[derive(serde::Deserialize)]
struct BoardQuery {
    process: Option<String>,
}

/// The published processes, and the one to show: `wanted`, else the first published one.
async fn pick(s: &AppState, wanted: Option<&str>) -> Result<(Vec<ProcessSummary>, Option<ProcessSummary>), Error> {
    let published: Vec<ProcessSummary> =
        s.store.list_processes().await?.into_iter().filter(|p| p.published_version.is_some()).collect();
    let chosen = match wanted.map(str::trim).filter(|w| !w.is_empty()) {
        None => published.first().cloned(),
        Some(w) => {
            let id: i64 = w.parse().map_err(|_| Error::not_found("process", w))?;
            Some(published.iter().find(|p| p.id.0 == id).cloned().ok_or_else(|| Error::not_found("process", id))?)
        }
    };
    Ok((published, chosen))
}

/// The process version a board shows and the process's other versions when some deals sit in
/// nodes this one lacks (`nodes`: the nodes holding deals).
async fn versions_for(
    s: &AppState,
    process: &ProcessSummary,
    nodes: impl Iterator<Item = &str>,
) -> Result<(Arc<ProcessVersion>, Vec<ProcessVersion>), Error> {
    let current = s.store.process_version(process.id, process.published_version.unwrap_or(1)).await?;
    let mut nodes = nodes;
    let older = if nodes.any(|n| current.definition.node(n).is_none()) {
        s.store.process_versions(process.id).await?
    } else {
        Vec::new()
    };
    Ok((current, older))
}

/// The columns of a process's board with their totals for this caller.
async fn board_columns(ctx: &Ctx, s: &AppState, process: &ProcessSummary) -> Result<Vec<Column>, Error> {
    let filter = DealFilter { process: Some(process.id), ..Default::default() };
    let totals = ctx.guarded(s).stage_totals(&filter).await?;
    let (current, older) = versions_for(s, process, totals.iter().map(|t| t.node.as_str())).await?;
    Ok(view::columns(&current.definition, &totals, &older, ctx.locale))
}

async fn board(ctx: Ctx, State(s): State<AppState>, Query(q): Query<BoardQuery>) -> Response {
    match board_page(&ctx, &s, q.process.as_deref(), None).await {
        Ok(page) => page,
        Err(e) => error_page(&ctx, e),
    }
}

/// The board of `process` (or the first published one), with a refused move's panel.
async fn board_page(ctx: &Ctx, s: &AppState, process: Option<&str>, panel: Option<String>) -> Result<Response, Error> {
    let (published, chosen) = pick(s, process).await?;
    let columns = match &chosen {
        Some(p) => board_columns(ctx, s, p).await?,
        None => Vec::new(),
    };
    let choices = published
        .iter()
        .map(|p| Choice { id: p.id.0, name: p.name.clone(), selected: chosen.as_ref().is_some_and(|c| c.id == p.id) })
        .collect();
    Ok(render(&BoardPage {
        chrome: ctx.chrome("board"),
        t: ctx.t.board,
        choices,
        process: chosen.map(|p| p.id.0),
        columns,
        panel,
    }))
}

#[derive(Template)]
#[template(path = "board_cards.html")]
struct CardsFragment<'a> {
    t: &'static Board,
    csrf: &'a str,
    movable: bool,
    cards: Vec<Card>,
    first_page: bool,
    next_url: Option<String>,
}

#[derive(serde::Deserialize)]
struct ColumnQuery {
    cursor: Option<i64>,
}

/// One page of a column's cards (newest deals first), with a loader for the next page.
async fn column(
    ctx: Ctx,
    State(s): State<AppState>,
    Path((id, node)): Path<(i64, String)>,
    Query(q): Query<ColumnQuery>,
) -> Response {
    match column_fragment(&ctx, &s, ProcessId(id), &node, q.cursor).await {
        Ok(res) => res,
        Err(e) => error_page(&ctx, e),
    }
}

async fn column_fragment(
    ctx: &Ctx,
    s: &AppState,
    id: ProcessId,
    node: &str,
    cursor: Option<i64>,
) -> Result<Response, Error> {
    let (_, process) = pick(s, Some(&id.0.to_string())).await?;
    let process = process.ok_or_else(|| Error::not_found("process", id))?;
    let (current, older) = versions_for(s, &process, std::iter::once(node)).await?;
    // The status every deal of the column has: the list then walks one index range in id order.
    let status = view::node_kind(&current.definition, &older, node).map(|k| k.status());
    let filter = DealFilter { process: Some(id), stage: Some(node.to_string()), status, ..Default::default() };
    let page = ctx.guarded(s).list_deals(&filter, PageRequest { limit: PAGE_SIZE, after: cursor }).await?;
    let cards = cards(ctx, s, &page.items).await?;
    let next_url = page.next_cursor.map(|c| format!("/board/{}/columns/{}?cursor={c}", id.0, url_segment(node)));
    Ok(render(&CardsFragment {
        t: ctx.t.board,
        csrf: &ctx.csrf,
        movable: movable(ctx),
        cards,
        first_page: cursor.is_none(),
        next_url,
    }))
}

/// Whether the caller may move deals at all (a viewer reads only).
fn movable(ctx: &Ctx) -> bool {
    ctx.user().role != Role::Viewer
}

/// Cards for deals: owner names from one read of the users, each pinned process version once
/// (published versions come from the store's cache).
async fn cards(ctx: &Ctx, s: &AppState, deals: &[DealSummary]) -> Result<Vec<Card>, Error> {
    if deals.is_empty() {
        return Ok(Vec::new());
    }
    let users: HashMap<i64, String> = s.store.list_users().await?.into_iter().map(|u| (u.id.0, u.name)).collect();
    let mut versions: HashMap<(i64, i32), Arc<ProcessVersion>> = HashMap::new();
    let wanted: BTreeSet<(i64, i32)> = deals.iter().map(|d| (d.process_id.0, d.process_version)).collect();
    for (p, v) in wanted {
        match s.store.process_version(ProcessId(p), v).await {
            Ok(version) => {
                versions.insert((p, v), version);
            }
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let now = s.clock.now();
    Ok(deals
        .iter()
        .map(|d| {
            let def: Option<&ProcessDefinition> =
                versions.get(&(d.process_id.0, d.process_version)).map(|v| &v.definition);
            let owner = users.get(&d.owner_id.0).map(String::as_str).unwrap_or(ctx.t.board.unknown_user);
            view::card(d, def, owner, now, (ctx.t.board, ctx.locale))
        })
        .collect())
}

/// A node id as one URL path segment (ids are letters, digits, `_` and `-`; anything else is
/// percent-encoded).
fn url_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A response with a status other than 200.
fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res.into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn node_ids_become_safe_path_segments() {
        assert_eq!(super::url_segment("needs_analysis-2"), "needs_analysis-2");
        assert_eq!(super::url_segment("a/b c"), "a%2Fb%20c");
    }
}
