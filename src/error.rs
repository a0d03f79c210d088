//! `AppError`: the one error type of the service layer, and the one place it becomes a
//! GraphQL error with an `extensions.code`.
//!
//! Internal failures keep their cause for the log only: the client sees
//! `INTERNAL_SERVER_ERROR` and the request id (added by `graphql::errors`), never SQL,
//! server paths or a stack.

use std::sync::Arc;

use async_graphql::ErrorExtensions;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    BadUserInput { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts, try again in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    #[error("{0}")]
    QuotaExceeded(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::QuotaExceeded(_) => "QUOTA_EXCEEDED",
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(anyhow::Error::new(err).context("database error"))
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

/// The cause of an internal error, carried to `graphql::errors` (which logs it with the
/// request id) as the GraphQL error's source, never as its message.
#[derive(Debug)]
pub struct InternalCause(pub String);

pub const INTERNAL_MESSAGE: &str = "internal server error";

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        let error = match self {
            Self::Internal(cause) => async_graphql::Error {
                message: INTERNAL_MESSAGE.to_string(),
                source: Some(Arc::new(InternalCause(format!("{cause:#}")))),
                extensions: None,
            },
            other => async_graphql::Error::new(other.to_string()),
        }
        .extend_with(|_, ext| ext.set("code", self.code()));
        match self {
            Self::BadUserInput { field, .. } => {
                error.extend_with(|_, ext| ext.set("field", field.as_str()))
            }
            Self::RateLimited { retry_after } => {
                error.extend_with(|_, ext| ext.set("retryAfter", *retry_after))
            }
            _ => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::Internal(anyhow::anyhow!("SELECT * FROM users failed at /srv/x"));
        let gql = err.extend();
        assert_eq!(gql.message, INTERNAL_MESSAGE);
        let cause = gql
            .source
            .as_ref()
            .and_then(|s| s.downcast_ref::<InternalCause>());
        assert!(cause.unwrap().0.contains("SELECT"));
        let ext = format!("{:?}", gql.extensions);
        assert!(ext.contains("INTERNAL_SERVER_ERROR"));
        assert!(!ext.contains("SELECT"));
    }

    #[test]
    fn bad_input_names_the_field() {
        let gql = AppError::bad_input("email", "not an email address").extend();
        let ext = serde_json::to_value(gql.extensions.unwrap()).unwrap();
        assert_eq!(ext["code"], "BAD_USER_INPUT");
        assert_eq!(ext["field"], "email");
    }

    #[test]
    fn rate_limited_says_when_to_retry() {
        let gql = AppError::RateLimited { retry_after: 42 }.extend();
        let ext = serde_json::to_value(gql.extensions.unwrap()).unwrap();
        assert_eq!(ext["code"], "RATE_LIMITED");
        assert_eq!(ext["retryAfter"], 42);
    }
}
