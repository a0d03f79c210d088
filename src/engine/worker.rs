//! Workers: tasks that take operation ids from the queue and run them. At start-up,
//! operations left `pending` or `running` by a process that died are queued again; the
//! run resumes them from their records.

use anyhow::Context;
use entity::{operations, states::OperationStatus};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::engine::{Engine, run};

/// Starts `count` workers on the current runtime.
pub fn spawn_workers(engine: &Engine, count: usize) -> Vec<JoinHandle<()>> {
    (0..count)
        .map(|n| {
            let engine = engine.clone();
            tokio::spawn(async move {
                while let Some(operation_id) = engine.queue.pop().await {
                    if let Err(err) = run::run(&engine, operation_id).await {
                        tracing::error!(worker = n, %operation_id, error = %format!("{err:#}"), "operation run failed");
                    }
                }
            })
        })
        .collect()
}

/// Queues every operation that is not finished (after a restart, their workers are gone).
pub async fn requeue_unfinished(engine: &Engine) -> anyhow::Result<usize> {
    let ids: Vec<Uuid> = operations::Entity::find()
        .select_only()
        .column(operations::Column::Id)
        .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
        .order_by_asc(operations::Column::CreatedAt)
        .into_tuple()
        .all(&engine.db)
        .await
        .context("find unfinished operations")?;
    for id in &ids {
        engine.queue.push(*id).await?;
    }
    if !ids.is_empty() {
        tracing::info!(count = ids.len(), "queued unfinished operations to resume");
    }
    Ok(ids.len())
}
