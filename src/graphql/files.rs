//! Files over GraphQL: `files` lists a folder of your storage, `uploadFiles` adds files,
//! `fileLink` gets them back out, and folders, renames, moves and deletes
//! (`operations::actions`).

use async_graphql::{Context, ErrorExtensions, Object, Result, ResultExt, SimpleObject, Upload};

use crate::{
    error::AppError,
    files::{self, Incoming},
    graphql::{
        connection::{Conn, connection},
        context,
        operations::Operation,
        scalars::{BigInt, DateTime},
    },
    operations::actions,
    paging::page_size,
    storage::{FileMeta, paths},
};

/// A file or folder in your storage.
#[derive(SimpleObject)]
pub struct FileEntry {
    /// Relative to your storage's root.
    pub path: String,
    pub name: String,
    pub is_dir: bool,
    pub size_bytes: BigInt,
    pub modified_at: Option<DateTime>,
    /// The category an organize would give it now: your rules, then its extension, then
    /// its content (null for folders).
    pub category: Option<String>,
}

fn entry(meta: FileMeta, category: Option<String>) -> FileEntry {
    FileEntry {
        name: paths::name(&meta.path).to_string(),
        is_dir: meta.is_dir,
        size_bytes: BigInt(meta.size as i64),
        modified_at: meta.modified.map(Into::into),
        category,
        path: meta.path,
    }
}

/// How a listing is ordered (folders always first).
#[derive(async_graphql::Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FileSort {
    /// By name, natural (`2` before `10`) and case-insensitive.
    #[default]
    Name,
    NameDesc,
    Size,
    SizeDesc,
    Modified,
    ModifiedDesc,
}

impl From<FileSort> for files::Sort {
    fn from(sort: FileSort) -> Self {
        match sort {
            FileSort::Name => Self::Name,
            FileSort::NameDesc => Self::NameDesc,
            FileSort::Size => Self::Size,
            FileSort::SizeDesc => Self::SizeDesc,
            FileSort::Modified => Self::Modified,
            FileSort::ModifiedDesc => Self::ModifiedDesc,
        }
    }
}

#[derive(Default)]
pub struct FileQuery;

#[Object]
impl FileQuery {
    /// The entries of a folder of your storage (its root by default), folders first,
    /// then in `sort` order (by name, natural and case-insensitive, by default). With
    /// `search`: the files anywhere under the folder whose name holds it, in any case.
    /// `category`: files of that category only. `minSizeBytes`/`maxSizeBytes` (inclusive)
    /// and `modifiedAfter` (inclusive)/`modifiedBefore` (exclusive): files within those
    /// bounds only (folders are left out when any is given).
    #[graphql(complexity = "crate::graphql::connection_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn files(
        &self,
        ctx: &Context<'_>,
        path: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
        sort: Option<FileSort>,
        category: Option<String>,
        min_size_bytes: Option<BigInt>,
        max_size_bytes: Option<BigInt>,
        modified_after: Option<DateTime>,
        modified_before: Option<DateTime>,
    ) -> Result<Conn<FileEntry>> {
        let caller = context::caller(ctx).await?;
        let size = |field: &str, value: Option<BigInt>| {
            value
                .map(|BigInt(n)| {
                    u64::try_from(n).map_err(|_| {
                        AppError::bad_input(field, format!("{field} must not be negative"))
                    })
                })
                .transpose()
        };
        let bounds = files::Bounds {
            min_size: size("minSizeBytes", min_size_bytes).extend()?,
            max_size: size("maxSizeBytes", max_size_bytes).extend()?,
            modified_after: modified_after.map(|t| t.0),
            modified_before: modified_before.map(|t| t.0),
        };
        let listing = files::Listing {
            folder: path.as_deref(),
            search: search.as_deref(),
            sort: sort.unwrap_or_default().into(),
            category: category.as_deref(),
            bounds,
        };
        let page = files::list(
            context::state(ctx),
            caller.user_id(),
            listing,
            page_size(first),
            after.as_deref(),
        )
        .await
        .extend()?;
        Ok(connection(
            page,
            after.is_some(),
            |listed| listed.position.to_string(),
            |listed| entry(listed.meta, listed.category),
        ))
    }
}

#[derive(Default)]
pub struct FileMutation;

