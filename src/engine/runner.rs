//! One operation from start to end: claim it, build its records (scan and plan, or copy
//! a plan, or reverse an earlier operation), apply them unless it is a dry run, and
//! finish with counters summed from the records. A run that finds the operation already
//! `running` (its worker died) resumes: a plan that was being written is written again
//! (nothing had moved yet); records being applied continue where they stopped.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use entity::{file_records, operations};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    engine::{OpStatus, OpType, Options, Phase, RecordStatus, apply, plan},
    jobs::bus::ProgressEvent,
    state::AppState,
};

/// Live counters of a running operation, written to the database at most once a second
/// and published at most ten times a second (plus every phase change and the end).
pub struct Tracker {
    state: AppState,
    pub op: operations::Model,
    last_flush: Instant,
    last_publish: Instant,
}

const FLUSH_EVERY: Duration = Duration::from_secs(1);
const PUBLISH_EVERY: Duration = Duration::from_millis(100);

impl Tracker {
    pub fn new(state: &AppState, op: operations::Model) -> Self {
        let long_ago = Instant::now() - Duration::from_secs(60);
        Self {
            state: state.clone(),
            op,
            last_flush: long_ago,
            last_publish: long_ago,
        }
    }

    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.state.db
    }

    pub async fn set_phase(&mut self, phase: Phase) -> anyhow::Result<()> {
        self.op.phase = phase.as_str().to_string();
        self.flush(None).await?;
        self.publish(None);
        Ok(())
    }

    /// Call after changing counters; writes and publishes when their time has come.
    pub async fn tick(&mut self) -> anyhow::Result<()> {
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush(None).await?;
        }
        if self.last_publish.elapsed() >= PUBLISH_EVERY {
            self.publish(None);
        }
        Ok(())
    }

    /// Whether someone asked to cancel (read from the database, so any process can ask).
    pub async fn cancel_requested(&self) -> anyhow::Result<bool> {
        let flag: Option<bool> = operations::Entity::find_by_id(self.op.id)
            .select_only()
            .column(operations::Column::CancelRequested)
            .into_tuple()
            .one(&self.state.db)
            .await?;
        Ok(flag.unwrap_or(true))
    }

    async fn flush(&mut self, finished: Option<(OpStatus, Option<String>)>) -> anyhow::Result<()> {
        let now = Utc::now();
        let op = &self.op;
        let mut update = operations::Entity::update_many()
            .col_expr(operations::Column::Phase, Expr::value(op.phase.clone()))
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
            .col_expr(operations::Column::UpdatedAt, Expr::value(now));
        if let Some((status, message)) = finished {
            update = update
                .col_expr(operations::Column::Status, Expr::value(status.as_str()))
                .col_expr(operations::Column::ErrorMessage, Expr::value(message))
                .col_expr(operations::Column::CompletedAt, Expr::value(now));
        }
        update
            .filter(operations::Column::Id.eq(op.id))
            .exec(&self.state.db)
            .await?;
        self.op.updated_at = now;
        self.last_flush = Instant::now();
        Ok(())
    }

    fn publish(&mut self, message: Option<String>) {
        self.state.bus.publish(event_of(&self.op, message));
        self.last_publish = Instant::now();
    }

    async fn finish(&mut self, status: OpStatus, message: Option<String>) -> anyhow::Result<()> {
        self.op.status = status.as_str().to_string();
        self.op.phase = Phase::Done.as_str().to_string();
        self.op.error_message = message.clone();
        self.flush(Some((status, message.clone()))).await?;
        self.publish(message);
        Ok(())
    }
}

/// The progress event that describes an operation row.
pub fn event_of(op: &operations::Model, message: Option<String>) -> ProgressEvent {
    ProgressEvent {
        operation_id: op.id,
        user_id: op.user_id,
        status: op.status.clone(),
        phase: op.phase.clone(),
        files_total: op.files_total,
        files_scanned: op.files_scanned,
        files_processed: op.files_processed,
        files_skipped: op.files_skipped,
        duplicates_found: op.duplicates_found,
        space_saved_bytes: op.space_saved_bytes,
        message: message.or_else(|| op.error_message.clone()),
        updated_at: Utc::now(),
    }
}

