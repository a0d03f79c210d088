//! One operation from start to end: claim it, build its records (scan and plan, or copy
//! a plan, or reverse an earlier operation), apply them unless it is a dry run, and
//! finish with counters summed from the records. A run that finds the operation already
//! `running` (its worker died) resumes: a plan that was being written is written again
//! (nothing had moved yet); records being applied continue where they stopped.

use std::collections::BTreeSet;

use anyhow::Context;
use chrono::Utc;
use entity::{
    file_records, operations,
    states::{OperationStatus, OperationType, Phase, RecordStatus},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};
use uuid::Uuid;

use crate::{
    engine::{
        Engine, Options, Source, TRASH_DIR, apply,
        copy::{self, Direction},
        dedupe,
        failure::Failure,
        organize, records, summary,
        tracker::Tracker,
    },
    storage::paths,
};

/// Runs (or resumes) one operation. Errors inside the job end it as `failed`; the `Err`
/// returned here is only for failures to even record that.
#[tracing::instrument(skip_all, fields(operation_id = %operation_id, user_id))]
pub async fn run(engine: &Engine, operation_id: Uuid) -> anyhow::Result<()> {
    let Some(op) = claim(engine, operation_id).await? else {
        return Ok(());
    };
    tracing::Span::current().record("user_id", tracing::field::display(op.user_id));
    let started = std::time::Instant::now();
    tracing::info!(kind = ?op.operation_type, dry_run = op.is_dry_run, "operation started");
    let mut tracker = Tracker::new(engine, op);
    let outcome = execute(engine, &mut tracker).await;
    if matches!(outcome, Err(Failure::SimulatedCrash)) {
        // Like a killed process: the operation stays `running`, its records as they are.
        tracing::warn!("fault injected: worker stopped mid-operation");
        return Ok(());
    }
    let cancelled =
        matches!(outcome, Err(Failure::Cancelled)) || tracker.cancel_requested().await?;
    if cancelled {
        // Every record gets an outcome: what was planned and not done is skipped.
        records::skip_remaining(tracker.db(), tracker.op.id).await?;
    }
    let failed = summary::summarize(&mut tracker).await?;
    let (status, message) = match outcome {
        Err(Failure::SimulatedCrash) => return Ok(()),
        Err(Failure::User(message)) => (OperationStatus::Failed, Some(message)),
        Err(Failure::Internal(err)) => {
            tracing::error!(error = %format!("{err:#}"), "operation failed");
            let message =
                format!("internal error (operation {operation_id}); details are in the server log");
            (OperationStatus::Failed, Some(message))
        }
        // `Err(Cancelled)` only comes with `cancelled` set.
        Ok(()) | Err(Failure::Cancelled) if cancelled => {
            (OperationStatus::Cancelled, Some("cancelled".into()))
        }
        Ok(()) | Err(Failure::Cancelled) if failed > 0 => (
            OperationStatus::Completed,
            Some(format!(
                "{failed} file(s) could not be moved; their records say why"
            )),
        ),
        Ok(()) | Err(Failure::Cancelled) => (OperationStatus::Completed, None),
    };
    tracker.finish(status, message).await?;
    let op = &tracker.op;
    tracing::info!(
        status = ?op.status,
        files_processed = op.files_processed,
        files_skipped = op.files_skipped,
        files_failed = failed,
        seconds = started.elapsed().as_secs_f64(),
        "operation finished"
    );
    Ok(())
}

