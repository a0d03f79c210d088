//! `AppState`: everything a request or a job needs, built once at start-up and cheap to
//! clone (every field is shared).

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{
        jwt::JwtKeys,
        rate_limit::RateLimiter,
        user_cache::{SessionCache, UserCache},
    },
    config::Config,
    db::Backend,
    engine::Engine,
    gate::Gate,
    jobs::{bus::ProgressBus, queue::JobQueue},
    storage::Storage,
};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub backend: Backend,
    pub keys: Arc<JwtKeys>,
    /// Signs and checks file links (`auth::links`).
    pub links: Arc<crate::auth::links::LinkKey>,
    /// Derives the refresh token a rotation hands out (`auth::rotation`).
    pub rotation: Arc<crate::auth::rotation::RotationKey>,
    pub limiter: Arc<RateLimiter>,
    /// Accounts read in the last second (`auth::user_cache`).
    pub users: Arc<UserCache>,
    /// Sessions found live in the last second (`auth::user_cache`).
    pub sessions: Arc<SessionCache>,
    /// Where mail goes (`mail`).
    pub outbox: Arc<crate::mail::Outbox>,
    pub config: Arc<Config>,
    pub storage: Storage,
    pub queue: JobQueue,
    pub bus: ProgressBus,
    /// Live subscriptions per user, across all of their connections.
    pub subscriptions: Gate<uuid::Uuid>,
    /// This process: its name (workers are `<name>-<n>`) and its stop signal.
    pub process: Arc<Process>,
}

/// This running process, as workers and leases know it.
pub struct Process {
    pub name: String,
    pub stopping: tokio::sync::watch::Sender<bool>,
}

impl Process {
    /// `<host>-<pid>-<random>`: unique among the processes of a deployment.
    pub fn new() -> Self {
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "organizer".into());
        let name = format!(
            "{host}-{}-{}",
            std::process::id(),
            &uuid::Uuid::now_v7().simple().to_string()[24..]
        );
        Self {
            name,
            stopping: tokio::sync::watch::channel(false).0,
        }
    }
}

impl Default for Process {
    fn default() -> Self {
        Self::new()
    }
}

impl AppState {
    /// The engine's share of the state, for workers.
    pub fn engine(&self) -> Engine {
        Engine {
            db: self.db.clone(),
            storage: self.storage.clone(),
            bus: self.bus.clone(),
            queue: self.queue.clone(),
            stop_after_files: self.config.fault_stop_after_files,
            stop_at: self.config.fault_stop_at,
            worker_id: self.process.name.clone(),
            lease: std::time::Duration::from_secs(self.config.lease_secs.max(1)),
            stopping: self.process.stopping.subscribe(),
            shutdown_grace: std::time::Duration::from_secs(self.config.shutdown_grace_secs),
            single_process: matches!(self.queue, crate::jobs::queue::JobQueue::InProcess(_)),
            search_follow_max: self.config.search_follow_max_moves,
        }
    }
}
