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
use std::sync::Arc;

use tokio::sync::broadcast;
use uuid::Uuid;

use super::hub::Hub;

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
    /// 0–100 across the whole operation; `None` until something to measure against is
    /// known.
    #[serde(default)]
    pub percent: Option<f64>,
    /// The work of the current phase done, and in all (`None` while unknown).
    #[serde(default)]
    pub phase_done: Option<i64>,
    #[serde(default)]
    pub phase_total: Option<i64>,
    /// A dry run: its files are planned, never done.
    #[serde(default)]
    pub dry_run: bool,
    /// Files per second through the current phase and seconds left for the whole
    /// operation, measured once by the engine running it (`engine::pace`); `None` until
    /// the engine has seen work move.
    #[serde(default)]
    pub files_per_second: Option<f64>,
    #[serde(default)]
    pub seconds_left: Option<i64>,
}

impl ProgressEvent {
    /// The event that says an operation row, with a message for this moment (the row's
    /// own error message otherwise). Every figure is the row's, as the engine measured
    /// it (`engine::progress`): nothing is computed again here. It is timed when the row
    /// was written, not when it was read, so a snapshot read after newer live events
    /// never looks newer than they are.
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
            updated_at: op.updated_at,
            percent: op.percent,
            phase_done: op.phase_done,
            phase_total: op.phase_total,
            dry_run: op.is_dry_run,
            files_per_second: op.files_per_second,
            seconds_left: op.seconds_left,
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

/// Where events go. Either way, listeners read this process's `Hub` (a channel per
/// user): on Redis, one subscriber connection per process feeds it (not one per listener).
#[derive(Clone)]
pub enum ProgressBus {
    InProcess(Arc<Hub>),
    Redis {
        hub: Arc<Hub>,
        client: fred::prelude::Client,
    },
}

const CHANNEL: &str = "organizer:progress";
/// Carries the id of a user whose credentials changed.
const CREDENTIALS_CHANNEL: &str = "organizer:credentials";

impl ProgressBus {
    pub fn in_process() -> Self {
        Self::InProcess(Arc::default())
    }

    /// Events through Redis pub/sub: every process's listeners see every worker's events.
    pub async fn redis(url: &str, client: fred::prelude::Client) -> anyhow::Result<Self> {
        let hub: Arc<Hub> = Arc::default();
        let subscriber = crate::redis::subscriber(url).await?;
        let feed = Arc::downgrade(&hub);
        tokio::spawn(async move {
            let mut messages = subscriber.message_rx();
            if let Err(err) = subscriber
                .subscribe(vec![CHANNEL, CREDENTIALS_CHANNEL])
                .await
            {
                // `manage_subscriptions` subscribes again once Redis is back.
                tracing::warn!(error = %err, "could not subscribe to progress events yet");
            }
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        let Some(hub) = feed.upgrade() else { break };
                        let Some(text) = message.value.as_string() else {
                            continue;
                        };
                        if &*message.channel == CREDENTIALS_CHANNEL {
                            match text.parse::<Uuid>() {
                                Ok(user_id) => hub.credentials_changed(user_id),
                                Err(_) => tracing::warn!("unreadable credentials notice"),
                            }
                            continue;
                        }
                        match serde_json::from_str::<ProgressEvent>(&text) {
                            Ok(event) => hub.dispatch(event),
                            Err(err) => tracing::warn!(error = %err, "unreadable progress event"),
                        }
                    }
                    // Listeners re-read the database when they miss events.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Ok(Self::Redis { hub, client })
    }

    pub fn hub(&self) -> &Arc<Hub> {
        match self {
            Self::InProcess(hub) | Self::Redis { hub, .. } => hub,
        }
    }

    /// Sends an event to every listener of its user, in every process. Never waits on a
    /// slow listener; a lost event is made up for by the hub's re-read.
    pub fn publish(&self, event: ProgressEvent) {
        match self {
            Self::InProcess(hub) => hub.dispatch(event),
            Self::Redis { hub, client } => {
                let (hub, client) = (hub.clone(), client.clone());
                tokio::spawn(async move {
                    let payload = match serde_json::to_string(&event) {
                        Ok(payload) => payload,
                        Err(_) => return,
                    };
                    let sent: Result<i64, _> = client.publish(CHANNEL, payload).await;
                    if let Err(err) = sent {
                        // Redis is away: this process's own listeners still hear it.
                        tracing::debug!(error = %err, "progress event not published to Redis");
                        hub.dispatch(event);
                    }
                });
            }
        }
    }

    /// Tells every process that a user's credentials changed (a key revoked, a session
    /// ended, the account disabled): their open connections check theirs again.
    pub async fn credentials_changed(&self, user_id: Uuid) {
        match self {
            Self::InProcess(hub) => hub.credentials_changed(user_id),
            Self::Redis { hub, client } => {
                let sent: Result<i64, _> = client
                    .publish(CREDENTIALS_CHANNEL, user_id.to_string())
                    .await;
                if sent.is_err() {
                    // Other processes' connections notice at their next periodic check.
                    hub.credentials_changed(user_id);
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
