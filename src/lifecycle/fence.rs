//! Fencing: a run may write only while its operation still carries the epoch its claim
//! took (`operations.lease_epoch`, one more at every claim). The lease says who *should*
//! run an operation; the fence makes sure a worker that lost it (frozen past its lease,
//! say, while another took over) cannot change anything when it wakes — not its counters,
//! phase or outcome, not a record, not a file of the next batch — whatever the timing.

use entity::operations;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, UpdateMany, sea_query::Expr,
};
use uuid::Uuid;

/// Another worker holds the operation now: this run must stop without writing.
#[derive(Debug, thiserror::Error)]
#[error("fenced: another worker has taken this operation over")]
pub struct Fenced;

/// The run's fencing token.
#[derive(Clone, Copy, Debug)]
pub struct Fence {
    pub operation_id: Uuid,
    pub epoch: i64,
}

impl Fence {
    /// An update of the operation row, limited to this run's epoch.
    pub(crate) fn guard(
        self,
        update: UpdateMany<operations::Entity>,
    ) -> UpdateMany<operations::Entity> {
        update
            .filter(operations::Column::Id.eq(self.operation_id))
            .filter(operations::Column::LeaseEpoch.eq(self.epoch))
    }

    /// `Fenced` when a guarded update changed nothing.
    pub fn expect_row(self, rows_affected: u64) -> anyhow::Result<()> {
        if rows_affected == 1 {
            return Ok(());
        }
        metrics::counter!(crate::metrics::FENCING_REFUSALS).increment(1);
        tracing::warn!(operation_id = %self.operation_id, epoch = self.epoch, "refused a write: another worker holds the operation now");
        Err(Fenced.into())
    }

    /// Fails with `Fenced` unless the operation is still this run's. As the last
    /// statement of a transaction, right before its commit, it holds the operation's row
    /// (PostgreSQL) or the write lock (SQLite) until then: a claim either came first (and
    /// the transaction is refused) or waits for the commit — and the row is held only for
    /// that moment, so a worker frozen mid-transaction blocks no one for long (PostgreSQL
    /// ends a session idle in a transaction, `db::connect`).
    pub async fn hold(self, conn: &impl ConnectionTrait) -> anyhow::Result<()> {
        let touched = self
            .guard(operations::Entity::update_many().col_expr(
                operations::Column::LeaseEpoch,
                Expr::col(operations::Column::LeaseEpoch),
            ))
            .exec(conn)
            .await?
            .rows_affected;
        self.expect_row(touched)
    }

    /// `hold`, inside a transaction on PostgreSQL's own connection (a `COPY` of records
    /// runs there, beneath the ORM).
    pub async fn hold_postgres(self, conn: &mut sea_orm::sqlx::PgConnection) -> anyhow::Result<()> {
        let held = sea_orm::sqlx::query(
            "UPDATE operations SET lease_epoch = lease_epoch WHERE id = $1 AND lease_epoch = $2",
        )
        .bind(self.operation_id)
        .bind(self.epoch)
        .execute(conn)
        .await?;
        self.expect_row(held.rows_affected())
    }
}

/// Whether an error is (or was caused by) a refused write.
pub fn is_fenced(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.is::<Fenced>())
}
