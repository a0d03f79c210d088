//! Operations over GraphQL: start, steer and read them, their records, duplicate groups
//! and reports.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, ResultExt, SimpleObject};
use entity::{file_records, operations as op_entity};
use uuid::Uuid;

use entity::states::RecordStatus;

use crate::{
    engine::{self, Options},
    graphql::{
        connection::{Conn, connection, parse_cursor},
        context,
        ids::{parse_id, parse_ids},
        scalars::{BigInt, DateTime, count},
    },
    operations::{commands, queries},
    paging::page_size,
};

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::states::OperationType")]
pub enum OperationType {
    Organize,
    DuplicateCleanup,
    Rollback,
    /// `renameEntry`, `moveEntries`.
    Move,
    /// `deleteEntries`: into the trash.
    Delete,
    /// `restoreEntries`: back from the trash.
    Restore,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::states::OperationStatus")]
pub enum OperationStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::states::Phase")]
pub enum OperationPhase {
    Queued,
    Scanning,
    Hashing,
    Moving,
    Finishing,
    Done,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "engine::KeepPolicy")]
pub enum KeepPolicy {
    /// Keep the copy modified longest ago (the default).
    Oldest,
    /// Keep the most recently modified copy.
    Newest,
    /// Keep the copy with the shortest path.
    ShortestPath,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum FileRecordStatus {
    Planned,
    Done,
    /// The copy of a duplicate group that a cleanup keeps (the reason says why this one).
    Kept,
    Skipped,
    Failed,
    Reverted,
    /// It was in the trash and was deleted for good.
    Purged,
}

impl From<RecordStatus> for FileRecordStatus {
    fn from(status: RecordStatus) -> Self {
        match status {
            // `moving` is internal: the file has not (for sure) moved yet.
            RecordStatus::Planned | RecordStatus::Moving => Self::Planned,
            RecordStatus::Done => Self::Done,
            RecordStatus::Skipped => Self::Skipped,
            RecordStatus::Kept => Self::Kept,
            RecordStatus::Failed => Self::Failed,
            RecordStatus::Reverted => Self::Reverted,
            RecordStatus::Purged => Self::Purged,
        }
    }
}

/// An organize, duplicate cleanup or rollback, and how it went.
pub struct Operation(pub op_entity::Model);

#[Object]
impl Operation {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The account the operation belongs to.
    async fn owner_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    #[graphql(name = "type")]
    async fn operation_type(&self) -> OperationType {
        self.0.operation_type.into()
    }
    async fn status(&self) -> OperationStatus {
        self.0.status.into()
    }
    /// What a running operation is doing now.
    async fn phase(&self) -> OperationPhase {
        self.0.phase.into()
    }
    /// The folder it works on, relative to your storage.
    async fn root_path(&self) -> &str {
        &self.0.root_path
    }
    /// A dry run records its plan and moves nothing; `applyPlan` carries the plan out.
    async fn dry_run(&self) -> bool {
        self.0.is_dry_run
    }
    /// Files to act on, once known.
    async fn files_total(&self) -> Option<i32> {
        self.0.files_total.map(count)
    }
    async fn files_scanned(&self) -> i32 {
        count(self.0.files_scanned)
    }
    /// Files moved (for a dry run: planned to move).
    async fn files_processed(&self) -> i32 {
        count(self.0.files_processed)
    }
    /// Files left alone, each with a reason in its record.
    async fn files_skipped(&self) -> i32 {
        count(self.0.files_skipped)
    }
    /// Extra copies moved to the trash (for a dry run: that would be).
    async fn duplicates_found(&self) -> i32 {
        count(self.0.duplicates_found)
    }
    async fn space_saved_bytes(&self) -> BigInt {
        BigInt(self.0.space_saved_bytes)
    }
    async fn error_message(&self) -> Option<&str> {
        self.0.error_message.as_deref()
    }
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    async fn started_at(&self) -> Option<DateTime> {
        self.0.started_at.map(Into::into)
    }
    async fn completed_at(&self) -> Option<DateTime> {
        self.0.completed_at.map(Into::into)
    }
    /// For a rollback: the operation it undoes.
    async fn rollback_of(&self) -> Option<ID> {
        self.0.rollback_of.map(|id| ID(id.to_string()))
    }
    /// For an applied plan: the dry run it carries out.
    async fn plan_of(&self) -> Option<ID> {
        self.0.plan_of.map(|id| ID(id.to_string()))
    }
    /// When a cleanup's trash was deleted for good.
    async fn trash_purged_at(&self) -> Option<DateTime> {
        self.0.trash_purged_at.map(Into::into)
    }
}

/// One file an operation looked at.
pub struct FileRecord(pub file_records::Model);

#[Object]
impl FileRecord {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn original_path(&self) -> &str {
        &self.0.original_path
    }
    /// Where it went (or, while planned, where it is to go).
    async fn new_path(&self) -> Option<&str> {
        self.0.new_path.as_deref()
    }
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    async fn file_size_bytes(&self) -> BigInt {
        BigInt(self.0.file_size_bytes)
    }
    /// SHA-256, hex, where it was computed.
    async fn file_hash(&self) -> Option<&str> {
        self.0.file_hash.as_deref()
    }
    async fn category(&self) -> Option<&str> {
        self.0.category.as_deref()
    }
    /// An extra copy (moved, or to be moved, to the trash).
    async fn is_duplicate(&self) -> bool {
        self.0.is_duplicate
    }
    async fn status(&self) -> FileRecordStatus {
        self.0.status.into()
    }
    /// Why it was skipped, or what failed.
    async fn error_message(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

/// Byte-identical files found by a cleanup.
pub struct DuplicateGroup(queries::Group);

#[Object]
impl DuplicateGroup {
    /// Their SHA-256.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
    async fn size_bytes(&self) -> BigInt {
        BigInt(self.0.size)
    }
    /// The copy that stays where it is.
    async fn kept(&self) -> Option<FileRecord> {
        self.0
            .files
            .iter()
            .find(|f| !f.is_duplicate)
            .cloned()
            .map(FileRecord)
    }
    /// Why that copy stays (the keep policy, a protected path, a tie broken by names
    /// that look like copies, or your choice).
    async fn kept_reason(&self) -> Option<&str> {
        self.0
            .files
            .iter()
            .find(|f| !f.is_duplicate)
            .and_then(|f| f.error.as_deref())
    }
    async fn files(&self) -> Vec<FileRecord> {
        self.0.files.iter().cloned().map(FileRecord).collect()
    }
}

#[derive(SimpleObject)]
pub struct FolderCount {
    pub folder: String,
    pub files: i32,
    pub bytes: BigInt,
}

#[derive(SimpleObject)]
pub struct CategoryStat {
    pub category: String,
    pub files: i32,
    pub bytes: BigInt,
}

#[derive(SimpleObject)]
pub struct SkipReason {
    pub reason: String,
    pub files: i32,
}

#[derive(SimpleObject)]
pub struct StatusCount {
    pub status: FileRecordStatus,
    pub files: i32,
}

/// What an operation did, in sums over its records.
#[derive(SimpleObject)]
pub struct OperationReport {
    pub operation: Operation,
    pub categories: Vec<CategoryStat>,
    /// Files and bytes per folder they came from, the busiest first (at most 200).
    pub folders: Vec<FolderCount>,
    pub duplicates_found: i32,
    pub space_saved_bytes: BigInt,
    pub files_failed: i32,
    pub skipped: Vec<SkipReason>,
    pub statuses: Vec<StatusCount>,
}

#[derive(InputObject, Default)]
pub struct OperationOptionsInput {
    /// Duplicate cleanup: which copy to keep (default `OLDEST`).
    pub keep: Option<KeepPolicy>,
    /// Duplicate cleanup: files under these paths are always kept.
    pub protected_paths: Option<Vec<String>>,
    /// Include files and folders whose names start with `.` (default false).
    pub include_hidden: Option<bool>,
    /// Globs, relative to `rootPath`, of files to leave out (e.g. `**/*.tmp`).
    pub exclude: Option<Vec<String>>,
    /// Organize: the destination folder under `rootPath`; knows `{category}`, `{year}`,
    /// `{month}` and `{ext}`. Default `{category}`.
    pub destination_template: Option<String>,
    /// Organize: also record each file's SHA-256, so a rollback can verify content.
    pub hash_files: Option<bool>,
    /// Skip files modified in the last this many seconds (default 0).
    pub settle_seconds: Option<i32>,
}

#[derive(InputObject)]
pub struct StartOperationInput {
    #[graphql(name = "type")]
    pub operation_type: OperationType,
    /// A folder of your storage (`""` or `/` for all of it).
    pub root_path: String,
    #[graphql(default = false)]
    pub dry_run: bool,
    pub options: Option<OperationOptionsInput>,
}

impl From<OperationOptionsInput> for Options {
    fn from(input: OperationOptionsInput) -> Self {
        let defaults = Options::default();
        Self {
            keep: input.keep.map_or(defaults.keep, Into::into),
            protected_paths: input.protected_paths.unwrap_or_default(),
            include_hidden: input.include_hidden.unwrap_or(defaults.include_hidden),
            exclude: input.exclude.unwrap_or_default(),
            destination_template: input.destination_template,
            hash_files: input.hash_files.unwrap_or(defaults.hash_files),
            settle_seconds: input
                .settle_seconds
                .map_or(defaults.settle_seconds, i64::from),
        }
    }
}

#[derive(Default)]
pub struct OperationQuery;

#[Object]
impl OperationQuery {
    /// One of your operations; null when there is none with this id (or it is not yours).
    /// An id that is not a UUID at all is `BAD_USER_INPUT`.
    async fn operation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Operation>> {
        let caller = context::caller(ctx).await?;
        let id = parse_id("id", &id).extend()?;
        let op = queries::get(context::state(ctx), caller.user_id(), id)
            .await
            .extend()?;
        Ok(op.map(Operation))
    }

    /// Your operations, newest first. `allUsers: true`: every account's (administrators
    /// only, `FORBIDDEN` for anyone else; `ownerId` says whose).
    #[graphql(complexity = "crate::graphql::connection_cost(first, child_complexity)")]
    async fn operations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<OperationStatus>,
        #[graphql(name = "type")] operation_type: Option<OperationType>,
        #[graphql(default = false)] all_users: bool,
    ) -> Result<Conn<Operation>> {
        let caller = context::caller(ctx).await?;
        let state = context::state(ctx);
        let owners = if all_users {
            crate::auth::roles::require_admin(
                &state.config,
                &caller,
                crate::error::AppError::Forbidden(
                    "only administrators can list every account's operations".into(),
                ),
            )
            .extend()?;
            queries::Owners::Everyone
        } else {
            queries::Owners::User(caller.user_id())
        };
        let after = parse_cursor::<Uuid>(after.as_deref()).extend()?;
        let page = queries::list(
            state,
            owners,
            page_size(first),
            after,
            status.map(Into::into),
            operation_type.map(Into::into),
        )
        .await
        .extend()?;
        Ok(connection(
            page,
            after.is_some(),
            |op| op.id.to_string(),
            Operation,
        ))
    }

    /// The files an operation looked at, in the order it took them.
    #[graphql(complexity = "crate::graphql::connection_cost(first, child_complexity)")]
    // Each argument is one of the query's own.
    #[allow(clippy::too_many_arguments)]
    async fn file_records(
        &self,
        ctx: &Context<'_>,
        operation_id: ID,
        first: Option<i32>,
        after: Option<String>,
        category: Option<String>,
        duplicates_only: Option<bool>,
        #[graphql(desc = "Records whose original or new path holds this, in any case.")]
        search: Option<String>,
    ) -> Result<Conn<FileRecord>> {
        let caller = context::caller(ctx).await?;
        let id = parse_id("operationId", &operation_id).extend()?;
        let after = parse_cursor::<i64>(after.as_deref()).extend()?;
        let page = queries::records(
            context::state(ctx),
            caller.user_id(),
            id,
            page_size(first),
            after,
            queries::RecordFilter {
                category,
                duplicates_only: duplicates_only.unwrap_or(false),
                search: search.as_deref(),
            },
        )
        .await
        .extend()?;
        Ok(connection(
            page,
            after.is_some(),
            |r| r.seq.to_string(),
            FileRecord,
        ))
    }

    /// The groups of identical files a duplicate cleanup found.
    #[graphql(complexity = "crate::graphql::connection_cost(first, child_complexity)")]
    async fn duplicate_groups(
        &self,
        ctx: &Context<'_>,
        operation_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<DuplicateGroup>> {
        let caller = context::caller(ctx).await?;
        let id = parse_id("operationId", &operation_id).extend()?;
        let has_previous = after.is_some();
        let page = queries::duplicate_groups(
            context::state(ctx),
            caller.user_id(),
            id,
            page_size(first),
            after,
        )
        .await
        .extend()?;
        Ok(connection(
            page,
            has_previous,
            |g| g.hash.clone(),
            DuplicateGroup,
        ))
    }

    /// Per-category counts and bytes, duplicates, space saved, and why files were skipped.
    async fn operation_report(&self, ctx: &Context<'_>, id: ID) -> Result<OperationReport> {
        let caller = context::caller(ctx).await?;
        let id = parse_id("id", &id).extend()?;
        let report = queries::report(context::state(ctx), caller.user_id(), id)
            .await
            .extend()?;
        let failed = report
            .statuses
            .iter()
            .filter(|s| s.status == RecordStatus::Failed)
            .map(|s| s.files)
            .sum::<i64>();
        Ok(OperationReport {
            duplicates_found: count(report.operation.duplicates_found),
            space_saved_bytes: BigInt(report.operation.space_saved_bytes),
            files_failed: count(failed),
            folders: report
                .folders
                .into_iter()
                .map(|f| FolderCount {
                    folder: f.folder,
                    files: count(f.files),
                    bytes: BigInt(f.bytes),
                })
                .collect(),
            categories: report
                .categories
                .into_iter()
                .map(|c| CategoryStat {
                    category: c.category.unwrap_or_default(),
                    files: count(c.files),
                    bytes: BigInt(c.bytes.unwrap_or(0)),
                })
                .collect(),
            skipped: report
                .skipped
                .into_iter()
                .map(|s| SkipReason {
                    reason: s.error.unwrap_or_else(|| "no reason recorded".into()),
                    files: count(s.files),
                })
                .collect(),
            statuses: report
                .statuses
                .into_iter()
                .map(|s| StatusCount {
                    status: s.status.into(),
                    files: count(s.files),
                })
                .collect(),
            operation: Operation(report.operation),
        })
    }
}

#[derive(Default)]
pub struct OperationMutation;

#[Object]
impl OperationMutation {
    /// Starts an organize or a duplicate cleanup of a folder (a dry run only plans).
    async fn start_operation(
        &self,
        ctx: &Context<'_>,
        input: StartOperationInput,
    ) -> Result<Operation> {
        let caller = context::caller(ctx).await?;
        let input = commands::StartInput {
            op_type: input.operation_type.into(),
            root_path: input.root_path,
            dry_run: input.dry_run,
            options: input.options.map(Options::from).unwrap_or_default(),
        };
        Ok(Operation(
            commands::start(context::state(ctx), caller.user_id(), input)
                .await
                .extend()?,
        ))
    }

    /// Stops an operation: a pending one at once, a running one before its next files.
    async fn cancel_operation(&self, ctx: &Context<'_>, id: ID) -> Result<Operation> {
        let caller = context::caller(ctx).await?;
        let id = parse_id("id", &id).extend()?;
        Ok(Operation(
            commands::cancel(context::state(ctx), caller.user_id(), id)
                .await
                .extend()?,
        ))
    }

    /// Undoes a finished operation file by file; returns the new ROLLBACK operation.
    async fn rollback_operation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        only: Option<Vec<ID>>,
    ) -> Result<Operation> {
        let caller = context::caller(ctx).await?;
        let id = parse_id("id", &id).extend()?;
        let only = only
            .map(|ids| parse_ids("only", &ids))
            .transpose()
            .extend()?;
        Ok(Operation(
            commands::rollback(context::state(ctx), caller.user_id(), id, only.as_deref())
                .await
                .extend()?,
        ))
    }

    /// Carries out exactly what a dry run planned, as a new operation; files changed since
    /// the plan are skipped.
    async fn apply_plan(
        &self,
        ctx: &Context<'_>,
        id: ID,
        exclude: Option<Vec<ID>>,
        keep: Option<Vec<ID>>,
    ) -> Result<Operation> {
        let caller = context::caller(ctx).await?;
        let id = parse_id("id", &id).extend()?;
        let exclude = parse_ids("exclude", &exclude.unwrap_or_default()).extend()?;
        let keep = parse_ids("keep", &keep.unwrap_or_default()).extend()?;
        Ok(Operation(
            commands::apply_plan(context::state(ctx), caller.user_id(), id, &exclude, &keep)
                .await
                .extend()?,
        ))
    }

    /// Deletes a cleanup's trashed duplicates for good (it can no longer be rolled back).
    async fn purge_trash(&self, ctx: &Context<'_>, operation_id: ID) -> Result<Operation> {
        let caller = context::caller(ctx).await?;
        let id = parse_id("operationId", &operation_id).extend()?;
        Ok(Operation(
            commands::purge_trash(context::state(ctx), caller.user_id(), id)
                .await
                .extend()?,
        ))
    }
}
