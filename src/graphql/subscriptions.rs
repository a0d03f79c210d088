//! Live progress: `operationProgress(id)` and `operationEvents`.
//!
//! A subscriber joins the progress bus *before* reading the snapshot from the database,
//! so no event can fall between the two. The bus drops events for a receiver that falls
//! behind (it never slows a worker); a lagging subscriber re-reads from the database
//! instead (its operation, or every operation of the caller's changed since it was last
//! caught up), so it skips intermediate states but never misses the end.

use async_graphql::{Context, ErrorExtensions, ID, Result, ResultExt, SimpleObject, Subscription};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::{
    error::AppError,
    gate::Slot,
    graphql::{
        context,
        operations::{OperationPhase, OperationStatus},
        scalars::{BigInt, DateTime, count},
    },
    jobs::{
        bus::ProgressEvent,
        hub::{Listener, UserEvent, Watch, same_progress},
    },
    operations::queries,
    state::AppState,
};

/// Where an operation stands.
#[derive(SimpleObject, Clone)]
pub struct OperationProgress {
    pub operation_id: ID,
    pub status: OperationStatus,
    pub phase: OperationPhase,
    /// A dry run: its files are planned, never done.
    pub dry_run: bool,
    /// Files to act on; null until known.
    pub files_total: Option<i32>,
    pub files_scanned: i32,
    pub files_processed: i32,
    pub files_skipped: i32,
    pub duplicates_found: i32,
    pub space_saved_bytes: BigInt,
    /// 0–100 across the whole operation, one decimal; null until something to measure
    /// against is known. Never goes down within a run.
    pub percent: Option<f64>,
    /// The work of the current phase done, and in all (files scanned of those counted,
    /// hashing steps, files moved or skipped of those planned); null while unknown.
    pub phase_done: Option<i32>,
    pub phase_total: Option<i32>,
    pub message: Option<String>,
    pub updated_at: DateTime,
    /// Files per second through the current phase (scanned, hashed, or moved and
    /// skipped), measured by the engine running it; null until work has moved.
    pub files_per_second: Option<f64>,
    /// Seconds left for the whole operation, from how fast `percent` moves in this
    /// phase (measured by the engine); null until it has moved.
    pub seconds_left: Option<i32>,
}

/// An event as the API shows it: the engine's own figures, unchanged.
impl From<&ProgressEvent> for OperationProgress {
    fn from(event: &ProgressEvent) -> Self {
        Self {
            operation_id: ID(event.operation_id.to_string()),
            status: OperationStatus::from(event.status),
            phase: event.phase.into(),
            dry_run: event.dry_run,
            files_total: event.files_total.map(count),
            files_scanned: count(event.files_scanned),
            files_processed: count(event.files_processed),
            files_skipped: count(event.files_skipped),
            duplicates_found: count(event.duplicates_found),
            space_saved_bytes: BigInt(event.space_saved_bytes),
            percent: event.percent,
            phase_done: event.phase_done.map(count),
            phase_total: event.phase_total.map(count),
            message: event.message.clone(),
            updated_at: event.updated_at.into(),
            files_per_second: event.files_per_second,
            seconds_left: event.seconds_left.map(count),
        }
    }
}

/// Whether `event` says nothing newer than `last`, the event a listener got before: the
/// same counters again, or an older state read back from the database after newer live
/// events (a listener that fell behind). An ending is always news.
fn stale(last: &ProgressEvent, event: &ProgressEvent) -> bool {
    !event.is_terminal() && (same_progress(last, event) || event.updated_at < last.updated_at)
}

async fn snapshot(state: &AppState, user_id: Uuid, id: Uuid) -> Option<ProgressEvent> {
    match queries::get(state, user_id, id).await {
        Ok(Some(op)) => Some(ProgressEvent::from(&op)),
        Ok(None) => None,
        Err(err) => {
            tracing::error!(error = %err, operation_id = %id, "could not read an operation for a subscriber");
            None
        }
    }
}

struct Follow {
    state: AppState,
    user_id: Uuid,
    id: Uuid,
    listener: Listener,
    /// Keeps the operation among those the hub re-reads while it is quiet.
    _watch: Watch,
    _slot: Live,
    first: Option<ProgressEvent>,
    /// The last event sent, so a re-read that shows nothing new sends nothing.
    last: Option<ProgressEvent>,
    done: bool,
}

/// The snapshot, then this operation's events, ending right after the terminal one. A
/// quiet operation costs its listeners nothing: the hub re-reads it for all of them.
fn follow(follow: Follow) -> impl Stream<Item = OperationProgress> {
    futures::stream::unfold(follow, |mut f| async move {
        if f.done {
            return None;
        }
        let event = match f.first.take() {
            Some(first) => first,
            None => loop {
                let event = match f.listener.rx.recv().await {
                    Ok(UserEvent::Progress(event)) if event.operation_id == f.id => {
                        std::sync::Arc::unwrap_or_clone(event)
                    }
                    Ok(_) => continue,
                    // Fell behind its user's own events: the newest the hub heard, or
                    // the database.
                    Err(RecvError::Lagged(_)) => match f.state.bus.hub().latest(f.id) {
                        Some(event) => event,
                        None => match snapshot(&f.state, f.user_id, f.id).await {
                            Some(event) => event,
                            None => return None,
                        },
                    },
                    Err(RecvError::Closed) => return None,
                };
                if f.last.as_ref().is_some_and(|last| stale(last, &event)) {
                    continue;
                }
                break event;
            },
        };
        f.done = event.is_terminal();
        let shown = OperationProgress::from(&event);
        f.last = Some(event);
        Some((shown, f))
    })
}

