//! PostgreSQL's search, second form: `search_entries.folded` (the name lower-cased) and
//! `in_trash`, both generated, so that a search reads narrow indexes instead of the rows:
//! `(user_id, in_trash, sort_key, path) INCLUDE (folded)` gives a first page by name in
//! order, index-only; `(user_id, in_trash, folded)` counts the hits of a short or common
//! word by reading every live name from a narrow index (deduplicated: a third of the size
//! it has with an `INCLUDE`d id, and three times as fast to read); the trigram index moves
//! to `folded` and finds rare words. The `(user_id, name)` index is no longer read and goes. SQLite keeps
//! its own form (migrations 0014 and 0016); its letter masks are now taken from the name
//! lower-cased (the Kelvin sign counts as a `k`), so its indexes are built again.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "DROP INDEX IF EXISTS idx_search_entries_name_trgm",
    "DROP INDEX IF EXISTS idx_search_entries_user_id_name",
    "ALTER TABLE search_entries \
     ADD COLUMN folded text GENERATED ALWAYS AS (lower(name)) STORED, \
     ADD COLUMN in_trash boolean GENERATED ALWAYS AS (path LIKE '.trash/%') STORED",
    "CREATE INDEX idx_search_entries_order ON search_entries \
     (user_id, in_trash, sort_key COLLATE \"C\", path COLLATE \"C\") INCLUDE (folded)",
    "CREATE INDEX idx_search_entries_folded ON search_entries (user_id, in_trash, folded)",
    // Without the extension (no right to create it) rare words are counted from the
    // narrow index too.
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN \
     CREATE INDEX idx_search_entries_folded_trgm ON search_entries \
     USING gin (folded gin_trgm_ops); END IF; END $$",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_search_entries_folded_trgm",
    "DROP INDEX idx_search_entries_folded",
    "DROP INDEX idx_search_entries_order",
    "ALTER TABLE search_entries DROP COLUMN in_trash, DROP COLUMN folded",
    "CREATE INDEX idx_search_entries_user_id_name ON search_entries (user_id, name)",
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN \
     CREATE INDEX idx_search_entries_name_trgm ON search_entries \
     USING gin (lower(name) gin_trgm_ops); END IF; END $$",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, DOWN).await
    }
}

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if manager.get_database_backend() != DbBackend::Postgres {
        db.execute_unprepared("DELETE FROM search_indexes").await?;
        return Ok(());
    }
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}
