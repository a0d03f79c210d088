//! What an administrator does: list and search accounts with their usage, and set an
//! account's tier, quota or whether it may sign in. Every change is logged with who
//! made it.

use chrono::Utc;
use entity::{states::SubscriptionTier, users};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LikeExpr},
};
use uuid::Uuid;

use crate::{
    auth::{Caller, accounts, roles},
    error::{AppError, AppResult},
    state::AppState,
};

/// Administrators only; anyone else is `FORBIDDEN`.
pub async fn list_users(
    state: &AppState,
    caller: &Caller,
    search: Option<&str>,
    offset: u64,
    limit: u64,
) -> AppResult<(Vec<users::Model>, u64)> {
    roles::require_admin(
        &state.config,
        caller,
        AppError::Forbidden("only administrators can list accounts".into()),
    )?;
    let mut query = users::Entity::find();
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        if search.len() > 254 {
            return Err(AppError::bad_input("search", "search is at most 254 bytes"));
        }
        // `%`, `_` and `\` taken literally (usernames hold `_`).
        let pattern = format!("%{}%", crate::search::escape_like(&search.to_lowercase()));
        let like = |column: users::Column| {
            Expr::col(column).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        query = query.filter(
            Condition::any()
                .add(like(users::Column::Email))
                .add(like(users::Column::Username)),
        );
    }
    let total = query.clone().count(&state.db).await?;
    let users = query
        .order_by_asc(users::Column::CreatedAt)
        .order_by_asc(users::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    Ok((users, total))
}

pub struct UserChange {
    pub subscription_tier: Option<SubscriptionTier>,
    pub storage_quota_gb: Option<i32>,
    pub is_active: Option<bool>,
}

/// Administrators only; to anyone else the account does not exist (`NOT_FOUND`).
pub async fn update_user(
    state: &AppState,
    caller: &Caller,
    user_id: Uuid,
    change: UserChange,
) -> AppResult<users::Model> {
    roles::require_admin(&state.config, caller, AppError::NotFound("user"))?;
    let user = users::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if change.is_active == Some(false) && user.id == caller.user_id() {
        return Err(AppError::bad_input(
            "isActive",
            "you cannot disable your own account",
        ));
    }
    let mut active: users::ActiveModel = user.clone().into();
    if let Some(tier) = change.subscription_tier {
        active.subscription_tier = Set(tier);
    }
    if let Some(quota) = change.storage_quota_gb {
        if !(0..=1_000_000).contains(&quota) {
            return Err(AppError::bad_input(
                "storageQuotaGb",
                "storageQuotaGb must be 0 to 1,000,000",
            ));
        }
        active.storage_quota_gb = Set(quota);
    }
    if let Some(is_active) = change.is_active {
        active.is_active = Set(is_active);
    }
    active.updated_at = Set(Utc::now());
    let updated = active.update(&state.db).await?;
    state.users.forget(user_id);
    if !updated.is_active && user.is_active {
        // Its sessions, keys and sockets stop now (keys fail on the inactive account).
        accounts::end_sessions(state, user_id, None).await?;
    }
    tracing::info!(
        admin_id = %caller.user_id(),
        target_id = %user_id,
        tier = ?change.subscription_tier,
        quota_gb = ?change.storage_quota_gb,
        is_active = ?change.is_active,
        "administrator changed an account"
    );
    Ok(updated)
}
