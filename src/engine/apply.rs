//! Carrying out planned records, a batch at a time (the next batch is read while one
//! moves):
//! 1. *prepare* each file: check it is still what the record says;
//! 2. write ahead: make sure the operation's *reach* (`moves_reach_seq`) covers the batch:
//!    every record up to it may have moved. It is written once per `REACH_AHEAD` records,
//!    not per record;
//! 3. claim each destination (an empty placeholder, created only if nothing is there) and
//!    record the claimed name, `moving`, where it differs from the planned one;
//! 4. move each file onto its placeholder (on a local folder, straight to its destination
//!    by a rename that refuses to replace);
//! 5. record each outcome: `done`, `skipped` with the reason, or `failed` with the error.
//!
//! A worker that dies anywhere in this loop (even `kill -9`) leaves records from which a
//! resumed run can tell what happened to each file: `planned` ones past the reach were
//! not touched; for `moving` ones and `planned` ones within the reach the run started
//! with, the file is either already at the recorded destination (done), or still at its
//! source, with an empty placeholder of ours at the recorded destination (move onto it)
//! or nothing there yet (claim it now). Writing the reach *before* claiming is what keeps
//! a placeholder claimed just before a crash from being left behind.

use anyhow::Context;
use chrono::Utc;
use entity::{file_records, states::RecordStatus};
use futures::StreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    config::FaultPoint,
    engine::{Engine, failure::Failure, lookup::Lookup, records, tracker::Tracker},
    storage::{FileMeta, IN_FLIGHT, StorageError, UserSpace, free_names::FreeNames},
};

/// Records per round trip; also how often a running operation notices a cancel. On a
/// local folder a batch is a few milliseconds of system calls, so it can be large (the
/// database round trips are then what is left to pay); elsewhere each file is a request.
const LOCAL_BATCH: u64 = 1024;
const REMOTE_BATCH: u64 = 128;
/// Records the reach is written ahead of the batch that needs it: one write of the
/// operation row per this many records.
const REACH_AHEAD: i64 = 8 * LOCAL_BATCH as i64;

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// An organize or cleanup applying the plan it just made.
    Fresh,
    /// `applyPlan`: each file must be unchanged since the dry run (size and time).
    Plan,
    /// A rollback: each file must still be what the source operation left (size, and
    /// content where a hash is known), and its original place must be free.
    Rollback { source: Uuid },
}

enum Outcome {
    Done(String),
    Skipped(String),
    Failed(String),
    /// A move without a placeholder found its destination taken: it goes again, by the
    /// placeholder route, to a free `name (n)`.
    Collided(String),
}

enum Prepared {
    /// Checked; its destination is to be claimed: exactly `wanted` (a rollback), or
    /// `wanted` or the first free `wanted (n)`.
    Claim {
        wanted: String,
        exact: bool,
    },
    /// On a local folder: moved straight to `to` by a rename that refuses to replace.
    Direct {
        to: String,
        exact: bool,
    },
    /// Its destination is claimed (an empty placeholder of ours is there).
    Move {
        to: String,
    },
    Finished(Outcome),
}

type Batch = Vec<(file_records::Model, Prepared)>;

