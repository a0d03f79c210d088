//! Records copied from an earlier operation: a dry run's plan as it was planned
//! (`applyPlan`), or a finished operation's done records reversed (a rollback: from
//! where each file went back to where it was). Each copy keeps its source's `seq`; a
//! rollback applies them newest first.
//!
//! The copy is done by the database (`INSERT … SELECT`, a range of `seq` per statement):
//! carried through the engine, a record cost a read, a decode, an encode and an insert,
//! and a rollback spent about as long copying its records as moving its files.

use anyhow::Context;
use chrono::Utc;
use entity::{file_records, states::RecordStatus};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait, InsertStatement, Query, SimpleExpr},
};
use uuid::Uuid;

use crate::engine::{failure::Failure, tracker::Tracker};

/// `seq` values copied per statement: progress and a cancel are noticed between them.
const COPY_CHUNK: i64 = 16_384;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The plan as it was: planned records to do, skipped and kept ones with their reasons.
    AsPlanned,
    /// Done moves, undone: from `new_path` back to `original_path`.
    Reversed,
}

impl Direction {
    /// What is copied: records of these statuses (with a destination, for a rollback).
    fn statuses(self) -> &'static [RecordStatus] {
        match self {
            Direction::Reversed => &[RecordStatus::Done],
            Direction::AsPlanned => &[
                RecordStatus::Planned,
                RecordStatus::Skipped,
                RecordStatus::Kept,
            ],
        }
    }

    /// The source records copied, given how their status is read (the column itself, or
    /// an expression no index covers).
    fn wanted(self, source: Uuid, status: SimpleExpr) -> Condition {
        let statuses = self.statuses().iter().map(|s| s.to_value());
        let wanted = Condition::all()
            .add(file_records::Column::OperationId.eq(source))
            .add(status.is_in(statuses));
        match self {
            Direction::Reversed => wanted.add(file_records::Column::NewPath.is_not_null()),
            Direction::AsPlanned => wanted,
        }
    }
}

pub async fn copy_records(
    tracker: &mut Tracker,
    source: Uuid,
    direction: Direction,
) -> Result<(), Failure> {
    let db = tracker.db().clone();
    tracker.work.expected = Some(
        file_records::Entity::find()
            .filter(direction.wanted(source, Expr::col(file_records::Column::Status)))
            .count(&db)
            .await
            .context("count the source operation's records")? as i64,
    );
    let last: Option<i64> = file_records::Entity::find()
        .select_only()
        .expr(file_records::Column::Seq.max())
        .filter(file_records::Column::OperationId.eq(source))
        .into_tuple()
        .one(&db)
        .await
        .context("read the source operation's last record")?
        .flatten();
    let ids = IdMaker::new();
    let mut low = 0;
    while low < last.unwrap_or(0) {
        tracker.stop_if_cancelled()?;
        let high = low + COPY_CHUNK;
        let statement = copy_statement(&db, &ids, source, tracker.op.id, direction, low, high)?;
        let txn = db.begin().await.context("begin copying records")?;
        let copied = txn
            .execute(&statement)
            .await
            .context("copy the source operation's records")?
            .rows_affected();
        tracker.fence.hold(&txn).await?;
        txn.commit().await.context("commit copied records")?;
        tracker.op.files_scanned += copied as i64;
        tracker.tick().await?;
        low = high;
    }
    Ok(())
}

/// `INSERT INTO file_records SELECT …` for the wanted source records with `low < seq <=
/// high`.
fn copy_statement(
    db: &impl ConnectionTrait,
    ids: &IdMaker,
    source: Uuid,
    target: Uuid,
    direction: Direction,
    low: i64,
    high: i64,
) -> anyhow::Result<InsertStatement> {
    use file_records::Column as C;
    let backend = db.get_database_backend();
    let now = Utc::now();
    let col = |c: C| SimpleExpr::from(Expr::col(c));
    let (from, to, file_name, status, note) = match direction {
        Direction::Reversed => (
            col(C::NewPath),
            col(C::OriginalPath),
            file_name_of(backend, "new_path"),
            Expr::value(RecordStatus::Planned),
            Expr::value(Option::<String>::None),
        ),
        Direction::AsPlanned => (
            col(C::OriginalPath),
            col(C::NewPath),
            col(C::FileName),
            col(C::Status),
            col(C::Error),
        ),
    };
    let mut select = Query::select();
    select
        .expr(ids.expr(backend))
        .expr(Expr::value(target))
        .expr(col(C::Seq))
        .expr(from)
        .expr(to)
        .expr(file_name)
        .expr(col(C::FileSizeBytes))
        .expr(col(C::FileModifiedAt))
        .expr(col(C::FileHash))
        .expr(col(C::Category))
        .expr(col(C::IsDuplicate))
        .expr(status)
        .expr(note)
        .expr(Expr::value(now))
        .expr(Expr::value(now))
        .from(file_records::Entity)
        .and_where(C::Seq.gt(low))
        .and_where(C::Seq.lte(high))
        // The status through an expression no index covers: given the status index, a
        // planner with stale statistics (every status just changed) read the whole
        // source operation for each range (PostgreSQL at 1M: 21 s for the copy).
        .cond_where(direction.wanted(source, Expr::cust("(\"status\" || '')")));
    Ok(Query::insert()
        .into_table(file_records::Entity)
        .columns([
            C::Id,
            C::OperationId,
            C::Seq,
            C::OriginalPath,
            C::NewPath,
            C::FileName,
            C::FileSizeBytes,
            C::FileModifiedAt,
            C::FileHash,
            C::Category,
            C::IsDuplicate,
            C::Status,
            C::Error,
            C::CreatedAt,
            C::UpdatedAt,
        ])
        .select_from(select)
        .context("build the copy")?
        .to_owned())
}

/// The last segment of a path column, as `storage::paths::name` gives it.
fn file_name_of(backend: DbBackend, column: &str) -> SimpleExpr {
    Expr::cust(match backend {
        DbBackend::Postgres => format!("substring(\"{column}\" from '[^/]*$')"),
        // No string search from the right in SQLite: trimming every character but `/`
        // off the right leaves the folder part, which is then cut off the front.
        _ => format!(
            "replace(\"{column}\", rtrim(\"{column}\", replace(\"{column}\", '/', '')), '')"
        ),
    })
}

/// Ids for copied records, made by the database: 64 random bits of this copy's own
/// (with the version nibble), then the record's `seq` (with the RFC 4122 variant bits),
/// so each is unique without a round trip per record.
struct IdMaker {
    prefix: String,
}

impl IdMaker {
    fn new() -> Self {
        let random = Uuid::new_v4();
        Self {
            prefix: hex::encode(&random.as_bytes()[..8]),
        }
    }

    /// The id expression; `prefix` is hex digits only, so it is safe inline.
    fn expr(&self, backend: DbBackend) -> SimpleExpr {
        let prefix = &self.prefix;
        Expr::cust(match backend {
            // `to_hex` of a negative bigint gives all 16 digits (two's complement).
            DbBackend::Postgres => {
                format!("CAST('{prefix}' || to_hex(\"seq\" | (-9223372036854775807 - 1)) AS uuid)")
            }
            _ => format!("unhex('{prefix}' || printf('%016x', \"seq\" | (1 << 63)))"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_the_version_and_carry_the_variant() {
        let ids = IdMaker::new();
        assert_eq!(ids.prefix.len(), 16);
        assert_eq!(&ids.prefix[12..13], "4");
        // What the database builds for seq 5, done here by hand.
        let id = Uuid::parse_str(&format!("{}{:016x}", ids.prefix, 5u64 | 1 << 63)).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
    }
}
