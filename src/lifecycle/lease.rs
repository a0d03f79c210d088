//! Who runs an operation: a lease (an owner and an expiry, renewed while it works) and
//! its fencing epoch, one more at every claim.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{operations, states::OperationStatus};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};
use uuid::Uuid;

use super::{Fence, Transition};

/// An operation this worker now holds.
pub struct Claimed {
    pub op: operations::Model,
    pub fence: Fence,
    /// Another worker held it before (it stopped answering, or handed it back).
    pub resumed: bool,
}

fn lease_free(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(operations::Column::LeaseOwner.is_null())
        .add(operations::Column::LeaseExpiresAt.is_null())
        .add(operations::Column::LeaseExpiresAt.lt(now))
}

fn until(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or_default()
}

/// Takes the operation for `owner`: a pending one, or a running one whose lease ran out
/// (its worker died) or was given back. One conditional update decides and returns the
/// row, so two workers never both hold it. `None`: nothing to do (ended, gone, or held
/// by a live worker).
pub async fn claim(
    conn: &impl ConnectionTrait,
    id: Uuid,
    owner: &str,
    lease: Duration,
) -> Result<Option<Claimed>, DbErr> {
    let now = Utc::now();
    let mut rows = Transition::Claim
        .guard(operations::Entity::update_many())
        .col_expr(operations::Column::LeaseOwner, Expr::value(owner))
        .col_expr(
            operations::Column::LeaseExpiresAt,
            Expr::value(until(now, lease)),
        )
        // A new fencing token: whoever held it before can write nothing more.
        .col_expr(
            operations::Column::LeaseEpoch,
            Expr::col(operations::Column::LeaseEpoch).add(1),
        )
        .col_expr(
            operations::Column::StartedAt,
            Func::coalesce([Expr::col(operations::Column::StartedAt), Expr::value(now)]).into(),
        )
        .col_expr(operations::Column::UpdatedAt, Expr::value(now))
        .filter(operations::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(operations::Column::Status.eq(OperationStatus::Pending))
                .add(lease_free(now)),
        )
        .exec_with_returning(conn)
        .await?;
    Ok(rows.pop().map(|op| Claimed {
        fence: Fence {
            operation_id: op.id,
            epoch: op.lease_epoch,
        },
        // The first claim makes the epoch 1.
        resumed: op.lease_epoch > 1,
        op,
    }))
}

/// Extends the lease, if this run still holds it.
pub async fn renew(
    conn: &impl ConnectionTrait,
    fence: Fence,
    owner: &str,
    lease: Duration,
) -> Result<bool, DbErr> {
    let renewed = crate::db::retry_stale(|| {
        fence
            .guard(operations::Entity::update_many().col_expr(
                operations::Column::LeaseExpiresAt,
                Expr::value(until(Utc::now(), lease)),
            ))
            .filter(operations::Column::LeaseOwner.eq(owner))
            .exec(conn)
    })
    .await?;
    Ok(renewed.rows_affected == 1)
}

/// Gives up the lease at once, so the next worker need not wait for it to run out.
pub async fn release(conn: &impl ConnectionTrait, fence: Fence, owner: &str) -> Result<(), DbErr> {
    fence
        .guard(
            operations::Entity::update_many()
                .col_expr(
                    operations::Column::LeaseOwner,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    operations::Column::LeaseExpiresAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                ),
        )
        .filter(operations::Column::LeaseOwner.eq(owner))
        .exec(conn)
        .await?;
    Ok(())
}

/// Operations that should be running but that no worker seems to have (at most
/// `limit`, oldest first), each claimed for re-queueing: its lease is freed and pushed
/// off to `next`, so several sweepers never queue one twice and the next claim can take
/// it. Returns the ones this caller must queue.
pub async fn claim_stale(
    conn: &impl ConnectionTrait,
    next: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    let now = Utc::now();
    let expired = || {
        Condition::any()
            .add(operations::Column::LeaseExpiresAt.is_null())
            .add(operations::Column::LeaseExpiresAt.lt(now))
    };
    let stale: Vec<Uuid> = operations::Entity::find()
        .select_only()
        .column(operations::Column::Id)
        .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
        .filter(expired())
        .order_by_asc(operations::Column::CreatedAt)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    let mut claimed = Vec::with_capacity(stale.len());
    for id in stale {
        let taken = operations::Entity::update_many()
            .col_expr(
                operations::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(operations::Column::LeaseExpiresAt, Expr::value(next))
            .filter(operations::Column::Id.eq(id))
            .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
            .filter(expired())
            .exec(conn)
            .await?;
        if taken.rows_affected == 1 {
            claimed.push(id);
        }
    }
    Ok(claimed)
}

/// One process alone, starting: every unfinished operation is an orphan of its previous
/// life, its lease freed so it is taken over at once.
pub async fn free_all(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let freed = operations::Entity::update_many()
        .col_expr(
            operations::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            operations::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
        .exec(conn)
        .await?;
    Ok(freed.rows_affected)
}
