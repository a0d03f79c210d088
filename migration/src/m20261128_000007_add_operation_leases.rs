//! Leases on operations: the worker that runs an operation holds it until
//! `lease_expires_at` and renews it while it works; another worker may take the operation
//! over only once the lease has run out (its worker died). One column per statement:
//! SQLite adds columns one at a time.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_index, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("operations")
                    .add_column(string_null("lease_owner"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("operations")
                    .add_column(timestamp_with_time_zone_null("lease_expires_at"))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "operations",
            &["status", "lease_expires_at"],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_operations_status_lease_expires_at")
                    .table("operations")
                    .to_owned(),
            )
            .await?;
        drop_columns(manager, "operations", &["lease_expires_at", "lease_owner"]).await
    }
}
