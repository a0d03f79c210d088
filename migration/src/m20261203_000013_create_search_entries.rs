//! The search index: one row per file of a user's space (`search_entries`), kept by
//! uploads and by every move an operation makes, and `search_indexes`, which says whose
//! index is complete. Names are found by trigrams: an FTS5 table over `name` on SQLite
//! (rows added by the code, changed names and deletions by triggers), a `pg_trgm` GIN
//! index on `lower(name)` on PostgreSQL (when the extension can be created; without it a
//! search reads the user's rows).

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::user_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const SQLITE_NAMES: &[&str] = &[
    "CREATE VIRTUAL TABLE search_names USING fts5(name, content='search_entries', \
     content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER search_entries_name AFTER UPDATE OF name ON search_entries \
     WHEN old.name IS NOT new.name BEGIN \
     INSERT INTO search_names(search_names, rowid, name) VALUES ('delete', old.id, old.name); \
     INSERT INTO search_names(rowid, name) VALUES (new.id, new.name); END",
    "CREATE TRIGGER search_entries_gone AFTER DELETE ON search_entries BEGIN \
     INSERT INTO search_names(search_names, rowid, name) VALUES ('delete', old.id, old.name); END",
];

// The extension may be refused (no right to create it): the index is then left out and a
// search reads the user's rows instead of failing the migration.
const POSTGRES_NAMES: &[&str] = &[
    "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; \
     EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pg_trgm unavailable: search reads every row'; END $$",
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN \
     CREATE INDEX idx_search_entries_name_trgm ON search_entries \
     USING gin (lower(name) gin_trgm_ops); END IF; END $$",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_entries(manager, true).await?;
        manager
            .create_table(
                Table::create()
                    .table("search_indexes")
                    .col(uuid("user_id").primary_key())
                    .col(timestamp_with_time_zone("built_at"))
                    .col(big_integer("entries"))
                    .foreign_key(&mut user_fk("search_indexes"))
                    .to_owned(),
            )
            .await?;
        let statements = match manager.get_database_backend() {
            DbBackend::Sqlite => SQLITE_NAMES,
            _ => POSTGRES_NAMES,
        };
        let db = manager.get_connection();
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE search_names")
                .await?;
        }
        manager
            .drop_table(Table::drop().table("search_indexes").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("search_entries").to_owned())
            .await
    }
}

/// The `search_entries` table, with the `(user_id, name)` index that the first form of
/// the search read short words from.
pub(crate) async fn create_entries(
    manager: &SchemaManager<'_>,
    with_name_index: bool,
) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("search_entries")
                .col(big_pk_auto("id"))
                .col(uuid("user_id"))
                .col(text("path"))
                .col(text("name"))
                // The name, lower-cased, its digit runs prefixed by their length:
                // sorting by it is the natural, case-insensitive order.
                .col(text("sort_key"))
                .col(big_integer("size_bytes"))
                .col(timestamp_with_time_zone_null("modified_at"))
                .foreign_key(&mut user_fk("search_entries"))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("idx_search_entries_user_id_path")
                .table("search_entries")
                .col("user_id")
                .col("path")
                .unique()
                .to_owned(),
        )
        .await?;
    if !with_name_index {
        return Ok(());
    }
    // Words too short for trigrams are matched by reading this index, not the table.
    manager
        .create_index(
            Index::create()
                .name("idx_search_entries_user_id_name")
                .table("search_entries")
                .col("user_id")
                .col("name")
                .to_owned(),
        )
        .await
}
