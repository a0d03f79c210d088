//! The progress figures the engine measures (`engine::pace`), kept with the row at each
//! flush: a listener that joins mid-run gets them in its first snapshot, not only once
//! live events come.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            double_null("percent"),
            double_null("files_per_second"),
            big_integer_null("seconds_left"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("operations")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["percent", "files_per_second", "seconds_left"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("operations")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
