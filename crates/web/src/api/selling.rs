//! The selling tools of a deal — needs analysis, recommendations, quote versions, discount
//! approval, contracts — and the product catalog. Everything about a deal follows the deal's
//! access rules.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use salesflow_domain::guard::{DiscountAction, QuoteEdit, QuoteFromProducts, SendMove, Sending};
use salesflow_domain::ids::{ContractId, DealId, ProcessId};
use salesflow_domain::selling::catalog::{NewProduct, PriceBook, Product};
use salesflow_domain::selling::contract::{Contract, ContractPatch, NewContract};
use salesflow_domain::selling::needs::{NeedsAnalysis, NeedsInput};
use salesflow_domain::selling::objection::{NewObjection, Objection, ObjectionPatch, Playbook, PlaybookInput};
use salesflow_domain::selling::quote::{Quote, QuoteComparison, QuoteContent};
use salesflow_domain::selling::recommend::Recommendation;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, new_secret, token_hash};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::i18n::Locale;
use crate::problem::{ApiResult, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProductList {
    pub items: Vec<Product>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecommendationList {
    /// Best first.
    pub items: Vec<Recommendation>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QuoteList {
    /// Oldest version first.
    pub items: Vec<Quote>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContractList {
    pub items: Vec<Contract>,
}

/// A sent quote version and the customer's link. The token is shown this once; only its hash
/// is stored.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SentQuote {
    pub quote: Quote,
    /// The customer's page, `<public address>/q/<token>` (the server's `--public-url`, else the
    /// host this request came to).
    pub link: String,
    pub token: String,
    /// Where sending took the deal (along its stage's `quote_sent` edge), or why it stayed.
    #[serde(flatten)]
    pub moved: SendMove,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// The quote version's `version` read.
    pub version: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CompareQuery {
    /// The older version number.
    from: i32,
    /// The newer version number.
    to: i32,
}

/// The catalog, by SKU.
#[utoipa::path(get, path = "/api/v1/products", tag = "selling",
    responses((status = 200, body = ProductList)))]
pub async fn products(c: Caller, State(s): State<AppState>) -> ApiResult<Json<ProductList>> {
    Ok(Json(ProductList { items: c.guarded(&s).products().await? }))
}

/// Adds a product or service to the catalog (managers and admins).
#[utoipa::path(post, path = "/api/v1/products", tag = "selling", request_body = NewProduct,
    responses((status = 201, body = Product), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_product(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(new): ApiJson<NewProduct>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    Ok((StatusCode::CREATED, Json(c.guarded(&s).create_product(&new, s.clock.now()).await?)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PriceBookList {
    /// By name.
    pub items: Vec<PriceBook>,
}

/// The price books: per currency or customer group, by SKU.
#[utoipa::path(get, path = "/api/v1/price-books", tag = "selling",
    responses((status = 200, body = PriceBookList)))]
pub async fn price_books(c: Caller, State(s): State<AppState>) -> ApiResult<Json<PriceBookList>> {
    Ok(Json(PriceBookList { items: c.guarded(&s).price_books().await? }))
}

/// Adds a price book (no `version`) or replaces one at the `version` read (managers and admins).
/// A quote drafted from products (`…/quotes/from-products` or the deal page) takes the chosen
/// book's prices.
#[utoipa::path(post, path = "/api/v1/price-books", tag = "selling", request_body = PriceBook,
    responses((status = 200, body = PriceBook), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn save_price_book(
    c: Caller,
    State(s): State<AppState>,
    ApiJson(book): ApiJson<PriceBook>,
) -> ApiResult<Json<PriceBook>> {
    Ok(Json(c.guarded(&s).save_price_book(&book, s.clock.now()).await?))
}

/// The deal's needs analysis; `null` before it is captured.
#[utoipa::path(get, path = "/api/v1/deals/{id}/needs", tag = "selling", params(("id" = i64, Path)),
    responses((status = 200, body = Option<NeedsAnalysis>), (status = 404, body = Problem)))]
pub async fn needs(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Option<NeedsAnalysis>>> {
    Ok(Json(c.guarded(&s).needs(DealId(id), s.clock.now()).await?))
}

/// Captures or replaces the needs analysis (send the `version` read when replacing).
#[utoipa::path(put, path = "/api/v1/deals/{id}/needs", tag = "selling", params(("id" = i64, Path)), request_body = NeedsInput,
    responses((status = 200, body = NeedsAnalysis), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn save_needs(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NeedsInput>,
) -> ApiResult<Json<NeedsAnalysis>> {
    Ok(Json(c.guarded(&s).save_needs(DealId(id), &input, s.clock.now()).await?))
}

/// Catalog products ranked against the deal's needs, each with its reasons and facts.
#[utoipa::path(get, path = "/api/v1/deals/{id}/recommendations", tag = "selling", params(("id" = i64, Path)),
    responses((status = 200, body = RecommendationList), (status = 404, body = Problem)))]
pub async fn recommendations(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RecommendationList>> {
    Ok(Json(RecommendationList { items: c.guarded(&s).recommendations(DealId(id), s.clock.now()).await? }))
}

/// Every quote version of the deal.
#[utoipa::path(get, path = "/api/v1/deals/{id}/quotes", tag = "selling", params(("id" = i64, Path)),
    responses((status = 200, body = QuoteList), (status = 404, body = Problem)))]
pub async fn quotes(c: Caller, State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<QuoteList>> {
    Ok(Json(QuoteList { items: c.guarded(&s).quotes(DealId(id), s.clock.now()).await? }))
}

/// Drafts the next quote version.
#[utoipa::path(post, path = "/api/v1/deals/{id}/quotes", tag = "selling", params(("id" = i64, Path)), request_body = QuoteContent,
    responses((status = 201, body = Quote), (status = 422, body = Problem)))]
pub async fn create_quote(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(content): ApiJson<QuoteContent>,
) -> ApiResult<(StatusCode, Json<Quote>)> {
    Ok((StatusCode::CREATED, Json(c.guarded(&s).create_quote(DealId(id), content, s.clock.now()).await?)))
}

/// Drafts the next quote version from catalog products: one option per product (`each`,
/// cheapest first) or one option with every product (`one`), priced from the named price book
/// (never converted) or at list price. A product the book has no price for is refused under
/// `price_book`, naming its SKU.
#[utoipa::path(post, path = "/api/v1/deals/{id}/quotes/from-products", tag = "selling", params(("id" = i64, Path)),
    request_body = QuoteFromProducts,
    responses((status = 201, body = Quote), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn quote_from_products(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<QuoteFromProducts>,
) -> ApiResult<(StatusCode, Json<Quote>)> {
    Ok((StatusCode::CREATED, Json(c.guarded(&s).draft_from_products(DealId(id), &req, s.clock.now()).await?)))
}

/// What changed between two versions.
#[utoipa::path(get, path = "/api/v1/deals/{id}/quotes/compare", tag = "selling", params(("id" = i64, Path), CompareQuery),
    responses((status = 200, body = QuoteComparison), (status = 404, body = Problem)))]
