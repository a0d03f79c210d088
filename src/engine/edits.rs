//! A copied plan, edited as the user asked before it runs: records left out of an
//! `applyPlan` (`exclude`), the copy of a duplicate group the user chose to keep
//! (`keep`), or the only records a partial rollback undoes (`only`). Each names records
//! of the source by `seq`, which a copy keeps; they were checked when the request came
//! (`operations::commands`).

use anyhow::Context;
use chrono::Utc;
use entity::{file_records, states::RecordStatus};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr};
use serde::{Deserialize, Serialize};

use crate::engine::{failure::Failure, tracker::Tracker, trash_path};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEdits {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<i64>,
    /// Empty: every record (no partial rollback).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<i64>,
}

impl PlanEdits {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Adds the edits to an operation's metadata.
    pub fn store(&self, metadata: &mut serde_json::Value) -> anyhow::Result<()> {
        if !self.is_empty()
            && let Some(object) = metadata.as_object_mut()
        {
            object.insert("edits".into(), serde_json::to_value(self)?);
        }
        Ok(())
    }

    pub fn of(metadata: &serde_json::Value) -> anyhow::Result<Self> {
        match metadata.get("edits") {
            None | Some(serde_json::Value::Null) => Ok(Self::default()),
            Some(value) => {
                serde_json::from_value(value.clone()).context("stored plan edits do not parse")
            }
        }
    }
}

/// Applies the edits to the records just copied into the run's operation.
pub async fn apply(tracker: &mut Tracker, edits: &PlanEdits) -> Result<(), Failure> {
    if edits.is_empty() {
        return Ok(());
    }
    let op = tracker.op.clone();
    let txn = tracker
        .db()
        .begin()
        .await
        .context("begin editing the plan")?;
    let mine =
        || file_records::Entity::update_many().filter(file_records::Column::OperationId.eq(op.id));
    let now = Utc::now();
    for seqs in edits.exclude.chunks(500) {
        mine()
            .col_expr(
                file_records::Column::Status,
                Expr::value(RecordStatus::Skipped),
            )
            .col_expr(
                file_records::Column::Error,
                Expr::value("left out of the plan by you"),
            )
            .col_expr(file_records::Column::UpdatedAt, Expr::value(now))
            .filter(file_records::Column::Seq.is_in(seqs.iter().copied()))
            .filter(file_records::Column::Status.eq(RecordStatus::Planned))
            .exec(&txn)
            .await
            .context("leave records out of the plan")?;
    }
    for &seq in &edits.keep {
        let Some(chosen) = file_records::Entity::find()
            .filter(file_records::Column::OperationId.eq(op.id))
            .filter(file_records::Column::Seq.eq(seq))
            .one(&txn)
            .await
            .context("read a chosen copy")?
        else {
            continue;
        };
        let Some(hash) = chosen
            .file_hash
            .clone()
            .filter(|_| chosen.status != RecordStatus::Kept)
        else {
            continue;
        };
        // The copy the policy kept goes to the trash in its place.
        let kept = file_records::Entity::find()
            .filter(file_records::Column::OperationId.eq(op.id))
            .filter(file_records::Column::FileHash.eq(hash))
            .filter(file_records::Column::Status.eq(RecordStatus::Kept))
            .all(&txn)
            .await
            .context("read a group's kept copy")?;
        for other in kept {
            mine()
                .col_expr(
                    file_records::Column::Status,
                    Expr::value(RecordStatus::Planned),
                )
                .col_expr(file_records::Column::IsDuplicate, Expr::value(true))
                .col_expr(
                    file_records::Column::NewPath,
                    Expr::value(trash_path(op.id, &other.original_path)),
                )
                .col_expr(
                    file_records::Column::Error,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(file_records::Column::UpdatedAt, Expr::value(now))
                .filter(file_records::Column::Id.eq(other.id))
                .exec(&txn)
                .await
                .context("trash the copy the policy kept")?;
        }
        mine()
            .col_expr(
                file_records::Column::Status,
                Expr::value(RecordStatus::Kept),
            )
            .col_expr(file_records::Column::IsDuplicate, Expr::value(false))
            .col_expr(
                file_records::Column::NewPath,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                file_records::Column::Error,
                Expr::value("kept: your choice"),
            )
            .col_expr(file_records::Column::UpdatedAt, Expr::value(now))
            .filter(file_records::Column::Id.eq(chosen.id))
            .exec(&txn)
            .await
            .context("keep the chosen copy")?;
    }
    if !edits.only.is_empty() {
        file_records::Entity::delete_many()
            .filter(file_records::Column::OperationId.eq(op.id))
            .filter(file_records::Column::Seq.is_not_in(edits.only.iter().copied()))
            .exec(&txn)
            .await
            .context("keep only the chosen records")?;
    }
    tracker.fence.hold(&txn).await?;
    txn.commit().await.context("commit the plan's edits")?;
    Ok(())
}
