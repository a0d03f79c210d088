//! Storage failures, by what the engine decides on.

use opendal::ErrorKind;

use crate::error::{io_is_out_of_space, is_out_of_space, says_out_of_space};

/// What the engine decides on when storage fails: the one place that reads OpenDAL's and
/// the OS's error kinds (`StorageError::of`), so the engine never does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("path leads outside the user's space")]
    OutsideSpace,
    #[error("file not found")]
    NotFound,
    #[error("something is already there")]
    AlreadyExists,
    #[error("the server's storage is full")]
    NoSpace,
    #[error("permission denied by storage")]
    PermissionDenied,
    /// Worth trying again later (a timeout, a throttled or unavailable store).
    #[error("storage is unavailable for now")]
    Transient,
    #[error("storage error")]
    Other,
}

impl StorageError {
    /// What kind of failure an error (or anything in its chain) is.
    pub fn of(err: &anyhow::Error) -> Self {
        for cause in err.chain() {
            if let Some(err) = cause.downcast_ref::<StorageError>() {
                return *err;
            }
            if let Some(err) = cause.downcast_ref::<opendal::Error>() {
                return match err.kind() {
                    ErrorKind::NotFound => Self::NotFound,
                    ErrorKind::AlreadyExists | ErrorKind::ConditionNotMatch => Self::AlreadyExists,
                    ErrorKind::PermissionDenied => Self::PermissionDenied,
                    ErrorKind::RateLimited => Self::Transient,
                    _ if says_out_of_space(&err.to_string()) => Self::NoSpace,
                    _ if err.is_temporary() => Self::Transient,
                    _ => Self::Other,
                };
            }
            if let Some(err) = cause.downcast_ref::<std::io::Error>() {
                use std::io::ErrorKind as Io;
                return match err.kind() {
                    Io::NotFound => Self::NotFound,
                    Io::AlreadyExists => Self::AlreadyExists,
                    Io::PermissionDenied => Self::PermissionDenied,
                    _ if io_is_out_of_space(err) => Self::NoSpace,
                    Io::TimedOut | Io::Interrupted | Io::WouldBlock => Self::Transient,
                    _ => Self::Other,
                };
            }
        }
        if is_out_of_space(err) {
            return Self::NoSpace;
        }
        Self::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_failures_are_named_by_kind() {
        let io = |kind| anyhow::Error::new(std::io::Error::from(kind)).context("rename a to b");
        assert_eq!(
            StorageError::of(&io(std::io::ErrorKind::NotFound)),
            StorageError::NotFound
        );
        assert_eq!(
            StorageError::of(&anyhow::Error::new(std::io::Error::from_raw_os_error(28))),
            StorageError::NoSpace
        );
        let dal = anyhow::Error::new(opendal::Error::new(ErrorKind::ConditionNotMatch, "taken"));
        assert_eq!(StorageError::of(&dal), StorageError::AlreadyExists);
        let outside = anyhow::Error::new(StorageError::OutsideSpace).context("open x");
        assert_eq!(StorageError::of(&outside), StorageError::OutsideSpace);
        assert_eq!(
            StorageError::of(&anyhow::anyhow!("odd")),
            StorageError::Other
        );
    }
}
