//! Live counters of a running operation, written to the database at most once a second
//! and published at most ten times a second (plus every phase change and the end).

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use entity::{
    operations,
    states::{OperationStatus, Phase},
};
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect, sea_query::Expr};

use crate::{
    engine::{
        Engine,
        cancel::{CancelFlag, CancelWatch, Lease, Stop},
        failure::Failure,
        fence::Fence,
        pace::Pace,
    },
    jobs::bus::{ProgressBus, ProgressEvent, Work},
    storage::UserSpace,
};

const FLUSH_EVERY: Duration = Duration::from_secs(1);
const PUBLISH_EVERY: Duration = Duration::from_millis(100);

pub struct Tracker {
    db: DatabaseConnection,
    bus: ProgressBus,
    pub op: operations::Model,
    /// This run's fencing token: every write it makes requires it.
    pub fence: Fence,
    /// Rate and time left, measured here once for every listener.
    pace: Pace,
    /// Progress beyond the row's counters, published with them.
    pub work: Work,
    cancel: CancelWatch,
    last_flush: Instant,
    last_publish: Instant,
    /// A write of records still running while the engine goes on (see `write_behind`).
    behind: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// The files a scan will come to, still being counted (see `count_beside`).
    counting: Option<tokio::task::JoinHandle<Option<u64>>>,
}

impl Tracker {
    pub fn new(engine: &Engine, op: operations::Model) -> Self {
        let long_ago = Instant::now() - Duration::from_secs(60);
        let fence = Fence {
            operation_id: op.id,
            epoch: op.lease_epoch,
        };
        Self {
            fence,
            pace: Pace::default(),
            db: engine.db.clone(),
            bus: engine.bus.clone(),
            cancel: CancelWatch::spawn(
                engine.db.clone(),
                op.id,
                Lease {
                    fence,
                    owner: engine.worker_id.clone(),
                    duration: engine.lease,
                    stopping: engine.stopping.clone(),
                    grace: engine.shutdown_grace,
                },
            ),
            op,
            work: Work::default(),
            last_flush: long_ago,
            last_publish: long_ago,
            behind: None,
            counting: None,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn set_phase(&mut self, phase: Phase) -> anyhow::Result<()> {
        self.op.phase = phase;
        self.flush(None).await?;
        self.publish(None);
        Ok(())
    }

    /// Runs a write of records while the engine goes on with the next files, so the
    /// database and the files are worked on at once (two cores, not one in turn). At most
    /// one runs: this waits for the one before, and reports its error.
    pub async fn write_behind<F>(&mut self, write: F) -> anyhow::Result<()>
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.settle().await?;
        self.behind = Some(tokio::spawn(write));
        Ok(())
    }

    /// Waits for the write left running, if any. Every run settles before it reads its
    /// records back or ends (`run::run`).
    pub async fn settle(&mut self) -> anyhow::Result<()> {
        match self.behind.take() {
            Some(write) => write.await.context("a write of records stopped")?,
            None => Ok(()),
        }
    }

    /// Counts the files under `root` beside the scan of it, for its percentage: the scan
    /// never waits for the count (a second walk of the tree), which lands in
    /// `work.expected` at the first tick after it ends.
    pub fn count_beside(&mut self, space: &UserSpace, root: &str) {
        let (space, root) = (space.clone(), root.to_string());
        self.counting = Some(tokio::spawn(async move { space.count_files(&root).await }));
    }

    fn take_count(&mut self) {
        if let Some(counting) = self.counting.take_if(|c| c.is_finished()) {
            let counted = futures::FutureExt::now_or_never(counting).and_then(|c| c.ok());
            self.work.expected = counted.flatten().map(|n| n as i64);
        }
    }

    /// Call after changing counters; writes and publishes when their time has come.
    pub async fn tick(&mut self) -> anyhow::Result<()> {
        self.take_count();
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush(None).await?;
        }
        if self.last_publish.elapsed() >= PUBLISH_EVERY {
            self.publish(None);
        }
        Ok(())
    }