pub async fn apply(engine: &Engine, tracker: &mut Tracker, mode: Mode) -> Result<(), Failure> {
    let space = engine.storage.space(tracker.op.user_id);
    let mut claimed_total = 0u64;
    let size = match space.local() {
        Some(_) => LOCAL_BATCH,
        None => REMOTE_BATCH,
    };
    // Where an earlier run of this operation may have moved files up to.
    let resume = Reach {
        mode,
        seq: tracker.op.moves_reach_seq,
    };
    // The next batch is read and checked while one moves: the two share no file (a
    // destination was free of every source when planned), and a move never replaces.
    let (db, id) = (tracker.db().clone(), tracker.op.id);
    let fetch = |after: Option<i64>| {
        let (db, space) = (db.clone(), space.clone());
        tokio::spawn(async move {
            let (batch, last) = next_batch(&db, id, mode, after, size).await?;
            let prepared = prepare_batch(&space, batch, mode, resume).await?;
            anyhow::Ok((prepared, last))
        })
    };
    let mut upcoming = fetch(None);
    loop {
        tracker.stop_if_cancelled()?;
        let (prepared, last) = upcoming.await.context("read the next records to apply")??;
        let Some(last) = last else {
            // What comes next reads the outcomes back.
            tracker.settle().await?;
            return Ok(());
        };
        // Every record of a batch ends it with an outcome: the next batch starts past it.
        upcoming = fetch(Some(last));
        if prepared.is_empty() {
            continue;
        }
        if prepared
            .iter()
            .any(|(_, prepared)| !matches!(prepared, Prepared::Finished(_)))
        {
            write_ahead(tracker, mode, last).await?;
        }
        let direct = space.moves_without_placeholder();
        let prepared = claim_batch(&space, prepared, direct).await;
        claimed_total += record_claims(tracker.db(), &prepared).await?;
        let fault = |at| {
            engine.stop_at == at && engine.stop_after_files.is_some_and(|n| claimed_total >= n)
        };
        if fault(FaultPoint::Claimed) {
            return Err(Failure::SimulatedCrash);
        }
        // Destinations taken since the plan go again, by the placeholder route.
        let mut outcomes = Vec::new();
        let mut retry: Batch = Vec::new();
        for (record, outcome) in move_batch(&space, prepared).await? {
            match outcome {
                Outcome::Collided(wanted) => retry.push((
                    record,
                    Prepared::Claim {
                        wanted,
                        exact: false,
                    },
                )),
                other => outcomes.push((record, other)),
            }
        }
        if !retry.is_empty() {
            let retry = claim_batch(&space, retry, false).await;
            record_claims(tracker.db(), &retry).await?;
            outcomes.extend(move_batch(&space, retry).await?);
        }
        if fault(FaultPoint::Moved) {
            return Err(Failure::SimulatedCrash);
        }
        let large = tracker.op.files_scanned > engine.search_follow_max;
        record_outcomes(tracker, outcomes, mode, large).await?;
        tracker.tick().await?;
    }
}

/// The next records past the last batch, in order, and the last `seq` read: the
/// `(operation_id, seq)` index is walked from there, never from the start (which made a
/// long run quadratic). Only the records still to do (`planned`, or `moving` after a
/// crash) come back; the status is checked here, not in SQL, so that no other index
/// tempts the planner into sorting what is left of the operation.
async fn next_batch(
    db: &sea_orm::DatabaseConnection,
    operation_id: Uuid,
    mode: Mode,
    after: Option<i64>,
    size: u64,
) -> anyhow::Result<(Vec<file_records::Model>, Option<i64>)> {
    let query =
        file_records::Entity::find().filter(file_records::Column::OperationId.eq(operation_id));
    let query = match (mode, after) {
        (Mode::Rollback { .. }, Some(seq)) => query
            .filter(file_records::Column::Seq.lt(seq))
            .order_by_desc(file_records::Column::Seq),
        (Mode::Rollback { .. }, None) => query.order_by_desc(file_records::Column::Seq),
        (Mode::Fresh | Mode::Plan, Some(seq)) => query
            .filter(file_records::Column::Seq.gt(seq))
            .order_by_asc(file_records::Column::Seq),
        (Mode::Fresh | Mode::Plan, None) => query.order_by_asc(file_records::Column::Seq),
    };
    let rows = query
        .limit(size)
        .all(db)
        .await
        .context("read the next records to apply")?;
    let last = rows.last().map(|r| r.seq);
    let todo = rows
        .into_iter()
        .filter(|r| matches!(r.status, RecordStatus::Planned | RecordStatus::Moving))
        .collect();
    Ok((todo, last))
}

