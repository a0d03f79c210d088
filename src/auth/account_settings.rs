//! What people change about their own account: the password (other sessions end), the
//! name and username. The address changes through `verification::change_email`.

use chrono::Utc;
use entity::users;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, SqlErr};

use crate::{
    auth::{Caller, accounts, password, recovery::renamed, validation},
    error::{AppError, AppResult},
    state::AppState,
};

pub async fn change_password(
    state: &AppState,
    caller: &Caller,
    current: String,
    new: String,
) -> AppResult<()> {
    let user = &caller.user;
    state
        .limiter
        .hit(
            &format!("change-password:account:{}", user.id),
            state.config.auth_rate_limit_per_account,
        )
        .await?;
    if current.len() > validation::PASSWORD_MAX * 4 {
        return Err(AppError::bad_input(
            "currentPassword",
            "the current password is not right",
        ));
    }
    validation::password(&new).map_err(|err| renamed(err, "newPassword"))?;
    if !password::verify(current, Some(user.password_hash.clone())).await? {
        return Err(AppError::bad_input(
            "currentPassword",
            "the current password is not right",
        ));
    }
    let hash = password::hash(new).await?;
    let mut active: users::ActiveModel = user.clone().into();
    active.password_hash = Set(hash);
    active.updated_at = Set(Utc::now());
    active.update(&state.db).await?;
    state.users.forget(user.id);
    // This session goes on; every other one ends.
    accounts::end_sessions(state, user.id, caller.session).await?;
    tracing::info!(user_id = %user.id, "password changed; other sessions ended");
    Ok(())
}

pub struct ProfileChange {
    pub full_name: Option<Option<String>>,
    pub username: Option<String>,
}

pub async fn update_profile(
    state: &AppState,
    caller: &Caller,
    change: ProfileChange,
) -> AppResult<users::Model> {
    let mut active: users::ActiveModel = caller.user.clone().into();
    if let Some(full_name) = change.full_name {
        active.full_name = Set(validation::optional_text(
            "fullName",
            full_name.as_deref(),
            200,
        )?);
    }
    if let Some(username) = change.username {
        active.username = Set(validation::username(&username)?);
    }
    active.updated_at = Set(Utc::now());
    let user = active
        .update(&state.db)
        .await
        .map_err(|err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::Conflict("this username is taken".into())
            }
            _ => err.into(),
        })?;
    state.users.forget(user.id);
    Ok(user)
}
