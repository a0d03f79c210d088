//! Planning what a user asked of their files directly: a rename or move (`Move`), a
//! delete into the trash (`Delete`), a restore from it (`Restore`). The request names
//! paths (`Entry`, kept in the operation's metadata); the plan has a record per file, a
//! folder's files each at the same place under its new one. Applying, rollback, reports
//! and progress are then the same as for any operation.

use anyhow::Context;
use entity::states::{OperationType, RecordStatus};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::{
    engine::{
        Engine,
        failure::Failure,
        records::{NewRecord, RecordSink},
        tracker::Tracker,
        trash_path,
    },
    storage::{FileMeta, paths},
};

/// One path the user named, and where it goes (`None`: into this operation's trash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub from: String,
    pub to: Option<String>,
    /// A restore: the record of the trashed file, marked `reverted` once it is back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<uuid::Uuid>,
}

pub fn to_metadata(entries: &[Entry]) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::json!({ "entries": serde_json::to_value(entries)? }))
}

pub fn entries_of(metadata: &serde_json::Value) -> anyhow::Result<Vec<Entry>> {
    let value = metadata
        .get("entries")
        .context("the operation names no entries")?;
    serde_json::from_value(value.clone()).context("stored entries do not parse")
}

/// The folders an operation's entries came from: emptied by it, they go.
pub fn sources(metadata: &serde_json::Value) -> Vec<String> {
    entries_of(metadata)
        .map(|entries| entries.into_iter().map(|e| e.from).collect())
        .unwrap_or_default()
}

/// After a restore: the trash records of the files that came back are `reverted`, so
/// they leave the trash listing (those that did not come back stay in it).
pub async fn mark_restored(engine: &Engine, op: &entity::operations::Model) -> anyhow::Result<()> {
    use entity::file_records;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};

    let back: std::collections::HashSet<String> = file_records::Entity::find()
        .select_only()
        .column(file_records::Column::OriginalPath)
        .filter(file_records::Column::OperationId.eq(op.id))
        .filter(file_records::Column::Status.eq(RecordStatus::Done))
        .into_tuple::<String>()
        .all(&engine.db)
        .await
        .context("read what a restore brought back")?
        .into_iter()
        .collect();
    let restored: Vec<uuid::Uuid> = entries_of(&op.metadata)?
        .into_iter()
        .filter(|e| back.contains(&e.from))
        .filter_map(|e| e.record)
        .collect();
    for ids in restored.chunks(500) {
        file_records::Entity::update_many()
            .col_expr(
                file_records::Column::Status,
                Expr::value(RecordStatus::Reverted),
            )
            .col_expr(
                file_records::Column::UpdatedAt,
                Expr::value(chrono::Utc::now()),
            )
            .filter(file_records::Column::Id.is_in(ids.iter().copied()))
            .filter(file_records::Column::Status.eq(RecordStatus::Done))
            .exec(&engine.db)
            .await
            .context("mark restored files")?;
    }
    Ok(())
}

pub async fn plan(engine: &Engine, tracker: &mut Tracker) -> Result<(), Failure> {
    let op = tracker.op.clone();
    let entries = entries_of(&op.metadata)?;
    let space = engine.storage.space(op.user_id);
    let mut sink = RecordSink::new(tracker);
    for entry in entries {
        let to = match (&entry.to, op.operation_type) {
            (Some(to), _) => to.clone(),
            (None, OperationType::Delete) => trash_path(op.id, &entry.from),
            (None, _) => return Err(Failure::User(format!("{} has no destination", entry.from))),
        };
        let planned = |file: &FileMeta, to: String| NewRecord {
            original_path: file.path.clone(),
            new_path: Some(to),
            size: file.size,
            modified: file.modified,
            hash: None,
            category: None,
            is_duplicate: false,
            status: RecordStatus::Planned,
            note: None,
        };
        match space.stat(&entry.from).await? {
            None => {
                sink.push(NewRecord::skipped(
                    &entry.from,
                    0,
                    None,
                    None,
                    "it was no longer there".into(),
                ))
                .await?;
            }
            Some(file) if !file.is_dir => {
                sink.tracker.op.files_scanned += 1;
                sink.push(planned(&file, to)).await?;
            }
            Some(folder) => {
                let mut files = Box::pin(space.walk(&folder.path));
                while let Some(file) = files.try_next().await.context("list the folder")? {
                    sink.tracker.stop_if_cancelled()?;
                    sink.tracker.op.files_scanned += 1;
                    let inside = file.path[folder.path.len()..].trim_start_matches('/');
                    sink.push(planned(&file, paths::join(&to, inside))).await?;
                    sink.tracker.tick().await?;
                }
            }
        }
    }
    sink.flush().await?;
    Ok(())
}
