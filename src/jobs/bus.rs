//! The progress bus: workers publish `ProgressEvent`s, subscribers (GraphQL
//! subscriptions) receive them. In-process it is a broadcast channel; a slow receiver
//! lags and skips events rather than slowing the publisher.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

/// A snapshot of one operation's progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProgressEvent {
    pub operation_id: Uuid,
    pub user_id: Uuid,
    pub status: String,
    pub phase: String,
    pub files_total: Option<i64>,
    pub files_scanned: i64,
    pub files_processed: i64,
    pub files_skipped: i64,
    pub duplicates_found: i64,
    pub space_saved_bytes: i64,
    pub message: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl ProgressEvent {
    pub fn is_terminal(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "cancelled")
    }
}

#[derive(Clone)]
pub enum ProgressBus {
    InProcess(broadcast::Sender<ProgressEvent>),
}

impl ProgressBus {
    pub fn in_process() -> Self {
        Self::InProcess(broadcast::channel(4096).0)
    }

    pub fn publish(&self, event: ProgressEvent) {
        match self {
            // No receiver is fine: nobody is watching.
            Self::InProcess(tx) => {
                let _ = tx.send(event);
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ProgressEvent> {
        match self {
            Self::InProcess(tx) => tx.subscribe(),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::InProcess(_) => "in-process",
        }
    }
}
