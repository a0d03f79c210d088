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
    /// waiting for a worker). For an administrator (the first account, `ADMIN_EMAILS`) the whole deployment's;
    /// for everyone else only their own operations waiting or running.
    pub queue_depth: i32,
    /// Workers running in this process.
    pub workers: i32,
    /// Jobs taken over from workers that stopped answering, since the queue began
    /// (administrators only: null for everyone else, as it tells of other users' jobs).
    pub reclaims: Option<i32>,
    /// Worker tasks of any process seen in the last minute (in-process: this one's).
    pub workers_seen: i32,
}

#[derive(Default)]
pub struct ServerQuery;

#[Object]
impl ServerQuery {
    /// Version, backends, queue depth and workers of the server that answers.
    async fn server_status(&self, ctx: &Context<'_>) -> Result<ServerStatus> {
        let caller = context::caller(ctx).await?;
        let state = context::state(ctx);
        let operator = crate::auth::roles::role(&state.config, &caller.user)
            == entity::states::UserRole::Admin;
        let stats = state
            .queue
            .stats()
            .await
            .map_err(AppError::Internal)
            .extend()?;
        // Another user's activity is not an ordinary account's to see.
        let mut waiting = operations::Entity::find();
        waiting = if operator {
            waiting.filter(operations::Column::Status.eq(OperationStatus::Pending))
        } else {
            waiting
                .filter(operations::Column::UserId.eq(caller.user_id()))
                .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
        };
        let waiting = waiting
            .count(&state.db)
            .await
            .map_err(AppError::from)
            .extend()?;
        let depth = if operator {
            stats.depth.unwrap_or(waiting as i64)
        } else {
            waiting as i64
        };
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
            queue_depth: count(depth),
            workers: count(state.config.workers as i64),
            reclaims: operator.then(|| count(stats.reclaims)),
            workers_seen: count(stats.workers_seen.unwrap_or(state.config.workers as i64)),
        })
    }
}
