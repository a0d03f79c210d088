//! The operations service: what the GraphQL layer calls to start, cancel, roll back,
//! apply and purge operations (`commands`), and to read them (`queries`). Every function
//! takes the caller's user id and only ever touches that user's rows; another user's
//! operation is `NOT_FOUND`, like a missing one.

pub mod actions;
pub mod commands;
pub mod queries;
pub mod trash;

use entity::{file_records, operations};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
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

/// The records `ids` name among those `among` selects: at most `actions::MAX_ENTRIES` at
/// once (`BAD_USER_INPUT` naming `field`, counting `many`), each one of them (`NOT_FOUND`,
/// as `one`, otherwise). An id named twice counts once.
pub async fn chosen_records(
    db: &impl ConnectionTrait,
    among: Condition,
    ids: &[Uuid],
    field: &str,
    (one, many): (&'static str, &str),
) -> AppResult<Vec<file_records::Model>> {
    let most = actions::MAX_ENTRIES;
    if ids.len() > most {
        return Err(AppError::bad_input(
            field,
            format!("at most {most} {many} at once"),
        ));
    }
    let unique: std::collections::BTreeSet<Uuid> = ids.iter().copied().collect();
    let records = file_records::Entity::find()
        .filter(among)
        .filter(file_records::Column::Id.is_in(unique.iter().copied()))
        .all(db)
        .await?;
    if records.len() != unique.len() {
        return Err(AppError::NotFound(one));
    }
    Ok(records)
}
