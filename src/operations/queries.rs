//! Reading operations and their records, always through the caller's id.

use entity::{
    file_records, operations,
    states::{OperationStatus, OperationType, RecordStatus},
};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{error::AppResult, operations::find_owned, paging::Page, state::AppState};

pub async fn get(
    state: &AppState,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<Option<operations::Model>> {
    match find_owned(&state.db, user_id, id).await {
        Ok(op) => Ok(Some(op)),
        Err(crate::error::AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The caller's operations changed at or after `since`, least recently changed first, at
/// most `limit`: what a live listener that fell behind may have missed.
pub async fn changed_since(
    state: &AppState,
    user_id: Uuid,
    since: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> AppResult<Vec<operations::Model>> {
    Ok(operations::Entity::find()
        .filter(operations::Column::UserId.eq(user_id))
        .filter(operations::Column::UpdatedAt.gte(since))
        .order_by_asc(operations::Column::UpdatedAt)
        .limit(limit)
        .all(&state.db)
        .await?)
}

/// Newest first; the cursor is the id of the last operation seen (ids are time-ordered).
/// Whose operations a list holds: one user's, or (for an administrator) everyone's.
#[derive(Clone, Copy)]
pub enum Owners {
    User(Uuid),
    Everyone,
}

pub async fn list(
    state: &AppState,
    owners: Owners,
    first: u64,
    after: Option<Uuid>,
    status: Option<OperationStatus>,
    op_type: Option<OperationType>,
) -> AppResult<Page<operations::Model>> {
    let mut filter = Condition::all();
    if let Owners::User(user_id) = owners {
        filter = filter.add(operations::Column::UserId.eq(user_id));
    }
    if let Some(status) = status {
        filter = filter.add(operations::Column::Status.eq(status));
    }
    if let Some(op_type) = op_type {
        filter = filter.add(operations::Column::OperationType.eq(op_type));
    }
    let after = after.map(|id| Condition::all().add(operations::Column::Id.lt(id)));
    page::<operations::Entity>(
        &state.db,
        filter,
        after,
        operations::Column::Id,
        Order::Desc,
        first,
    )
    .await
}

/// Which records of an operation a page lists.
#[derive(Default)]
pub struct RecordFilter<'a> {
    pub category: Option<String>,
    pub duplicates_only: bool,
    pub search: Option<&'a str>,
}

/// In record order; the cursor is the record's `seq`.
pub async fn records(
    state: &AppState,
    user_id: Uuid,
    operation_id: Uuid,
    first: u64,
    after: Option<i64>,
    which: RecordFilter<'_>,
) -> AppResult<Page<file_records::Model>> {
    let RecordFilter {
        category,
        duplicates_only,
        search,
    } = which;
    find_owned(&state.db, user_id, operation_id).await?;
    let mut filter = Condition::all().add(file_records::Column::OperationId.eq(operation_id));
    if let Some(words) = search.map(str::trim).filter(|s| !s.is_empty()) {
        // Any case, anywhere in where it was or where it goes; `%` and `_` are literal.
        let escaped = words
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let lower = |c: file_records::Column| sea_orm::sea_query::Func::lower(Expr::col(c));
        filter = filter.add(
            Condition::any()
                .add(
                    Expr::expr(lower(file_records::Column::OriginalPath))
                        .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::expr(lower(file_records::Column::NewPath))
                        .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    if let Some(category) = category {
        filter = filter.add(file_records::Column::Category.eq(category));
    }
    if duplicates_only {
        filter = filter.add(file_records::Column::IsDuplicate.eq(true));
    }
    let after = after.map(|seq| Condition::all().add(file_records::Column::Seq.gt(seq)));
    page::<file_records::Entity>(
        &state.db,
        filter,
        after,
        file_records::Column::Seq,
        Order::Asc,
        first,
    )
    .await
}

/// One page of rows in `order`: `filter` selects every row of the list (their number is
/// the `totalCount`), `after` the rows past the cursor.
async fn page<E>(
    db: &impl sea_orm::ConnectionTrait,
    filter: Condition,
    after: Option<Condition>,
    order_by: E::Column,
    order: Order,
    first: u64,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let total = E::find().filter(filter.clone()).count(db).await?;
    let filter = match after {
        Some(after) => filter.add(after),
        None => filter,
    };
    let mut items = E::find()
        .filter(filter)
        .order_by(order_by, order)
        .limit(first + 1)
        .all(db)
        .await?;
    let has_next = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(Page {
        items,
        has_next,
        total,
    })
}

pub struct Group {
    pub hash: String,
    pub size: i64,
    pub files: Vec<file_records::Model>,
}

/// Duplicate groups of a cleanup, by hash; the cursor is the hash.
pub async fn duplicate_groups(
    state: &AppState,
    user_id: Uuid,
    operation_id: Uuid,
    first: u64,
    after: Option<String>,
) -> AppResult<Page<Group>> {
    find_owned(&state.db, user_id, operation_id).await?;
    let base = file_records::Entity::find()
        .filter(file_records::Column::OperationId.eq(operation_id))
        .filter(file_records::Column::FileHash.is_not_null());
    let hashes = || {
        base.clone()
            .select_only()
            .column(file_records::Column::FileHash)
            .group_by(file_records::Column::FileHash)
            .having(Expr::col(file_records::Column::Id).count().gt(1))
    };
    let total = hashes().count(&state.db).await?;
    let mut page = hashes();
    if let Some(after) = after {
        page = page.filter(file_records::Column::FileHash.gt(after));
    }
    let mut keys: Vec<Option<String>> = page
        .order_by_asc(file_records::Column::FileHash)
        .limit(first + 1)
        .into_tuple()
        .all(&state.db)
        .await?;
    let has_next = keys.len() as u64 > first;
    keys.truncate(first as usize);
    let keys: Vec<String> = keys.into_iter().flatten().collect();
    // The page's hashes by the hash index (an `ORDER BY seq` here, or the `IS NOT NULL`
    // term, made SQLite walk every record of the operation instead), ordered here.
    let mut rows = file_records::Entity::find()
        .filter(file_records::Column::OperationId.eq(operation_id))
        .filter(file_records::Column::FileHash.is_in(keys.clone()))
        .all(&state.db)
        .await?;
    rows.sort_by_key(|r| r.seq);
    let items = keys
        .into_iter()
        .map(|hash| {
            let files: Vec<_> = rows
                .iter()
                .filter(|r| r.file_hash.as_deref() == Some(hash.as_str()))
                .cloned()
                .collect();
            Group {
                size: files.first().map_or(0, |f| f.file_size_bytes),
                hash,
                files,
            }
        })
        .collect();
    Ok(Page {
        items,
        has_next,
        total,
    })
}

#[derive(FromQueryResult)]
pub struct CategoryCount {
    pub category: Option<String>,
    pub files: i64,
    pub bytes: Option<i64>,
}

#[derive(FromQueryResult)]
pub struct ReasonCount {
    pub error: Option<String>,
    pub files: i64,
}

#[derive(FromQueryResult)]
pub struct StatusCount {
    pub status: RecordStatus,
    pub files: i64,
}

/// Files and bytes from one source folder.
pub struct FolderCount {
    pub folder: String,
    pub files: i64,
    pub bytes: i64,
}

/// Folders a report names at most (the busiest).
const REPORT_FOLDERS: usize = 200;

pub struct Report {
    pub operation: operations::Model,
    pub categories: Vec<CategoryCount>,
    pub folders: Vec<FolderCount>,
    pub skipped: Vec<ReasonCount>,
    pub statuses: Vec<StatusCount>,
}

pub async fn report(state: &AppState, user_id: Uuid, id: Uuid) -> AppResult<Report> {
    let operation = find_owned(&state.db, user_id, id).await?;
    let records = || file_records::Entity::find().filter(file_records::Column::OperationId.eq(id));
    let categories = records()
        .select_only()
        .column(file_records::Column::Category)
        .column_as(file_records::Column::Id.count(), "files")
        .column_as(
            Expr::col(file_records::Column::FileSizeBytes)
                .sum()
                .cast_as("BIGINT"),
            "bytes",
        )
        .filter(file_records::Column::Category.is_not_null())
        .group_by(file_records::Column::Category)
        .order_by_asc(file_records::Column::Category)
        .into_model::<CategoryCount>()
        .all(&state.db)
        .await?;
    let skipped = records()
        .select_only()
        .column(file_records::Column::Error)
        .column_as(file_records::Column::Id.count(), "files")
        .filter(file_records::Column::Status.eq(RecordStatus::Skipped))
        .group_by(file_records::Column::Error)
        .order_by_asc(file_records::Column::Error)
        .into_model::<ReasonCount>()
        .all(&state.db)
        .await?;
    let statuses = records()
        .select_only()
        .column(file_records::Column::Status)
        .column_as(file_records::Column::Id.count(), "files")
        .group_by(file_records::Column::Status)
        .order_by_asc(file_records::Column::Status)
        .into_model::<StatusCount>()
        .all(&state.db)
        .await?;
    let folders = folders_of(&state.db, id).await?;
    Ok(Report {
        operation,
        categories,
        folders,
        skipped,
        statuses,
    })
}

/// Files and bytes per source folder, the busiest first. Streamed: memory holds a
/// count per folder, not a row per file.
async fn folders_of(db: &sea_orm::DatabaseConnection, id: Uuid) -> AppResult<Vec<FolderCount>> {
    use futures::TryStreamExt;
    let mut rows = file_records::Entity::find()
        .select_only()
        .column(file_records::Column::OriginalPath)
        .column(file_records::Column::FileSizeBytes)
        .filter(file_records::Column::OperationId.eq(id))
        .into_tuple::<(String, i64)>()
        .stream(db)
        .await?;
    let mut counts: std::collections::HashMap<String, (i64, i64)> = Default::default();
    while let Some((path, size)) = rows.try_next().await? {
        let folder = crate::storage::paths::parent(&path);
        match counts.get_mut(folder) {
            Some(count) => {
                count.0 += 1;
                count.1 += size;
            }
            None => {
                counts.insert(folder.to_string(), (1, size));
            }
        }
    }
    let mut folders: Vec<FolderCount> = counts
        .into_iter()
        .map(|(folder, (files, bytes))| FolderCount {
            folder,
            files,
            bytes,
        })
        .collect();
    folders.sort_by(|a, b| b.files.cmp(&a.files).then_with(|| a.folder.cmp(&b.folder)));
    folders.truncate(REPORT_FOLDERS);
    Ok(folders)
}
