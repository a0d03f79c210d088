//! Writing file records: new ones in batched inserts (the plan), and outcomes of many
//! records in one statement each.

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::{file_records, states::RecordStatus};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, UpdateMany,
    sea_query::{CaseStatement, Expr},
};
use uuid::Uuid;

use crate::{engine::tracker::Tracker, storage::paths};

/// Rows per `INSERT`: 16 columns each stays far below PostgreSQL's 65,535 parameters.
pub const INSERT_BATCH: usize = 500;

/// A record about to be written.
pub struct NewRecord {
    pub original_path: String,
    pub new_path: Option<String>,
    pub size: u64,
    pub modified: Option<DateTime<Utc>>,
    pub hash: Option<String>,
    pub category: Option<String>,
    pub is_duplicate: bool,
    pub status: RecordStatus,
    pub note: Option<String>,
}

impl NewRecord {
    /// A file left alone, with the reason.
    pub fn skipped(
        path: &str,
        size: u64,
        modified: Option<DateTime<Utc>>,
        category: Option<String>,
        reason: String,
    ) -> Self {
        Self {
            original_path: path.to_string(),
            new_path: None,
            size,
            modified,
            hash: None,
            category,
            is_duplicate: false,
            status: RecordStatus::Skipped,
            note: Some(reason),
        }
    }
}

/// Buffers an operation's new records and inserts them in batches, numbering them.
pub struct RecordSink<'a> {
    pub tracker: &'a mut Tracker,
    batch: Vec<file_records::ActiveModel>,
    seq: i64,
}

impl<'a> RecordSink<'a> {
    pub fn new(tracker: &'a mut Tracker) -> Self {
        Self {
            tracker,
            batch: Vec::with_capacity(INSERT_BATCH),
            seq: 0,
        }
    }

    /// Adds a record with the next number.
    pub async fn push(&mut self, record: NewRecord) -> anyhow::Result<()> {
        self.seq += 1;
        let now = Utc::now();
        self.batch.push(file_records::ActiveModel {
            id: Set(Uuid::now_v7()),
            operation_id: Set(self.tracker.op.id),
            seq: Set(self.seq),
            file_name: Set(paths::name(&record.original_path).to_string()),
            original_path: Set(record.original_path),
            new_path: Set(record.new_path),
            file_size_bytes: Set(record.size as i64),
            file_modified_at: Set(record.modified),
            file_hash: Set(record.hash),
            category: Set(record.category),
            is_duplicate: Set(record.is_duplicate),
            status: Set(record.status),
            error: Set(record.note),
            created_at: Set(now),
            updated_at: Set(now),
        });
        if self.batch.len() >= INSERT_BATCH {
            self.send().await?;
        }
        Ok(())
    }

    /// Starts inserting what is buffered, while the caller goes on (`write_behind`).
    async fn send(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(INSERT_BATCH));
        let db = self.tracker.db().clone();
        self.tracker
            .write_behind(async move {
                file_records::Entity::insert_many(batch)
                    .exec(&db)
                    .await
                    .context("insert file records")?;
                Ok(())
            })
            .await?;
        self.tracker.tick().await
    }

    /// Inserts what is buffered and waits until every record is written; call at the end.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        self.send().await?;
        self.tracker.settle().await
    }
}

/// Gives records one status and each its own value of `column`, in one statement
/// (`CASE id WHEN … THEN … END`), so a batch costs a round trip, not one per file.
pub async fn set_status(
    db: &impl ConnectionTrait,
    status: RecordStatus,
    column: file_records::Column,
    values: Vec<(Uuid, Option<String>)>,
) -> anyhow::Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = values.iter().map(|(id, _)| *id).collect();
    let per_record = values
        .into_iter()
        .fold(CaseStatement::new(), |case, (id, value)| {
            case.case(file_records::Column::Id.eq(id), Expr::val(value))
        })
        .finally(Expr::col(column));
    status_update(status, ids)
        .col_expr(column, per_record.into())
        .exec(db)
        .await
        .with_context(|| format!("mark file records {status:?}"))?;
    Ok(())
}

/// `UPDATE` giving the records `ids` a status (and a new `updated_at`).
fn status_update(status: RecordStatus, ids: Vec<Uuid>) -> UpdateMany<file_records::Entity> {
    file_records::Entity::update_many()
        .col_expr(file_records::Column::Status, Expr::value(status))
        .col_expr(file_records::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(file_records::Column::Id.is_in(ids))
}

/// On cancel, what was not started ends `skipped`, so every record has an outcome.
/// Returns how many records that was.
pub async fn skip_remaining(db: &impl ConnectionTrait, operation_id: Uuid) -> anyhow::Result<u64> {
    let result = file_records::Entity::update_many()
        .col_expr(
            file_records::Column::Status,
            Expr::value(RecordStatus::Skipped),
        )
        .col_expr(
            file_records::Column::Error,
            Expr::value("operation cancelled before this file"),
        )
        .col_expr(file_records::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(file_records::Column::OperationId.eq(operation_id))
        .filter(file_records::Column::Status.eq(RecordStatus::Planned))
        .exec(db)
        .await
        .context("skip the records left on cancel")?;
    Ok(result.rows_affected)
}

/// Gives records one status, nothing else changed, in one statement.
pub async fn mark(
    db: &impl ConnectionTrait,
    status: RecordStatus,
    ids: Vec<Uuid>,
) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    status_update(status, ids)
        .exec(db)
        .await
        .with_context(|| format!("mark file records {status:?}"))?;
    Ok(())
}
