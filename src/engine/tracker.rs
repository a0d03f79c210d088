//! Live counters of a running operation, written to the database at most once a second
//! and published at most ten times a second (plus every phase change and the end).

use std::time::{Duration, Instant};

use anyhow::Context;
use entity::{operations, states::Phase};
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};

use crate::{
    engine::{
        Engine,
        cancel::{CancelFlag, CancelWatch, Lease, Stop},
        failure::Failure,
        pace::Pace,
        progress::{self, Work},
    },
    jobs::bus::{ProgressBus, ProgressEvent},
    lifecycle::{self, Ending, Fence},
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
    pub fn new(engine: &Engine, claimed: lifecycle::lease::Claimed) -> Self {
        let long_ago = Instant::now() - Duration::from_secs(60);
        let lifecycle::lease::Claimed { op, fence, .. } = claimed;
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

    /// Enters the next phase (refused if the lifecycle does not allow it), written and
    /// published at once.
    pub async fn set_phase(&mut self, phase: Phase) -> anyhow::Result<()> {
        lifecycle::progress::enter_phase(&mut self.op, phase)?;
        self.flush().await?;
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
            self.flush().await?;
            self.publish(None);
        } else if self.last_publish.elapsed() >= PUBLISH_EVERY {
            self.measure();
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

    /// Measures the progress now (`engine::progress`), in the run's copy of the row.
    fn measure(&mut self) {
        self.op.updated_at = chrono::Utc::now();
        progress::measure(&mut self.op, self.work, &mut self.pace);
    }

    /// Measures and writes the counters and progress to the operation row.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        self.measure();
        lifecycle::progress::record(&self.db, self.fence, &mut self.op).await?;
        self.last_flush = Instant::now();
        Ok(())
    }

    /// Publishes the run's copy of the row as it was last measured: what listeners see
    /// is what is (or will at the next write be) stored.
    fn publish(&mut self, message: Option<String>) {
        self.bus.publish(ProgressEvent::of(&self.op, message));
        self.last_publish = Instant::now();
    }

    /// Records the outcome and publishes the terminal event.
    pub async fn finish(&mut self, ending: Ending, message: Option<String>) -> anyhow::Result<()> {
        self.op.status = ending.status();
        self.op.phase = Phase::Done;
        self.measure();
        lifecycle::progress::finish(&self.db, self.fence, &mut self.op, ending, message.clone())
            .await?;
        self.publish(message);
        Ok(())
    }
}