pub async fn compare(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> ApiResult<Json<QuoteComparison>> {
    Ok(Json(c.guarded(&s).compare_quotes(DealId(id), q.from, q.to, s.clock.now()).await?))
}

/// Replaces a draft version's content; a sent version is refused (409).
#[utoipa::path(put, path = "/api/v1/deals/{id}/quotes/{number}", tag = "selling",
    params(("id" = i64, Path), ("number" = i32, Path)), request_body = QuoteEdit,
    responses((status = 200, body = Quote), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn edit_quote(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, number)): ApiPath<(i64, i32)>,
    ApiJson(edit): ApiJson<QuoteEdit>,
) -> ApiResult<Json<Quote>> {
    Ok(Json(c.guarded(&s).edit_quote(DealId(id), number, edit, s.clock.now()).await?))
}

/// Asks a manager to approve the draft's discount (needed above the configured threshold).
#[utoipa::path(post, path = "/api/v1/deals/{id}/quotes/{number}/discount-request", tag = "selling",
    params(("id" = i64, Path), ("number" = i32, Path)), request_body = DiscountAction,
    responses((status = 200, body = Quote), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_discount(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, number)): ApiPath<(i64, i32)>,
    ApiJson(req): ApiJson<DiscountAction>,
) -> ApiResult<Json<Quote>> {
    let threshold = s.selling.approval_threshold_bp;
    Ok(Json(c.guarded(&s).request_discount(DealId(id), number, &req, threshold, s.clock.now()).await?))
}

