//! `lease_epoch`: a fencing token. Every claim of an operation adds one, and every write a
//! run makes to its operation (counters, phase, status, reach, lease) and every batch of
//! its record updates requires the epoch it claimed: a worker that lost its lease (frozen
//! past it, say) cannot write anything after another took over, whenever it wakes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("operations")
                    .add_column(big_integer("lease_epoch").default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("operations")
                    .drop_column("lease_epoch")
                    .to_owned(),
            )
            .await
    }
}
