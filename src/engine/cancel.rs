//! Noticing a cancel quickly and cheaply: a small task reads the operation's
//! `cancel_requested` flag from the database (where any process may set it) a few times a
//! second, and every loop of the run checks an atomic flag between files.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use entity::operations;
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How often the database is asked; a cancel is noticed within about this long.
const POLL_EVERY: Duration = Duration::from_millis(250);

/// Whether this run was asked to stop; cheap to clone and to check.
#[derive(Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The polling task, stopped when dropped.
pub struct CancelWatch {
    flag: CancelFlag,
    task: JoinHandle<()>,
}

impl CancelWatch {
    pub fn spawn(db: DatabaseConnection, operation_id: Uuid) -> Self {
        let flag = CancelFlag::default();
        let set = flag.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let read: Result<Option<bool>, _> = operations::Entity::find_by_id(operation_id)
                    .select_only()
                    .column(operations::Column::CancelRequested)
                    .into_tuple()
                    .one(&db)
                    .await;
                match read {
                    // A row that is gone has nobody to work for.
                    Ok(Some(true)) | Ok(None) => {
                        set.set();
                        return;
                    }
                    Ok(Some(false)) => {}
                    // The run itself will meet the same database trouble and fail with
                    // it; here it is only worth a line in the log.
                    Err(err) => {
                        tracing::warn!(%operation_id, error = %err, "could not read the cancel flag")
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
