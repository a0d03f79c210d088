//! How a run can end badly.

/// Why a run ended early: a cancel, something the user can act on, an internal error
/// (logged, not shown), or the injected fault that imitates a killed worker.
#[derive(Debug)]
pub enum Failure {
    Cancelled,
    /// The worker lost its lease or is stopping: the operation stays `running` with its
    /// records, for the next worker to resume.
    HandedBack,
    User(String),
    Internal(anyhow::Error),
    SimulatedCrash,
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        // A refused write means another worker has the operation: stop, write nothing.
        if crate::engine::fence::is_fenced(&err) {
            return Self::HandedBack;
        }
        Self::Internal(err)
    }
}

impl From<sea_orm::DbErr> for Failure {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(err.into())
    }
}
