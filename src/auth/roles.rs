//! Who administers the server: accounts with the `admin` role (the first account gets
//! it) and those whose address is in `ADMIN_EMAILS`. Checked here and nowhere else.

use entity::{states::UserRole, users};

use crate::{
    auth::Caller,
    config::Config,
    error::{AppError, AppResult},
};

pub fn role(config: &Config, user: &users::Model) -> UserRole {
    if user.role == UserRole::Admin || config.is_admin_email(&user.email) {
        UserRole::Admin
    } else {
        UserRole::User
    }
}

/// The caller, if an administrator; anyone else gets `denied`.
pub fn require_admin(config: &Config, caller: &Caller, denied: AppError) -> AppResult<()> {
    if role(config, &caller.user) == UserRole::Admin {
        Ok(())
    } else {
        Err(denied)
    }
}
