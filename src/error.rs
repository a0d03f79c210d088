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
    /// The server's disk or database is full (the user's own quota is `QuotaExceeded`).
    #[error("{0}")]
    InsufficientStorage(String),
    #[error(transparent)]
    Internal(anyhow::Error),
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
            Self::InsufficientStorage(_) => "INSUFFICIENT_STORAGE",
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

/// What a client is told when the server has no room left: nothing of the server's paths
/// or engines.
pub const NO_SPACE_MESSAGE: &str =
    "the server has no storage space left for this; nothing was changed — try again later";

/// Whether an error comes from a full disk (`ENOSPC`, `EDQUOT`) or a full database
/// (SQLite's `SQLITE_FULL`, PostgreSQL's `disk_full` 53100 or a file it could not extend).
pub fn is_out_of_space(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(io_is_out_of_space)
            || says_out_of_space(&cause.to_string())
    })
}

/// `ENOSPC` or `EDQUOT`, however the standard library names it.
pub fn io_is_out_of_space(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(err.raw_os_error(), Some(28 | 122))
}

/// For errors that carry the OS's or the database's words only as text (OpenDAL's
/// wrapped sources, sqlx's database errors).
pub fn says_out_of_space(message: &str) -> bool {
    let text = message.to_ascii_lowercase();
    [
        "no space left on device",
        "database or disk is full",
        "could not extend file",
        "disk quota exceeded",
        "sqlstate 53100",
    ]
    .iter()
    .any(|words| text.contains(words))
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        if is_out_of_space(&err) {
            tracing::error!(error = %format!("{err:#}"), "out of storage space");
            return Self::InsufficientStorage(NO_SPACE_MESSAGE.into());
        }
        Self::Internal(err)
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        anyhow::Error::new(err).context("database error").into()
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
    fn a_full_disk_or_database_is_insufficient_storage_and_says_nothing_of_the_server() {
        let disk =
            anyhow::Error::new(std::io::Error::from_raw_os_error(28)).context("write /srv/x");
        let sqlite =
            anyhow::anyhow!("error returned from database: (code: 13) database or disk is full");
        let postgres =
            anyhow::anyhow!("could not extend file \"base/16384/2619\": No space left on device");
        for err in [disk, sqlite, postgres] {
            let app = AppError::from(err);
            assert_eq!(app.code(), "INSUFFICIENT_STORAGE");
            assert!(!app.to_string().contains("/srv") && !app.to_string().contains("base/"));
        }
        let other = AppError::from(anyhow::anyhow!("connection refused"));
        assert_eq!(other.code(), "INTERNAL_SERVER_ERROR");
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
