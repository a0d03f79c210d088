//! `search_indexes`: a row per user whose search index is complete (built from a walk of
//! the space and kept since); without one, a search builds it first.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "search_indexes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub built_at: DateTimeUtc,
    pub entries: i64,
    /// SQLite: the ids a build numbered in name order and that still are (rows added
    /// or renamed since get ids outside); 0 and 0 when none are.
    pub ordered_from: i64,
    pub ordered_until: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
