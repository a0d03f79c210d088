//! The operations service: what the GraphQL layer calls to start, cancel, roll back,
//! apply and purge operations (`commands`), and to read them (`queries`). Every function
//! takes the caller's user id and only ever touches that user's rows; another user's
//! operation is `NOT_FOUND`, like a missing one.

pub mod actions;
pub mod commands;
pub mod queries;
pub mod trash;

use entity::operations;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// One of the caller's operations, or `NOT_FOUND`.
pub async fn find_owned(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<operations::Model> {
    operations::Entity::find_by_id(id)
        .filter(operations::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("operation"))
}
