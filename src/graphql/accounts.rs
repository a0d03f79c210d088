//! Accounts over GraphQL: `me`, `signup`, `login`, `refreshToken`, `logout`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, ResultExt, SimpleObject};
use entity::users;

use crate::{
    auth::accounts::{self, Session},
    graphql::{
        context,
        scalars::{BigInt, DateTime},
    },
};

/// An account.
#[derive(SimpleObject)]
pub struct User {
    pub id: ID,
    /// Lower-cased email address; unique.
    pub email: String,
    /// Lower-cased username; unique.
    pub username: String,
    pub full_name: Option<String>,
    pub avatar_url: Option<String>,
    pub subscription_tier: SubscriptionTier,
    /// Storage allowed by the tier, in GB (10^9 bytes).
    pub storage_quota_gb: i32,
    pub storage_used_bytes: BigInt,
    pub is_active: bool,
    pub is_verified: bool,
    pub created_at: DateTime,
    pub last_login_at: Option<DateTime>,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::states::SubscriptionTier")]
pub enum SubscriptionTier {
    Free,
    Personal,
    Pro,
    Business,
}

impl From<users::Model> for User {
    fn from(user: users::Model) -> Self {
        Self {
            id: ID(user.id.to_string()),
            email: user.email,
            username: user.username,
            full_name: user.full_name,
            avatar_url: user.avatar_url,
            subscription_tier: user.subscription_tier.into(),
            storage_quota_gb: user.storage_quota_gb,
            storage_used_bytes: BigInt(user.storage_used_bytes),
            is_active: user.is_active,
            is_verified: user.is_verified,
            created_at: user.created_at.into(),
            last_login_at: user.last_login_at.map(Into::into),
        }
    }
}

/// Tokens for a signed-in session.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`. Valid for `expiresIn` seconds.
    pub access_token: String,
    /// Trade for new tokens with `refreshToken` (once: it is rotated on every use). Valid for 7 days.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i32,
    pub user: User,
}

impl From<Session> for AuthPayload {
    fn from(session: Session) -> Self {
        Self {
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            expires_in: i32::try_from(session.expires_in).unwrap_or(i32::MAX),
            user: session.user.into(),
        }
    }
}

#[derive(InputObject)]
pub struct SignupInput {
    pub email: String,
    /// 3 to 32 characters: letters, digits, `_` or `-` (case-insensitive).
    pub username: String,
    /// 8 to 128 characters.
    pub password: String,
    pub full_name: Option<String>,
}

#[derive(InputObject)]
pub struct LoginInput {
    /// Email address or username.
    pub login: String,
    pub password: String,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(context::caller(ctx).await?.user.into())
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account and signs it in.
    async fn signup(&self, ctx: &Context<'_>, input: SignupInput) -> Result<AuthPayload> {
        let input = accounts::SignupInput {
            email: input.email,
            username: input.username,
            password: input.password,
            full_name: input.full_name,
        };
        let session = accounts::signup(context::state(ctx), context::client(ctx)?, input)
            .await
            .extend()?;
        Ok(session.into())
    }

    /// Signs in with an email address or username and the password.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<AuthPayload> {
        let session = accounts::login(
            context::state(ctx),
            context::client(ctx)?,
            &input.login,
            input.password,
        )
        .await
        .extend()?;
        Ok(session.into())
    }

    /// Trades a refresh token for new tokens. The presented token stops working; presenting
    /// it again ends the whole session.
    async fn refresh_token(&self, ctx: &Context<'_>, refresh_token: String) -> Result<AuthPayload> {
        let session = accounts::refresh(context::state(ctx), context::client(ctx)?, &refresh_token)
            .await
            .extend()?;
        Ok(session.into())
    }

    /// Ends the session a refresh token belongs to. `false` if it had already ended or was unknown.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> Result<bool> {
        accounts::logout(context::state(ctx), &refresh_token)
            .await
            .extend()
    }
}
