//! API keys: `org_<8 visible characters>_<40 secret characters>`. The first 12 characters
//! are the key's visible prefix; only a SHA-256 of the whole key is stored, so the secret
//! is shown once, at creation.

use chrono::{DateTime, Utc};
use entity::api_keys;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    auth::{secrets, validation},
    error::{AppError, AppResult},
};

pub const KEY_PREFIX: &str = "org_";
const VISIBLE_LEN: usize = 8;
const SECRET_LEN: usize = 40;
/// Active keys one user may hold; enough for scripts, small enough to bound the table.
pub const MAX_ACTIVE_KEYS: u64 = 100;

pub struct NewKey {
    pub secret: String,
    pub key: api_keys::Model,
}

pub async fn create(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<NewKey> {
    let name = validation::required_text("name", name, 100)?;
    let now = Utc::now();
    if expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::bad_input(
            "expiresAt",
            "expiresAt must be in the future",
        ));
    }
    let active = api_keys::Entity::find()
        .filter(api_keys::Column::UserId.eq(user_id))
        .filter(api_keys::Column::RevokedAt.is_null())
        .count(db)
        .await?;
    if active >= MAX_ACTIVE_KEYS {
        return Err(AppError::Conflict(format!(
            "at most {MAX_ACTIVE_KEYS} API keys may be active; revoke one first"
        )));
    }
    let prefix = format!("{KEY_PREFIX}{}", secrets::random_alphanumeric(VISIBLE_LEN));
    let secret = format!("{prefix}_{}", secrets::random_alphanumeric(SECRET_LEN));
    let key = api_keys::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        name: Set(name),
        prefix: Set(prefix),
        key_hash: Set(secrets::sha256_hex(&secret)),
        created_at: Set(now),
        last_used_at: Set(None),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(NewKey { secret, key })
}

/// The user's keys that are not revoked, newest first.
pub async fn list(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<api_keys::Model>> {
    Ok(api_keys::Entity::find()
        .filter(api_keys::Column::UserId.eq(user_id))
        .filter(api_keys::Column::RevokedAt.is_null())
        .order_by_desc(api_keys::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Revokes one of the user's keys; another user's key or an unknown one is `NOT_FOUND`.
pub async fn revoke(db: &impl ConnectionTrait, user_id: Uuid, key_id: Uuid) -> AppResult<()> {
    let result = api_keys::Entity::update_many()
        .col_expr(api_keys::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_keys::Column::Id.eq(key_id))
        .filter(api_keys::Column::UserId.eq(user_id))
        .filter(api_keys::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::NotFound("API key"));
    }
    Ok(())
}

/// Revokes a key and tells every process, so connections signed in with it close.
pub async fn revoke_and_notify(
    state: &crate::state::AppState,
    user_id: Uuid,
    key_id: Uuid,
) -> AppResult<()> {
    revoke(&state.db, user_id, key_id).await?;
    state.bus.credentials_changed(user_id).await;
    Ok(())
}