/// Runs (or resumes) one operation. Errors inside the job end it as `failed`; the `Err`
/// returned here is only for failures to even record that.
#[tracing::instrument(skip(state), fields(user_id))]
pub async fn run(state: &AppState, operation_id: Uuid) -> anyhow::Result<()> {
    let Some(op) = claim(state, operation_id).await? else {
        return Ok(());
    };
    tracing::Span::current().record("user_id", tracing::field::display(op.user_id));
    let mut tracker = Tracker::new(state, op);
    let outcome = execute(state, &mut tracker).await;
    if matches!(outcome, Err(Failure::SimulatedCrash)) {
        // Like a killed process: the operation stays `running`, its records as they are.
        tracing::warn!(%operation_id, "fault injected: worker stopped mid-operation");
        return Ok(());
    }
    let cancelled = tracker.cancel_requested().await.unwrap_or(false);
    let failed = summarize(&mut tracker).await?;
    match outcome {
        Ok(()) if cancelled => {
            tracker
                .finish(OpStatus::Cancelled, Some("cancelled".into()))
                .await
        }
        Ok(()) if failed > 0 => {
            let message = format!("{failed} file(s) could not be moved; their records say why");
            tracker.finish(OpStatus::Completed, Some(message)).await
        }
        Ok(()) => tracker.finish(OpStatus::Completed, None).await,
        Err(Failure::User(message)) => tracker.finish(OpStatus::Failed, Some(message)).await,
        Err(Failure::SimulatedCrash) => Ok(()),
        Err(Failure::Internal(err)) => {
            tracing::error!(error = %format!("{err:#}"), "operation failed");
            let message =
                format!("internal error (operation {operation_id}); details are in the server log");
            tracker.finish(OpStatus::Failed, Some(message)).await
        }
    }
}

