//! The search index, second form on SQLite: each user's rows get ids in a range of their
//! own (`search_owners.tag`), live files and trashed files in two halves of it, and a
//! fresh build numbers the live rows in name order (`search_indexes.ordered_from` and
//! `ordered_until` say which ids still are). The trigram table indexes each name with
//! two `\x01` after it, so that one- and two-letter words are found from the trigrams
//! that start with them, and it keeps no copy of the names (`contentless_delete`).
//! A search can then count and page from the trigram table alone (decision 0017).
//!
//! The index tables are made anew: every user's index is built again on their next
//! search. PostgreSQL only gets the two new columns.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::m20261203_000013_create_search_entries::{SQLITE_NAMES, create_entries};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The first form goes (the table's triggers with it; SQLite 3.51 refused a `DELETE FROM`
/// of it in this migration).
const SQLITE_DROP: &[&str] = &[
    "DELETE FROM search_indexes",
    "DROP TABLE search_entries",
    "DROP TABLE search_names",
];

/// The second form, around a new `search_entries`.
const SQLITE_UP: &[&str] = &[
    "CREATE TABLE search_owners (tag INTEGER PRIMARY KEY AUTOINCREMENT, \
     user_id BLOB NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE)",
    // The live files met by a build, before they are numbered in name order.
    "CREATE TABLE search_staging (user_id BLOB NOT NULL, path TEXT NOT NULL, \
     name TEXT NOT NULL, sort_key TEXT NOT NULL, size_bytes INTEGER NOT NULL, \
     modified_at TEXT, PRIMARY KEY (user_id, sort_key, path)) WITHOUT ROWID",
    "CREATE VIRTUAL TABLE search_names USING fts5(name, content='', \
     contentless_delete=1, tokenize='trigram')",
    "CREATE VIRTUAL TABLE search_terms USING fts5vocab(search_names, 'row')",
    "CREATE TRIGGER search_entries_added AFTER INSERT ON search_entries BEGIN \
     INSERT INTO search_names(rowid, name) VALUES (new.id, new.name || char(1, 1)); END",
    "CREATE TRIGGER search_entries_renamed AFTER UPDATE OF id, name ON search_entries \
     WHEN old.id IS NOT new.id OR old.name IS NOT new.name BEGIN \
     DELETE FROM search_names WHERE rowid = old.id; \
     INSERT INTO search_names(rowid, name) VALUES (new.id, new.name || char(1, 1)); END",
    "CREATE TRIGGER search_entries_gone AFTER DELETE ON search_entries BEGIN \
     DELETE FROM search_names WHERE rowid = old.id; END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER search_entries_added",
    "DROP TRIGGER search_entries_renamed",
    "DROP TRIGGER search_entries_gone",
    "DROP TABLE search_terms",
    "DROP TABLE search_names",
    "DROP TABLE search_staging",
    "DROP TABLE search_owners",
    "DELETE FROM search_indexes",
    "DROP TABLE search_entries",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One connection and all or nothing: the tables are dropped and made again, and
    /// another pooled connection could still read the schema from before the drop.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["ordered_from", "ordered_until"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("search_indexes")
                        .add_column(big_integer(column).default(0))
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Sqlite {
            let db = manager.get_connection();
            for sql in SQLITE_DROP {
                db.execute_unprepared(sql).await?;
            }
            create_entries(manager, false).await?;
            for sql in SQLITE_UP {
                db.execute_unprepared(sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Sqlite {
            let db = manager.get_connection();
            for sql in SQLITE_DOWN {
                db.execute_unprepared(sql).await?;
            }
            create_entries(manager, true).await?;
            for sql in SQLITE_NAMES {
                db.execute_unprepared(sql).await?;
            }
        }
        for column in ["ordered_until", "ordered_from"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("search_indexes")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
