//! Where events meet their listeners in this process: each user has a channel of their
//! own, so a listener wakes only for its own user's events (not for everyone's), and
//! operations being watched are re-read from the database by one shared task — one query
//! for every quiet watched operation, however many listeners each has — so an idle
//! listener costs nothing of its own.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant},
};

use entity::operations;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::bus::ProgressEvent;

/// What a user's listeners hear.
#[derive(Clone, Debug)]
pub enum UserEvent {
    /// Shared: a channel hands each listener a clone.
    Progress(Arc<ProgressEvent>),
    /// A credential of this user was revoked or their account changed: open connections
    /// check theirs again.
    CredentialsChanged,
}

/// Events a user's channel holds for a listener that is behind; past this it lags and
/// re-reads instead.
const USER_CAPACITY: usize = 256;
/// A watched operation not heard from for this long is re-read from the database
/// (events can be lost while Redis is away).
pub const RESYNC_AFTER: Duration = Duration::from_secs(3);
/// Operations per re-reading query.
const RESYNC_CHUNK: usize = 500;

#[derive(Default)]
pub struct Hub {
    users: Mutex<HashMap<Uuid, broadcast::Sender<UserEvent>>>,
    watched: Mutex<HashMap<Uuid, Watched>>,
}

struct Watched {
    user_id: Uuid,
    listeners: usize,
    heard_at: Instant,
    last: Option<ProgressEvent>,
}

impl Hub {
    /// Hands an event to its user's listeners, if any.
    pub fn dispatch(&self, event: ProgressEvent) {
        if let Some(watched) = lock(&self.watched).get_mut(&event.operation_id) {
            watched.heard_at = Instant::now();
            watched.last = Some(event.clone());
        }
        self.send(event.user_id, UserEvent::Progress(Arc::new(event)));
    }

    pub fn credentials_changed(&self, user_id: Uuid) {
        self.send(user_id, UserEvent::CredentialsChanged);
    }

    fn send(&self, user_id: Uuid, event: UserEvent) {
        let users = lock(&self.users);
        if let Some(tx) = users.get(&user_id) {
            let _ = tx.send(event);
        }
    }

    /// This user's events from now on.
    pub fn listen(self: &Arc<Self>, user_id: Uuid) -> Listener {
        let rx = lock(&self.users)
            .entry(user_id)
            .or_insert_with(|| broadcast::channel(USER_CAPACITY).0)
            .subscribe();
        Listener {
            rx,
            hub: Arc::downgrade(self),
            user_id,
        }
    }

    /// Marks an operation as listened to until the guard drops: while it is quiet, the
    /// shared re-read looks at its row.
    pub fn watch(self: &Arc<Self>, operation_id: Uuid, user_id: Uuid) -> Watch {
        lock(&self.watched)
            .entry(operation_id)
            .or_insert_with(|| Watched {
                user_id,
                listeners: 0,
                heard_at: Instant::now(),
                last: None,
            })
            .listeners += 1;
        Watch {
            hub: Arc::downgrade(self),
            operation_id,
        }
    }

    /// The last event this process heard for a watched operation.
    pub fn latest(&self, operation_id: Uuid) -> Option<ProgressEvent> {
        lock(&self.watched)
            .get(&operation_id)
            .and_then(|w| w.last.clone())
    }

