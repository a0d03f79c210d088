//! The refresh token a rotation hands out is derived from the rotated token's id and its
//! successor's id under a key of its own (from the server secret), never stored in the
//! clear: when a reply is lost and the previous token comes back within the grace window,
//! the same successor can be handed out again instead of ending the session.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

pub struct RotationKey([u8; 32]);

impl RotationKey {
    /// A key of its own: a successor is never a link signature or a token signature.
    pub fn derive(secret: &[u8]) -> Self {
        Self(super::secrets::derive_key(
            b"organizer refresh rotation v1\0",
            secret,
        ))
    }

    /// The successor of token `rotated`, whose row is `successor` (64 hex digits, 256 bits).
    pub fn successor(&self, rotated: Uuid, successor: Uuid) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("any key length");
        mac.update(rotated.as_bytes());
        mac.update(successor.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successor_is_the_same_for_the_same_rotation_only() {
        let key = RotationKey::derive(b"secret");
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(key.successor(a, b), key.successor(a, b));
        assert_ne!(key.successor(a, b), key.successor(b, a));
        assert_ne!(
            key.successor(a, b),
            RotationKey::derive(b"other").successor(a, b)
        );
        assert_eq!(key.successor(a, b).len(), 64);
    }
}
