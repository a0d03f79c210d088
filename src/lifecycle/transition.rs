//! Which changes of an operation's status and phase are legal, decided here and nowhere
//! else. A status change is a `Transition`: the states it may come from become the
//! `WHERE` of its one update, so the database refuses an illegal one (a claim of an
//! ended operation, a second finish) instead of every caller checking first. An ending
//! is an `Ending`, which has only terminal states: a finish that leaves an operation
//! running does not compile.

use entity::{
    operations,
    states::{OperationStatus, Phase},
};
use sea_orm::{ColumnTrait, QueryFilter, UpdateMany};

/// How a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Completed,
    Failed,
    Cancelled,
}

impl Ending {
    pub fn status(self) -> OperationStatus {
        match self {
            Self::Completed => OperationStatus::Completed,
            Self::Failed => OperationStatus::Failed,
            Self::Cancelled => OperationStatus::Cancelled,
        }
    }
}

/// Every change of an operation's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// A worker takes a queued operation, or one whose worker stopped answering.
    Claim,
    /// A cancel of an operation no worker has taken yet: it ends at once.
    CancelQueued,
    /// The run holding the operation records how it ended.
    Finish(Ending),
}

impl Transition {
    /// The states the operation may be in for this change.
    pub fn from(self) -> &'static [OperationStatus] {
        match self {
            Self::Claim => &OperationStatus::ACTIVE,
            Self::CancelQueued => &[OperationStatus::Pending],
            Self::Finish(_) => &[OperationStatus::Running],
        }
    }

    /// The state it is in after.
    pub fn to(self) -> OperationStatus {
        match self {
            Self::Claim => OperationStatus::Running,
            Self::CancelQueued => OperationStatus::Cancelled,
            Self::Finish(ending) => ending.status(),
        }
    }

    /// Whether the change is legal from `status`.
    pub fn allowed_from(self, status: OperationStatus) -> bool {
        self.from().contains(&status)
    }

    /// The update, limited to the rows this change is legal for, setting the new status.
    pub(super) fn guard(
        self,
        update: UpdateMany<operations::Entity>,
    ) -> UpdateMany<operations::Entity> {
        use sea_orm::sea_query::Expr;
        update
            .col_expr(operations::Column::Status, Expr::value(self.to()))
            .filter(operations::Column::Status.is_in(self.from().iter().copied()))
    }
}

/// Phases in the order a run goes through them.
fn rank(phase: Phase) -> u8 {
    match phase {
        Phase::Queued => 0,
        Phase::Scanning => 1,
        Phase::Hashing => 2,
        Phase::Moving => 3,
        Phase::Finishing => 4,
        Phase::Done => 5,
    }
}

/// Whether a running operation may go from phase `from` to `to`. Phases go forward,
/// with two steps back that a resumed run takes: a plan half-written by a worker that
/// stopped is written again from its scan, and a run that stopped while finishing goes
/// through its (already applied) moves once more. `Done` is set only by an ending, and
/// never left.
pub fn phase_may_follow(from: Phase, to: Phase) -> bool {
    match (from, to) {
        (Phase::Done, _) | (_, Phase::Queued | Phase::Done) => false,
        (from, Phase::Scanning) if from.is_planning() => true,
        (Phase::Finishing, Phase::Moving) => true,
        (from, to) => rank(to) >= rank(from),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::*;

    #[test]
    fn only_active_operations_are_claimed_and_only_running_ones_finish() {
        for status in OperationStatus::iter() {
            assert_eq!(
                Transition::Claim.allowed_from(status),
                !status.is_terminal(),
                "{status:?}"
            );
            for ending in [Ending::Completed, Ending::Failed, Ending::Cancelled] {
                assert_eq!(
                    Transition::Finish(ending).allowed_from(status),
                    status == OperationStatus::Running
                );
                assert!(Transition::Finish(ending).to().is_terminal());
            }
            assert_eq!(
                Transition::CancelQueued.allowed_from(status),
                status == OperationStatus::Pending
            );
        }
    }

    #[test]
    fn phases_go_forward_but_for_the_steps_a_resumed_run_takes() {
        assert!(phase_may_follow(Phase::Queued, Phase::Scanning));
        assert!(phase_may_follow(Phase::Scanning, Phase::Hashing));
        assert!(phase_may_follow(Phase::Hashing, Phase::Moving));
        assert!(phase_may_follow(Phase::Moving, Phase::Moving));
        assert!(phase_may_follow(Phase::Moving, Phase::Finishing));
        // A resumed run: the plan again, the moves again.
        assert!(phase_may_follow(Phase::Hashing, Phase::Scanning));
        assert!(phase_may_follow(Phase::Finishing, Phase::Moving));
        // Never: back to planning once files move, out of Done, into Done or Queued.
        assert!(!phase_may_follow(Phase::Moving, Phase::Scanning));
        assert!(!phase_may_follow(Phase::Finishing, Phase::Hashing));
        assert!(!phase_may_follow(Phase::Done, Phase::Moving));
        assert!(!phase_may_follow(Phase::Moving, Phase::Done));
        assert!(!phase_may_follow(Phase::Scanning, Phase::Queued));
    }
}
