//! PDF downloads of quotes and contracts: for the deal's readers, and a quote for the customer
//! holding its link. Each answers in the language asked for (`?lang=`), else the quote's own
//! (a contract: the reader's).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use salesflow_domain::Error;
use salesflow_domain::ids::{ContractId, DealId};
use salesflow_domain::selling::quote::QuoteStatus;
use serde::Deserialize;

use super::{Ctx, error_page};
use crate::AppState;
use crate::auth::token_hash;
use crate::i18n::Locale;
use crate::print;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
        .get("/deals/{id}/quotes/{number}/quote.pdf", deal_quote)
        .get("/deals/{id}/contracts/{contract}/contract.pdf", deal_contract)
        .get("/q/{token}/quote.pdf", customer_quote)
}

#[derive(Deserialize)]
struct Lang {
    lang: Option<String>,
}

async fn deal_quote(
    ctx: Ctx,
    State(s): State<AppState>,
    Path((id, number)): Path<(i64, i32)>,
    Query(q): Query<Lang>,
) -> Response {
    let g = ctx.guarded(&s);
    match print::deal_quote(&g, DealId(id), number, q.lang.as_deref(), s.clock.now()).await {
        Ok(res) => res,
        Err(e) => error_page(&ctx, e),
    }
}

async fn deal_contract(
    ctx: Ctx,
    State(s): State<AppState>,
    Path((id, contract)): Path<(i64, i64)>,
    Query(q): Query<Lang>,
) -> Response {
    let g = ctx.guarded(&s);
    let locale = q.lang.as_deref().and_then(Locale::parse).unwrap_or(ctx.locale);
    match print::deal_contract(&g, DealId(id), ContractId(contract), locale, s.clock.now()).await {
        Ok(res) => res,
        Err(e) => error_page(&ctx, e),
    }
}

/// The customer's copy: the token is the only authority, as on the quote page. Reading it
/// records no visit (the page that links here did).
async fn customer_quote(State(s): State<AppState>, Path(token): Path<String>, Query(q): Query<Lang>) -> Response {
    let now = s.clock.now();
    let found = s.store.quote_by_token(&token_hash(&token)).await;
    match found {
        Ok(Some(quote)) if quote.status != QuoteStatus::Draft => print::quote_response(&quote, q.lang.as_deref(), now),
        Ok(_) => crate::problem::ApiError::from(Error::not_found("quote", "link")).into_response(),
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}
