//! A forgotten password: `requestPasswordReset` mails a link (answering the same whether
//! or not the address has an account, limited per address and per account), and
//! `resetPassword` sets the new password and ends every session of the account.

use chrono::Utc;
use entity::{states::TokenPurpose, users};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::{
    auth::{ClientInfo, accounts, mail_tokens, password, validation},
    error::{AppError, AppResult},
    mail::templates,
    state::AppState,
};

pub async fn request(state: &AppState, client: &ClientInfo, email: &str) -> AppResult<()> {
    let limits = &state.config;
    state
        .limiter
        .hit(
            &format!("reset:ip:{}", client.limit_key()),
            limits.auth_rate_limit_per_ip,
        )
        .await?;
    if email.len() > 254 {
        return Err(AppError::bad_input("email", "email is not a valid address"));
    }
    let email = validation::email(email)?;
    // Counted per address whether or not it has an account: the limit tells nothing.
    state
        .limiter
        .hit(
            &format!("reset:email:{email}"),
            limits.auth_rate_limit_per_account,
        )
        .await?;
    let Some(user) = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&state.db)
        .await?
        .filter(|user| user.is_active)
    else {
        return Ok(());
    };
    state
        .limiter
        .hit(
            &format!("reset:account:{}", user.id),
            limits.auth_rate_limit_per_account,
        )
        .await?;
    let token = mail_tokens::issue(&state.db, user.id, TokenPurpose::ResetPassword, &email).await?;
    let link = format!("{}/reset-password?token={token}", state.config.public_url());
    state.outbox.send(templates::reset_password(
        &email,
        &user.username,
        &link,
        mail_tokens::RESET_PASSWORD_TTL.num_minutes(),
    ));
    tracing::info!(user_id = %user.id, "password reset mailed");
    Ok(())
}

pub async fn reset(state: &AppState, token: &str, new_password: String) -> AppResult<()> {
    validation::password(&new_password).map_err(|err| renamed(err, "newPassword"))?;
    let token = mail_tokens::redeem(&state.db, TokenPurpose::ResetPassword, token).await?;
    let user = users::Entity::find_by_id(token.user_id)
        .one(&state.db)
        .await?
        .filter(|user| user.is_active)
        .ok_or_else(|| AppError::bad_input("token", "this link is invalid, used or expired"))?;
    let hash = password::hash(new_password).await?;
    let now = Utc::now();
    let mut active: users::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.updated_at = Set(now);
    // The link reached the address: it is proved too.
    if token.email == *active.email.as_ref() {
        active.is_verified = Set(true);
        active.email_verified_at = Set(Some(now));
    }
    let user = active.update(&state.db).await?;
    state.users.forget(user.id);
    accounts::end_sessions(state, user.id, None).await?;
    tracing::info!(user_id = %user.id, "password reset; every session ended");
    Ok(())
}

/// The same check's error, naming the field the caller filled in.
pub(crate) fn renamed(err: AppError, field: &str) -> AppError {
    match err {
        AppError::BadUserInput { message, .. } => AppError::BadUserInput {
            field: field.to_string(),
            message: message.replacen("password", field, 1),
        },
        other => other,
    }
}
