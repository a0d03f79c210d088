//! Sign-up, login, refresh-token rotation and logout.
//!
//! Refresh tokens are opaque random strings stored as SHA-256 hashes. Every login starts a
//! token *family*; each refresh revokes the presented token and issues its successor in
//! the same family. Presenting a token that was already rotated means two parties hold
//! it, so the whole family is revoked and both must log in again — unless it comes back
//! within `REFRESH_GRACE` of its rotation while its successor is unused: that is a reply
//! that was lost (a reload mid-refresh, two tabs at once), and the same successor is
//! handed out again (`auth::rotation`).

use chrono::{Duration, Utc};
use entity::{refresh_tokens, users};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, SqlErr, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    auth::{ClientInfo, password, secrets, validation},
    error::{AppError, AppResult},
    state::AppState,
};

pub const REFRESH_TOKEN_TTL: Duration = Duration::days(7);
/// How long after its rotation a refresh token still gets its (unused) successor again.
pub const REFRESH_GRACE: Duration = Duration::seconds(10);
const REFRESH_TOKEN_LEN: usize = 48;
pub const FREE_TIER_QUOTA_GB: i32 = 5;

/// What a successful sign-in hands back.
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub user: users::Model,
}

pub struct SignupInput {
    pub email: String,
    pub username: String,
    pub password: String,
    pub full_name: Option<String>,
}

const WRONG_CREDENTIALS: &str = "invalid login or password";
/// The longest login: an email address (254 bytes) or a username (32).
const LOGIN_MAX_BYTES: usize = 254;
const TAKEN: &str = "an account with this email or username already exists";
const BAD_REFRESH_TOKEN: &str = "invalid, expired or revoked refresh token";

#[tracing::instrument(skip_all, fields(client = %client.ip))]
pub async fn signup(
    state: &AppState,
    client: &ClientInfo,
    input: SignupInput,
) -> AppResult<Session> {
    let limits = &state.config;
    state
        .limiter
        .hit(
            &format!("signup:ip:{}", client.limit_key()),
            limits.auth_rate_limit_per_ip,
        )
        .await?;
    let email = validation::email(&input.email)?;
    state
        .limiter
        .hit(
            &format!("signup:account:{email}"),
            limits.auth_rate_limit_per_account,
        )
        .await?;
    let username = validation::username(&input.username)?;
    validation::password(&input.password)?;
    let full_name = validation::optional_text("fullName", input.full_name.as_deref(), 200)?;

    // Hashed before anything is looked up, so a taken email or username answers no
    // faster than a new one; one message for both, so neither is told apart.
    let password_hash = password::hash(input.password).await?;
    if find_by_login(state, &email).await?.is_some()
        || find_by_login(state, &username).await?.is_some()
    {
        return Err(AppError::Conflict(TAKEN.into()));
    }
    // The first account administers the server (as do those in `ADMIN_EMAILS`).
    let first = users::Entity::find().count(&state.db).await? == 0;
    let now = Utc::now();
    let user = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        username: Set(username),
        password_hash: Set(password_hash),
        full_name: Set(full_name),
        avatar_url: Set(None),
        subscription_tier: Set(entity::states::SubscriptionTier::Free),
        storage_quota_gb: Set(FREE_TIER_QUOTA_GB),
        storage_used_bytes: Set(0),
        is_active: Set(true),
        is_verified: Set(false),
        email_verified_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(Some(now)),
        role: Set(if first {
            entity::states::UserRole::Admin
        } else {
            entity::states::UserRole::User
        }),
    }
    .insert(&state.db)
    .await
    .map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict(TAKEN.into()),
        _ => err.into(),
    })?;
    tracing::info!(user_id = %user.id, "account created");
    start_session(state, user).await
}

