//! Access tokens: HS256 JWTs, 30 minutes. The algorithm is pinned (a token that names
//! `none` or any other algorithm is refused before its signature is looked at), and
//! `iss`, `aud`, `exp`, `iat`, `jti` and the token type are all required and checked.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub const ISSUER: &str = "organizer";
pub const AUDIENCE: &str = "organizer-api";
pub const ACCESS_TOKEN_TTL_SECS: u64 = 30 * 60;
const TOKEN_TYPE: &str = "access";
/// Allowed clock difference between processes of one deployment.
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
    pub jti: Uuid,
    pub typ: String,
    /// The session (refresh-token family) the token was issued in: an open WebSocket
    /// signed in with it closes when that session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// What a good access token says.
pub struct Verified {
    pub user_id: Uuid,
    /// Unix seconds.
    pub expires: u64,
    pub session: Option<Uuid>,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A fresh access token for a user, and its lifetime in seconds.
    pub fn issue(&self, user_id: Uuid) -> AppResult<(String, u64)> {
        self.issue_at(user_id, None, jsonwebtoken::get_current_timestamp())
    }

    /// `issue`, for a session (refresh-token family).
    pub fn issue_in(&self, user_id: Uuid, session: Uuid) -> AppResult<(String, u64)> {
        self.issue_at(
            user_id,
            Some(session),
            jsonwebtoken::get_current_timestamp(),
        )
    }

    fn issue_at(&self, user_id: Uuid, sid: Option<Uuid>, now: u64) -> AppResult<(String, u64)> {
        let claims = Claims {
            sub: user_id,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + ACCESS_TOKEN_TTL_SECS,
            jti: Uuid::now_v7(),
            typ: TOKEN_TYPE.into(),
            sid,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|err| anyhow::anyhow!("could not sign an access token: {err}"))?;
        Ok((token, ACCESS_TOKEN_TTL_SECS))
    }

    /// The user an access token was issued to, or `UNAUTHENTICATED`.
    pub fn verify(&self, token: &str) -> AppResult<Uuid> {
        self.verify_claims(token).map(|v| v.user_id)
    }

