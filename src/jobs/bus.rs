//! The progress bus: workers publish `ProgressEvent`s, subscribers (GraphQL
//! subscriptions) receive them. In-process it is a broadcast channel; a slow receiver
//! lags and skips events rather than slowing the publisher.

use chrono::{DateTime, Utc};
use entity::{
    operations,
    states::{OperationStatus, Phase},
};
use fred::prelude::{EventInterface, PubsubInterface};
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

/// Where events go. Either way, subscribers read a local broadcast channel: on Redis, one
/// subscriber connection per process feeds it (not one per listener).
#[derive(Clone)]
pub enum ProgressBus {
    InProcess(broadcast::Sender<ProgressEvent>),
    Redis {
        local: broadcast::Sender<ProgressEvent>,
        client: fred::prelude::Client,
    },
}

const CHANNEL: &str = "organizer:progress";
const LOCAL_CAPACITY: usize = 4096;

impl ProgressBus {
    pub fn in_process() -> Self {
        Self::InProcess(broadcast::channel(LOCAL_CAPACITY).0)
    }

    /// Events through Redis pub/sub: every process's subscribers see every worker's events.
    pub async fn redis(url: &str, client: fred::prelude::Client) -> anyhow::Result<Self> {
        let local = broadcast::channel(LOCAL_CAPACITY).0;
        let subscriber = crate::redis::subscriber(url).await?;
        let feed = local.clone();
        tokio::spawn(async move {
            let mut messages = subscriber.message_rx();
            if let Err(err) = subscriber.subscribe(CHANNEL).await {
                // `manage_subscriptions` subscribes again once Redis is back.
                tracing::warn!(error = %err, "could not subscribe to progress events yet");
            }
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        let Some(text) = message.value.as_string() else {
                            continue;
                        };
                        match serde_json::from_str::<ProgressEvent>(&text) {
                            Ok(event) => {
                                let _ = feed.send(event);
                            }
                            Err(err) => tracing::warn!(error = %err, "unreadable progress event"),
                        }
                    }
                    // Listeners re-read the database when they miss events.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Ok(Self::Redis { local, client })
    }

    /// Sends an event to every subscriber of every process. Never waits on a slow
    /// listener; a lost event is made up for by the listeners' snapshots.
    pub fn publish(&self, event: ProgressEvent) {
        match self {
            // No receiver is fine: nobody is watching.
            Self::InProcess(tx) => {
                let _ = tx.send(event);
            }
            Self::Redis { local, client } => {
                let (local, client) = (local.clone(), client.clone());
                tokio::spawn(async move {
                    let payload = match serde_json::to_string(&event) {
                        Ok(payload) => payload,
                        Err(_) => return,
                    };
                    let sent: Result<i64, _> = client.publish(CHANNEL, payload).await;
                    if let Err(err) = sent {
                        // Redis is away: this process's own listeners still hear it.
                        tracing::debug!(error = %err, "progress event not published to Redis");
                        let _ = local.send(event);
                    }
                });
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ProgressEvent> {
        match self {
            Self::InProcess(tx) | Self::Redis { local: tx, .. } => tx.subscribe(),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::InProcess(_) => "in-process",
            Self::Redis { .. } => "redis",
        }
    }
}