/// A manager or admin approves (`approve: true`) or rejects the requested discount, with a comment.
#[utoipa::path(post, path = "/api/v1/deals/{id}/quotes/{number}/discount-decision", tag = "selling",
    params(("id" = i64, Path), ("number" = i32, Path)), request_body = DiscountAction,
    responses((status = 200, body = Quote), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide_discount(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, number)): ApiPath<(i64, i32)>,
    ApiJson(req): ApiJson<DiscountAction>,
) -> ApiResult<Json<Quote>> {
    Ok(Json(c.guarded(&s).decide_discount(DealId(id), number, &req, s.clock.now()).await?))
}

/// Sends a draft: it becomes immutable, an earlier sent version is superseded, and the
/// customer's link is returned (once).
#[utoipa::path(post, path = "/api/v1/deals/{id}/quotes/{number}/send", tag = "selling",
    params(("id" = i64, Path), ("number" = i32, Path)), request_body = SendRequest,
    responses((status = 201, body = SentQuote), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn send_quote(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, number)): ApiPath<(i64, i32)>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SendRequest>,
) -> ApiResult<(StatusCode, Json<SentQuote>)> {
    let token = new_secret("q_");
    let sending =
        Sending { version: req.version, threshold_bp: s.selling.approval_threshold_bp, token_hash: token_hash(&token) };
    let g = c.guarded(&s);
    let quote = g.send_quote(DealId(id), number, &sending, s.clock.now()).await?;
    let moved = g.advance_after_send(DealId(id), number, s.clock.now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(SentQuote { quote, link: s.selling.customer_link(&headers, &token, s.auth.secure_cookies), token, moved }),
    ))
}

#[utoipa::path(get, path = "/api/v1/deals/{id}/contracts", tag = "selling", params(("id" = i64, Path)),
    responses((status = 200, body = ContractList), (status = 404, body = Problem)))]
pub async fn contracts(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ContractList>> {
    Ok(Json(ContractList { items: c.guarded(&s).contracts(DealId(id), s.clock.now()).await? }))
}

/// A contract from the deal's accepted quote version: items, prices and terms carried over.
#[utoipa::path(post, path = "/api/v1/deals/{id}/contracts", tag = "selling", params(("id" = i64, Path)), request_body = NewContract,
    responses((status = 201, body = Contract), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_contract(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewContract>,
) -> ApiResult<(StatusCode, Json<Contract>)> {
    Ok((StatusCode::CREATED, Json(c.guarded(&s).create_contract(DealId(id), &new, s.clock.now()).await?)))
}

/// Steps the contract's status (draft → sent → signed → executing → completed, or terminated),
/// records signing, adds milestones and marks them done.
#[utoipa::path(patch, path = "/api/v1/deals/{id}/contracts/{contract}", tag = "selling",
    params(("id" = i64, Path), ("contract" = i64, Path)), request_body = ContractPatch,
    responses((status = 200, body = Contract), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_contract(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, contract)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<ContractPatch>,
) -> ApiResult<Json<Contract>> {
    Ok(Json(c.guarded(&s).update_contract(DealId(id), ContractId(contract), &patch, s.clock.now()).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ObjectionList {
    pub items: Vec<Objection>,
}

/// The deal's objections, oldest first.
#[utoipa::path(get, path = "/api/v1/deals/{id}/objections", tag = "selling", params(("id" = i64, Path)),
    responses((status = 200, body = ObjectionList), (status = 404, body = Problem)))]
pub async fn objections(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ObjectionList>> {
    Ok(Json(ObjectionList { items: c.guarded(&s).objections(DealId(id), s.clock.now()).await? }))
}

/// Logs an objection (price, timing, competitor, features, trust, other) at the deal's stage.
#[utoipa::path(post, path = "/api/v1/deals/{id}/objections", tag = "selling", params(("id" = i64, Path)), request_body = NewObjection,
    responses((status = 201, body = Objection), (status = 422, body = Problem)))]
pub async fn raise_objection(
    c: Caller,
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewObjection>,
) -> ApiResult<(StatusCode, Json<Objection>)> {
    Ok((StatusCode::CREATED, Json(c.guarded(&s).raise_objection(DealId(id), new, s.clock.now()).await?)))
}

/// Records the answer given, or that the objection is resolved.
#[utoipa::path(patch, path = "/api/v1/deals/{id}/objections/{objection}", tag = "selling",
    params(("id" = i64, Path), ("objection" = i64, Path)), request_body = ObjectionPatch,
    responses((status = 200, body = Objection), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_objection(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, objection)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<ObjectionPatch>,
) -> ApiResult<Json<Objection>> {
    Ok(Json(c.guarded(&s).update_objection(DealId(id), objection, &patch, s.clock.now()).await?))
}

/// A stage's playbook: common objections, the recommended answer and its evidence; `null`
/// when the stage has none yet.
#[utoipa::path(get, path = "/api/v1/processes/{id}/playbooks/{stage}", tag = "selling",
    params(("id" = i64, Path), ("stage" = String, Path)), responses((status = 200, body = Option<Playbook>)))]
