//! Leaving: `deleteAccount` stops the account's operations, deletes its files from
//! storage and every row that is its own (operations and their records, rules, keys,
//! tokens, the search index: all go with the user row through their foreign keys), and
//! logs the fact without anything personal.

use std::time::Duration;

use entity::{
    operations::{self, OperationStatus},
    users,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    auth::{Caller, accounts, password},
    error::{AppError, AppResult},
    lifecycle,
    state::AppState,
};

/// How long running operations get to stop before the files go.
const STOP_WAIT: Duration = Duration::from_secs(15);

pub async fn delete_account(state: &AppState, caller: &Caller, password: String) -> AppResult<()> {
    let user = &caller.user;
    state
        .limiter
        .hit(
            &format!("delete-account:account:{}", user.id),
            state.config.auth_rate_limit_per_account,
        )
        .await?;
    password::confirm(password, &user.password_hash, "password").await?;
    erase(state, user.id).await?;
    tracing::info!(user_id = %user.id, "account deleted");
    Ok(())
}

/// Deletes an account and everything that is its own.
pub async fn erase(state: &AppState, user_id: Uuid) -> AppResult<()> {
    // No new sign-in, key or socket from here on.
    accounts::end_sessions(state, user_id, None).await?;
    stop_operations(state, user_id).await?;
    let space = state.storage.space(user_id);
    space.remove_all("").await.map_err(AppError::Internal)?;
    users::Entity::delete_by_id(user_id).exec(&state.db).await?;
    state.users.forget(user_id);
    state.bus.credentials_changed(user_id).await;
    // A move that was finishing as the files went may have written one again.
    space.remove_all("").await.map_err(AppError::Internal)?;
    Ok(())
}

async fn stop_operations(state: &AppState, user_id: Uuid) -> AppResult<()> {
    let active = operations::Entity::find()
        .filter(operations::Column::UserId.eq(user_id))
        .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
        .all(&state.db)
        .await?;
    for op in &active {
        lifecycle::cancel(&state.db, op.id).await?;
    }
    let deadline = tokio::time::Instant::now() + STOP_WAIT;
    loop {
        let running = operations::Entity::find()
            .filter(operations::Column::UserId.eq(user_id))
            .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
            .count(&state.db)
            .await?;
        if running == 0 || tokio::time::Instant::now() >= deadline {
            if running > 0 {
                tracing::warn!(%user_id, running, "operations still running as their account is deleted");
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
