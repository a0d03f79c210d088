//! `operations`: one row per organize, duplicate-cleanup or rollback job, with its
//! counters. `metadata` holds the options the job was started with.

use sea_orm::entity::prelude::*;

pub use crate::states::{OperationStatus, OperationType, Phase};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "operations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub operation_type: OperationType,
    pub status: OperationStatus,
    pub phase: Phase,
    pub root_path: String,
    pub is_dry_run: bool,
    pub files_total: Option<i64>,
    pub files_scanned: i64,
    pub files_processed: i64,
    pub files_skipped: i64,
    pub duplicates_found: i64,
    pub space_saved_bytes: i64,
    pub error_message: Option<String>,
    pub metadata: Json,
    /// For a rollback: the operation it undoes.
    pub rollback_of: Option<Uuid>,
    /// For an applied plan: the dry run whose records it carries out.
    pub plan_of: Option<Uuid>,
    pub cancel_requested: bool,
    /// The worker running the operation, and until when it holds it (renewed while it
    /// works); past that, another worker may take it over.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    /// How far, in the order its records are applied (by `seq`, descending for a
    /// rollback), files may have moved: a `planned` record up to there is checked at its
    /// destination when a run resumes.
    pub moves_reach_seq: Option<i64>,
    /// The fencing token: one more at every claim (see the migration adding it).
    pub lease_epoch: i64,
    /// The engine's last measured progress (`engine::pace`), written with the counters:
    /// percent across the whole operation, files per second in the current phase, and
    /// seconds left.
    pub percent: Option<f64>,
    pub files_per_second: Option<f64>,
    pub seconds_left: Option<i64>,
    /// The work of the current phase done, and in all (null while unknown): files
    /// scanned, hashing steps, or records applied.
    pub phase_done: Option<i64>,
    pub phase_total: Option<i64>,
    /// When a cleanup's trash was deleted for good (it can no longer be rolled back).
    pub trash_purged_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
