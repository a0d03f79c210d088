//! `search_entries.letters`: which ASCII letters and digits a name holds, as bits, so
//! that a search for one letter is counted from the `(user_id, letters)` index (on
//! SQLite) instead of merging the postings of every trigram that starts with it. Every
//! user's index is built again on their next search (the rows have no bits yet).

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("search_entries")
                    .add_column(big_integer("letters").default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("DELETE FROM search_indexes").await?;
        if manager.get_database_backend() == DbBackend::Sqlite {
            for sql in [
                "ALTER TABLE search_staging ADD COLUMN letters INTEGER NOT NULL DEFAULT 0",
                "CREATE INDEX idx_search_entries_user_id_letters ON search_entries (user_id, letters)",
            ] {
                db.execute_unprepared(sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Sqlite {
            for sql in [
                "DROP INDEX idx_search_entries_user_id_letters",
                "ALTER TABLE search_staging DROP COLUMN letters",
            ] {
                db.execute_unprepared(sql).await?;
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table("search_entries")
                    .drop_column("letters")
                    .to_owned(),
            )
            .await
    }
}
