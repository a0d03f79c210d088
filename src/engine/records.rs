//! Writing file records: new ones in batched inserts (the plan), and outcomes of many
//! records in one statement each.

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::{file_records, states::RecordStatus};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, TransactionTrait, UpdateMany,
    sea_query::{CaseStatement, Expr},
};
use uuid::Uuid;

use crate::{engine::tracker::Tracker, lifecycle::Fence, storage::paths};

/// Rows per `INSERT` (SQLite): 15 columns each, 30,000 parameters, below the 32,766 a
/// statement may have; each insert is a commit, and at 500 rows the commits were a
/// third of what SQLite spent.
const INSERT_BATCH: usize = 2000;
/// Rows per `COPY` (PostgreSQL): no parameters, so as many as a round trip should carry.
const COPY_BATCH: usize = 4096;

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
    batch: Vec<file_records::Model>,
    batch_size: usize,
    seq: i64,
}

impl<'a> RecordSink<'a> {
    pub fn new(tracker: &'a mut Tracker) -> Self {
        let batch_size = match tracker.db().get_database_backend() {
            DbBackend::Postgres => COPY_BATCH,
            _ => INSERT_BATCH,
        };
        Self {
            tracker,
            batch: Vec::with_capacity(batch_size),
            batch_size,
            seq: 0,
        }
    }

    /// Adds a record with the next number.
    pub async fn push(&mut self, record: NewRecord) -> anyhow::Result<()> {
        self.seq += 1;
        let now = Utc::now();
        self.batch.push(file_records::Model {
            id: Uuid::now_v7(),
            operation_id: self.tracker.op.id,
            seq: self.seq,
            file_name: paths::name(&record.original_path).to_string(),
            original_path: record.original_path,
            new_path: record.new_path,
            file_size_bytes: record.size as i64,
            file_modified_at: record.modified,
            file_hash: record.hash,
            category: record.category,
            is_duplicate: record.is_duplicate,
            status: record.status,
            error: record.note,
            created_at: now,
            updated_at: now,
        });
        if self.batch.len() >= self.batch_size {
            self.send().await?;
        }
        Ok(())
    }

    /// Starts inserting what is buffered, while the caller goes on (`write_behind`).
    async fn send(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_size));
        let (db, fence) = (self.tracker.db().clone(), self.tracker.fence);
        self.tracker
            .write_behind(async move { insert(&db, fence, batch).await })
            .await?;
        self.tracker.tick().await
    }

    /// Inserts what is buffered and waits until every record is written; call at the end.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        self.send().await?;
        self.tracker.settle().await
    }
}

/// Writes new records: on PostgreSQL by `COPY` (several times the rows per second of a
/// multi-row `INSERT`, which it parses and plans each time), elsewhere by `INSERT`.
/// Each batch in a transaction that holds the run's fence last, just before its commit.
async fn insert(
    db: &DatabaseConnection,
    fence: Fence,
    batch: Vec<file_records::Model>,
) -> anyhow::Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        let text = copy_text(&batch);
        let mut txn = db
            .get_postgres_connection_pool()
            .begin()
            .await
            .context("begin copying file records")?;
        let mut copy = txn
            .copy_in_raw(COPY_RECORDS)
            .await
            .context("start copying file records")?;
        copy.send(text.as_bytes())
            .await
            .context("copy file records")?;
        copy.finish().await.context("copy file records")?;
        fence
            .hold_postgres(&mut txn)
            .await
            .context("hold the operation for its records")?;
        txn.commit().await.context("commit file records")?;
        return Ok(());
    }
    let txn = db.begin().await.context("begin inserting file records")?;
    file_records::Entity::insert_many(batch.into_iter().map(file_records::ActiveModel::from))
        .exec(&txn)
        .await
        .context("insert file records")?;
    fence.hold(&txn).await?;
    txn.commit().await.context("commit file records")?;
    Ok(())
}

const COPY_RECORDS: &str = "COPY file_records (id, operation_id, seq, original_path, new_path, \
    file_name, file_size_bytes, file_modified_at, file_hash, category, is_duplicate, status, \
    error, created_at, updated_at) FROM STDIN";

/// Records in `COPY`'s text format: a line per record, tab between columns, `\N` for
/// none, and backslash, tab, newline and carriage return escaped (they may be in names).
fn copy_text(batch: &[file_records::Model]) -> String {
    use std::fmt::Write;
    fn text(out: &mut String, value: Option<&str>) {
        let Some(value) = value else {
            out.push_str("\\N\t");
            return;
        };
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        out.push('\t');
    }
    let time = |t: DateTime<Utc>| t.to_rfc3339();
    let mut out = String::with_capacity(batch.len() * 256);
    for r in batch {
        let _ = write!(out, "{}\t{}\t{}\t", r.id, r.operation_id, r.seq);
        text(&mut out, Some(&r.original_path));
        text(&mut out, r.new_path.as_deref());
        text(&mut out, Some(&r.file_name));
        let _ = write!(out, "{}\t", r.file_size_bytes);
        text(&mut out, r.file_modified_at.map(time).as_deref());
        text(&mut out, r.file_hash.as_deref());
        text(&mut out, r.category.as_deref());
        out.push_str(if r.is_duplicate { "t\t" } else { "f\t" });
        text(&mut out, Some(&r.status.to_value()));
        text(&mut out, r.error.as_deref());
        let _ = writeln!(out, "{}\t{}", time(r.created_at), time(r.updated_at));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_would_end_a_column_or_a_line() {
        let now = Utc::now();
        let record = file_records::Model {
            id: Uuid::nil(),
            operation_id: Uuid::nil(),
            seq: 7,
            original_path: "a\\b\tc\nd\re.txt".into(),
            new_path: None,
            file_name: "e.txt".into(),
            file_size_bytes: 3,
            file_modified_at: None,
            file_hash: None,
            category: Some("Documents".into()),
            is_duplicate: false,
            status: RecordStatus::Planned,
            error: None,
            created_at: now,
            updated_at: now,
        };
        let text = copy_text(&[record]);
        let columns: Vec<&str> = text.trim_end_matches('\n').split('\t').collect();
        assert_eq!(columns.len(), 15, "{text:?}");
        assert_eq!(columns[3], "a\\\\b\\tc\\nd\\re.txt");
        assert_eq!(columns[4], "\\N");
        assert_eq!(columns[10], "f");
        assert_eq!(columns[11], "planned");
        assert_eq!(text.lines().count(), 1);
    }
}
