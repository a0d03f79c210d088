//! The progress bus: workers publish `ProgressEvent`s, subscribers (GraphQL
//! subscriptions) receive them. In-process it is a broadcast channel; a slow receiver
//! lags and skips events rather than slowing the publisher.

use chrono::{DateTime, Utc};
use entity::{
    operations,
    states::{OperationStatus, Phase},
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

/// A snapshot of one operation's progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProgressEvent {
    pub operation_id: Uuid,
    pub user_id: Uuid,
    pub status: OperationStatus,
    pub phase: Phase,
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
    /// The event that describes an operation row, with a message for this moment (the
    /// row's own error message otherwise).
    pub fn of(op: &operations::Model, message: Option<String>) -> Self {
        Self {
            operation_id: op.id,
            user_id: op.user_id,
            status: op.status,
            phase: op.phase,
            files_total: op.files_total,
            files_scanned: op.files_scanned,
            files_processed: op.files_processed,
            files_skipped: op.files_skipped,
            duplicates_found: op.duplicates_found,
            space_saved_bytes: op.space_saved_bytes,
            message: message.or_else(|| op.error_message.clone()),
            updated_at: Utc::now(),
        }
    }

    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }
}

impl From<&operations::Model> for ProgressEvent {
    fn from(op: &operations::Model) -> Self {
        Self::of(op, None)
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
