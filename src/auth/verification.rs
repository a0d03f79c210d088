//! Proving an email address: the account's own (`requestEmailVerification`), or the one
//! it asks to move to (`changeEmail`, which changes nothing until the new address is
//! proved). Both mail a link with a token; `verifyEmail` redeems it.

use chrono::Utc;
use entity::{states::TokenPurpose, users};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, SqlErr};

use crate::{
    auth::{Caller, mail_tokens, password, validation},
    error::{AppError, AppResult},
    mail::templates,
    state::AppState,
};

/// Mails a link that proves the account's address. `false` when it is already proved.
pub async fn request(state: &AppState, caller: &Caller) -> AppResult<bool> {
    let user = &caller.user;
    if user.is_verified {
        return Ok(false);
    }
    state
        .limiter
        .hit(
            &format!("verify:account:{}", user.id),
            state.config.auth_rate_limit_per_account,
        )
        .await?;
    send_link(state, user, &user.email).await?;
    Ok(true)
}

/// Asks to move the account to `new_email`; the password proves it is the owner. The
/// old address is told at once; the change happens when the new one is proved.
pub async fn change_email(
    state: &AppState,
    caller: &Caller,
    new_email: &str,
    current_password: String,
) -> AppResult<()> {
    let user = &caller.user;
    state
        .limiter
        .hit(
            &format!("change-email:account:{}", user.id),
            state.config.auth_rate_limit_per_account,
        )
        .await?;
    let new_email = validation::email(new_email)
        .map_err(|_| AppError::bad_input("newEmail", "newEmail is not a valid address"))?;
    password::confirm(current_password, &user.password_hash, "password").await?;
    if new_email == user.email {
        return Err(AppError::bad_input(
            "newEmail",
            "this is already your address",
        ));
    }
    if taken(state, &new_email).await? {
        return Err(AppError::Conflict(
            "an account with this email already exists".into(),
        ));
    }
    send_link(state, user, &new_email).await?;
    state.outbox.send(templates::email_change_requested(
        &user.email,
        &user.username,
        &new_email,
    ));
    tracing::info!(user_id = %user.id, "email change requested");
    Ok(())
}

/// Redeems a link: the address it was sent to is proved, and becomes the account's
/// address if it was a change.
pub async fn verify(state: &AppState, token: &str) -> AppResult<users::Model> {
    let token = mail_tokens::redeem(&state.db, TokenPurpose::VerifyEmail, token).await?;
    let user = users::Entity::find_by_id(token.user_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    let changing = token.email != user.email;
    let now = Utc::now();
    let mut active: users::ActiveModel = user.into();
    active.email = Set(token.email.clone());
    active.is_verified = Set(true);
    active.email_verified_at = Set(Some(now));
    active.updated_at = Set(now);
    let user = active
        .update(&state.db)
        .await
        .map_err(|err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::Conflict("an account with this email already exists".into())
            }
            _ => err.into(),
        })?;
    state.users.forget(user.id);
    tracing::info!(user_id = %user.id, changed = changing, "email address verified");
    Ok(user)
}

async fn send_link(state: &AppState, user: &users::Model, email: &str) -> AppResult<()> {
    let token = mail_tokens::issue(&state.db, user.id, TokenPurpose::VerifyEmail, email).await?;
    let link = format!("{}/verify-email?token={token}", state.config.public_url());
    state.outbox.send(templates::verify_email(
        email,
        &user.username,
        &link,
        mail_tokens::VERIFY_EMAIL_TTL.num_hours(),
    ));
    Ok(())
}

async fn taken(state: &AppState, email: &str) -> AppResult<bool> {
    Ok(users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(&state.db)
        .await?
        .is_some())
}
