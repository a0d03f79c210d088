//! The progress figures the engine measures (`engine::pace`), kept with the row at each
//! flush: a listener that joins mid-run gets them in its first snapshot, not only once
//! live events come.

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
                double_null("percent"),
                double_null("files_per_second"),
                big_integer_null("seconds_left"),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            "operations",
            &["percent", "files_per_second", "seconds_left"],
        )
        .await
    }
}
