//! `category_rules`, read per user by priority.

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
                    .table("category_rules")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(string("name"))
                    .col(string("category"))
                    .col(json_binary("extensions"))
                    .col(string_null("name_glob"))
                    .col(string_null("mime_prefix"))
                    .col(big_integer_null("min_size_bytes"))
                    .col(big_integer_null("max_size_bytes"))
                    .col(integer("priority"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut user_fk("category_rules"))
                    .to_owned(),
            )
            .await?;
        create_index(manager, "category_rules", &["user_id", "priority"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("category_rules").to_owned())
            .await
    }
}
