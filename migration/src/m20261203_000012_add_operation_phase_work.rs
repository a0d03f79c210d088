//! The work of the current phase, done and in all (files scanned of those counted,
//! hashing steps, records applied), kept with the row beside the percentage it gives: a
//! snapshot says "hashing 1,200 of 5,000", not only a percentage.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "operations",
            vec![
                big_integer_null("phase_done"),
                big_integer_null("phase_total"),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(manager, "operations", &["phase_done", "phase_total"]).await
    }
}
