//! Who is calling: a credential (access JWT or API key) resolved to an active user, and
//! the client's address as the rate limits see it.

use std::net::IpAddr;

use chrono::{Duration, Utc};
use entity::{api_keys, users};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use crate::{
    auth::{api_keys::KEY_PREFIX, secrets::sha256_hex},
    error::{AppError, AppResult},
    state::AppState,
};

/// An authenticated, active user, and how they proved it.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: users::Model,
    pub api_key_id: Option<Uuid>,
}

impl Caller {
    pub fn user_id(&self) -> Uuid {
        self.user.id
    }
}

/// The client as the rate limits see it: the peer address, or the first address of
/// `X-Forwarded-For` when the peer is a trusted proxy.
#[derive(Clone, Debug)]
pub struct ClientInfo {
    pub ip: IpAddr,
}

impl ClientInfo {
    pub fn from_peer(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> Self {
        let forwarded = forwarded_for
            .filter(|_| trusted.contains(&peer))
            .and_then(|value| value.split(',').next())
            .and_then(|first| first.trim().parse().ok());
        Self {
            ip: forwarded.unwrap_or(peer),
        }
    }
}

/// Don't write `last_used_at` more often than this per key.
const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

/// Resolves a bearer credential: an API key when it has the key prefix, otherwise an
/// access JWT. Anything else, a revoked or expired key, or a user who is gone or
/// deactivated is `UNAUTHENTICATED`.
pub async fn authenticate(state: &AppState, credential: &str) -> AppResult<Caller> {
    let credential = credential.trim();
    if credential.starts_with(KEY_PREFIX) {
        let now = Utc::now();
        let key = api_keys::Entity::find()
            .filter(api_keys::Column::KeyHash.eq(sha256_hex(credential)))
            .one(&state.db)
            .await?
            .filter(|key| key.revoked_at.is_none() && key.expires_at.is_none_or(|exp| exp > now))
            .ok_or_else(|| {
                AppError::Unauthenticated("invalid, revoked or expired API key".into())
            })?;
        let user = active_user(state, key.user_id).await?;
        let key_id = key.id;
        if key
            .last_used_at
            .is_none_or(|at| now - at > LAST_USED_RESOLUTION)
        {
            let mut active = key.into_active_model();
            active.last_used_at = Set(Some(now));
            active.update(&state.db).await?;
        }
        return Ok(Caller {
            user,
            api_key_id: Some(key_id),
        });
    }
    let user_id = state.keys.verify(credential)?;
    let user = active_user(state, user_id).await?;
    Ok(Caller {
        user,
        api_key_id: None,
    })
}

async fn active_user(state: &AppState, user_id: Uuid) -> AppResult<users::Model> {
    users::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .filter(|user| user.is_active)
        .ok_or_else(|| {
            AppError::Unauthenticated("this account no longer exists or is disabled".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.9".parse().unwrap();
        let via_proxy = ClientInfo::from_peer(proxy, Some("203.0.113.9, 10.0.0.1"), &[proxy]);
        assert_eq!(via_proxy.ip, client);
        let spoofed = ClientInfo::from_peer(client, Some("1.2.3.4"), &[proxy]);
        assert_eq!(spoofed.ip, client);
        let garbage = ClientInfo::from_peer(proxy, Some("not-an-ip"), &[proxy]);
        assert_eq!(garbage.ip, proxy);
    }
}
