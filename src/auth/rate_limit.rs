//! Rate limits for the sign-in mutations: fixed one-minute windows of attempts per key.
//! Keys name the client (`login:ip:<address or /64>`) or the account (`login:account:<id>`).
//! The in-process counter serves one process; with Redis, every API process shares one
//! counter per key (an atomic script: `docs/decisions/0007-rate-limits-in-redis.md`).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::error::{AppError, AppResult};

pub const WINDOW: Duration = Duration::from_secs(60);

pub enum RateLimiter {
    InProcess(InProcessLimiter),
    /// Shared by all processes; the in-process counter stands in while Redis is away.
    Redis {
        client: fred::prelude::Client,
        fallback: InProcessLimiter,
    },
}

/// One fixed window per key: the first hit starts it (and its expiry), every hit counts.
/// Returns the count and the milliseconds left in the window. Atomic in Redis.
const FIXED_WINDOW: &str = r#"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"#;

impl RateLimiter {
    pub fn in_process() -> Self {
        Self::InProcess(InProcessLimiter::default())
    }

    pub fn redis(client: fred::prelude::Client) -> Self {
        Self::Redis {
            client,
            fallback: InProcessLimiter::default(),
        }
    }

    /// Counts one attempt under `key`; `RATE_LIMITED` (with seconds to wait) once more
    /// than `limit` attempts fall in the current window.
    pub async fn hit(&self, key: &str, limit: u32) -> AppResult<()> {
        match self {
            Self::InProcess(limiter) => limiter.hit(key, limit, WINDOW, Instant::now()),
            Self::Redis { client, fallback } => {
                use fred::prelude::LuaInterface;
                let counted: Result<(i64, i64), _> = client
                    .eval(
                        FIXED_WINDOW,
                        format!("organizer:rate:{key}"),
                        WINDOW.as_millis() as i64,
                    )
                    .await;
                match counted {
                    Ok((count, ttl_ms)) if count > i64::from(limit) => Err(AppError::RateLimited {
                        retry_after: (ttl_ms.max(1) as u64).div_ceil(1000),
                    }),
                    Ok(_) => Ok(()),
                    Err(err) => {
                        tracing::warn!(error = %err, "rate limit counter unavailable in Redis; counting in this process");
                        fallback.hit(key, limit, WINDOW, Instant::now())
                    }
                }
            }
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::InProcess(_) => "in-process",
            Self::Redis { .. } => "redis",
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