/// Why a run failed: something the user can act on, an internal error (logged, not
/// shown), or the injected fault that imitates a killed worker.
pub enum Failure {
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

/// Marks a pending operation running (conditionally, so two workers cannot both take it),
/// or takes over one left running by a dead process. `None`: nothing to do.
async fn claim(state: &AppState, id: Uuid) -> anyhow::Result<Option<operations::Model>> {
    let Some(op) = operations::Entity::find_by_id(id).one(&state.db).await? else {
        return Ok(None);
    };
    match OpStatus::parse(&op.status) {
        Some(OpStatus::Pending) => {
            let now = Utc::now();
            let claimed = operations::Entity::update_many()
                .col_expr(
                    operations::Column::Status,
                    Expr::value(OpStatus::Running.as_str()),
                )
                .col_expr(operations::Column::StartedAt, Expr::value(now))
                .col_expr(operations::Column::UpdatedAt, Expr::value(now))
                .filter(operations::Column::Id.eq(id))
                .filter(operations::Column::Status.eq(OpStatus::Pending.as_str()))
                .exec(&state.db)
                .await?;
            if claimed.rows_affected != 1 {
                return Ok(None);
            }
            Ok(operations::Entity::find_by_id(id).one(&state.db).await?)
        }
        Some(OpStatus::Running) => {
            tracing::warn!(operation_id = %id, phase = %op.phase, "resuming an operation whose worker stopped");
            Ok(Some(op))
        }
        _ => Ok(None),
    }
}

async fn execute(state: &AppState, tracker: &mut Tracker) -> Result<(), Failure> {
    let op = tracker.op.clone();
    let op_type = OpType::parse(&op.operation_type).context("unknown operation type")?;
    let options: Options =
        serde_json::from_value(op.metadata.get("options").cloned().unwrap_or_default())
            .unwrap_or_default();
    let building = matches!(
        Phase::parse(&op.phase),
        Some(Phase::Queued | Phase::Scanning | Phase::Hashing) | None
    );
    if building {
        // A plan half-written by a dead worker is thrown away: nothing moves before the
        // plan is complete, so writing it again loses nothing.
        file_records::Entity::delete_many()
            .filter(file_records::Column::OperationId.eq(op.id))
            .exec(&state.db)
            .await?;
        tracker.set_phase(Phase::Scanning).await?;
        match (op_type, op.plan_of, op.rollback_of) {
            (OpType::Rollback, _, Some(source)) => plan::copy_reversed(tracker, source).await?,
            (_, Some(source), _) => plan::copy_plan(tracker, source).await?,
            (OpType::Organize, None, _) => plan::organize(state, tracker, &options).await?,
            (OpType::DuplicateCleanup, None, _) => {
                plan::duplicate_cleanup(state, tracker, &options).await?
            }
            (OpType::Rollback, _, None) => {
                return Err(Failure::User("rollback without a source operation".into()));
            }
        }
    }
    // The plan is whole: from here on, the total (and so a percentage) is known.
    summarize(tracker).await?;
    if op.is_dry_run || tracker.cancel_requested().await? {
        return Ok(());
    }
    tracker.set_phase(Phase::Moving).await?;
    let mode = match (op_type, op.plan_of) {
        (OpType::Rollback, _) => apply::Mode::Rollback {
            source: op.rollback_of.context("rollback without source")?,
        },
        (_, Some(_)) => apply::Mode::Plan,
        _ => apply::Mode::Fresh,
    };
    apply::apply(state, tracker, mode).await?;
    tracker.set_phase(Phase::Finishing).await?;
    if let apply::Mode::Rollback { .. } = mode {
        // Folders the undone operation created (category folders, the trash) go too,
        // when nothing else is in them.
        let emptied: Vec<String> = file_records::Entity::find()
            .select_only()
            .column(file_records::Column::OriginalPath)
            .filter(file_records::Column::OperationId.eq(op.id))
            .filter(file_records::Column::Status.eq(RecordStatus::Done.as_str()))
            .into_tuple::<String>()
            .all(&state.db)
            .await?
            .iter()
            .map(|path| crate::storage::paths::parent(path).to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let (in_trash, in_root): (Vec<String>, Vec<String>) = emptied
            .into_iter()
            .partition(|dir| crate::storage::paths::is_within(dir, crate::engine::TRASH_DIR));
        let space = state.storage.space(op.user_id);
        space.prune_empty_dirs(in_root, &op.root_path).await;
        space.prune_empty_dirs(in_trash, "").await;
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct Sums {
    status: String,
    is_duplicate: bool,
    files: i64,
    bytes: Option<i64>,
}

/// Sets the counters from the records, so they are true whatever happened on the way.
/// Returns how many records failed.
pub async fn summarize(tracker: &mut Tracker) -> anyhow::Result<i64> {
    let rows = sums(tracker.db(), tracker.op.id).await?;
    let count = |pred: &dyn Fn(&Sums) -> bool| {
        rows.iter()
            .filter(|r| pred(r))
            .map(|r| r.files)
            .sum::<i64>()
    };
    let bytes = |pred: &dyn Fn(&Sums) -> bool| {
        rows.iter()
            .filter(|r| pred(r))
            .filter_map(|r| r.bytes)
            .sum::<i64>()
    };
    let dry = tracker.op.is_dry_run;
    let acted = |r: &Sums| {
        if dry {
            r.status == RecordStatus::Planned.as_str()
        } else {
            r.status == RecordStatus::Done.as_str() || r.status == RecordStatus::Reverted.as_str()
        }
    };
    let op = &mut tracker.op;
    op.files_processed = count(&acted);
    op.files_skipped = count(&|r| r.status == RecordStatus::Skipped.as_str());
    if OpType::parse(&op.operation_type) == Some(OpType::DuplicateCleanup) {
        op.duplicates_found = count(&|r| r.is_duplicate && acted(r));
        op.space_saved_bytes = bytes(&|r| r.is_duplicate && acted(r));
    }
    op.files_total = Some(rows.iter().map(|r| r.files).sum());
    let failed = count(&|r| r.status == RecordStatus::Failed.as_str());
    tracker.flush(None).await?;
    Ok(failed)
}

async fn sums(db: &impl ConnectionTrait, operation_id: Uuid) -> anyhow::Result<Vec<Sums>> {
    Ok(file_records::Entity::find()
        .select_only()
        .column(file_records::Column::Status)
        .column(file_records::Column::IsDuplicate)
        .column_as(file_records::Column::Id.count(), "files")
        .column_as(
            Expr::col(file_records::Column::FileSizeBytes)
                .sum()
                .cast_as("BIGINT"),
            "bytes",
        )
        .filter(file_records::Column::OperationId.eq(operation_id))
        .group_by(file_records::Column::Status)
        .group_by(file_records::Column::IsDuplicate)
        .into_model::<Sums>()
        .all(db)
        .await?)
}
