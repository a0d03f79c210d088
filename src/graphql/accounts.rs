//! Accounts over GraphQL: `me`, `signup`, `login`, `refreshToken`, `logout`, and what
//! people run themselves: verify an address, reset or change a password, change the
//! profile or address, delete the account.

use async_graphql::{
    Context, Enum, ErrorExtensions, ID, InputObject, MaybeUndefined, Object, Result, ResultExt,
    SimpleObject,
};
use entity::users;

use crate::{
    auth::{
        account_settings,
        accounts::{self, Session as SignedIn},
        closing, recovery, sessions, verification,
    },
    error::AppError,
    graphql::{
        context,
        scalars::{BigInt, DateTime},
        session_cookie,
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
    /// Whether the email address was proved (the same as `isVerified`).
    pub email_verified: bool,
    pub created_at: DateTime,
    pub last_login_at: Option<DateTime>,
    /// `ADMIN`: the first account, and those in the server's `ADMIN_EMAILS`.
    pub role: UserRole,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::states::UserRole")]
pub enum UserRole {
    User,
    Admin,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::states::SubscriptionTier")]
pub enum SubscriptionTier {
    Free,
    Personal,
    Pro,
    Business,
}

impl User {
    /// The account as the API shows it; its role counts `ADMIN_EMAILS` too.
    pub fn of(config: &crate::config::Config, user: users::Model) -> Self {
        let role = crate::auth::roles::role(config, &user).into();
        Self {
            role,
            ..Self::from(user)
        }
    }
}

impl From<users::Model> for User {
    fn from(user: users::Model) -> Self {
        Self {
            role: user.role.into(),
            email_verified: user.is_verified,
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

/// The answer to a sign-in or refresh; a browser that keeps its session in the cookie gets
/// the refresh token there, not in the answer.
fn payload(ctx: &Context<'_>, session: SignedIn) -> AuthPayload {
    let role = crate::auth::roles::role(&context::state(ctx).config, &session.user);
    let mut payload = AuthPayload::from(session);
    payload.user.role = role.into();
    payload.refresh_token = session_cookie::keep(ctx, payload.refresh_token);
    payload
}

/// The refresh token a request presents: the argument, else the cookie of a request
/// that opted in to the cookie session.
fn presented(ctx: &Context<'_>, argument: Option<String>) -> Result<String> {
    if let Some(token) = argument {
        return Ok(token);
    }
    let cookie = session_cookie::of(ctx);
    match cookie.token {
        Some(token) => Ok(token),
        None if cookie.opted_in => {
            Err(AppError::Unauthenticated("no session cookie: sign in again".into()).extend())
        }
        None => Err(AppError::bad_input(
            "refreshToken",
            "refreshToken is required (a browser may send X-Organizer-Session: cookie instead)",
        )
        .extend()),
    }
}

impl From<SignedIn> for AuthPayload {
    fn from(session: SignedIn) -> Self {
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
pub struct UpdateProfileInput {
    /// `null` clears it; left out, it stays.
    pub full_name: MaybeUndefined<String>,
    /// 3 to 32 characters: letters, digits, `_` or `-`.
    pub username: Option<String>,
}

#[derive(InputObject)]
pub struct LoginInput {
    /// Email address or username.
    pub login: String,
    pub password: String,
}

/// A signed-in browser or client: one per sign-in, kept by its refresh token.
#[derive(SimpleObject)]
pub struct Session {
    pub id: ID,
    pub signed_in_at: DateTime,
    /// Its last refresh (or the sign-in).
    pub last_active_at: DateTime,
    pub expires_at: DateTime,
    /// The session this request comes from.
    pub current: bool,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let caller = context::caller(ctx).await?;
        Ok(User::of(&context::state(ctx).config, caller.user))
    }

    /// Your signed-in sessions, most recently active first.
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        let caller = context::caller(ctx).await?;
        let list = sessions::list(context::state(ctx), &caller)
            .await
            .extend()?;
        Ok(list
            .into_iter()
            .map(|s| Session {
                id: ID(s.id.to_string()),
                signed_in_at: s.signed_in_at.into(),
                last_active_at: s.last_active_at.into(),
                expires_at: s.expires_at.into(),
                current: s.current,
            })
            .collect())
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
        Ok(payload(ctx, session))
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
        Ok(payload(ctx, session))
    }

    /// Trades a refresh token for new tokens. The presented token stops working; presenting
    /// it again ends the whole session, unless it comes back within 10 seconds while its
    /// successor is unused (a lost reply): then the same successor is handed out again.
    /// Without `refreshToken`: the token of the browser's `HttpOnly` session cookie, read
    /// only for a request with `X-Organizer-Session: cookie`; such requests (signup and
    /// login too) get the new token in that cookie and an empty `refreshToken` field.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        refresh_token: Option<String>,
    ) -> Result<AuthPayload> {
        let presented = presented(ctx, refresh_token)?;
        let refreshed =
            accounts::refresh(context::state(ctx), context::client(ctx)?, &presented).await;
        match refreshed {
            Ok(session) => Ok(payload(ctx, session)),
            Err(err) => {
                // A cookie that no longer works is not sent again.
                if matches!(err, AppError::Unauthenticated(_)) {
                    session_cookie::clear(ctx);
                }
                Err(err.extend())
            }
        }
    }

    /// Ends the session a refresh token belongs to. `false` if it had already ended or was unknown.
    /// Without `refreshToken`: the session of the browser's cookie (see `refreshToken`).
    async fn logout(&self, ctx: &Context<'_>, refresh_token: Option<String>) -> Result<bool> {
        let presented = presented(ctx, refresh_token)?;
        session_cookie::clear(ctx);
        accounts::logout(context::state(ctx), &presented)
            .await
            .extend()
    }

    /// Mails a link that confirms your address. `false` when it is confirmed already.
    async fn request_email_verification(&self, ctx: &Context<'_>) -> Result<bool> {
        let caller = context::caller(ctx).await?;
        verification::request(context::state(ctx), &caller)
            .await
            .extend()
    }

    /// Confirms an address with the token from its link: your address, or the one you
    /// asked to change to (which becomes your address now).
    async fn verify_email(&self, ctx: &Context<'_>, token: String) -> Result<User> {
        let state = context::state(ctx);
        let user = verification::verify(state, &token).await.extend()?;
        Ok(User::of(&state.config, user))
    }

    /// Mails a link to choose a new password, if the address has an account. The answer
    /// is `true` either way, so it tells nobody whether an address is known.
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        recovery::request(context::state(ctx), context::client(ctx)?, &email)
            .await
            .extend()?;
        Ok(true)
    }

    /// Sets a new password with the token from a reset link; every session of the
    /// account ends (sign in again with the new password).
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        new_password: String,
    ) -> Result<bool> {
        recovery::reset(context::state(ctx), &token, new_password)
            .await
            .extend()?;
        Ok(true)
    }

    /// Changes your password; every other session ends (this one goes on).
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<bool> {
        let caller = context::caller(ctx).await?;
        account_settings::change_password(
            context::state(ctx),
            &caller,
            current_password,
            new_password,
        )
        .await
        .extend()?;
        Ok(true)
    }

    /// Changes your name or username (fields left out stay as they are).
    async fn update_profile(&self, ctx: &Context<'_>, input: UpdateProfileInput) -> Result<User> {
        let caller = context::caller(ctx).await?;
        let state = context::state(ctx);
        let change = account_settings::ProfileChange {
            full_name: match input.full_name {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(name) => Some(Some(name)),
            },
            username: input.username,
        };
        let user = account_settings::update_profile(state, &caller, change)
            .await
            .extend()?;
        Ok(User::of(&state.config, user))
    }

    /// Asks to change your address: a link goes to the new one, and it changes when that
    /// link is opened; the current address is told.
    async fn change_email(
        &self,
        ctx: &Context<'_>,
        new_email: String,
        password: String,
    ) -> Result<bool> {
        let caller = context::caller(ctx).await?;
        verification::change_email(context::state(ctx), &caller, &new_email, password)
            .await
            .extend()?;
        Ok(true)
    }

    /// Ends one of your sessions (see `sessions`): its refresh token stops, its access
    /// tokens and sockets within a second. `NOT_FOUND` for one that is not yours or ended.
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let caller = context::caller(ctx).await?;
        let family = crate::graphql::ids::parse_id("id", &id).extend()?;
        sessions::revoke(context::state(ctx), &caller, family)
            .await
            .extend()?;
        Ok(true)
    }

    /// A link (good for five minutes, no sign-in needed) to everything of yours as one
    /// zip stream: your files under `files/` and `account.json` (profile, category
    /// rules, operations).
    async fn export_account(&self, ctx: &Context<'_>) -> Result<String> {
        let caller = context::caller(ctx).await?;
        Ok(crate::downloads::export_link(
            context::state(ctx),
            caller.user_id(),
        ))
    }

    /// Deletes your account for good: your operations stop, and your files, history,
    /// rules, keys and sessions are deleted. It cannot be undone.
    async fn delete_account(&self, ctx: &Context<'_>, password: String) -> Result<bool> {
        let caller = context::caller(ctx).await?;
        closing::delete_account(context::state(ctx), &caller, password)
            .await
            .extend()?;
        session_cookie::clear(ctx);
        Ok(true)
    }
}
