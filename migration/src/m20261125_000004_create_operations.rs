//! `operations`, listed per user newest first and picked up by status.

use crate::{create_index, user_fk};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("operations")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(string("operation_type"))
                    .col(string("status"))
                    .col(string("phase"))
                    .col(text("root_path"))
                    .col(boolean("is_dry_run"))
                    .col(big_integer_null("files_total"))
                    .col(big_integer("files_scanned"))
                    .col(big_integer("files_processed"))
                    .col(big_integer("files_skipped"))
                    .col(big_integer("duplicates_found"))
                    .col(big_integer("space_saved_bytes"))
                    .col(text_null("error_message"))
                    .col(json_binary("metadata"))
                    .col(uuid_null("rollback_of"))
                    .col(uuid_null("plan_of"))
                    .col(boolean("cancel_requested"))
                    .col(timestamp_with_time_zone_null("trash_purged_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("started_at"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut user_fk("operations"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_operations_rollback_of")
                            .from("operations", "rollback_of")
                            .to("operations", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_operations_plan_of")
                            .from("operations", "plan_of")
                            .to("operations", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(manager, "operations", &["user_id", "created_at"], false).await?;
        create_index(manager, "operations", &["status"], false).await?;
        create_index(manager, "operations", &["rollback_of"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("operations").to_owned())
            .await
    }
}
