//! The caller's files: uploads (against the storage quota) and folder listings.

use entity::users;
use futures::StreamExt;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    engine::categorize::Categorizer,
    error::{AppError, AppResult},
    paging::Page,
    state::AppState,
    storage::{FileMeta, paths},
};

pub const BYTES_PER_GB: i64 = 1_000_000_000;

/// One file to upload: its name and where to read it from.
pub struct Incoming {
    pub file_name: String,
    pub size: u64,
    pub content: std::fs::File,
    /// The file's own last-modified time, as the client knows it.
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
}

/// Earliest and latest modified time an upload may claim (a day of clock skew allowed).
fn plausible(time: chrono::DateTime<chrono::Utc>) -> bool {
    let earliest = chrono::DateTime::UNIX_EPOCH;
    time >= earliest && time <= chrono::Utc::now() + chrono::Duration::days(1)
}

/// Stores uploads under `folder`; a taken name gets ` (n)`. The total is reserved against
/// the quota before anything is written, atomically, so concurrent uploads cannot
/// overshoot it; what fails to write is given back.
pub async fn upload(
    state: &AppState,
    user_id: Uuid,
    folder: &str,
    files: Vec<Incoming>,
) -> AppResult<Vec<FileMeta>> {
    let folder = paths::normalize("path", folder)?;
    if crate::engine::options::is_reserved(&folder) {
        return Err(AppError::bad_input(
            "path",
            "uploads cannot go into the trash folder",
        ));
    }
    if files.is_empty() {
        return Err(AppError::bad_input("files", "no files given"));
    }
    let names = files
        .iter()
        .map(|f| paths::file_name("files", &f.file_name))
        .collect::<AppResult<Vec<_>>>()?;
    if files
        .iter()
        .filter_map(|f| f.modified)
        .any(|t| !plausible(t))
    {
        return Err(AppError::bad_input(
            "modifiedAt",
            "modifiedAt must be between 1970 and now",
        ));
    }
    let space = state.storage.space(user_id);
    if space.leads_outside(&folder) {
        return Err(AppError::bad_input(
            "path",
            "path leads outside your space (through a symbolic link)",
        ));
    }
    if let Some(existing) = space.stat(&folder).await?
        && !existing.is_dir
    {
        return Err(AppError::bad_input("path", "path is a file, not a folder"));
    }
    let total: i64 = files.iter().map(|f| f.size as i64).sum();
    reserve(state, user_id, total).await?;

    let mut stored = Vec::new();
    let mut written = 0i64;
    let mut failure = None;
    for (file, name) in files.into_iter().zip(names) {
        let content = tokio_util::io::ReaderStream::with_capacity(
            tokio::fs::File::from_std(file.content),
            256 * 1024,
        );
        match space
            .write_new(&paths::join(&folder, &name), content, file.modified)
            .await
        {
            Ok((path, size)) => {
                written += size as i64;
                stored.push(path);
            }
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    if written != total {
        reserve(state, user_id, written - total).await.ok();
    }
    if let Some(err) = failure {
        return Err(err.into());
    }
    let mut out = Vec::new();
    for path in stored {
        if let Some(meta) = space.stat(&path).await? {
            out.push(meta);
        }
    }
    Ok(out)
}

/// Adds `delta` bytes to the user's usage if it stays within the quota (always, when
/// giving bytes back).
async fn reserve(state: &AppState, user_id: Uuid, delta: i64) -> AppResult<()> {
    let mut update = users::Entity::update_many()
        .col_expr(
            users::Column::StorageUsedBytes,
            Expr::col(users::Column::StorageUsedBytes).add(delta),
        )
        .filter(users::Column::Id.eq(user_id));
    if delta > 0 {
        update = update.filter(
            Expr::col(users::Column::StorageUsedBytes)
                .add(delta)
                .lte(Expr::col(users::Column::StorageQuotaGb).mul(BYTES_PER_GB)),
        );
    }
    let changed = update.exec(&state.db).await?.rows_affected;
    state.users.forget(user_id);
    if changed == 0 {
        return Err(AppError::QuotaExceeded(format!(
            "these files ({delta} bytes) do not fit in your storage quota"
        )));
    }
    Ok(())
}

/// An entry of a listing, with the category an organize would give it (files only).
pub struct Listed {
    pub meta: FileMeta,
    pub category: Option<String>,
}

/// A folder's entries, folders first, then by name; the cursor is the last name seen.
/// Each file's category is the one an organize would give it now: the caller's rules,
/// then the extension, then the content (the first bytes are read where needed).
pub async fn list(
    state: &AppState,
    user_id: Uuid,
    folder: Option<&str>,
    first: u64,
    after: Option<&str>,
) -> AppResult<Page<Listed>> {
    let folder = paths::normalize("path", folder.unwrap_or(""))?;
    let space = state.storage.space(user_id);
    match space.stat(&folder).await? {
        Some(meta) if meta.is_dir => {}
        Some(_) => return Err(AppError::bad_input("path", "path is a file, not a folder")),
        None if folder.is_empty() => {}
        None => return Err(AppError::NotFound("folder")),
    }
    let mut entries = space.list_dir(&folder).await?;
    let key = |e: &FileMeta| (!e.is_dir, paths::name(&e.path).to_string());
    entries.sort_by_key(key);
    let total = entries.len() as u64;
    if let Some((kind, name)) = after.and_then(|cursor| cursor.split_once(':')) {
        let seen = (kind == "f", name.to_string());
        entries.retain(|e| key(e) > seen);
    }
    let has_next = entries.len() as u64 > first;
    entries.truncate(first as usize);
    let categorizer = Categorizer::load(&state.db, user_id).await?;
    let items = futures::stream::iter(entries)
        .map(|meta| {
            let (space, categorizer) = (&space, &categorizer);
            async move {
                let category = if meta.is_dir {
                    None
                } else {
                    Some(categorizer.categorize_file(space, &meta).await)
                };
                Listed { meta, category }
            }
        })
        .buffered(crate::storage::IN_FLIGHT)
        .collect()
        .await;
    Ok(Page {
        items,
        has_next,
        total,
    })
}

/// The cursor of an entry in a listing: `d:<name>` for folders, `f:<name>` for files.
pub fn cursor_of(entry: &FileMeta) -> String {
    format!(
        "{}:{}",
        if entry.is_dir { "d" } else { "f" },
        paths::name(&entry.path)
    )
}
