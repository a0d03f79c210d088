//! Rate limits for the sign-in mutations: fixed one-minute windows of attempts per key.
//! Keys name the client (`login:ip:<address or /64>`) or the account (`login:account:<id>`).
//! The in-process counter serves one process; the enum is where a shared (Redis) counter
//! joins for deployments with many API processes.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::error::{AppError, AppResult};

pub const WINDOW: Duration = Duration::from_secs(60);

pub enum RateLimiter {
    InProcess(InProcessLimiter),
}

impl RateLimiter {
    pub fn in_process() -> Self {
        Self::InProcess(InProcessLimiter::default())
    }

    /// Counts one attempt under `key`; `RATE_LIMITED` (with seconds to wait) once more
    /// than `limit` attempts fall in the current window.
    pub async fn hit(&self, key: &str, limit: u32) -> AppResult<()> {
        match self {
            Self::InProcess(limiter) => limiter.hit(key, limit, WINDOW, Instant::now()),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::InProcess(_) => "in-process",
        }
    }
}

/// Fixed windows shared by every key: all counts start together and are dropped
/// together when the window ends, so memory is what one window saw (at most `MAX_KEYS`
/// keys) and no hit ever walks the map.
#[derive(Default)]
pub struct InProcessLimiter {
    window: Mutex<Option<Window>>,
}

struct Window {
    started: Instant,
    counts: HashMap<String, u32>,
}

/// Keys one window holds; past it, new keys are refused until the window ends (an attack
/// from this many addresses at once is refused rather than allowed to grow memory).
const MAX_KEYS: usize = 100_000;

impl InProcessLimiter {
    fn hit(&self, key: &str, limit: u32, window: Duration, now: Instant) -> AppResult<()> {
        let mut current = self
            .window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let state = match current.as_mut() {
            Some(w) if now.duration_since(w.started) < window => w,
            _ => current.insert(Window {
                started: now,
                counts: HashMap::new(),
            }),
        };
        let left = window.saturating_sub(now.duration_since(state.started));
        let retry_after = (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1);
        if state.counts.len() >= MAX_KEYS && !state.counts.contains_key(key) {
            tracing::warn!("rate limiter full for this window: refusing new clients");
            return Err(AppError::RateLimited { retry_after });
        }
        let count = state.counts.entry(key.to_string()).or_insert(0);
        *count += 1;
        if *count > limit {
            return Err(AppError::RateLimited { retry_after });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_then_refuses_with_retry_after() {
        let limiter = InProcessLimiter::default();
        let start = Instant::now();
        for _ in 0..3 {
            limiter.hit("k", 3, WINDOW, start).unwrap();
        }
        let later = start + Duration::from_secs(20);
        match limiter.hit("k", 3, WINDOW, later) {
            Err(AppError::RateLimited { retry_after }) => assert_eq!(retry_after, 40),
            other => panic!("expected RATE_LIMITED, got {other:?}"),
        }
    }

    #[test]
    fn keys_are_counted_apart() {
        let limiter = InProcessLimiter::default();
        let now = Instant::now();
        limiter.hit("login:ip:1", 1, WINDOW, now).unwrap();
        limiter.hit("signup:ip:1", 1, WINDOW, now).unwrap();
        assert!(limiter.hit("login:ip:1", 1, WINDOW, now).is_err());
    }

    #[test]
    fn a_new_window_starts_fresh() {
        let limiter = InProcessLimiter::default();
        let start = Instant::now();
        limiter.hit("k", 1, WINDOW, start).unwrap();
        assert!(limiter.hit("k", 1, WINDOW, start).is_err());
        limiter.hit("k", 1, WINDOW, start + WINDOW).unwrap();
    }
}
