//! One operation from start to end: claim it, build its records (scan and plan, or copy
//! a plan, or reverse an earlier operation), apply them unless it is a dry run, and
//! finish with counters summed from the records. A run that finds the operation already
//! `running` (its worker died) resumes: a plan that was being written is written again
//! (nothing had moved yet); records being applied continue where they stopped.

use std::collections::BTreeSet;

use anyhow::Context;
use entity::{
    file_records, operations,
    states::{OperationType, Phase, RecordStatus},
};
use futures::TryStreamExt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};
use uuid::Uuid;

use crate::{
    engine::{
        Engine, Options, Source, TRASH_DIR, apply,
        copy::{self, Direction},
        dedupe,
        edits::{self, PlanEdits},
        failure::Failure,
        organize, records, relocate, summary,
        tracker::Tracker,
        trash_path,
    },
    lifecycle::{self, Ending, lease},
    storage::{UserSpace, paths},
};

/// How a run left its operation, for the queue: whether its job is done with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// The operation ended (now or before), is gone, or another worker holds it.
    Done,
    /// This worker stopped holding it (lease lost, or stopping) with work left: it must
    /// run again, elsewhere.
    HandedBack,
    /// The injected fault: left exactly as a killed worker would leave it.
    Abandoned,
}

/// Runs (or resumes) one operation. Errors inside the job end it as `failed`; the `Err`
/// returned here is only for failures to even record that.
#[tracing::instrument(skip_all, fields(operation_id = %operation_id, user_id))]
pub async fn run(engine: &Engine, operation_id: Uuid) -> anyhow::Result<RunEnd> {
    let Some(claimed) = claim(engine, operation_id).await? else {
        return Ok(RunEnd::Done);
    };
    let op = &claimed.op;
    tracing::Span::current().record("user_id", tracing::field::display(op.user_id));
    let started = std::time::Instant::now();
    tracing::info!(kind = ?op.operation_type, dry_run = op.is_dry_run, "operation started");
    let mut tracker = Tracker::new(engine, claimed);
    let outcome = match (execute(engine, &mut tracker).await, tracker.settle().await) {
        (Ok(()), Err(err)) => Err(Failure::from(err)),
        (outcome, Err(err)) => {
            tracing::error!(error = %format!("{err:#}"), "a write of records failed");
            outcome
        }
        (outcome, Ok(())) => outcome,
    };
    match outcome {
        Err(Failure::SimulatedCrash) => {
            // Like a killed process: the operation stays `running`, its records as they are.
            tracing::warn!("fault injected: worker stopped mid-operation");
            return Ok(RunEnd::Abandoned);
        }
        Err(Failure::HandedBack) => {
            // Fenced (another worker has it): nothing more may be written, and nothing is.
            match tracker.flush().await {
                Ok(()) => lease::release(&engine.db, tracker.fence, &engine.worker_id)
                    .await
                    .context("release the lease")?,
                Err(err) if lifecycle::is_fenced(&err) => {}
                Err(err) => return Err(err),
            }
            tracing::info!("operation handed back; it resumes from its records");
            return Ok(RunEnd::HandedBack);
        }
        _ => {}
    }
    let cancelled =
        matches!(outcome, Err(Failure::Cancelled)) || tracker.cancel_requested().await?;
    if cancelled {
        // Every record gets an outcome: what was planned and not done is skipped.
        let txn = tracker.db().begin().await?;
        records::skip_remaining(&txn, tracker.op.id).await?;
        tracker.fence.hold(&txn).await?;
        txn.commit().await?;
    }
    let failed = summary::summarize(&mut tracker).await?;
    let (ending, message) = match outcome {
        // Both returned above; should they get here, the run is left to resume.
        Err(Failure::SimulatedCrash | Failure::HandedBack) => return Ok(RunEnd::HandedBack),
        Err(Failure::User(message)) => (Ending::Failed, Some(message)),
        Err(Failure::Internal(err)) => {
            tracing::error!(error = %format!("{err:#}"), "operation failed");
            let message = if crate::error::is_out_of_space(&err) {
                "the server ran out of storage space; every file moved has its record, and \
                 the operation can be rolled back once there is room"
                    .to_string()
            } else {
                format!("internal error (operation {operation_id}); details are in the server log")
            };
            (Ending::Failed, Some(message))
        }
        // `Err(Cancelled)` only comes with `cancelled` set.
        Ok(()) | Err(Failure::Cancelled) if cancelled => {
            (Ending::Cancelled, Some("cancelled".into()))
        }
        Ok(()) | Err(Failure::Cancelled) if failed > 0 => (
            Ending::Completed,
            Some(format!(
                "{failed} file(s) could not be moved; their records say why"
            )),
        ),
        Ok(()) | Err(Failure::Cancelled) => (Ending::Completed, None),
    };
    tracker.finish(ending, message).await?;
    let op = &tracker.op;
    {
        use sea_orm::ActiveEnum;
        metrics::counter!(
            crate::metrics::OPERATIONS_FINISHED,
            "type" => op.operation_type.to_value(),
            "status" => op.status.to_value()
        )
        .increment(1);
        if !op.is_dry_run {
            metrics::counter!(crate::metrics::FILES_MOVED).increment(op.files_processed as u64);
        }
    }
    tracing::info!(
        status = ?op.status,
        files_processed = op.files_processed,
        files_skipped = op.files_skipped,
        files_failed = failed,
        seconds = started.elapsed().as_secs_f64(),
        "operation finished"
    );
    Ok(RunEnd::Done)
}

