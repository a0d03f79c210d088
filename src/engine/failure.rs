//! How a run can end badly.

/// Why a run ended early: a cancel, something the user can act on, an internal error
/// (logged, not shown), or the injected fault that imitates a killed worker.
#[derive(Debug)]
pub enum Failure {
    Cancelled,
    User(String),
    Internal(anyhow::Error),
    SimulatedCrash,
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(err)
    }
}

impl From<sea_orm::DbErr> for Failure {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(err.into())
    }
}
