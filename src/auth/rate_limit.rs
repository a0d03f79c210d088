//! Rate limits for the sign-in mutations: fixed one-minute windows of attempts per key.
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

#[derive(Default)]
pub struct InProcessLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Above this many keys, expired windows are swept so the map cannot grow without bound.
const SWEEP_ABOVE: usize = 10_000;

impl InProcessLimiter {
    fn hit(&self, key: &str, limit: u32, window: Duration, now: Instant) -> AppResult<()> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            let left = window.saturating_sub(now.duration_since(entry.0));
            let retry_after = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            return Err(AppError::RateLimited {
                retry_after: retry_after.max(1),
            });
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