pub async fn playbook(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, stage)): ApiPath<(i64, String)>,
) -> ApiResult<Json<Option<Playbook>>> {
    Ok(Json(c.guarded(&s).playbook(ProcessId(id), &stage).await?))
}

/// Replaces a stage's playbook (managers and admins; send the `version` read when one exists).
#[utoipa::path(put, path = "/api/v1/processes/{id}/playbooks/{stage}", tag = "selling",
    params(("id" = i64, Path), ("stage" = String, Path)), request_body = PlaybookInput,
    responses((status = 200, body = Playbook), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn save_playbook(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, stage)): ApiPath<(i64, String)>,
    ApiJson(input): ApiJson<PlaybookInput>,
) -> ApiResult<Json<Playbook>> {
    Ok(Json(c.guarded(&s).save_playbook(ProcessId(id), &stage, &input, s.clock.now()).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    /// `zh-CN` or `en`; a quote defaults to its own language, a contract to the caller's.
    lang: Option<String>,
}

/// A quote version as a PDF file, as the customer sees it (every option, totals, terms).
#[utoipa::path(get, path = "/api/v1/deals/{id}/quotes/{number}/pdf", tag = "selling",
    params(("id" = i64, Path), ("number" = i32, Path), DocumentQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem),
        (status = 503, description = "no installed font covers the document's characters", body = Problem)))]
pub async fn quote_pdf(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, number)): ApiPath<(i64, i32)>,
    ApiQuery(q): ApiQuery<DocumentQuery>,
) -> ApiResult<Response> {
    Ok(crate::print::deal_quote(&c.guarded(&s), DealId(id), number, q.lang.as_deref(), s.clock.now()).await?)
}

/// A contract as a PDF file: parties, the accepted items and amounts, terms and milestones.
#[utoipa::path(get, path = "/api/v1/deals/{id}/contracts/{contract}/pdf", tag = "selling",
    params(("id" = i64, Path), ("contract" = i64, Path), DocumentQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem),
        (status = 503, description = "no installed font covers the document's characters", body = Problem)))]
pub async fn contract_pdf(
    c: Caller,
    State(s): State<AppState>,
    ApiPath((id, contract)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<DocumentQuery>,
) -> ApiResult<Response> {
    let locale = q.lang.as_deref().or(Some(c.user.locale.as_str())).and_then(Locale::parse).unwrap_or(Locale::ZhCn);
    let g = c.guarded(&s);
    Ok(crate::print::deal_contract(&g, DealId(id), ContractId(contract), locale, s.clock.now()).await?)
}
