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
    storage::{FileMeta, Upload, free_names::FreeNames, paths},
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

/// Stores uploads under `folder`; a taken name gets ` (n)`. The bytes are reserved against
/// the quota before anything is written, atomically, so concurrent uploads cannot
/// overshoot it; `spooled` is what the request reserved while its body arrived (taken
/// from first), and whatever is not stored is given back, however the call ends.
pub async fn upload(
    state: &AppState,
    user_id: Uuid,
    folder: &str,
    files: Vec<Incoming>,
    spooled: Option<&tokio::sync::Mutex<Reservation>>,
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
    let mut reservation = match spooled {
        Some(spooled) => {
            let mut spooled = spooled.lock().await;
            let mine = spooled.split(total);
            // What the body's framing made us hold beyond these files goes back now, so
            // the usage is exact when the answer arrives.
            spooled.release().await;
            mine
        }
        None => Reservation::none(state, user_id),
    };
    reservation.grow_to(total).await?;

    // Spooled files already linked into place: a file mapped to several paths is linked
    // once and copied for the others (two names must never share one file's bytes).
    let mut linked = std::collections::HashSet::new();
    let uploads: Vec<Upload> = files
        .into_iter()
        .zip(names)
        .map(|(file, name)| Upload {
            wanted: paths::join(&folder, &name),
            linkable: spooled_inode(&file.content).is_some_and(|inode| linked.insert(inode)),
            content: file.content,
            modified: file.modified,
        })
        .collect();
    if space.is_local() {
        // One blocking call for every file, in a task of its own: a request that goes
        // away (a timeout, a client gone) cannot leave stored files uncounted or unindexed.
        let state = state.clone();
        return tokio::spawn(async move {
            let stored = space
                .store_uploads_locally(uploads, FreeNames::default())
                .await
                .expect("a local space stores locally");
            let mut out = Vec::new();
            let mut failed = None;
            match stored {
                Ok((results, _)) => {
                    for result in results {
                        match result {
                            Ok(meta) => {
                                reservation.keep(meta.size as i64);
                                out.push(meta);
                            }
                            Err(err) => {
                                failed.get_or_insert(err);
                            }
                        }
                    }
                }
                Err(err) => failed = Some(err),
            }
            reservation.release().await;
            crate::search::maintain::added(&state.db, user_id, &out).await;
            match failed {
                Some(err) => Err(AppError::from(err)),
                None => Ok(out),
            }
        })
        .await
        .map_err(|err| AppError::Internal(err.into()))?;
    }

    // Free names are found in memory, the folder listed at most once (on a collision).
    let mut names_in_folder = FreeNames::default();
    let mut stored = Vec::new();
    let written: AppResult<()> = async {
        for upload in uploads {
            // Clones of one spooled file share one offset, so each copy reads from the
            // start (files are written one at a time).
            let mut content = upload.content;
            std::io::Seek::rewind(&mut content).map_err(|err| AppError::Internal(err.into()))?;
            let content = tokio_util::io::ReaderStream::with_capacity(
                tokio::fs::File::from_std(content),
                256 * 1024,
            );
            let (path, size) = space
                .write_new(
                    &upload.wanted,
                    &mut names_in_folder,
                    content,
                    upload.modified,
                )
                .await?;
            reservation.keep(size as i64);
            stored.push(path);
        }
        Ok(())
    }
    .await;
    // What was reserved and not stored (a failed write) goes back before the answer.
    reservation.release().await;
    written?;
    let mut out = Vec::new();
    for path in stored {
        if let Some(meta) = space.stat(&path).await? {
            out.push(meta);
        }
    }
    crate::search::maintain::added(&state.db, user_id, &out).await;
    Ok(out)
}

/// A spooled file's identity (device and inode), to link each one at most once.
fn spooled_inode(file: &std::fs::File) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        file.metadata().ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        None
    }
}

/// Bytes held against a user's quota for an upload in flight. What is not kept is given
/// back when it is dropped: on success, on an error, and when the request's future is
/// dropped by a timeout or a client that went away (the one place that sees every end).
pub struct Reservation {
    state: AppState,
    user_id: Uuid,
    /// Reserved and not (yet) kept.
    bytes: i64,
}