/// Takes the operation for this worker (`lifecycle::lease::claim`): `None` when there
/// is nothing to do (ended, gone, or held by a live worker).
async fn claim(engine: &Engine, id: Uuid) -> anyhow::Result<Option<lease::Claimed>> {
    let claimed = lease::claim(&engine.db, id, &engine.worker_id, engine.lease)
        .await
        .context("claim the operation")?;
    if let Some(claimed) = claimed.as_ref().filter(|c| c.resumed) {
        tracing::warn!(operation_id = %id, phase = ?claimed.op.phase, "resuming an operation whose worker stopped");
    }
    Ok(claimed)
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
    if op.operation_type == OperationType::Organize {
        // The folders it emptied go (a rollback makes them again as it puts files back).
        prune_emptied_folders(engine, &op).await?;
    }
    if let Source::RollbackOf(undone) = source {
        prune_emptied_folders(engine, &op).await?;
        carry_back_empty_folders(engine, undone).await?;
    }
    if matches!(
        op.operation_type,
        OperationType::Move | OperationType::Delete | OperationType::Restore
    ) {
        prune_moved_folders(engine, &op).await?;
    }
    if op.operation_type == OperationType::Restore {
        relocate::mark_restored(engine, &op).await?;
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
    let txn = engine.db.begin().await.context("begin dropping a plan")?;
    file_records::Entity::delete_many()
        .filter(file_records::Column::OperationId.eq(op.id))
        .exec(&txn)
        .await
        .context("drop a half-written plan")?;
    tracker.fence.hold(&txn).await?;
    txn.commit().await.context("drop a half-written plan")?;
    tracker.set_phase(Phase::Scanning).await?;
    match (source, op.operation_type) {
        (Source::RollbackOf(source), _) => {
            copy::copy_records(tracker, source, Direction::Reversed).await?;
            edits::apply(tracker, &PlanEdits::of(&op.metadata)?).await
        }
        (Source::PlanOf(source), _) => {
            copy::copy_records(tracker, source, Direction::AsPlanned).await?;
            edits::apply(tracker, &PlanEdits::of(&op.metadata)?).await
        }
        (Source::Scan, OperationType::Organize) => organize::plan(engine, tracker, options).await,
        (Source::Scan, OperationType::DuplicateCleanup) => {
            dedupe::plan(engine, tracker, options).await
        }
        (Source::Scan, OperationType::Move | OperationType::Delete | OperationType::Restore) => {
            relocate::plan(engine, tracker).await
        }
        (Source::Scan, OperationType::Rollback) => {
            Err(Failure::User("rollback without a source operation".into()))
        }
    }
}

/// After a move or delete of folders: each folder goes from where it was, with the
/// folders inside it, once its files have left it (a folder a file merely left stays).
async fn prune_moved_folders(engine: &Engine, op: &operations::Model) -> anyhow::Result<()> {
    let folders: Vec<String> = relocate::sources(&op.metadata);
    // The emptied folders of each moved folder (a moved file's folder is none of them).
    let mut emptied: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for dir in source_folders(engine, op).await? {
        if let Some(folder) = folders.iter().find(|f| paths::is_within(&dir, f)) {
            emptied.entry(folder.as_str()).or_default().push(dir);
        }
    }
    let space = engine.storage.space(op.user_id);
    for (folder, dirs) in emptied {
        space.prune_empty_dirs(dirs, paths::parent(folder)).await;
    }
    // Folders with no file at all go too, made again where the folder went (the trash
    // included, so a restore or rollback brings them back).
    for entry in relocate::entries_of(&op.metadata).unwrap_or_default() {
        let to = entry
            .to
            .clone()
            .unwrap_or_else(|| trash_path(op.id, &entry.from));
        carry_empty_folders(&space, &entry.from, &to).await?;
    }
    Ok(())
}

/// The distinct folders the files of `op`'s done records came from. Streamed: only the
/// few distinct folders are held, not a path per file.
async fn source_folders(
    engine: &Engine,
    op: &operations::Model,
) -> anyhow::Result<BTreeSet<String>> {
    let mut rows = file_records::Entity::find()
        .select_only()
        .column(file_records::Column::OriginalPath)
        .filter(file_records::Column::OperationId.eq(op.id))
        .filter(file_records::Column::Status.eq(RecordStatus::Done))
        .into_tuple::<String>()
        .stream(&engine.db)
        .await
        .context("read the folders an operation's files left")?;
    let mut folders = BTreeSet::new();
    while let Some(path) = rows
        .try_next()
        .await
        .context("read the folders an operation's files left")?
    {
        let parent = paths::parent(&path);
        if !folders.contains(parent) {
            folders.insert(parent.to_string());
        }
    }
    Ok(folders)
}

/// Moves the folders under `from` that hold no file to the same places under `to`.
async fn carry_empty_folders(space: &UserSpace, from: &str, to: &str) -> anyhow::Result<()> {
    let removed = space.remove_empty_tree(from).await;
    // Deepest first: the last is the shallowest; making the deepest makes its parents.
    for dir in &removed {
        let inside = dir[from.len()..].trim_start_matches('/');
        let target = paths::join(to, inside);
        if space.stat(&target).await?.is_none() {
            space.create_folder(&target).await?;
        }
    }
    Ok(())
}

/// After a rollback of a move or delete: the empty folders it carried go back too.
async fn carry_back_empty_folders(engine: &Engine, source: uuid::Uuid) -> anyhow::Result<()> {
    let Some(undone) = operations::Entity::find_by_id(source)
        .one(&engine.db)
        .await
        .context("read the operation rolled back")?
    else {
        return Ok(());
    };
    if !matches!(
        undone.operation_type,
        OperationType::Move | OperationType::Delete | OperationType::Restore
    ) {
        return Ok(());
    }
    let space = engine.storage.space(undone.user_id);
    for entry in relocate::entries_of(&undone.metadata).unwrap_or_default() {
        let to = entry
            .to
            .clone()
            .unwrap_or_else(|| trash_path(undone.id, &entry.from));
        carry_empty_folders(&space, &to, &entry.from).await?;
    }
    Ok(())
}

/// After an organize (the folders its files left) or a rollback (the folders the undone
/// operation created: category folders, the trash): those with nothing left in them go.
async fn prune_emptied_folders(engine: &Engine, op: &operations::Model) -> anyhow::Result<()> {
    let emptied = source_folders(engine, op).await?;
    let (in_trash, in_root): (Vec<String>, Vec<String>) = emptied
        .into_iter()
        .partition(|dir| paths::is_within(dir, TRASH_DIR));
    let space = engine.storage.space(op.user_id);
    space.prune_empty_dirs(in_root, &op.root_path).await;
    space.prune_empty_dirs(in_trash, "").await;
    Ok(())
}
