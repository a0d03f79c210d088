//! The operations engine. Destructive work is planned as data first: a scan produces
//! `file_records` rows (`planned`), written before anything moves; applying them moves
//! each file and marks its row `done`, `skipped` (with a reason) or `failed`. A dry run
//! is the plan alone; `applyPlan` and rollback are further runs over recorded rows.
//!
//! Reading order, top down (imports only point down this list, then to `jobs`,
//! `storage` and `entity`):
//! * `worker` — tasks that take queued operation ids and run them;
//! * `run` — one operation from start to end (or from where a dead worker left it);
//! * `organize`, `dedupe`, `copy` — writing the records (the plan) of each kind of run;
//! * `apply` — carrying out planned records, with the checks that keep files safe;
//! * `scan`, `hash`, `lookup`, `categorize`, `template` — what the planners use on each
//!   file;
//! * `records`, `summary`, `tracker`, `progress`, `pace`, `cancel`, `failure` — record
//!   batches, counters from records, live counters, measuring progress and pace, noticing
//!   a cancel, and how a run ends early;
//! * `options` — what an operation was started with, validated once.

pub mod apply;
pub mod cancel;
pub mod categorize;
pub mod copy;
pub mod dedupe;
pub mod edits;
pub mod failure;
pub mod hash;
mod lookup;
pub mod options;
pub mod organize;
pub mod pace;
pub mod progress;
pub mod records;
pub mod relocate;
pub mod run;
pub mod scan;
pub mod summary;
pub mod template;
pub mod tracker;
pub mod worker;

use std::time::Duration;

use entity::{operations, states::OperationType};
use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use uuid::Uuid;

use crate::{
    jobs::{bus::ProgressBus, queue::JobQueue},
    storage::Storage,
};

pub use options::{KeepPolicy, Options};

/// What the engine works with: built once from the application state.
#[derive(Clone)]
pub struct Engine {
    pub db: DatabaseConnection,
    pub storage: Storage,
    pub bus: ProgressBus,
    pub queue: JobQueue,
    /// Test fault: stop like a killed worker once this many files were claimed, at `stop_at`.
    pub stop_after_files: Option<u64>,
    pub stop_at: crate::config::FaultPoint,
    /// This worker's name: the consumer on the queue and the owner of its leases.
    pub worker_id: String,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// Becomes true when the process stops taking work and hands back what it runs.
    pub stopping: watch::Receiver<bool>,
    /// How long a run may go on once the process is stopping.
    pub shutdown_grace: Duration,
    /// Operations with more records than this do not move their search-index rows one by
    /// one: the user's index is built again on the next search (`search::maintain`).
    pub search_follow_max: i64,
    /// One process only (no Redis): at start, every unfinished operation is an orphan of
    /// this process's previous life and is taken over at once.
    pub single_process: bool,
}

/// Where an operation's records come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A scan of the operation's folder (organize or duplicate cleanup).
    Scan,
    /// `applyPlan`: the records of this dry run.
    PlanOf(Uuid),
    /// A rollback: the done records of this operation, reversed.
    RollbackOf(Uuid),
}

impl Source {
    pub fn of(op: &operations::Model) -> anyhow::Result<Self> {
        match (op.operation_type, op.rollback_of, op.plan_of) {
            (OperationType::Rollback, Some(source), _) => Ok(Self::RollbackOf(source)),
            (OperationType::Rollback, None, _) => {
                anyhow::bail!("rollback {} has no source operation", op.id)
            }
            (_, _, Some(plan)) => Ok(Self::PlanOf(plan)),
            (_, _, None) => Ok(Self::Scan),
        }
    }

    pub fn rollback_of(self) -> Option<Uuid> {
        match self {
            Self::RollbackOf(id) => Some(id),
            _ => None,
        }
    }

    pub fn plan_of(self) -> Option<Uuid> {
        match self {
            Self::PlanOf(id) => Some(id),
            _ => None,
        }
    }
}

/// The trash folder of the namespace; never scanned, never a destination but a cleanup's.
pub const TRASH_DIR: &str = ".trash";

/// Where a cleanup puts a duplicate.
pub fn trash_path(operation_id: Uuid, original: &str) -> String {
    format!("{TRASH_DIR}/{operation_id}/{original}")
}
