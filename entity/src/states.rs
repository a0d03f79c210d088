//! The states stored in text columns, as enums. Each is stored as the same lower-case
//! string as always (no migration); a value the enum does not know fails to load with
//! an error instead of turning into some default.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What an operation does (`operations.operation_type`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum OperationType {
    #[sea_orm(string_value = "organize")]
    Organize,
    #[sea_orm(string_value = "duplicate_cleanup")]
    DuplicateCleanup,
    #[sea_orm(string_value = "rollback")]
    Rollback,
    /// Files or folders the user renamed or moved.
    #[sea_orm(string_value = "move")]
    Move,
    /// Files or folders the user deleted: moved into the trash.
    #[sea_orm(string_value = "delete")]
    Delete,
    /// Items put back from the trash.
    #[sea_orm(string_value = "restore")]
    Restore,
}

/// Where an operation is in its life (`operations.status`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "completed")]
    Completed,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl OperationStatus {
    /// The states an operation never leaves.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The states in which a worker still has (or will have) the operation.
    pub const ACTIVE: [Self; 2] = [Self::Pending, Self::Running];
}

/// What a running operation is doing (`operations.phase`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "scanning")]
    Scanning,
    #[sea_orm(string_value = "hashing")]
    Hashing,
    #[sea_orm(string_value = "moving")]
    Moving,
    #[sea_orm(string_value = "finishing")]
    Finishing,
    #[sea_orm(string_value = "done")]
    Done,
}

impl Phase {
    /// Phases in which the records are still being written (nothing has moved yet).
    pub fn is_planning(self) -> bool {
        matches!(self, Self::Queued | Self::Scanning | Self::Hashing)
    }
}

/// A file record's state (`file_records.status`). `Moving` is internal (shown as
/// `PLANNED`): the destination name is claimed and the move may be under way, which a
/// resumed run must know.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    #[sea_orm(string_value = "planned")]
    Planned,
    #[sea_orm(string_value = "moving")]
    Moving,
    #[sea_orm(string_value = "done")]
    Done,
    #[sea_orm(string_value = "skipped")]
    Skipped,
    /// The copy of a duplicate group that a cleanup keeps where it is.
    #[sea_orm(string_value = "kept")]
    Kept,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "reverted")]
    Reverted,
    /// Its file was in the trash and was deleted for good (`emptyTrash`).
    #[sea_orm(string_value = "purged")]
    Purged,
}

/// An account's plan (`users.subscription_tier`); it sets the storage quota.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionTier {
    #[sea_orm(string_value = "free")]
    Free,
    #[sea_orm(string_value = "personal")]
    Personal,
    #[sea_orm(string_value = "pro")]
    Pro,
    #[sea_orm(string_value = "business")]
    Business,
}

/// What an account may do (`users.role`). Administrators also come from `ADMIN_EMAILS`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    #[default]
    #[sea_orm(string_value = "user")]
    User,
    #[sea_orm(string_value = "admin")]
    Admin,
}

/// What a mailed token is for (`account_tokens.purpose`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// Proves an address: the account's own, or the one it asked to change to.
    #[sea_orm(string_value = "verify_email")]
    VerifyEmail,
    #[sea_orm(string_value = "reset_password")]
    ResetPassword,
}
