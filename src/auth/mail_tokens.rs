//! Tokens sent by mail: random, single-use, expiring, stored as their SHA-256. A token
//! is used up by the one statement that marks it, so two uses at once cannot both win.

use chrono::{Duration, Utc};
use entity::{account_tokens, states::TokenPurpose};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    auth::secrets,
    error::{AppError, AppResult},
};

const TOKEN_LEN: usize = 43;
pub const VERIFY_EMAIL_TTL: Duration = Duration::hours(24);
pub const RESET_PASSWORD_TTL: Duration = Duration::minutes(30);

pub fn ttl(purpose: TokenPurpose) -> Duration {
    match purpose {
        TokenPurpose::VerifyEmail => VERIFY_EMAIL_TTL,
        TokenPurpose::ResetPassword => RESET_PASSWORD_TTL,
    }
}

/// A new token for the user; earlier unused ones for the same purpose stop working (the
/// newest mail is the one that counts).
pub async fn issue(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: TokenPurpose,
    email: &str,
) -> AppResult<String> {
    let now = Utc::now();
    account_tokens::Entity::update_many()
        .col_expr(account_tokens::Column::UsedAt, Expr::value(now))
        .filter(account_tokens::Column::UserId.eq(user_id))
        .filter(account_tokens::Column::Purpose.eq(purpose))
        .filter(account_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    let token = secrets::random_alphanumeric(TOKEN_LEN);
    account_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose),
        token_hash: Set(secrets::sha256_hex(&token)),
        email: Set(email.to_string()),
        created_at: Set(now),
        expires_at: Set(now + ttl(purpose)),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Uses up a token: its row, or `BAD_USER_INPUT` (unknown, used, expired or for
/// something else: one answer for all).
pub async fn redeem(
    db: &impl ConnectionTrait,
    purpose: TokenPurpose,
    presented: &str,
) -> AppResult<account_tokens::Model> {
    let invalid = || AppError::bad_input("token", "this link is invalid, used or expired");
    if presented.len() > 128 {
        return Err(invalid());
    }
    let hash = secrets::sha256_hex(presented.trim());
    let now = Utc::now();
    let used = account_tokens::Entity::update_many()
        .col_expr(account_tokens::Column::UsedAt, Expr::value(now))
        .filter(account_tokens::Column::TokenHash.eq(&hash))
        .filter(account_tokens::Column::Purpose.eq(purpose))
        .filter(account_tokens::Column::UsedAt.is_null())
        .filter(account_tokens::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if used.rows_affected != 1 {
        return Err(invalid());
    }
    account_tokens::Entity::find()
        .filter(account_tokens::Column::TokenHash.eq(hash))
        .one(db)
        .await?
        .ok_or_else(invalid)
}
