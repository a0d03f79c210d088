//! Recently read accounts, so an authenticated request does not read its user row again
//! within a second. Writes in this process forget the row at once; another process sees a
//! change (a disabled account, new storage figures) within `FRESH_FOR`. See
//! docs/decisions/0009-api-read-path.md.

use std::time::{Duration, Instant};

use entity::users;
use quick_cache::sync::Cache;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::AppResult;

/// How long a row read from the database is served without reading it again.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// Rows kept: past this, the least recently used go (memory stays bounded under any load).
const CAPACITY: usize = 10_000;

pub struct UserCache {
    rows: Cache<Uuid, (Instant, users::Model)>,
}

impl Default for UserCache {
    fn default() -> Self {
        Self {
            rows: Cache::new(CAPACITY),
        }
    }
}

impl UserCache {
    /// The user's row, from the cache while fresh, else from the database. A user who does
    /// not exist is not cached (the next request asks again).
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        user_id: Uuid,
    ) -> AppResult<Option<users::Model>> {
        if let Some((read_at, user)) = self.rows.get(&user_id)
            && read_at.elapsed() < FRESH_FOR
        {
            return Ok(Some(user));
        }
        let read_at = Instant::now();
        let user = users::Entity::find_by_id(user_id).one(db).await?;
        match &user {
            Some(user) => self.rows.insert(user_id, (read_at, user.clone())),
            None => {
                self.rows.remove(&user_id);
            }
        }
        Ok(user)
    }

    /// Called after every write to the user's row in this process.
    pub fn forget(&self, user_id: Uuid) {
        self.rows.remove(&user_id);
    }
}

/// Sessions (refresh-token families) found live within `FRESH_FOR`, so that an access
/// token of a session that ended (sign-out, password reset or change, a disabled
/// account) stops working within a second in every process, without a read per request.
pub struct SessionCache {
    live: Cache<Uuid, Instant>,
}

impl Default for SessionCache {
    fn default() -> Self {
        Self {
            live: Cache::new(CAPACITY),
        }
    }
}

impl SessionCache {
    pub async fn is_live(&self, db: &DatabaseConnection, family_id: Uuid) -> AppResult<bool> {
        if let Some(read_at) = self.live.get(&family_id)
            && read_at.elapsed() < FRESH_FOR
        {
            return Ok(true);
        }
        let read_at = Instant::now();
        let live = entity::refresh_tokens::Entity::find()
            .filter(entity::refresh_tokens::Column::FamilyId.eq(family_id))
            .filter(entity::refresh_tokens::Column::RevokedAt.is_null())
            .one(db)
            .await?
            .is_some();
        if live {
            self.live.insert(family_id, read_at);
        } else {
            self.live.remove(&family_id);
        }
        Ok(live)
    }

    /// Called when sessions end in this process (which ones is not always known).
    pub fn forget_all(&self) {
        self.live.clear();
    }
}