    /// `Err` once the run should stop early: a cancel (noticed within a quarter second of
    /// the request), a lost lease or a stopping process. For `?` in the run's loops.
    pub fn stop_if_cancelled(&self) -> Result<(), Failure> {
        match self.cancel.flag().get() {
            None => Ok(()),
            Some(Stop::Cancelled) => Err(Failure::Cancelled),
            Some(Stop::HandBack) => Err(Failure::HandedBack),
        }
    }

    /// The flag itself, for work that runs apart from the tracker (hashing).
    pub fn cancel_flag(&self) -> CancelFlag {
        self.cancel.flag()
    }

    /// Whether someone asked to cancel, read from the database now (so any process can
    /// ask). An operation row that is gone counts as cancelled: nobody to work for.
    pub async fn cancel_requested(&self) -> anyhow::Result<bool> {
        let flag: Option<bool> = operations::Entity::find_by_id(self.op.id)
            .select_only()
            .column(operations::Column::CancelRequested)
            .into_tuple()
            .one(&self.db)
            .await
            .context("read the cancel flag")?;
        Ok(flag.unwrap_or(true))
    }

    /// Writes the counters (and, at the end, the outcome) to the operation row.
    pub async fn flush(
        &mut self,
        finished: Option<(OperationStatus, Option<String>)>,
    ) -> anyhow::Result<()> {
        let now = Utc::now();
        let op = &self.op;
        let mut update = operations::Entity::update_many()
            .col_expr(operations::Column::Phase, Expr::value(op.phase))
            .col_expr(operations::Column::FilesTotal, Expr::value(op.files_total))
            .col_expr(
                operations::Column::FilesScanned,
                Expr::value(op.files_scanned),
            )
            .col_expr(
                operations::Column::FilesProcessed,
                Expr::value(op.files_processed),
            )
            .col_expr(
                operations::Column::FilesSkipped,
                Expr::value(op.files_skipped),
            )
            .col_expr(
                operations::Column::DuplicatesFound,
                Expr::value(op.duplicates_found),
            )
            .col_expr(
                operations::Column::SpaceSavedBytes,
                Expr::value(op.space_saved_bytes),
            )
            .col_expr(operations::Column::Percent, Expr::value(op.percent))
            .col_expr(
                operations::Column::FilesPerSecond,
                Expr::value(op.files_per_second),
            )
            .col_expr(
                operations::Column::SecondsLeft,
                Expr::value(op.seconds_left),
            )
            .col_expr(operations::Column::UpdatedAt, Expr::value(now));
        if let Some((status, message)) = finished {
            update = update
                .col_expr(operations::Column::Status, Expr::value(status))
                .col_expr(operations::Column::ErrorMessage, Expr::value(message))
                .col_expr(operations::Column::CompletedAt, Expr::value(now));
        }
        let rows = self
            .fence
            .guard(update)
            .exec(&self.db)
            .await
            .context("write the operation's counters")?
            .rows_affected;
        self.fence.expect_row(rows)?;
        self.op.updated_at = now;
        self.last_flush = Instant::now();
        Ok(())
    }

    fn publish(&mut self, message: Option<String>) {
        let mut event = ProgressEvent::with_work(&self.op, self.work, message);
        self.pace.observe(&mut event);
        // Kept with the row at the next write, for snapshots.
        self.op.percent = event.percent;
        self.op.files_per_second = event.files_per_second;
        self.op.seconds_left = event.seconds_left;
        self.bus.publish(event);
        self.last_publish = Instant::now();
    }

    /// Records the outcome and publishes the terminal event.
    pub async fn finish(
        &mut self,
        status: OperationStatus,
        message: Option<String>,
    ) -> anyhow::Result<()> {
        self.op.status = status;
        self.op.phase = Phase::Done;
        self.op.error_message = message.clone();
        self.flush(Some((status, message.clone()))).await?;
        self.publish(message);
        Ok(())
    }
}