impl Reservation {
    /// Nothing reserved yet.
    pub fn none(state: &AppState, user_id: Uuid) -> Self {
        Self {
            state: state.clone(),
            user_id,
            bytes: 0,
        }
    }

    pub fn bytes(&self) -> i64 {
        self.bytes
    }

    /// Reserves more so that `total` is held; `QUOTA_EXCEEDED` (and nothing more held)
    /// when it does not fit.
    pub async fn grow_to(&mut self, total: i64) -> AppResult<()> {
        let more = total - self.bytes;
        if more > 0 {
            adjust_usage(&self.state, self.user_id, more).await?;
            self.bytes = total;
        }
        Ok(())
    }

    /// Moves up to `bytes` of this reservation into a new one.
    pub fn split(&mut self, bytes: i64) -> Self {
        let moved = bytes.clamp(0, self.bytes);
        self.bytes -= moved;
        Self {
            state: self.state.clone(),
            user_id: self.user_id,
            bytes: moved,
        }
    }

    /// Gives back what is held now (dropping gives it back too, but in the background).
    pub async fn release(&mut self) {
        if self.bytes > 0 {
            match adjust_usage(&self.state, self.user_id, -self.bytes).await {
                Ok(()) => self.bytes = 0,
                // Left held: the drop tries again.
                Err(err) => {
                    tracing::warn!(error = %err, "could not give back reserved upload bytes yet")
                }
            }
        }
    }

    /// `bytes` are stored: they stay counted for good.
    pub fn keep(&mut self, bytes: i64) {
        self.bytes = Ord::max(self.bytes - bytes, 0);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes <= 0 {
            return;
        }
        let (state, user_id, bytes) = (self.state.clone(), self.user_id, self.bytes);
        // Drop cannot wait: the give-back runs on its own. Without a runtime (the process
        // is ending) it cannot run at all; `storageUsedBytes` is then high until fixed.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = adjust_usage(&state, user_id, -bytes).await {
                    tracing::error!(error = %err, %user_id, bytes, "could not give back reserved upload bytes");
                }
            });
        }
    }
}

/// Adds `delta` bytes to the user's usage if it stays within the quota (always, when
/// giving bytes back).
async fn adjust_usage(state: &AppState, user_id: Uuid, delta: i64) -> AppResult<()> {
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
    /// Its place in the listing's order: the cursor.
    pub position: usize,
}

pub use crate::search::{Bounds, Sort};

/// What a listing shows.
#[derive(Default)]
pub struct Listing<'a> {
    pub folder: Option<&'a str>,
    /// Files whose name holds this (any case), anywhere under the folder.
    pub search: Option<&'a str>,
    pub sort: Sort,
    /// Files of this category only (by name and the caller's rules).
    pub category: Option<&'a str>,
    /// Files of these sizes and modified times only.
    pub bounds: Bounds,
}

/// Files a search without its index looks through at most: past this the answer says
/// to narrow it.
const MAX_WALKED: usize = 1_000_000;

