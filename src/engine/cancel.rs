//! Watching a run from the side, cheaply: a small task
//! * reads the operation's `cancel_requested` flag (any process may set it) four times a
//!   second;
//! * renews the run's lease on the operation row, and notices if it was lost (another
//!   worker took the operation over because this one looked dead);
//! * hears the process stopping (SIGTERM) once the grace period is over.
//!
//! The run's loops check the resulting flags between files.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
    time::{Duration, Instant},
};

use entity::operations;
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use tokio::{sync::watch, task::JoinHandle};
use uuid::Uuid;

use crate::lifecycle;

/// How often the cancel flag is read; a cancel is noticed within about this long.
const POLL_EVERY: Duration = Duration::from_millis(250);

/// Why a run should stop early, if it should.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Someone cancelled the operation.
    Cancelled,
    /// This worker no longer holds the operation (lease lost) or is shutting down: leave
    /// the records as they are, for whoever runs it next.
    HandBack,
}

/// The run's stop flag; cheap to clone and to check.
#[derive(Clone, Default)]
pub struct CancelFlag(Arc<AtomicU8>);

impl CancelFlag {
    pub fn get(&self) -> Option<Stop> {
        match self.0.load(Ordering::Relaxed) {
            1 => Some(Stop::Cancelled),
            2 => Some(Stop::HandBack),
            _ => None,
        }
    }

    /// Whether the run should stop, for whatever reason.
    pub fn is_set(&self) -> bool {
        self.get().is_some()
    }

    fn set(&self, stop: Stop) {
        let value = match stop {
            Stop::Cancelled => 1,
            Stop::HandBack => 2,
        };
        // A cancel is not overridden by a later hand-back, nor the other way round.
        let _ = self
            .0
            .compare_exchange(0, value, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// The watching task, stopped when dropped.
pub struct CancelWatch {
    flag: CancelFlag,
    task: JoinHandle<()>,
}

/// What the watch needs to know about the run's worker.
pub struct Lease {
    pub owner: String,
    pub duration: Duration,
    /// Becomes true when the process is stopping: the run then gets `grace` to finish.
    pub stopping: watch::Receiver<bool>,
    pub grace: Duration,
    /// Renewed only while the epoch is this run's.
    pub fence: crate::lifecycle::Fence,
}

impl CancelWatch {
    pub fn spawn(db: DatabaseConnection, operation_id: Uuid, mut lease: Lease) -> Self {
        let flag = CancelFlag::default();
        let set = flag.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let renew_every = lease.duration / 3;
            let mut renewed = Instant::now();
            let mut hand_back_at: Option<Instant> = None;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    changed = lease.stopping.changed(), if hand_back_at.is_none() => {
                        if changed.is_err() || *lease.stopping.borrow() {
                            hand_back_at = Some(Instant::now() + lease.grace);
                        }
                        continue;
                    }
                }
                if hand_back_at.is_some_and(|at| Instant::now() >= at) {
                    set.set(Stop::HandBack);
                    return;
                }
                let read: Result<Option<bool>, _> = operations::Entity::find_by_id(operation_id)
                    .select_only()
                    .column(operations::Column::CancelRequested)
                    .into_tuple()
                    .one(&db)
                    .await;
                match read {
                    // A row that is gone has nobody to work for.
                    Ok(Some(true)) | Ok(None) => {
                        set.set(Stop::Cancelled);
                        return;
                    }
                    Ok(Some(false)) => {}
                    // The run itself will meet the same database trouble and fail with
                    // it; here it is only worth a line in the log.
                    Err(err) => {
                        tracing::warn!(%operation_id, error = %err, "could not read the cancel flag")
                    }
                }
                if renewed.elapsed() >= renew_every {
                    match lifecycle::lease::renew(&db, lease.fence, &lease.owner, lease.duration)
                        .await
                    {
                        Ok(true) => renewed = Instant::now(),
                        Ok(false) => {
                            tracing::warn!(%operation_id, "lost the lease on the operation: another worker has it now");
                            metrics::counter!(crate::metrics::LEASES_LOST).increment(1);
                            set.set(Stop::HandBack);
                            return;
                        }
                        Err(err) => {
                            tracing::warn!(%operation_id, error = %err, "could not renew the lease")
                        }
                    }
                }
            }
        });
        Self { flag, task }
    }

    pub fn flag(&self) -> CancelFlag {
        self.flag.clone()
    }
}

impl Drop for CancelWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}
