//! The administrator's side: every account with its usage, and changes to an account's
//! tier, quota and whether it may sign in. Checked in `auth::roles`.

use async_graphql::{Context, ID, InputObject, Object, Result, ResultExt};

use crate::{
    auth::admin::{self, UserChange},
    graphql::{
        accounts::{SubscriptionTier, User},
        connection::{Conn, connection, parse_cursor},
        context, ids,
    },
    paging::{Page, page_size},
};

#[derive(InputObject)]
pub struct AdminUserInput {
    pub subscription_tier: Option<SubscriptionTier>,
    /// Storage allowed, in GB (10^9 bytes): 0 to 1,000,000.
    pub storage_quota_gb: Option<i32>,
    /// `false` disables the account: its sessions, keys and sockets stop at once.
    pub is_active: Option<bool>,
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Every account, oldest first, with its usage; `search` matches the email address
    /// or username. Administrators only (`FORBIDDEN` for anyone else).
    #[graphql(complexity = "crate::graphql::connection_cost(first, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
    ) -> Result<Conn<User>> {
        let caller = context::caller(ctx).await?;
        let state = context::state(ctx);
        let offset = parse_cursor::<u64>(after.as_deref()).extend()?;
        let start = offset.map_or(0, |o| o + 1);
        let limit = page_size(first);
        let (users, total) = admin::list_users(state, &caller, search.as_deref(), start, limit)
            .await
            .extend()?;
        let items: Vec<(u64, entity::users::Model)> = users
            .into_iter()
            .enumerate()
            .map(|(i, u)| (start + i as u64, u))
            .collect();
        let has_next = start + (items.len() as u64) < total;
        Ok(connection(
            Page {
                items,
                has_next,
                total,
            },
            start > 0,
            |(position, _)| position.to_string(),
            |(_, user)| User::of(&state.config, user),
        ))
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Sets an account's tier, quota or whether it may sign in. Administrators only: to
    /// anyone else no account has this id (`NOT_FOUND`).
    async fn admin_update_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AdminUserInput,
    ) -> Result<User> {
        let caller = context::caller(ctx).await?;
        let state = context::state(ctx);
        let user_id = ids::parse_id("id", &id).extend()?;
        let change = UserChange {
            subscription_tier: input.subscription_tier.map(Into::into),
            storage_quota_gb: input.storage_quota_gb,
            is_active: input.is_active,
        };
        let user = admin::update_user(state, &caller, user_id, change)
            .await
            .extend()?;
        Ok(User::of(&state.config, user))
    }
}
