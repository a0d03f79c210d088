//! `file_records`, read per operation by status, by hash (duplicate groups) and in order.

use crate::create_index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("file_records")
                    .col(pk_uuid("id"))
                    .col(uuid("operation_id"))
                    .col(big_integer("seq"))
                    .col(text("original_path"))
                    .col(text_null("new_path"))
                    .col(text("file_name"))
                    .col(big_integer("file_size_bytes"))
                    .col(timestamp_with_time_zone_null("file_modified_at"))
                    .col(string_null("file_hash"))
                    .col(string_null("category"))
                    .col(boolean("is_duplicate"))
                    .col(string("status"))
                    .col(text_null("error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_file_records_operation_id")
                            .from("file_records", "operation_id")
                            .to("operations", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(manager, "file_records", &["operation_id", "seq"], true).await?;
        create_index(manager, "file_records", &["operation_id", "status"], false).await?;
        create_index(
            manager,
            "file_records",
            &["operation_id", "file_hash"],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("file_records").to_owned())
            .await
    }
}
