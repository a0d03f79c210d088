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
        if crate::lifecycle::is_fenced(&err) {
            return Self::HandedBack;
        }
        // The database went away (a restart, a dropped connection): the operation is not
        // at fault. Leave it running with its records; it resumes once the database is
        // back (here or on another worker, when the lease has run out).
        if is_database_away(&err) {
            tracing::warn!(error = %format!("{err:#}"), "the database went away mid-run; the operation will resume");
            return Self::HandedBack;
        }
        Self::Internal(err)
    }
}

/// Whether an error is the database being unreachable rather than a statement failing:
/// a connection that could not be made or was cut, or a server shutting down.
pub fn is_database_away(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        if let Some(sea_orm::DbErr::Conn(_) | sea_orm::DbErr::ConnectionAcquire(_)) =
            cause.downcast_ref::<sea_orm::DbErr>()
        {
            return true;
        }
        let text = cause.to_string().to_ascii_lowercase();
        [
            "connection refused",
            "connection reset",
            "connection closed",
            "broken pipe",
            "terminating connection",
            "the database system is shutting down",
            "the database system is starting up",
            "pool timed out",
            "error communicating with database",
            "unexpected eof",
        ]
        .iter()
        .any(|words| text.contains(words))
    })
}

impl From<sea_orm::DbErr> for Failure {
    fn from(err: sea_orm::DbErr) -> Self {
        anyhow::Error::from(err).into()
    }
}