#[tracing::instrument(skip_all, fields(client = %client.ip))]
pub async fn login(
    state: &AppState,
    client: &ClientInfo,
    login: &str,
    password: String,
) -> AppResult<Session> {
    // Bounded before it becomes a rate-limit key or a query: no email or username is
    // longer, and no password may be (hashing a megabyte is work an attacker chooses).
    if login.len() > LOGIN_MAX_BYTES {
        return Err(AppError::bad_input(
            "login",
            format!("login is at most {LOGIN_MAX_BYTES} bytes"),
        ));
    }
    if password.len() > validation::PASSWORD_MAX * 4 {
        return Err(AppError::bad_input("password", "password is too long"));
    }
    let login = login.trim().to_lowercase();
    let limits = &state.config;
    state
        .limiter
        .hit(
            &format!("login:ip:{}", client.limit_key()),
            limits.auth_rate_limit_per_ip,
        )
        .await?;
    // Counted per account, whichever of its names is used; an unknown name is counted
    // by itself (and answers exactly like a wrong password).
    let user = find_by_login(state, &login).await?;
    let account_key = match &user {
        Some(user) => format!("login:account:{}", user.id),
        None => format!("login:unknown:{login}"),
    };
    state
        .limiter
        .hit(&account_key, limits.auth_rate_limit_per_account)
        .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    if !password::verify(password, stored).await? {
        return Err(AppError::Unauthenticated(WRONG_CREDENTIALS.into()));
    }
    let user = user.expect("a verified password belongs to a user");
    if !user.is_active {
        return Err(AppError::Forbidden("this account is disabled".into()));
    }
    let now = Utc::now();
    let mut active: users::ActiveModel = user.into();
    active.last_login_at = Set(Some(now));
    active.updated_at = Set(now);
    let user = active.update(&state.db).await?;
    state.users.forget(user.id);
    start_session(state, user).await
}

#[tracing::instrument(skip_all, fields(client = %client.ip))]
pub async fn refresh(state: &AppState, client: &ClientInfo, presented: &str) -> AppResult<Session> {
    let limits = &state.config;
    state
        .limiter
        .hit(
            &format!("refresh:ip:{}", client.limit_key()),
            limits.auth_rate_limit_per_ip,
        )
        .await?;
    let invalid = || AppError::Unauthenticated(BAD_REFRESH_TOKEN.into());
    let token = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(secrets::sha256_hex(presented.trim())))
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    state
        .limiter
        .hit(
            &format!("refresh:account:{}", token.user_id),
            limits.refresh_rate_limit_per_account,
        )
        .await?;

    let now = Utc::now();
    if token.revoked_at.is_some() {
        return again_or_revoke(state, token).await;
    }
    if token.expires_at <= now {
        return Err(invalid());
    }
    let user = users::Entity::find_by_id(token.user_id)
        .one(&state.db)
        .await?
        .filter(|user| user.is_active)
        .ok_or_else(invalid)?;

    // Claim the token with a conditional update, so two concurrent refreshes with one
    // token cannot both rotate it: the loser finds it rotated (and, within the grace
    // window, gets the same successor).
    let successor_id = Uuid::now_v7();
    let txn = state.db.begin().await?;
    let claimed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .col_expr(
            refresh_tokens::Column::ReplacedBy,
            Expr::value(successor_id),
        )
        .filter(refresh_tokens::Column::Id.eq(token.id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        drop(txn);
        let token = refresh_tokens::Entity::find_by_id(token.id)
            .one(&state.db)
            .await?
            .ok_or_else(invalid)?;
        return again_or_revoke(state, token).await;
    }
    // The old token is claimed and its successor inserted together, or neither is.
    let refresh_token = state.rotation.successor(token.id, successor_id);
    let session = issue_session(
        &txn,
        state,
        user,
        token.family_id,
        successor_id,
        refresh_token,
    )
    .await?;
    txn.commit().await?;
    Ok(session)
}