#[Object]
impl FileMutation {
    /// Uploads files into a folder of your storage (GraphQL multipart request; works with
    /// `curl -F`). A name that is taken gets ` (1)`, ` (2)`, …: nothing is overwritten.
    /// `modifiedAt` gives each file's own last-modified time (the browser's
    /// `File.lastModified`), in the order of `files`; a missing or null one means now.
    async fn upload_files(
        &self,
        ctx: &Context<'_>,
        path: String,
        files: Vec<Upload>,
        modified_at: Option<Vec<Option<DateTime>>>,
    ) -> Result<Vec<FileEntry>> {
        let caller = context::caller(ctx).await?;
        let times = modified_at.unwrap_or_default();
        if times.len() > files.len() {
            return Err(AppError::bad_input(
                "modifiedAt",
                "modifiedAt has more entries than files",
            )
            .extend());
        }
        let mut incoming = Vec::with_capacity(files.len());
        for (index, upload) in files.into_iter().enumerate() {
            let value = upload
                .value(ctx)
                .map_err(|_| AppError::bad_input("files", "an upload is missing from the request"))
                .extend()?;
            let size = value
                .size()
                .map_err(|err| AppError::Internal(err.into()))
                .extend()?;
            incoming.push(Incoming {
                file_name: value.filename.clone(),
                size,
                content: value.content,
                modified: times.get(index).copied().flatten().map(|t| t.0),
            });
        }
        // What the request reserved while its files arrived (`http::multipart`).
        let spooled = ctx
            .data_opt::<std::sync::Arc<tokio::sync::Mutex<files::Reservation>>>()
            .map(|held| &**held);
        let stored = files::upload(
            context::state(ctx),
            caller.user_id(),
            &path,
            incoming,
            spooled,
        )
        .await
        .extend()?;
        Ok(stored.into_iter().map(|meta| entry(meta, None)).collect())
    }

    /// Makes a folder (and any folders above it that are missing). A name already
    /// taken is `CONFLICT`.
    async fn create_folder(&self, ctx: &Context<'_>, path: String) -> Result<FileEntry> {
        let caller = context::caller(ctx).await?;
        let folder = actions::create_folder(context::state(ctx), caller.user_id(), &path)
            .await
            .extend()?;
        Ok(entry(folder, None))
    }

    /// Renames a file or folder where it is: a `MOVE` operation, undone by
    /// `rollbackOperation`. A name already taken is `CONFLICT`.
    async fn rename_entry(
        &self,
        ctx: &Context<'_>,
        path: String,
        new_name: String,
    ) -> Result<Operation> {
        let caller = context::caller(ctx).await?;
        actions::rename(context::state(ctx), caller.user_id(), &path, &new_name)
            .await
            .map(Operation)
            .extend()
    }

    /// Moves files and folders into the folder `to`, keeping their names: a `MOVE`
    /// operation, undone by `rollbackOperation`. A name taken there is `CONFLICT`.
    async fn move_entries(
        &self,
        ctx: &Context<'_>,
        paths: Vec<String>,
        to: String,
    ) -> Result<Operation> {
        let caller = context::caller(ctx).await?;
        actions::move_entries(context::state(ctx), caller.user_id(), &paths, &to)
            .await
            .map(Operation)
            .extend()
    }

    /// Moves files and folders into the trash: a `DELETE` operation. They stay there,
    /// counted in your storage, until restored, rolled back or purged.
    async fn delete_entries(&self, ctx: &Context<'_>, paths: Vec<String>) -> Result<Operation> {
        let caller = context::caller(ctx).await?;
        actions::delete_entries(context::state(ctx), caller.user_id(), &paths)
            .await
            .map(Operation)
            .extend()
    }

    /// A link to a file (or a folder, as a zip) of yours that works without signing in,
    /// for five minutes: for `<img>`, `<video>` and downloads, so no token goes into a
    /// URL. `inline` asks to show it in the browser, which only images (not SVG), PDF,
    /// plain text, audio and video are; anything else downloads.
    async fn file_link(
        &self,
        ctx: &Context<'_>,
        path: String,
        #[graphql(default = false)] inline: bool,
    ) -> Result<String> {
        let caller = context::caller(ctx).await?;
        crate::downloads::link(context::state(ctx), caller.user_id(), &path, inline)
            .await
            .extend()
    }
}