/// Marks a pending operation running (conditionally, so two workers cannot both take it),
/// or takes over one left running by a dead process. `None`: nothing to do.
async fn claim(engine: &Engine, id: Uuid) -> anyhow::Result<Option<operations::Model>> {
    let Some(op) = operations::Entity::find_by_id(id)
        .one(&engine.db)
        .await
        .context("read the operation")?
    else {
        return Ok(None);
    };
    match op.status {
        OperationStatus::Pending => {
            let now = Utc::now();
            let claimed = operations::Entity::update_many()
                .col_expr(
                    operations::Column::Status,
                    Expr::value(OperationStatus::Running),
                )
                .col_expr(operations::Column::StartedAt, Expr::value(now))
                .col_expr(operations::Column::UpdatedAt, Expr::value(now))
                .filter(operations::Column::Id.eq(id))
                .filter(operations::Column::Status.eq(OperationStatus::Pending))
                .exec(&engine.db)
                .await
                .context("claim the operation")?;
            if claimed.rows_affected != 1 {
                return Ok(None);
            }
            Ok(operations::Entity::find_by_id(id)
                .one(&engine.db)
                .await
                .context("read the claimed operation")?)
        }
        OperationStatus::Running => {
            tracing::warn!(operation_id = %id, phase = ?op.phase, "resuming an operation whose worker stopped");
            Ok(Some(op))
        }
        OperationStatus::Completed | OperationStatus::Failed | OperationStatus::Cancelled => {
            Ok(None)
        }
    }
}

async fn execute(engine: &Engine, tracker: &mut Tracker) -> Result<(), Failure> {
    let op = tracker.op.clone();
    let options = Options::from_metadata(&op.metadata)?;
    let source = Source::of(&op)?;
    if op.phase.is_planning() {
        build_plan(engine, tracker, &op, source, &options).await?;
    }
    // The plan is whole: from here on, the total (and so a percentage) is known.
    summary::summarize(tracker).await?;
    tracker.stop_if_cancelled()?;
    if op.is_dry_run {
        return Ok(());
    }
    tracker.set_phase(Phase::Moving).await?;
    let mode = match source {
        Source::RollbackOf(source) => apply::Mode::Rollback { source },
        Source::PlanOf(_) => apply::Mode::Plan,
        Source::Scan => apply::Mode::Fresh,
    };
    apply::apply(engine, tracker, mode).await?;
    tracker.set_phase(Phase::Finishing).await?;
    if let Source::RollbackOf(_) = source {
        prune_emptied_folders(engine, &op).await?;
    }
    Ok(())
}

/// Writes the operation's records from scratch.
async fn build_plan(
    engine: &Engine,
    tracker: &mut Tracker,
    op: &operations::Model,
    source: Source,
    options: &Options,
) -> Result<(), Failure> {
    // A plan half-written by a dead worker is thrown away: nothing moves before the
    // plan is complete, so writing it again loses nothing.
    file_records::Entity::delete_many()
        .filter(file_records::Column::OperationId.eq(op.id))
        .exec(&engine.db)
        .await
        .context("drop a half-written plan")?;
    tracker.set_phase(Phase::Scanning).await?;
    match (source, op.operation_type) {
        (Source::RollbackOf(source), _) => {
            copy::copy_records(tracker, source, Direction::Reversed).await
        }
        (Source::PlanOf(source), _) => {
            copy::copy_records(tracker, source, Direction::AsPlanned).await
        }
        (Source::Scan, OperationType::Organize) => organize::plan(engine, tracker, options).await,
        (Source::Scan, OperationType::DuplicateCleanup) => {
            dedupe::plan(engine, tracker, options).await
        }
        (Source::Scan, OperationType::Rollback) => {
            Err(Failure::User("rollback without a source operation".into()))
        }
    }
}

/// After a rollback: the folders the undone operation created (category folders, the
/// trash) go too, when nothing else is in them.
async fn prune_emptied_folders(engine: &Engine, op: &operations::Model) -> anyhow::Result<()> {
    let emptied: BTreeSet<String> = file_records::Entity::find()
        .select_only()
        .column(file_records::Column::OriginalPath)
        .filter(file_records::Column::OperationId.eq(op.id))
        .filter(file_records::Column::Status.eq(RecordStatus::Done))
        .into_tuple::<String>()
        .all(&engine.db)
        .await
        .context("read the folders a rollback emptied")?
        .iter()
        .map(|path| paths::parent(path).to_string())
        .collect();
    let (in_trash, in_root): (Vec<String>, Vec<String>) = emptied
        .into_iter()
        .partition(|dir| paths::is_within(dir, TRASH_DIR));
    let space = engine.storage.space(op.user_id);
    space.prune_empty_dirs(in_root, &op.root_path).await;
    space.prune_empty_dirs(in_trash, "").await;
    Ok(())
}
