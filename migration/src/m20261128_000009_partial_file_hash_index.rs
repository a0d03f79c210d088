//! The `(operation_id, file_hash)` index holds only records with a hash: an organize
//! (without `hashFiles`) writes none, and each of its records cost an entry nobody reads.
//! Duplicate groups are read with `file_hash IS NOT NULL`, which lets both databases use
//! the partial index. (No partial indexes in the schema builder: these statements read
//! the same in both databases.)

use sea_orm_migration::prelude::*;

use crate::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const FULL: &str = "idx_file_records_operation_id_file_hash";
const PARTIAL: &str = "idx_file_records_operation_id_hashed";

async fn execute(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    manager.get_connection().execute_unprepared(sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            &format!(
                "CREATE INDEX {PARTIAL} ON file_records (operation_id, file_hash) \
                 WHERE file_hash IS NOT NULL"
            ),
        )
        .await?;
        execute(manager, &format!("DROP INDEX {FULL}")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_index(
            manager,
            "file_records",
            &["operation_id", "file_hash"],
            false,
        )
        .await?;
        execute(manager, &format!("DROP INDEX {PARTIAL}")).await
    }
}
