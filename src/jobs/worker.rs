//! Workers: tasks that take operation ids from the queue and run them. At start-up,
//! operations left `pending` or `running` by a process that died are queued again; the
//! runner resumes them from their records.

use entity::operations;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::{
    engine::{OpStatus, runner},
    state::AppState,
};

/// Starts `count` workers on the current runtime.
pub fn spawn_workers(state: &AppState, count: usize) -> Vec<JoinHandle<()>> {
    (0..count)
        .map(|n| {
            let state = state.clone();
            tokio::spawn(async move {
                while let Some(operation_id) = state.queue.pop().await {
                    if let Err(err) = runner::run(&state, operation_id).await {
                        tracing::error!(worker = n, %operation_id, error = %format!("{err:#}"), "operation run failed");
                    }
                }
            })
        })
        .collect()
}

/// Queues every operation that is not finished (after a restart, their workers are gone).
pub async fn requeue_unfinished(state: &AppState) -> anyhow::Result<usize> {
    let ids: Vec<Uuid> = operations::Entity::find()
        .select_only()
        .column(operations::Column::Id)
        .filter(
            operations::Column::Status
                .is_in([OpStatus::Pending.as_str(), OpStatus::Running.as_str()]),
        )
        .order_by_asc(operations::Column::CreatedAt)
        .into_tuple()
        .all(&state.db)
        .await?;
    for id in &ids {
        state.queue.push(*id).await?;
    }
    if !ids.is_empty() {
        tracing::info!(count = ids.len(), "queued unfinished operations to resume");
    }
    Ok(ids.len())
}
