//! `search_entries`: the search index, one row per file of a user's space (trash
//! included: a restore brings its row back into sight).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "search_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: Uuid,
    pub path: String,
    pub name: String,
    /// The natural, case-insensitive order of `name` as plain text.
    pub sort_key: String,
    pub size_bytes: i64,
    pub modified_at: Option<DateTimeUtc>,
    /// Bit n for each ASCII letter (a = 0) and digit (0 = 26) the name holds.
    pub letters: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
