//! Accounts people run themselves: `users.role` (`user` or `admin`) and
//! `account_tokens`, the single-use tokens mailed to verify an address (the account's, or
//! a new one it asked to change to) and to reset a password. Only their SHA-256 is
//! stored.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{create_index, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(string("role").default("user"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("account_tokens")
                    .col(uuid("id").primary_key())
                    .col(uuid("user_id"))
                    .col(string("purpose"))
                    .col(string("token_hash").unique_key())
                    // The address a verification proves (the account's, or its next one).
                    .col(string("email"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(&mut user_fk("account_tokens"))
                    .to_owned(),
            )
            .await?;
        create_index(manager, "account_tokens", &["user_id", "purpose"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("account_tokens").to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table("users").drop_column("role").to_owned())
            .await
    }
}
