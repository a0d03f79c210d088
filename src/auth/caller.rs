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
    /// When the credential itself stops being good (an access token's `exp`, a key's
    /// expiry); `None` for a key that never expires.
    pub expires_at: Option<chrono::DateTime<Utc>>,
    /// The session an access token belongs to (none for API keys and older tokens).
    pub session: Option<Uuid>,
}

impl Caller {
    pub fn user_id(&self) -> Uuid {
        self.user.id
    }
}

/// The client as the rate limits see it: the peer address, or, when the peer is a
/// trusted proxy, the nearest untrusted address of `X-Forwarded-For`.
#[derive(Clone, Debug)]
pub struct ClientInfo {
    pub ip: IpAddr,
}

impl ClientInfo {
    /// `X-Forwarded-For` is read from the right: each trusted proxy appends the address it
    /// saw, so the first address (from the right) that is not a trusted proxy is the
    /// client. Entries left of it are whatever the client chose to write, never believed.
    pub fn from_peer(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> Self {
        let mut client = peer;
        if let Some(forwarded) = forwarded_for {
            for entry in forwarded.rsplit(',') {
                if !trusted.contains(&client) {
                    break;
                }
                match entry.trim().parse::<IpAddr>() {
                    Ok(hop) => client = hop,
                    Err(_) => break, // garbage: the last trusted hop is as far as we know
                }
            }
        }
        Self { ip: client }
    }

    /// The key limits count by: the address, or its /64 network for IPv6 (one subscriber
    /// usually holds a whole /64).
    pub fn limit_key(&self) -> String {
        match self.ip {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = ip.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        }
    }
}

#[cfg(test)]
mod client_tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_read_from_the_right_past_trusted_proxies() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        // The client wrote 1.1.1.1 itself; 9.9.9.9 is what the first proxy saw.
        let client =
            ClientInfo::from_peer(ip("10.0.0.1"), Some("1.1.1.1, 9.9.9.9, 10.0.0.2"), &trusted);
        assert_eq!(client.ip, ip("9.9.9.9"));
        // An untrusted peer's header is ignored.
        let direct = ClientInfo::from_peer(ip("8.8.8.8"), Some("1.1.1.1"), &trusted);
        assert_eq!(direct.ip, ip("8.8.8.8"));
        // Garbage stops the walk at the last trusted hop.
        let garbage = ClientInfo::from_peer(ip("10.0.0.1"), Some("1.1.1.1, nonsense"), &trusted);
        assert_eq!(garbage.ip, ip("10.0.0.1"));
        let none = ClientInfo::from_peer(ip("10.0.0.1"), None, &trusted);
        assert_eq!(none.ip, ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a = ClientInfo {
            ip: ip("2001:db8:1:2:aaaa::1"),
        };
        let b = ClientInfo {
            ip: ip("2001:db8:1:2:bbbb::2"),
        };
        let c = ClientInfo {
            ip: ip("2001:db8:1:3::1"),
        };
        assert_eq!(a.limit_key(), b.limit_key());
        assert_ne!(a.limit_key(), c.limit_key());
        let mapped = ClientInfo {
            ip: ip("::ffff:1.2.3.4"),
        };
        assert_eq!(mapped.limit_key(), "1.2.3.4");
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
        let (key_id, expires_at) = (key.id, key.expires_at);
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
            expires_at,
            session: None,
        });
    }
    let token = state.keys.verify_claims(credential)?;
    let user = active_user(state, token.user_id).await?;
    if let Some(family) = token.session
        && !state.sessions.is_live(&state.db, family).await?
    {
        return Err(AppError::Unauthenticated(
            "this session has ended: sign in again".into(),
        ));
    }
    Ok(Caller {
        user,
        api_key_id: None,
        expires_at: chrono::DateTime::from_timestamp(token.expires as i64, 0),
        session: token.session,
    })
}

pub(crate) async fn active_user(state: &AppState, user_id: Uuid) -> AppResult<users::Model> {
    state
        .users
        .get(&state.db, user_id)
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
