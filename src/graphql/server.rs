//! `serverStatus`: what this process runs on.

use async_graphql::{Context, Object, Result, ResultExt, SimpleObject};
use entity::operations;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use entity::states::OperationStatus;

use crate::{error::AppError, graphql::context};

#[derive(SimpleObject)]
pub struct ServerStatus {
    pub version: String,
    pub database: String,
    pub storage: String,
    pub queue: String,
    pub progress_bus: String,
    pub rate_limiter: String,
    /// Operations waiting for a worker.
    pub queue_depth: i32,
    /// Workers running in this process.
    pub workers: i32,
}

#[derive(Default)]
pub struct ServerQuery;

#[Object]
impl ServerQuery {
    /// Version, backends, queue depth and workers of the server that answers.
    async fn server_status(&self, ctx: &Context<'_>) -> Result<ServerStatus> {
        context::caller(ctx).await?;
        let state = context::state(ctx);
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
            queue_depth: i32::try_from(pending).unwrap_or(i32::MAX),
            workers: i32::try_from(state.config.workers).unwrap_or(i32::MAX),
        })
    }
}
