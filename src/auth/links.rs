//! Signed links to a file: a short-lived URL that an `<img>`, a `<video>` or a download
//! can use without a token in it. The signature (HMAC-SHA256 under a key derived from the
//! server's secret) covers the user, the path, the expiry and whether it may be shown
//! inline, so none of them can be changed; a link lives at most `LINK_TTL_SECS`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// How long a link works.
pub const LINK_TTL_SECS: i64 = 5 * 60;

/// What a link grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub user_id: Uuid,
    /// Normalized, relative to the user's space.
    pub path: String,
    /// Unix seconds.
    pub expires: i64,
    pub inline: bool,
}

pub struct LinkKey([u8; 32]);

impl LinkKey {
    /// A key of its own, derived from the server secret: a link signature is never a
    /// valid token signature, nor the other way round.
    pub fn derive(secret: &[u8]) -> Self {
        Self(super::secrets::derive_key(
            b"organizer file links v1\0",
            secret,
        ))
    }

    fn mac(&self, link: &Link) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("any key length");
        // Fields separated by NUL, which no path or number holds.
        mac.update(link.user_id.as_bytes());
        mac.update(b"\0");
        mac.update(link.path.as_bytes());
        mac.update(b"\0");
        mac.update(link.expires.to_string().as_bytes());
        mac.update(if link.inline {
            b"\0inline"
        } else {
            b"\0attach"
        });
        mac
    }

    pub fn sign(&self, link: &Link) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(link).finalize().into_bytes())
    }

    /// Whether `signature` is this key's for `link` (compared in constant time) and the
    /// link is still good at `now`, and was not made to last longer than links may.
    pub fn verify(&self, link: &Link, signature: &str, now: i64) -> bool {
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let fresh = now <= link.expires && link.expires <= now + LINK_TTL_SECS + 60;
        fresh && self.mac(link).verify_slice(&signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_good_until_it_expires_and_only_as_signed() {
        let key = LinkKey::derive(b"secret");
        let link = Link {
            user_id: Uuid::now_v7(),
            path: "photos/cat.jpg".into(),
            expires: 1_000 + LINK_TTL_SECS,
            inline: false,
        };
        let sig = key.sign(&link);
        assert!(key.verify(&link, &sig, 1_000));
        assert!(!key.verify(&link, &sig, 1_001 + LINK_TTL_SECS), "expired");
        assert!(!LinkKey::derive(b"other").verify(&link, &sig, 1_000));
        let forever = Link {
            expires: 1_000_000,
            ..link.clone()
        };
        assert!(
            !key.verify(&forever, &key.sign(&forever), 1_000),
            "too long a life"
        );
        for changed in [
            Link {
                path: "photos/dog.jpg".into(),
                ..link.clone()
            },
            Link {
                user_id: Uuid::now_v7(),
                ..link.clone()
            },
            Link {
                inline: true,
                ..link.clone()
            },
            Link {
                expires: link.expires + 1,
                ..link
            },
        ] {
            assert!(!key.verify(&changed, &sig, 1_000), "{changed:?}");
        }
    }
}
