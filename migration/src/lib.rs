//! The database migrations, one file per change, each reversible. They run on SQLite and
//! PostgreSQL alike: only portable column types, and foreign keys declared with the table
//! (SQLite cannot add them later).

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_users;
mod m20261125_000002_create_api_keys;
mod m20261125_000003_create_refresh_tokens;
mod m20261125_000004_create_operations;
mod m20261125_000005_create_file_records;
mod m20261125_000006_create_category_rules;
mod m20261128_000007_add_operation_leases;
mod m20261128_000008_add_operation_moves_reach;
mod m20261128_000009_partial_file_hash_index;
mod m20261203_000010_add_operation_lease_epoch;
mod m20261203_000011_add_operation_pace;
mod m20261203_000012_add_operation_phase_work;
mod m20261203_000013_create_search_entries;
mod m20261203_000014_search_order;
mod m20261203_000015_accounts;
mod m20261203_000016_search_letters;
mod m20261203_000017_search_folded;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_api_keys::Migration),
            Box::new(m20261125_000003_create_refresh_tokens::Migration),
            Box::new(m20261125_000004_create_operations::Migration),
            Box::new(m20261125_000005_create_file_records::Migration),
            Box::new(m20261125_000006_create_category_rules::Migration),
            Box::new(m20261128_000007_add_operation_leases::Migration),
            Box::new(m20261128_000008_add_operation_moves_reach::Migration),
            Box::new(m20261128_000009_partial_file_hash_index::Migration),
            Box::new(m20261203_000010_add_operation_lease_epoch::Migration),
            Box::new(m20261203_000011_add_operation_pace::Migration),
            Box::new(m20261203_000012_add_operation_phase_work::Migration),
            Box::new(m20261203_000013_create_search_entries::Migration),
            Box::new(m20261203_000014_search_order::Migration),
            Box::new(m20261203_000015_accounts::Migration),
            Box::new(m20261203_000016_search_letters::Migration),
            Box::new(m20261203_000017_search_folded::Migration),
        ]
    }
}

/// A foreign key to `users.id` that deletes the child rows with the user.
pub(crate) fn user_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_user_id"))
        .from(table, "user_id")
        .to("users", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// Creates an index named after its table and columns.
pub(crate) async fn create_index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    columns: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index
        .name(format!("idx_{table}_{}", columns.join("_")))
        .table(table);
    for column in columns {
        index.col(*column);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

/// Adds columns to a table, one statement each (SQLite adds columns one at a time).
pub(crate) async fn add_columns(
    manager: &SchemaManager<'_>,
    table: &'static str,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for column in columns {
        manager
            .alter_table(Table::alter().table(table).add_column(column).to_owned())
            .await?;
    }
    Ok(())
}

/// Drops columns of a table, one statement each.
pub(crate) async fn drop_columns(
    manager: &SchemaManager<'_>,
    table: &'static str,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    for column in columns {
        manager
            .alter_table(Table::alter().table(table).drop_column(*column).to_owned())
            .await?;
    }
    Ok(())
}