    /// Re-reads every watched operation not heard from for `RESYNC_AFTER`, and hands
    /// what changed to its listeners, until the hub is gone.
    pub fn spawn_resync(self: &Arc<Self>, db: DatabaseConnection) {
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RESYNC_AFTER);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(hub) = hub.upgrade() else { return };
                if let Err(err) = hub.resync(&db).await {
                    tracing::warn!(error = %err, "could not re-read watched operations");
                }
            }
        });
    }

    async fn resync(&self, db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
        let quiet: Vec<Uuid> = {
            let now = Instant::now();
            lock(&self.watched)
                .iter()
                .filter(|(_, w)| now.duration_since(w.heard_at) >= RESYNC_AFTER)
                .map(|(id, _)| *id)
                .collect()
        };
        for ids in quiet.chunks(RESYNC_CHUNK) {
            let rows = operations::Entity::find()
                .filter(operations::Column::Id.is_in(ids.iter().copied()))
                .all(db)
                .await?;
            for row in rows {
                let event = ProgressEvent::from(&row);
                let changed = {
                    let mut watched = lock(&self.watched);
                    let Some(w) = watched.get_mut(&row.id) else {
                        continue;
                    };
                    w.heard_at = Instant::now();
                    // Only the row's owner ever hears it.
                    if w.user_id != row.user_id {
                        continue;
                    }
                    let changed = w.last.as_ref().is_none_or(|l| !same_progress(l, &event));
                    if changed {
                        w.last = Some(event.clone());
                    }
                    changed
                };
                if changed {
                    self.send(row.user_id, UserEvent::Progress(Arc::new(event)));
                }
            }
        }
        Ok(())
    }
}

/// Whether two events say the same about an operation (their times aside).
pub fn same_progress(a: &ProgressEvent, b: &ProgressEvent) -> bool {
    (
        a.status,
        a.phase,
        a.files_total,
        a.files_scanned,
        a.files_processed,
        a.files_skipped,
    ) == (
        b.status,
        b.phase,
        b.files_total,
        b.files_scanned,
        b.files_processed,
        b.files_skipped,
    ) && (a.duplicates_found, a.space_saved_bytes) == (b.duplicates_found, b.space_saved_bytes)
        && (a.phase_done, a.phase_total) == (b.phase_done, b.phase_total)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A user's events; the user's channel goes when its last listener does.
pub struct Listener {
    pub rx: broadcast::Receiver<UserEvent>,
    hub: Weak<Hub>,
    user_id: Uuid,
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            let mut users = lock(&hub.users);
            // Our own receiver is still alive here: one means nobody else listens.
            if users
                .get(&self.user_id)
                .is_some_and(|tx| tx.receiver_count() <= 1)
            {
                users.remove(&self.user_id);
            }
        }
    }
}

/// An operation listened to, while held.
pub struct Watch {
    hub: Weak<Hub>,
    operation_id: Uuid,
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            let mut watched = lock(&hub.watched);
            if let Some(w) = watched.get_mut(&self.operation_id) {
                w.listeners -= 1;
                if w.listeners == 0 {
                    watched.remove(&self.operation_id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(user_id: Uuid) -> ProgressEvent {
        ProgressEvent {
            operation_id: Uuid::now_v7(),
            user_id,
            status: entity::states::OperationStatus::Running,
            phase: entity::states::Phase::Moving,
            files_total: None,
            files_scanned: 0,
            files_processed: 0,
            files_skipped: 0,
            duplicates_found: 0,
            space_saved_bytes: 0,
            message: None,
            updated_at: chrono::Utc::now(),
            phase_done: None,
            phase_total: None,
            percent: None,
            dry_run: false,
            files_per_second: None,
            seconds_left: None,
        }
    }

    #[test]
    fn listeners_hear_their_own_user_only_and_channels_go_with_them() {
        let hub = Arc::new(Hub::default());
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let mut a = hub.listen(alice);
        let b = hub.listen(bob);
        hub.dispatch(event(bob));
        hub.dispatch(event(alice));
        match a.rx.try_recv() {
            Ok(UserEvent::Progress(e)) => assert_eq!(e.user_id, alice),
            other => panic!("{other:?}"),
        }
        assert!(a.rx.try_recv().is_err(), "bob's event never reached alice");
        drop(b);
        assert!(!lock(&hub.users).contains_key(&bob));
        let a2 = hub.listen(alice);
        drop(a);
        assert!(lock(&hub.users).contains_key(&alice), "a2 still listens");
        drop(a2);
        assert!(lock(&hub.users).is_empty());
    }
}
