//! Password hashing with argon2id at OWASP's parameters (the `argon2` crate's defaults:
//! 19 MiB, 2 passes, 1 lane). Each hash takes tens of milliseconds of CPU and 19 MiB, so it
//! runs on the blocking pool, and a semaphore bounds how many run at once: a burst of
//! logins queues here instead of starving the async runtime or the memory.

use std::sync::LazyLock;

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

static HASHING_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Semaphore::new(cores * 2)
});

/// A hash of a password nobody has, verified when the login names no account so that
/// unknown and known accounts take the same time to refuse.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_blocking("organizer-dummy-password-for-timing").expect("hashing a constant works")
});

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| anyhow::anyhow!("argon2 hashing failed: {err}"))
}

async fn run_limited<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let _slot = HASHING_SLOTS
        .acquire()
        .await
        .context("hashing semaphore closed")?;
    tokio::task::spawn_blocking(work)
        .await
        .context("password hashing task panicked")
        .map_err(AppError::from)
}

/// Hashes a new password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub async fn hash(password: String) -> AppResult<String> {
    Ok(run_limited(move || hash_blocking(&password)).await??)
}

/// The signed-in person's password, given again to confirm a change to the account:
/// `BAD_USER_INPUT` naming `field` when it is not right (one that no password could be,
/// by its length, is not hashed at all).
pub async fn confirm(presented: String, stored: &str, field: &str) -> AppResult<()> {
    if presented.len() > crate::auth::validation::PASSWORD_MAX * 4
        || !verify(presented, Some(stored.to_string())).await?
    {
        return Err(crate::error::AppError::bad_input(
            field,
            "the password is not right",
        ));
    }
    Ok(())
}

/// Checks a password against a stored hash, or against a dummy when there is none.
/// A malformed stored hash counts as a mismatch (and is logged).
pub async fn verify(password: String, stored: Option<String>) -> AppResult<bool> {
    run_limited(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        match Argon2::default().verify_password(password.as_bytes(), hash.as_str()) {
            Ok(()) => known,
            Err(argon2::password_hash::Error::PasswordInvalid) => false,
            Err(err) => {
                tracing::error!(error = %err, "stored password hash could not be verified");
                false
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_at_owasp_parameters() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[tokio::test]
    async fn verifies_the_right_password_only() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(
            verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify("correct horse batterY".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!verify(String::new(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn same_password_gets_a_fresh_salt_each_time() {
        let a = hash("same password".into()).await.unwrap();
        let b = hash("same password".into()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn no_stored_hash_never_verifies() {
        assert!(
            !verify("organizer-dummy-password-for-timing".into(), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn malformed_hash_is_a_mismatch_not_a_crash() {
        assert!(
            !verify("x".into(), Some("not-a-phc-string".into()))
                .await
                .unwrap()
        );
    }
}