/// A folder's entries, or with `search` the matching files under it, sorted; the cursor
/// is the position in that order. Each file's category is the one an organize would
/// give it now: the caller's rules, then the extension, then the content. A search is
/// answered from the search index (built on the first search); while it cannot be (files
/// are moving as it would be built), by reading the folder.
pub async fn list(
    state: &AppState,
    user_id: Uuid,
    listing: Listing<'_>,
    first: u64,
    after: Option<&str>,
) -> AppResult<Page<Listed>> {
    let folder = paths::normalize("path", listing.folder.unwrap_or(""))?;
    let space = state.storage.space(user_id);
    match space.stat(&folder).await? {
        Some(meta) if meta.is_dir => {}
        Some(_) => return Err(AppError::bad_input("path", "path is a file, not a folder")),
        None if folder.is_empty() => {}
        None => return Err(AppError::NotFound("folder")),
    }
    let skip = match after {
        None => 0,
        Some(cursor) => {
            cursor
                .parse::<u64>()
                .map_err(|_| AppError::bad_input("after", "after is not a cursor from this list"))?
                + 1
        }
    };
    let categorizer = Categorizer::load(&state.db, user_id).await?;
    let in_category = |e: &FileMeta| {
        listing.category.is_none_or(|category| {
            !e.is_dir
                && categorizer
                    .categorize(paths::name(&e.path), e.size, None)
                    .eq_ignore_ascii_case(category)
        })
    };
    let search = listing
        .search
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let (window, total) = match &search {
        Some(words) if crate::search::ensure(state, user_id).await? => {
            let query = crate::search::Query {
                words,
                folder: &folder,
                bounds: listing.bounds,
                sort: listing.sort,
                sort_max_hits: state.config.search_sort_max_hits,
            };
            if listing.category.is_none() {
                let window = crate::search::Window::Page {
                    offset: skip,
                    limit: first + 1,
                };
                crate::search::find(&state.db, user_id, &query, window)
                    .await
                    .map_err(AppError::Internal)?
            } else {
                let (mut all, _) =
                    crate::search::find(&state.db, user_id, &query, crate::search::Window::All)
                        .await
                        .map_err(AppError::Internal)?;
                all.retain(|e| in_category(e));
                let total = all.len() as u64;
                (
                    all.into_iter()
                        .skip(skip as usize)
                        .take(first as usize + 1)
                        .collect(),
                    total,
                )
            }
        }
        _ => {
            let mut entries = match &search {
                None => space.list_dir(&folder).await?,
                Some(words) => walk_matching(&space, &folder, words).await?,
            };
            // The trash has its own listing (`trash`): it is not one of your folders.
            entries.retain(|e| {
                !crate::engine::options::is_reserved(&e.path)
                    && (listing.bounds == Bounds::default()
                        || (!e.is_dir && listing.bounds.admit(e)))
                    && in_category(e)
            });
            sort(&mut entries, listing.sort);
            let total = entries.len() as u64;
            (
                entries
                    .into_iter()
                    .skip(skip as usize)
                    .take(first as usize + 1)
                    .collect(),
                total,
            )
        }
    };
    let has_next = window.len() as u64 > first;
    let items = futures::stream::iter(window.into_iter().take(first as usize).zip(skip as usize..))
        .map(|(meta, position)| {
            let (space, categorizer) = (&space, &categorizer);
            async move {
                let category = if meta.is_dir {
                    None
                } else {
                    Some(categorizer.categorize_file(space, &meta).await)
                };
                Listed {
                    meta,
                    category,
                    position,
                }
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

/// The files under `folder` whose name holds `words`, by reading the folder.
async fn walk_matching(
    space: &crate::storage::UserSpace,
    folder: &str,
    words: &str,
) -> AppResult<Vec<FileMeta>> {
    let mut found = Vec::new();
    let mut walked = 0usize;
    let mut files = std::pin::pin!(space.walk(folder));
    while let Some(file) = futures::TryStreamExt::try_next(&mut files).await? {
        walked += 1;
        if walked > MAX_WALKED {
            return Err(AppError::bad_input(
                "search",
                "too many files to search here; search in a folder",
            ));
        }
        if paths::name(&file.path).to_lowercase().contains(words) {
            found.push(file);
        }
    }
    Ok(found)
}

/// Folders first; then as asked, ties by name so the order is always the same.
fn sort(entries: &mut [FileMeta], order: Sort) {
    // The same order as a search the index answers.
    let key = |e: &FileMeta| crate::search::sort_key(paths::name(&e.path));
    entries.sort_by(|a, b| {
        let by_name = || key(a).cmp(&key(b)).then_with(|| a.path.cmp(&b.path));
        b.is_dir.cmp(&a.is_dir).then_with(|| match order {
            Sort::Name => by_name(),
            Sort::NameDesc => by_name().reverse(),
            Sort::Size => a.size.cmp(&b.size).then_with(by_name),
            Sort::SizeDesc => b.size.cmp(&a.size).then_with(by_name),
            Sort::Modified => a.modified.cmp(&b.modified).then_with(by_name),
            Sort::ModifiedDesc => b.modified.cmp(&a.modified).then_with(by_name),
        })
    });
}
