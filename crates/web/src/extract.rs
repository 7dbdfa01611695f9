//! Extractors whose rejections are problem responses naming the offending field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// A JSON body parsed with the path of the first bad field kept: `amount.minor: invalid
/// value …`, `unknown field `colour``.
pub struct ApiJson<T>(pub T);

/// Turns a serde error at `path` into a problem naming the field.
fn json_problem(path: String, message: String, syntax: bool) -> ApiError {
    if syntax {
        return ApiError::bad_request(format!("the body is not valid JSON: {message}"));
    }
    // The path already ends with the unknown field's name when that is the problem.
    let field = if path == "." { "body".to_string() } else { path };
    let message = message.split(" at line ").next().unwrap_or(&message).to_string();
    ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, field, message)
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let syntax = e.inner().is_syntax() || e.inner().is_eof();
        json_problem(e.path().to_string(), e.inner().to_string(), syntax)
    })?;
    de.end().map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", "Body not readable", e.body_text())
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Query parameters; a bad one is named in the problem.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(ApiQuery).map_err(|e| {
            let path = e.path().to_string();
            let message = e.inner().to_string();
            let field = if path == "." { "query".to_string() } else { path };
            ApiError::field(StatusCode::BAD_REQUEST, field, message)
        })
    }
}

/// A path parameter; a malformed id is answered like a missing one.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(v)| ApiPath(v)).map_err(|e| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("no such resource: {}", e.body_text()),
            )
        })
    }
}