/// How far back a listener that fell behind re-reads: past the last moment it knew it
/// was caught up, by enough to cover an event published a little after its row was
/// written, or by a process whose clock is a little behind.
const CATCH_UP_SLACK: chrono::Duration = chrono::Duration::seconds(10);
/// Operations re-read at most, per time a listener falls behind.
const CATCH_UP_LIMIT: u64 = 100;

/// Every event of the user's operations; when the listener has dropped events, the
/// current state of each of the user's operations changed since it was last caught up,
/// from the database.
pub fn user_events(
    state: AppState,
    user_id: Uuid,
    listener: Listener,
) -> impl Stream<Item = ProgressEvent> {
    struct Listen {
        state: AppState,
        user_id: Uuid,
        listener: Listener,
        re_read: std::collections::VecDeque<ProgressEvent>,
        caught_up_at: chrono::DateTime<chrono::Utc>,
    }
    let listen = Listen {
        state,
        user_id,
        listener,
        re_read: Default::default(),
        caught_up_at: chrono::Utc::now(),
    };
    futures::stream::unfold(listen, |mut l| async move {
        loop {
            if let Some(event) = l.re_read.pop_front() {
                return Some((event, l));
            }
            match l.listener.rx.recv().await {
                Ok(UserEvent::Progress(event)) => {
                    l.caught_up_at = chrono::Utc::now();
                    return Some((std::sync::Arc::unwrap_or_clone(event), l));
                }
                Ok(UserEvent::CredentialsChanged) => {}
                Err(RecvError::Lagged(_)) => {
                    let since = l.caught_up_at - CATCH_UP_SLACK;
                    l.caught_up_at = chrono::Utc::now();
                    match queries::changed_since(&l.state, l.user_id, since, CATCH_UP_LIMIT).await {
                        Ok(ops) => l.re_read.extend(ops.iter().map(ProgressEvent::from)),
                        Err(err) => {
                            tracing::error!(error = %err, "could not re-read operations for a listener")
                        }
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// A live subscription's place among its account's, counted in the metrics while held.
struct Live {
    _slot: Slot<Uuid>,
}

impl Live {
    fn new(slot: Slot<Uuid>) -> Self {
        metrics::gauge!(crate::metrics::SUBSCRIPTIONS).increment(1.0);
        Self { _slot: slot }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        metrics::gauge!(crate::metrics::SUBSCRIPTIONS).decrement(1.0);
    }
}

/// A place among the caller's live subscriptions (across all of their connections), or
/// `RATE_LIMITED` when they hold as many as they may.
fn subscription_slot(state: &AppState, user_id: Uuid) -> Result<Live> {
    state
        .subscriptions
        .try_enter(user_id)
        .map(Live::new)
        .ok_or_else(|| {
            AppError::RateLimited { retry_after: 1 }.extend_with(|_, e| {
                e.set(
                    "reason",
                    format!(
                        "at most {} live subscriptions per account: stop one first",
                        state.config.max_subscriptions_per_user
                    ),
                )
            })
        })
}

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// One of your operations: its current state first, then every change (at most about
    /// ten a second), ending right after it completes, fails or is cancelled.
    async fn operation_progress(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = OperationProgress> + use<>> {
        let caller = context::caller(ctx).await?;
        let state = context::state(ctx).clone();
        let not_found = || AppError::NotFound("operation");
        let id = crate::graphql::ids::parse_id("id", &id).extend()?;
        let slot = subscription_slot(&state, caller.user_id())?;
        // Listening starts before the snapshot is read, so no event falls between.
        let listener = state.bus.hub().listen(caller.user_id());
        let first = snapshot(&state, caller.user_id(), id)
            .await
            .ok_or_else(not_found)
            .extend()?;
        let watch = state.bus.hub().watch(id, caller.user_id());
        Ok(follow(Follow {
            state,
            user_id: caller.user_id(),
            id,
            listener,
            _watch: watch,
            _slot: slot,
            first: Some(first),
            last: None,
            done: false,
        }))
    }

    /// Every change to any of your operations, including ones started after subscribing.
    async fn operation_events(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = OperationProgress> + use<>> {
        let caller = context::caller(ctx).await?;
        let state = context::state(ctx).clone();
        let slot = subscription_slot(&state, caller.user_id())?;
        let listener = state.bus.hub().listen(caller.user_id());
        let events = user_events(state, caller.user_id(), listener);
        // The last event shown of each running operation, so an older one re-read after
        // falling behind is not shown after it.
        let mut last: std::collections::HashMap<Uuid, ProgressEvent> =
            std::collections::HashMap::new();
        Ok(events.filter_map(move |event| {
            let _held = &slot;
            let shown = match last.get(&event.operation_id) {
                Some(before) if stale(before, &event) => None,
                _ => Some(OperationProgress::from(&event)),
            };
            if event.is_terminal() {
                last.remove(&event.operation_id);
            } else if shown.is_some() {
                last.insert(event.operation_id, event);
            }
            futures::future::ready(shown)
        }))
    }
}