    /// What a good access token says, or `UNAUTHENTICATED`.
    pub fn verify_claims(&self, token: &str) -> AppResult<Verified> {
        let invalid = || AppError::Unauthenticated("invalid or expired access token".into());
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| invalid())?;
        let claims = data.claims;
        let now = jsonwebtoken::get_current_timestamp();
        // A token living longer than we ever issue was not issued by us as it is: with a
        // leaked secret, this still stops century-long tokens.
        let lifetime = claims.exp.saturating_sub(claims.iat);
        if claims.typ != TOKEN_TYPE
            || claims.iat > now + LEEWAY_SECS
            || lifetime > ACCESS_TOKEN_TTL_SECS + LEEWAY_SECS
        {
            return Err(invalid());
        }
        Ok(Verified {
            user_id: claims.sub,
            expires: claims.exp,
            session: claims.sid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret-test-secret-test-secret!!";

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn hs256(secret: &[u8], header: &str, claims: &serde_json::Value) -> String {
        use hmac::{KeyInit, Mac};
        let signing_input = format!(
            "{}.{}",
            b64(header.as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(signing_input.as_bytes());
        format!("{signing_input}.{}", b64(&mac.finalize().into_bytes()))
    }

    fn valid_claims(user: Uuid) -> serde_json::Value {
        let now = jsonwebtoken::get_current_timestamp();
        serde_json::json!({
            "sub": user, "iss": ISSUER, "aud": AUDIENCE, "iat": now,
            "exp": now + 600, "jti": Uuid::now_v7(), "typ": "access"
        })
    }

    #[test]
    fn issued_token_verifies_to_its_user() {
        let keys = JwtKeys::new(SECRET);
        let user = Uuid::now_v7();
        let (token, ttl) = keys.issue(user).unwrap();
        assert_eq!(ttl, 1800);
        assert_eq!(keys.verify(&token).unwrap(), user);
    }

    #[test]
    fn hand_signed_valid_token_is_accepted() {
        // Guards the attack tests below: they differ from this one in one thing each.
        let user = Uuid::now_v7();
        let token = hs256(
            SECRET,
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &valid_claims(user),
        );
        assert_eq!(JwtKeys::new(SECRET).verify(&token).unwrap(), user);
    }

    #[test]
    fn alg_none_is_refused() {
        let claims = valid_claims(Uuid::now_v7());
        let token = format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT"}"#),
            b64(claims.to_string().as_bytes())
        );
        assert!(JwtKeys::new(SECRET).verify(&token).is_err());
    }

    #[test]
    fn another_algorithm_is_refused() {
        let token = hs256(
            SECRET,
            r#"{"alg":"HS512","typ":"JWT"}"#,
            &valid_claims(Uuid::now_v7()),
        );
        assert!(JwtKeys::new(SECRET).verify(&token).is_err());
    }

    #[test]
    fn bad_signature_is_refused() {
        let token = hs256(
            b"another-secret-another-secret-12345",
            r#"{"alg":"HS256"}"#,
            &valid_claims(Uuid::now_v7()),
        );
        assert!(JwtKeys::new(SECRET).verify(&token).is_err());
        let (good, _) = JwtKeys::new(SECRET).issue(Uuid::now_v7()).unwrap();
        let tampered = format!("{}x", &good[..good.len() - 1]);
        assert!(JwtKeys::new(SECRET).verify(&tampered).is_err());
    }

    #[test]
    fn expired_token_is_refused() {
        let keys = JwtKeys::new(SECRET);
        let long_ago = jsonwebtoken::get_current_timestamp() - ACCESS_TOKEN_TTL_SECS - 3600;
        let (token, _) = keys.issue_at(Uuid::now_v7(), None, long_ago).unwrap();
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn wrong_issuer_audience_or_type_is_refused() {
        let user = Uuid::now_v7();
        for (field, value) in [
            ("iss", "someone-else"),
            ("aud", "another-api"),
            ("typ", "refresh"),
        ] {
            let mut claims = valid_claims(user);
            claims[field] = value.into();
            let token = hs256(SECRET, r#"{"alg":"HS256"}"#, &claims);
            assert!(JwtKeys::new(SECRET).verify(&token).is_err(), "{field}");
        }
    }

    #[test]
    fn missing_claims_are_refused() {
        for field in ["exp", "iat", "jti", "iss", "aud", "sub"] {
            let mut claims = valid_claims(Uuid::now_v7());
            claims.as_object_mut().unwrap().remove(field);
            let token = hs256(SECRET, r#"{"alg":"HS256"}"#, &claims);
            assert!(JwtKeys::new(SECRET).verify(&token).is_err(), "{field}");
        }
    }

    #[test]
    fn token_issued_in_the_future_is_refused() {
        let mut claims = valid_claims(Uuid::now_v7());
        claims["iat"] = (jsonwebtoken::get_current_timestamp() + 3600).into();
        let token = hs256(SECRET, r#"{"alg":"HS256"}"#, &claims);
        assert!(JwtKeys::new(SECRET).verify(&token).is_err());
    }

    #[test]
    fn token_living_longer_than_we_issue_is_refused() {
        let mut claims = valid_claims(Uuid::now_v7());
        let now = jsonwebtoken::get_current_timestamp();
        claims["exp"] = (now + 100 * 365 * 24 * 3600).into();
        let token = hs256(SECRET, r#"{"alg":"HS256"}"#, &claims);
        assert!(JwtKeys::new(SECRET).verify(&token).is_err());
        claims["exp"] = (now + ACCESS_TOKEN_TTL_SECS).into();
        let token = hs256(SECRET, r#"{"alg":"HS256"}"#, &claims);
        assert!(JwtKeys::new(SECRET).verify(&token).is_ok());
    }

    #[test]
    fn opaque_refresh_token_is_not_an_access_token() {
        let refresh = crate::auth::secrets::random_alphanumeric(48);
        assert!(JwtKeys::new(SECRET).verify(&refresh).is_err());
    }
}
