//! The progress bus: workers publish `ProgressEvent`s, subscribers (GraphQL
//! subscriptions) receive them. In-process it is a broadcast channel; a slow receiver
//! lags and skips events rather than slowing the publisher.

use chrono::{DateTime, Utc};
use entity::{
    operations,
    states::{OperationStatus, OperationType, Phase},
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
    /// What the worker running it knows beyond the row (absent from a snapshot).
    #[serde(default)]
    pub work: Work,
    /// 0–100 across the whole operation; `None` until something to measure against is
    /// known.
    #[serde(default)]
    pub percent: Option<f64>,
    /// A dry run: its files are planned, never done.
    #[serde(default)]
    pub dry_run: bool,
    /// Files per second through the current phase and seconds left for the whole
    /// operation, measured once by the engine running it (`engine::pace`); `None` in a
    /// snapshot read from the database and until the engine has seen work move.
    #[serde(default)]
    pub files_per_second: Option<f64>,
    #[serde(default)]
    pub seconds_left: Option<i64>,
}

/// Progress only the worker running an operation knows: not kept in its row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Work {
    /// Files the scan will come to (counted before it starts, on local folders), or
    /// records a copy will write.
    pub expected: Option<i64>,
    /// Hashing steps, two per candidate of a duplicate scan (its first block, then its whole
    /// file or the finding that it needs none), and those done.
    pub to_hash: i64,
    pub hashed: i64,
}

/// How far along an operation is, 0–100: planning (scan, hashing) and moving each weigh
/// their usual share of its time (measured on local folders with the bench harness), the
/// current phase by the part of it done. `None` while nothing tells how far the current
/// phase has to go (a scan on an object store, before its end).
pub fn percent(op: &operations::Model, work: Work) -> Option<f64> {
    if op.status == OperationStatus::Completed {
        return Some(100.0);
    }
    let (scan, hash) = match (op.operation_type, op.is_dry_run) {
        _ if op.plan_of.is_some() => (0.25, 0.0),
        (OperationType::Rollback, _) => (0.2, 0.0),
        (OperationType::Organize, true) => (1.0, 0.0),
        (OperationType::Organize, false) => (0.35, 0.0),
        (OperationType::DuplicateCleanup, true) => (0.1, 0.9),
        (OperationType::DuplicateCleanup, false) => (0.08, 0.77),
    };
    let moving = 1.0 - scan - hash;
    let part = |done: i64, total: Option<i64>| match total {
        Some(total) if total > 0 => Some((done as f64 / total as f64).clamp(0.0, 1.0)),
        Some(_) => Some(1.0),
        None => None,
    };
    let moved = part(op.files_processed + op.files_skipped, op.files_total);
    let done = match op.phase {
        Phase::Queued => None,
        Phase::Scanning => part(op.files_scanned, work.expected).map(|f| scan * f),
        Phase::Hashing => part(work.hashed, Some(work.to_hash)).map(|f| scan + hash * f),
        // A run that ended otherwise than completed stays where its moves got to.
        Phase::Moving | Phase::Done => moved.map(|f| scan + hash + moving * f),
        Phase::Finishing => Some(1.0),
    }?;
    Some((done * 100.0).clamp(0.0, 100.0))
}

impl ProgressEvent {
    /// The event that describes an operation row, with a message for this moment (the
    /// row's own error message otherwise).
    pub fn of(op: &operations::Model, message: Option<String>) -> Self {
        Self::with_work(op, Work::default(), message)
    }

    /// `of`, with what the running worker knows beyond the row.
    pub fn with_work(op: &operations::Model, work: Work, message: Option<String>) -> Self {
        Self {
            work,
            percent: percent(op, work),
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
            dry_run: op.is_dry_run,
            files_per_second: None,
            seconds_left: None,
        }
    }

    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }
}

/// The event a stored row says: timed when the row was written, not when it was read, so
/// a snapshot read after newer live events never looks newer than they are (a client
/// that keeps the latest event by `updatedAt` would otherwise drop the terminal event
/// that follows a snapshot read just before it).
impl From<&operations::Model> for ProgressEvent {
    fn from(op: &operations::Model) -> Self {
        let mut event = Self {
            updated_at: op.updated_at,
            ..Self::of(op, None)
        };
        // What the engine measured at its last write, while the operation runs.
        if !op.status.is_terminal() {
            event.percent = match (event.percent, op.percent) {
                (Some(now), Some(kept)) => Some(now.max(kept)),
                (now, kept) => now.or(kept),
            };
            event.files_per_second = op.files_per_second;
            event.seconds_left = op.seconds_left;
        }
        event
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

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: OperationType, dry_run: bool) -> operations::Model {
        operations::Model {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            operation_type: kind,
            status: OperationStatus::Running,
            phase: Phase::Queued,
            root_path: String::new(),
            is_dry_run: dry_run,
            files_total: None,
            files_scanned: 0,
            files_processed: 0,
            files_skipped: 0,
            duplicates_found: 0,
            space_saved_bytes: 0,
            error_message: None,
            metadata: serde_json::json!({}),
            cancel_requested: false,
            rollback_of: None,
            plan_of: None,
            trash_purged_at: None,
            lease_owner: None,
            lease_expires_at: None,
            moves_reach_seq: None,
            lease_epoch: 0,
            percent: None,
            files_per_second: None,
            seconds_left: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            started_at: None,
            completed_at: None,
        }
    }

    #[test]
    fn percent_moves_through_every_phase_of_an_organize() {
        let mut op = op(OperationType::Organize, false);
        let mut work = Work::default();
        assert_eq!(percent(&op, work), None, "queued: nothing to measure");
        op.phase = Phase::Scanning;
        op.files_scanned = 500;
        assert_eq!(percent(&op, work), None, "a scan of unknown size");
        work.expected = Some(1000);
        let scanning = percent(&op, work).unwrap();
        assert!((17.0..18.0).contains(&scanning), "{scanning}");
        op.phase = Phase::Moving;
        op.files_total = Some(1000);
        op.files_processed = 500;
        let moving = percent(&op, work).unwrap();
        assert!(moving > 35.0 && moving < 100.0, "{moving}");
        op.status = OperationStatus::Completed;
        assert_eq!(percent(&op, work), Some(100.0));
    }

    #[test]
    fn a_duplicate_search_spends_most_of_its_percent_hashing() {
        let mut op = op(OperationType::DuplicateCleanup, true);
        let mut work = Work {
            expected: Some(10),
            ..Default::default()
        };
        op.phase = Phase::Scanning;
        op.files_scanned = 10;
        let scanned = percent(&op, work).unwrap();
        assert!((scanned - 10.0).abs() < 1e-9, "{scanned}");
        op.phase = Phase::Hashing;
        work.to_hash = 4;
        work.hashed = 2;
        let hashing = percent(&op, work).unwrap();
        assert!((hashing - 55.0).abs() < 1e-9, "{hashing}");
    }
}