/// Step 1: Checks each file against what its record says. On a local folder the whole
/// batch is looked at in one blocking call; elsewhere many files at once.
async fn prepare_batch(
    space: &UserSpace,
    batch: Vec<file_records::Model>,
    mode: Mode,
    resume: Reach,
) -> anyhow::Result<Batch> {
    let resuming = move |record: &file_records::Model| {
        record.status == RecordStatus::Moving || resume.covers(record.seq)
    };
    let decide = move |record: &file_records::Model, facts: anyhow::Result<Facts>, resuming| {
        facts.map(|facts| decide(record, mode, facts, resuming)).unwrap_or_else(|err| {
            tracing::warn!(error = %format!("{err:#}"), path = %record.original_path, "could not prepare a move");
            Prepared::Finished(Outcome::Failed(storage_error(&err)))
        })
    };
    if let Some(mut local) = space.local() {
        return tokio::task::spawn_blocking(move || {
            batch
                .into_iter()
                .map(|record| {
                    let resuming = resuming(&record);
                    let facts =
                        futures::executor::block_on(facts(&mut local, &record, mode, resuming));
                    let prepared = decide(&record, facts, resuming);
                    (record, prepared)
                })
                .collect()
        })
        .await
        .context("prepare a batch");
    }
    Ok(futures::stream::iter(batch)
        .map(|record| async move {
            let resuming = resuming(&record);
            let facts = facts(&mut space.clone(), &record, mode, resuming).await;
            let prepared = decide(&record, facts, resuming);
            (record, prepared)
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await)
}

/// How far, in apply order, files of an operation may have moved.
#[derive(Clone, Copy)]
struct Reach {
    mode: Mode,
    seq: Option<i64>,
}

impl Reach {
    fn covers(self, seq: i64) -> bool {
        match (self.mode, self.seq) {
            (_, None) => false,
            (Mode::Rollback { .. }, Some(reach)) => seq >= reach,
            (Mode::Fresh | Mode::Plan, Some(reach)) => seq <= reach,
        }
    }

    /// `REACH_AHEAD` records past `seq`, in apply order.
    fn ahead_of(self, seq: i64) -> i64 {
        match self.mode {
            Mode::Rollback { .. } => (seq - REACH_AHEAD).max(0),
            Mode::Fresh | Mode::Plan => seq + REACH_AHEAD,
        }
    }
}

/// Step 2: Makes sure the operation's reach covers the batch (whose last record, in apply
/// order, is `last`) before any of its placeholders is claimed or files moved; when it
/// does not, writes it `REACH_AHEAD` records further, so most batches write nothing.
async fn write_ahead(tracker: &mut Tracker, mode: Mode, last: i64) -> anyhow::Result<()> {
    let reach = Reach {
        mode,
        seq: tracker.op.moves_reach_seq,
    };
    if reach.covers(last) {
        // No file of a batch moves unless the operation is still this run's.
        return tracker.fence.hold(tracker.db()).await;
    }
    let further = reach.ahead_of(last);
    crate::lifecycle::progress::extend_moves_reach(tracker.db(), tracker.fence, further).await?;
    tracker.op.moves_reach_seq = Some(further);
    Ok(())
}

/// Step 3: Claims each destination still to claim, many at once; with `direct`, nothing
/// is claimed: the move itself will refuse a taken destination.
async fn claim_batch(space: &UserSpace, prepared: Batch, direct: bool) -> Batch {
    futures::stream::iter(prepared)
        .map(|(record, prepared)| async move {
            let claimed = match prepared {
                Prepared::Claim { wanted, exact } if direct => {
                    Prepared::Direct { to: wanted, exact }
                }
                Prepared::Claim {
                    wanted,
                    exact: true,
                } => match space.claim(&wanted).await {
                    Ok(true) => Prepared::Move { to: wanted },
                    Ok(false) => Prepared::Finished(Outcome::Skipped(
                        "its original place is taken by another file".into(),
                    )),
                    Err(err) => Prepared::Finished(Outcome::Failed(storage_error(&err))),
                },
                Prepared::Claim {
                    wanted,
                    exact: false,
                } => match space
                    .claim_free_name(&wanted, &mut FreeNames::default())
                    .await
                {
                    Ok(to) => Prepared::Move { to },
                    Err(err) => Prepared::Finished(Outcome::Failed(storage_error(&err))),
                },
                other => other,
            };
            (record, claimed)
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await
}

/// Step 3, recorded: the claimed names that differ from the planned ones, before any file
/// moves. Returns how many files are about to move.
async fn record_claims(db: &impl ConnectionTrait, prepared: &Batch) -> anyhow::Result<u64> {
    let mut moving = 0;
    let renamed: Vec<(Uuid, Option<String>)> = prepared
        .iter()
        .filter_map(|(record, prepared)| match prepared {
            Prepared::Move { to } => {
                moving += 1;
                (record.new_path.as_deref() != Some(to.as_str()))
                    .then(|| (record.id, Some(to.clone())))
            }
            Prepared::Direct { .. } => {
                moving += 1;
                None
            }
            _ => None,
        })
        .collect();
    records::set_status(
        db,
        RecordStatus::Moving,
        file_records::Column::NewPath,
        renamed,
    )
    .await?;
    Ok(moving)
}

/// Step 4: Moves each file: on a local folder, the direct moves of the batch in one
/// blocking call; the rest onto their claimed destinations, many at once.
async fn move_batch(
    space: &UserSpace,
    prepared: Batch,
) -> anyhow::Result<Vec<(file_records::Model, Outcome)>> {
    let (direct, claimed): (Batch, Batch) = prepared
        .into_iter()
        .partition(|(_, prepared)| matches!(prepared, Prepared::Direct { .. }));
    let mut outcomes: Vec<(file_records::Model, Outcome)> = match space.local() {
        Some(mut local) if !direct.is_empty() => tokio::task::spawn_blocking(move || {
            direct
                .into_iter()
                .map(|(record, prepared)| {
                    let outcome = match prepared {
                        Prepared::Direct { to, exact } => {
                            let moved = local.move_no_replace(&record.original_path, &to);
                            direct_outcome(&record, moved, to, exact)
                        }
                        _ => Outcome::Failed("not a direct move".into()),
                    };
                    (record, outcome)
                })
                .collect()
        })
        .await
        .context("move a batch")?,
        _ => direct
            .into_iter()
            .map(|(record, _)| (record, Outcome::Failed("no local folder".into())))
            .collect(),
    };
    let claimed: Vec<_> = futures::stream::iter(claimed)
        .map(|(record, prepared)| async move {
            let outcome = match prepared {
                Prepared::Finished(outcome) => outcome,
                Prepared::Claim { .. } | Prepared::Direct { .. } => {
                    Outcome::Failed("destination not claimed".into())
                }
                Prepared::Move { to } => {
                    let size = record.file_size_bytes.max(0) as u64;
                    match space.move_onto_claimed(&record.original_path, &to, size).await {
                        Ok(()) => Outcome::Done(to),
                        Err(err) => {
                            tracing::warn!(error = %format!("{err:#}"), path = %record.original_path, "move failed");
                            space.release(&to).await;
                            Outcome::Failed(storage_error(&err))
                        }
                    }
                }
            };
            (record, outcome)
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    outcomes.extend(claimed);
    Ok(outcomes)
}

/// What a move that refuses to replace came to.
fn direct_outcome(
    record: &file_records::Model,
    moved: anyhow::Result<bool>,
    to: String,
    exact: bool,
) -> Outcome {
    match moved {
        Ok(true) => Outcome::Done(to),
        Ok(false) if exact => {
            Outcome::Skipped("its original place is taken by another file".into())
        }
        Ok(false) => Outcome::Collided(to),
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), path = %record.original_path, "move failed");
            Outcome::Failed(storage_error(&err))
        }
    }
}

/// Step 5: Records each outcome, in one transaction per batch; a rollback also marks the
/// source records it undid as `reverted`. The same transaction moves the moved files'
/// search-index rows, or (`large`) marks the user's index incomplete.
async fn record_outcomes(
    tracker: &mut Tracker,
    outcomes: Vec<(file_records::Model, Outcome)>,
    mode: Mode,
    large: bool,
) -> anyhow::Result<()> {
    let (mut done, mut done_elsewhere, mut skipped, mut failed, mut reverted) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Where each file went, for the search index (not gathered when it is not followed).
    let mut moves = Vec::new();
    for (record, outcome) in outcomes {
        match outcome {
            Outcome::Done(to) => {
                tracker.op.files_processed += 1;
                if record.is_duplicate {
                    tracker.op.duplicates_found += 1;
                    tracker.op.space_saved_bytes += record.file_size_bytes;
                }
                reverted.push(record.seq);
                if !large {
                    moves.push((record.original_path.clone(), to.clone()));
                }
                if record.new_path.as_deref() == Some(to.as_str()) {
                    done.push(record.id);
                } else {
                    done_elsewhere.push((record.id, Some(to)));
                }
            }
            Outcome::Skipped(reason) => {
                tracker.op.files_skipped += 1;
                skipped.push((record.id, Some(reason)));
            }
            Outcome::Failed(error) => failed.push((record.id, Some(error))),
            Outcome::Collided(_) => failed.push((record.id, Some("destination taken".into()))),
        }
    }
    let (db, fence, user_id) = (tracker.db().clone(), tracker.fence, tracker.op.user_id);
    // Written while the next batch is prepared and moved: its outcomes are safe in
    // `moving` records until then (a resumed run tells what happened to each file).
    tracker
        .write_behind(async move {
            let txn = db.begin().await.context("begin a batch")?;
            records::mark(&txn, RecordStatus::Done, done).await?;
            records::set_status(
                &txn,
                RecordStatus::Done,
                file_records::Column::NewPath,
                done_elsewhere,
            )
            .await?;
            records::set_status(
                &txn,
                RecordStatus::Skipped,
                file_records::Column::Error,
                skipped,
            )
            .await?;
            records::set_status(
                &txn,
                RecordStatus::Failed,
                file_records::Column::Error,
                failed,
            )
            .await?;
            if let Mode::Rollback { source } = mode
                && let (Some(&low), Some(&high)) = (reverted.iter().min(), reverted.iter().max())
            {
                // The range as well as the list: PostgreSQL, without statistics yet, read
                // every record of the source for the list alone (35 ms a batch at 100k).
                file_records::Entity::update_many()
                    .col_expr(
                        file_records::Column::Status,
                        Expr::value(RecordStatus::Reverted),
                    )
                    .col_expr(file_records::Column::UpdatedAt, Expr::value(Utc::now()))
                    .filter(file_records::Column::OperationId.eq(source))
                    .filter(file_records::Column::Seq.between(low, high))
                    .filter(file_records::Column::Seq.is_in(reverted))
                    .exec(&txn)
                    .await
                    .context("mark the undone records reverted")?;
            }
            // A large operation does not move its index rows one by one (on SQLite, random
            // writes across a table of a million rows cost more than the moves): the
            // user's index is marked incomplete, to be built again on the next search.
            if large {
                crate::search::maintain::outgrown(&txn, user_id).await;
            } else {
                crate::search::maintain::moved(&txn, user_id, &moves).await;
            }
            // Last, so the operation's row is held only for the commit (see `Fence::hold`).
            fence.hold(&txn).await?;
            txn.commit().await.context("commit a batch")?;
            Ok(())
        })
        .await
}

/// What the client may read about a storage failure: the kind, never a server path.
fn storage_error(err: &anyhow::Error) -> String {
    StorageError::of(err).to_string()
}

/// What storage says about a record's file, gathered before deciding what to do with it.
#[derive(Default)]
struct Facts {
    /// The regular file at the record's original path.
    source: Option<FileMeta>,
    /// When resuming a move: what is at the planned destination.
    destination: Option<FileMeta>,
    /// For a rollback of a file whose hash is known and whose size still matches: its
    /// hash now.
    content: Option<String>,
}

/// Whether the file's content must be hashed again before it goes back.
fn needs_content(record: &file_records::Model, mode: Mode, source: &FileMeta) -> bool {
    matches!(mode, Mode::Rollback { .. })
        && record.file_hash.is_some()
        && source.size == record.file_size_bytes.max(0) as u64
}

async fn facts(
    files: &mut impl Lookup,
    record: &file_records::Model,
    mode: Mode,
    resuming: bool,
) -> anyhow::Result<Facts> {
    let Some(wanted) = &record.new_path else {
        return Ok(Facts::default());
    };
    let source = files
        .stat(&record.original_path)
        .await?
        .filter(|f| !f.is_dir);
    let destination = if resuming {
        files.stat(wanted).await?
    } else {
        None
    };
    let content = match &source {
        Some(source) if needs_content(record, mode, source) => {
            Some(files.sha256(&record.original_path).await?)
        }
        _ => None,
    };
    Ok(Facts {
        source,
        destination,
        content,
    })
}

/// What to do with a record's file, given what storage says about it; `resuming` when an
/// earlier run may have moved it (or claimed its destination) already.
fn decide(record: &file_records::Model, mode: Mode, facts: Facts, resuming: bool) -> Prepared {
    let skip = |reason: &str| Prepared::Finished(Outcome::Skipped(reason.to_string()));
    let Some(wanted) = record.new_path.clone() else {
        return skip("nothing to do");
    };
    let expected = record.file_size_bytes.max(0) as u64;

    let Some(source) = facts.source else {
        // Gone from its source: if a dead worker already moved it, that move is done.
        if resuming
            && let Some(dest) = facts
                .destination
                .filter(|f| !f.is_dir && f.size == expected)
        {
            return Prepared::Finished(Outcome::Done(dest.path));
        }
        return skip("the file is no longer there");
    };
    if resuming
        && let Some(dest) = &facts.destination
        // Our placeholder from before the crash (empty), still ours to move onto.
        && !dest.is_dir
        && dest.size == 0
    {
        return Prepared::Move { to: wanted };
    }

    match mode {
        Mode::Fresh => {}
        Mode::Plan => {
            let same_time = match (source.modified, record.file_modified_at) {
                (Some(now), Some(then)) => now.timestamp_millis() == then.timestamp_millis(),
                (None, None) => true,
                _ => false,
            };
            if source.size != expected || !same_time {
                return skip("changed since it was planned (size or modified time differs)");
            }
        }
        Mode::Rollback { .. } => {
            if source.size != expected {
                return skip("changed since the operation (size differs)");
            }
            if let (Some(hash), Some(now)) = (&record.file_hash, &facts.content)
                && now != hash
            {
                return skip("changed since the operation (content differs)");
            }
            // Back to exactly where it was, or not at all.
            return Prepared::Claim {
                wanted,
                exact: true,
            };
        }
    }
    Prepared::Claim {
        wanted,
        exact: false,
    }
}
