//! What can be wrong with a `/graphql` request before GraphQL runs it, answered the same
//! way as every other error: a GraphQL response with `extensions.code`, never a plain-text
//! body, a parser's debug output or an internal detail.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::error::AppError;

/// One GraphQL request from a parsed JSON body (or multipart `operations` field).
pub fn parse_request(value: serde_json::Value) -> Result<async_graphql::Request, RequestError> {
    if value.is_array() {
        return Err(RequestError::Batch);
    }
    let malformed = || {
        RequestError::Malformed(
            "expected an object with `query` and optional `variables` and `operationName`".into(),
        )
    };
    if !value.get("query").is_some_and(serde_json::Value::is_string) {
        return Err(malformed());
    }
    serde_json::from_value(value).map_err(|_| malformed())
}

#[derive(Debug)]
pub enum RequestError {
    /// The body is not a GraphQL request (bad JSON, bad multipart, missing parts).
    Malformed(String),
    /// Several operations in one request.
    Batch,
    /// The body is over its limit.
    TooLarge,
    TooManyFiles(usize),
    /// The content type is neither JSON nor multipart.
    UnsupportedType,
    /// Too many uploads in flight for this user or this server.
    Busy,
    /// An upload sent nothing for longer than its idle bound.
    Stalled,
    /// Too many WebSocket connections from this address.
    TooManyConnections,
    /// An error from the service layer (e.g. a refused credential).
    App(AppError),
    Internal(anyhow::Error),
}

impl From<AppError> for RequestError {
    fn from(err: AppError) -> Self {
        Self::App(err)
    }
}

impl RequestError {
    /// An internal failure, unless it is the server's disk being full (spooling an upload
    /// into a full temporary folder, say), which the client is told plainly.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        match AppError::from(err.into()) {
            AppError::Internal(err) => Self::Internal(err),
            other => Self::App(other),
        }
    }
}

impl RequestError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) | Self::Batch => StatusCode::BAD_REQUEST,
            Self::TooLarge | Self::TooManyFiles(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Stalled => StatusCode::REQUEST_TIMEOUT,
            Self::Busy | Self::TooManyConnections => StatusCode::TOO_MANY_REQUESTS,
            Self::App(AppError::Unauthenticated(_)) => StatusCode::UNAUTHORIZED,
            Self::App(AppError::Forbidden(_)) => StatusCode::FORBIDDEN,
            Self::App(AppError::NotFound(_)) => StatusCode::NOT_FOUND,
            Self::App(AppError::RateLimited { .. }) => StatusCode::TOO_MANY_REQUESTS,
            Self::App(AppError::QuotaExceeded(_)) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::App(AppError::InsufficientStorage(_)) => StatusCode::INSUFFICIENT_STORAGE,
            Self::App(AppError::Internal(_)) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::App(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The response, with the request id for internal errors (whose cause is logged).
    pub fn into_response_with(self, request_id: &str) -> Response {
        let status = self.status();
        let (message, extensions) = match self {
            Self::Malformed(why) => (
                format!("not a valid GraphQL request: {why}"),
                json!({ "code": "BAD_USER_INPUT" }),
            ),
            Self::Batch => (
                "batched requests are not supported: send one operation per request".into(),
                json!({ "code": "BAD_USER_INPUT" }),
            ),
            Self::TooLarge => (
                "request body too large".into(),
                json!({ "code": "BAD_USER_INPUT" }),
            ),
            Self::TooManyFiles(max) => (
                format!("too many files in one request (at most {max})"),
                json!({ "code": "BAD_USER_INPUT", "field": "files" }),
            ),
            Self::UnsupportedType => (
                "send application/json, or multipart/form-data for uploads".into(),
                json!({ "code": "BAD_USER_INPUT" }),
            ),
            Self::Busy => (
                "too many uploads in progress; try again when one has finished".into(),
                json!({ "code": "RATE_LIMITED", "retryAfter": 1 }),
            ),
            Self::Stalled => (
                "the upload stalled: nothing arrived for too long; send it again".into(),
                json!({ "code": "BAD_USER_INPUT" }),
            ),
            Self::TooManyConnections => (
                "too many open connections from this address".into(),
                json!({ "code": "RATE_LIMITED", "retryAfter": 1 }),
            ),
            Self::App(AppError::Internal(cause)) | Self::Internal(cause) => {
                tracing::error!(request_id, error = %format!("{cause:#}"), "internal error before execution");
                (
                    crate::error::INTERNAL_MESSAGE.into(),
                    json!({ "code": "INTERNAL_SERVER_ERROR", "requestId": request_id }),
                )
            }
            // The same message and extensions a resolver's error gets (`AppError::extend`).
            Self::App(err) => {
                let error = async_graphql::ErrorExtensions::extend(&err);
                let extensions = serde_json::to_value(&error.extensions).unwrap_or_default();
                (error.message, extensions)
            }
        };
        (
            status,
            Json(json!({ "errors": [{ "message": message, "extensions": extensions }] })),
        )
            .into_response()
    }
}
