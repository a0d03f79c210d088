//! `AppState`: everything a request or a job needs, built once at start-up and cheap to
//! clone (every field is shared).

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{jwt::JwtKeys, rate_limit::RateLimiter},
    config::Config,
    db::Backend,
    engine::Engine,
    jobs::{bus::ProgressBus, queue::JobQueue},
    storage::Storage,
};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub backend: Backend,
    pub keys: Arc<JwtKeys>,
    pub limiter: Arc<RateLimiter>,
    pub config: Arc<Config>,
    pub storage: Storage,
    pub queue: JobQueue,
    pub bus: ProgressBus,
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
        }
    }
}