/// A refresh token that is no longer live came back. Rotated within `REFRESH_GRACE` and
/// its successor unused: the same successor again (with a new access token). Otherwise,
/// when it was rotated, two parties hold it: the whole family ends.
async fn again_or_revoke(state: &AppState, token: refresh_tokens::Model) -> AppResult<Session> {
    let invalid = || AppError::Unauthenticated(BAD_REFRESH_TOKEN.into());
    let Some(successor_id) = token.replaced_by else {
        tracing::info!(user_id = %token.user_id, family = %token.family_id, "refresh refused: the session was signed out");
        return Err(invalid());
    };
    let now = Utc::now();
    let recent = token.revoked_at.is_some_and(|at| now - at <= REFRESH_GRACE);
    if recent {
        let successor = refresh_tokens::Entity::find_by_id(successor_id)
            .one(&state.db)
            .await?
            .filter(|s| s.revoked_at.is_none() && s.expires_at > now);
        let user = users::Entity::find_by_id(token.user_id)
            .one(&state.db)
            .await?
            .filter(|user| user.is_active);
        if let (Some(_), Some(user)) = (successor, user) {
            tracing::info!(user_id = %token.user_id, family = %token.family_id, "refresh token presented again within the grace window: same successor");
            let (access_token, expires_in) = state.keys.issue_in(user.id, token.family_id)?;
            return Ok(Session {
                access_token,
                refresh_token: state.rotation.successor(token.id, successor_id),
                expires_in,
                user,
            });
        }
    }
    tracing::warn!(user_id = %token.user_id, family = %token.family_id, recent, "rotated refresh token reused: revoking its family");
    revoke_family(state, token.family_id).await?;
    Err(invalid())
}

/// Ends the session a refresh token belongs to (its whole family). `false` when the token
/// was unknown or already ended.
pub async fn logout(state: &AppState, presented: &str) -> AppResult<bool> {
    let token = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(secrets::sha256_hex(presented.trim())))
        .one(&state.db)
        .await?;
    match token {
        Some(token) if token.revoked_at.is_none() => {
            revoke_family(state, token.family_id).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

pub(crate) async fn revoke_family(state: &AppState, family_id: Uuid) -> AppResult<()> {
    let user_id = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .one(&state.db)
        .await?
        .map(|token| token.user_id);
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    state.sessions.forget_all();
    // Sockets signed in with this session's access tokens close.
    if let Some(user_id) = user_id {
        state.bus.credentials_changed(user_id).await;
    }
    Ok(())
}

/// Ends every session of a user but `keep`: their refresh tokens stop working, their
/// access tokens within a second (`SessionCache`), their sockets close.
pub async fn end_sessions(state: &AppState, user_id: Uuid, keep: Option<Uuid>) -> AppResult<()> {
    let mut revoke = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        revoke = revoke.filter(refresh_tokens::Column::FamilyId.ne(keep));
    }
    revoke.exec(&state.db).await?;
    state.sessions.forget_all();
    state.bus.credentials_changed(user_id).await;
    Ok(())
}

/// Whether a session (refresh-token family) still has a token that is not revoked.
pub async fn session_is_live(state: &AppState, family_id: Uuid) -> AppResult<bool> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?
        .is_some())
}

/// An email (contains `@`) or a username, already lower-cased.
async fn find_by_login(state: &AppState, login: &str) -> AppResult<Option<users::Model>> {
    let column = if login.contains('@') {
        users::Column::Email
    } else {
        users::Column::Username
    };
    Ok(users::Entity::find()
        .filter(column.eq(login))
        .one(&state.db)
        .await?)
}

async fn start_session(state: &AppState, user: users::Model) -> AppResult<Session> {
    let refresh_token = secrets::random_alphanumeric(REFRESH_TOKEN_LEN);
    issue_session(
        &state.db,
        state,
        user,
        Uuid::now_v7(),
        Uuid::now_v7(),
        refresh_token,
    )
    .await
}

async fn issue_session(
    db: &impl ConnectionTrait,
    state: &AppState,
    user: users::Model,
    family_id: Uuid,
    token_id: Uuid,
    refresh_token: String,
) -> AppResult<Session> {
    let (access_token, expires_in) = state.keys.issue_in(user.id, family_id)?;
    let now = Utc::now();
    refresh_tokens::ActiveModel {
        id: Set(token_id),
        user_id: Set(user.id),
        family_id: Set(family_id),
        token_hash: Set(secrets::sha256_hex(&refresh_token)),
        created_at: Set(now),
        expires_at: Set(now + REFRESH_TOKEN_TTL),
        revoked_at: Set(None),
        replaced_by: Set(None),
    }
    .insert(db)
    .await?;
    Ok(Session {
        access_token,
        refresh_token,
        expires_in,
        user,
    })
}
