//! `moves_reach_seq`: how far (in the order records are applied) files of an operation may
//! have been moved. A record still `planned` up to there may have moved before a crash: a
//! resumed run looks at its destination before anything else. Written once per many
//! batches, instead of marking each record `moving` before its file moves.

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
                    .add_column(big_integer_null("moves_reach_seq"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("operations")
                    .drop_column("moves_reach_seq")
                    .to_owned(),
            )
            .await
    }
}
