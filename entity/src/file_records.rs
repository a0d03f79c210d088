//! `file_records`: one row per file an operation looked at, written ahead of each move
//! (`planned`) and finished as `done`, `skipped`, `failed` or later `reverted`.

use sea_orm::entity::prelude::*;

pub use crate::states::RecordStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "file_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub operation_id: Uuid,
    /// Order of the record within its operation; rollback replays it backwards.
    pub seq: i64,
    pub original_path: String,
    pub new_path: Option<String>,
    pub file_name: String,
    pub file_size_bytes: i64,
    pub file_modified_at: Option<DateTimeUtc>,
    pub file_hash: Option<String>,
    pub category: Option<String>,
    pub is_duplicate: bool,
    pub status: RecordStatus,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
