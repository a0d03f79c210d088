//! The sessions of an account (one per sign-in: a refresh-token family) as its owner sees
//! them, and ending one of them.

use chrono::{DateTime, Utc};
use entity::refresh_tokens;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    auth::{Caller, accounts},
    error::{AppError, AppResult},
    state::AppState,
};

pub struct SessionInfo {
    pub id: Uuid,
    pub signed_in_at: DateTime<Utc>,
    /// The last refresh (or the sign-in).
    pub last_active_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The session of the request asking.
    pub current: bool,
}

/// The caller's live sessions, most recently active first.
pub async fn list(state: &AppState, caller: &Caller) -> AppResult<Vec<SessionInfo>> {
    let live = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::UserId.eq(caller.user_id()))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .filter(refresh_tokens::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(refresh_tokens::Column::CreatedAt)
        .all(&state.db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(live
        .into_iter()
        .filter(|token| seen.insert(token.family_id))
        .map(|token| SessionInfo {
            id: token.family_id,
            // A family's id is a v7 UUID made at sign-in: it carries the time.
            signed_in_at: token
                .family_id
                .get_timestamp()
                .and_then(|t| {
                    let (secs, nanos) = t.to_unix();
                    DateTime::from_timestamp(secs as i64, nanos)
                })
                .unwrap_or(token.created_at),
            last_active_at: token.created_at,
            expires_at: token.expires_at,
            current: caller.session == Some(token.family_id),
        })
        .collect())
}

/// Ends one of the caller's sessions (its refresh token, access tokens and sockets).
/// Another account's session, or one already ended, is `NOT_FOUND`.
pub async fn revoke(state: &AppState, caller: &Caller, family_id: Uuid) -> AppResult<()> {
    let owned = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::UserId.eq(caller.user_id()))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?
        .is_some();
    if !owned {
        return Err(AppError::NotFound("session"));
    }
    accounts::revoke_family(state, family_id).await
}
