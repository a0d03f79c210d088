//! `serverStatus`: what this process runs on.

use async_graphql::{Context, Object, Result, ResultExt, SimpleObject};
use entity::operations;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use entity::states::OperationStatus;

use crate::{
    error::AppError,
    graphql::{context, scalars::count},
};

#[derive(SimpleObject)]
pub struct ServerStatus {
    pub version: String,
    pub database: String,
    pub storage: String,
    pub queue: String,
    pub progress_bus: String,
    pub rate_limiter: String,
    /// Jobs on the queue: waiting for a worker or being run (in-process: operations
    /// waiting for a worker).
    pub queue_depth: i32,
    /// Workers running in this process.
    pub workers: i32,
    /// Jobs taken over from workers that stopped answering, since the queue began.
    pub reclaims: i32,
    /// Worker tasks of any process seen in the last minute (in-process: this one's).
    pub workers_seen: i32,
}

#[derive(Default)]
pub struct ServerQuery;

#[Object]
impl ServerQuery {
    /// Version, backends, queue depth and workers of the server that answers.
    async fn server_status(&self, ctx: &Context<'_>) -> Result<ServerStatus> {
        context::caller(ctx).await?;
        let state = context::state(ctx);
        let stats = state
            .queue
            .stats()
            .await
            .map_err(AppError::Internal)
            .extend()?;
        let pending = operations::Entity::find()
            .filter(operations::Column::Status.eq(OperationStatus::Pending))
            .count(&state.db)
            .await
            .map_err(AppError::from)
            .extend()?;
        let storage = state
            .storage
            .description()
            .split(':')
            .next()
            .unwrap_or("unknown")
            .to_string();
        Ok(ServerStatus {
            version: env!("CARGO_PKG_VERSION").into(),
            database: state.backend.name().into(),
            storage,
            queue: state.queue.backend_name().into(),
            progress_bus: state.bus.backend_name().into(),
            rate_limiter: state.limiter.backend_name().into(),
            queue_depth: count(stats.depth.unwrap_or(pending as i64)),
            workers: count(state.config.workers as i64),
            reclaims: count(stats.reclaims),
            workers_seen: count(stats.workers_seen.unwrap_or(state.config.workers as i64)),
        })
    }
}
