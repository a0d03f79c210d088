//! Random secrets (refresh tokens, API keys) and the SHA-256 under which they are stored.
//! They carry ~238 bits of entropy, so a fast hash is enough: nobody can guess one.

use rand::{Rng, distr::Alphanumeric};
use sha2::{Digest, Sha256};

/// `len` random letters and digits from the thread's CSPRNG.
pub fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A key of its own for one use of the server secret: SHA-256 of `label` then `secret`,
/// so that a signature made for one use is never valid for another.
pub fn derive_key(label: &[u8], secret: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(label);
    hash.update(secret);
    hash.finalize().into()
}

/// Lower-case hex SHA-256 of a secret, as stored in the database.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_secrets_differ_and_have_the_asked_length() {
        let a = random_alphanumeric(40);
        let b = random_alphanumeric(40);
        assert_eq!(a.len(), 40);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn sha256_matches_the_known_vector() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
