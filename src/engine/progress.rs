//! An operation's progress, made once, here, by the engine running it: the work of the
//! current phase (done and in all), the percentage across the whole operation, and
//! (with `pace`) files per second and seconds left. The tracker writes these with the row
//! and publishes the row as it is; the API and the web app show them unchanged.

use entity::{
    operations,
    states::{OperationStatus, OperationType, Phase},
};

use crate::engine::pace::Pace;

/// Progress only the worker running an operation knows beyond the row's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Work {
    /// Files the scan will come to (counted before it starts, on local folders), or
    /// records a copy will write.
    pub expected: Option<i64>,
    /// Hashing steps, two per candidate of a duplicate scan (its first block, then its whole
    /// file or the finding that it needs none), and those done.
    pub to_hash: i64,
    pub hashed: i64,
}

/// The work of the current phase: done, and in all (`None` while unknown).
pub fn phase_work(op: &operations::Model, work: Work) -> (Option<i64>, Option<i64>) {
    match op.phase {
        Phase::Queued => (None, None),
        Phase::Scanning => (Some(op.files_scanned), work.expected),
        Phase::Hashing => (Some(work.hashed), Some(work.to_hash)),
        Phase::Moving | Phase::Finishing | Phase::Done => {
            (Some(op.files_processed + op.files_skipped), op.files_total)
        }
    }
}

/// How far along an operation is, 0–100, from its phase and the work of that phase:
/// planning (scan, hashing) and moving each weigh their usual share of its time
/// (measured on local folders with the bench harness). `None` while nothing tells how
/// far the current phase has to go (a scan on an object store, before its end).
pub fn percent(op: &operations::Model) -> Option<f64> {
    if op.status == OperationStatus::Completed {
        return Some(100.0);
    }
    let (scan, hash) = match (op.operation_type, op.is_dry_run) {
        _ if op.plan_of.is_some() => (0.25, 0.0),
        (OperationType::Rollback, _) => (0.2, 0.0),
        (OperationType::Move | OperationType::Delete | OperationType::Restore, _) => (0.2, 0.0),
        (OperationType::Organize, true) => (1.0, 0.0),
        (OperationType::Organize, false) => (0.35, 0.0),
        (OperationType::DuplicateCleanup, true) => (0.1, 0.9),
        (OperationType::DuplicateCleanup, false) => (0.08, 0.77),
    };
    let part = match (op.phase_done, op.phase_total) {
        (Some(done), Some(total)) if total > 0 => {
            Some((done as f64 / total as f64).clamp(0.0, 1.0))
        }
        (_, Some(_)) => Some(1.0),
        _ => None,
    };
    let done = match op.phase {
        Phase::Queued => None,
        Phase::Scanning => part.map(|f| scan * f),
        Phase::Hashing => part.map(|f| scan + hash * f),
        // A run that ended otherwise than completed stays where its moves got to.
        Phase::Moving | Phase::Done => part.map(|f| scan + hash + (1.0 - scan - hash) * f),
        Phase::Finishing => Some(1.0),
    }?;
    // One decimal: what every client shows.
    Some(((done * 1000.0).round() / 10.0).clamp(0.0, 100.0))
}

/// Fills in the run's copy of the row with its progress now: phase work, percent, and
/// the pace (which also keeps the percent from going down within a run).
pub fn measure(op: &mut operations::Model, work: Work, pace: &mut Pace) {
    (op.phase_done, op.phase_total) = phase_work(op, work);
    op.percent = percent(op);
    pace.observe(op);
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;

    pub(crate) fn op(kind: OperationType, dry_run: bool) -> operations::Model {
        operations::Model {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            operation_type: kind,
            status: OperationStatus::Running,
            phase: Phase::Queued,
            root_path: String::new(),
            is_dry_run: dry_run,
            files_total: None,
            files_scanned: 0,
            files_processed: 0,
            files_skipped: 0,
            duplicates_found: 0,
            space_saved_bytes: 0,
            error_message: None,
            metadata: serde_json::json!({}),
            cancel_requested: false,
            rollback_of: None,
            plan_of: None,
            trash_purged_at: None,
            lease_owner: None,
            lease_expires_at: None,
            moves_reach_seq: None,
            lease_epoch: 0,
            percent: None,
            files_per_second: None,
            seconds_left: None,
            phase_done: None,
            phase_total: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            started_at: None,
            completed_at: None,
        }
    }

    fn measured(op: &mut operations::Model, work: Work) -> Option<f64> {
        measure(op, work, &mut Pace::default());
        op.percent
    }

    #[test]
    fn percent_moves_through_every_phase_of_an_organize() {
        let mut op = op(OperationType::Organize, false);
        let mut work = Work::default();
        assert_eq!(measured(&mut op, work), None, "queued: nothing to measure");
        op.phase = Phase::Scanning;
        op.files_scanned = 500;
        assert_eq!(measured(&mut op, work), None, "a scan of unknown size");
        assert_eq!((op.phase_done, op.phase_total), (Some(500), None));
        work.expected = Some(1000);
        assert_eq!(measured(&mut op, work), Some(17.5));
        assert_eq!((op.phase_done, op.phase_total), (Some(500), Some(1000)));
        op.phase = Phase::Moving;
        op.files_total = Some(1000);
        op.files_processed = 500;
        assert_eq!(measured(&mut op, work), Some(67.5));
        assert_eq!((op.phase_done, op.phase_total), (Some(500), Some(1000)));
        op.status = OperationStatus::Completed;
        assert_eq!(measured(&mut op, work), Some(100.0));
    }

    #[test]
    fn a_duplicate_search_spends_most_of_its_percent_hashing() {
        let mut op = op(OperationType::DuplicateCleanup, true);
        let mut work = Work {
            expected: Some(10),
            ..Default::default()
        };
        op.phase = Phase::Scanning;
        op.files_scanned = 10;
        assert_eq!(measured(&mut op, work), Some(10.0));
        op.phase = Phase::Hashing;
        work.to_hash = 4;
        work.hashed = 2;
        // The phase's own count and the percentage say the same thing.
        assert_eq!(measured(&mut op, work), Some(55.0));
        assert_eq!((op.phase_done, op.phase_total), (Some(2), Some(4)));
    }
}
