//! Storage through Apache OpenDAL. This is the only module that builds an `Operator`
//! (OpenDAL's builder API changes between releases). Each user owns the namespace
//! `users/<user-id>/`; every path that reaches this module is already clean
//! (`paths::normalize`) and relative to that namespace.
//!
//! No write or move here ever replaces an existing file: a destination name is first
//! *claimed* by creating an empty file with `if_not_exists` (a conditional write the
//! backends we support all have), and only then is the data renamed or copied over that
//! placeholder, which is ours.

mod error;
pub mod free_names;
mod local;
pub mod paths;

pub use error::StorageError;

pub use local::{Local, Upload};

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt, TryStreamExt};
use opendal::{EntryMode, ErrorKind, Metadata, Operator};
use uuid::Uuid;

use free_names::FreeNames;

/// Files per batch a local walk hands over, and batches it may be ahead by.
const WALK_BATCH: usize = 1024;
const WALK_AHEAD: usize = 4;

/// A file or folder of a user's space, by its clean relative path.
#[derive(Clone, Debug)]
pub struct FileMeta {
    pub path: String,
    pub is_dir: bool,
    pub size: u64,
    pub modified: Option<DateTime<Utc>>,
}

impl FileMeta {
    pub fn folder(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            is_dir: true,
            size: 0,
            modified: None,
        }
    }

    pub fn file(path: impl Into<String>, size: u64, modified: Option<DateTime<Utc>>) -> Self {
        Self {
            path: path.into(),
            is_dir: false,
            size,
            modified,
        }
    }
}

/// The configured backend. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    op: Operator,
    description: String,
    /// For the `fs` backend: the folder, to keep symlinks from leading out of a namespace.
    fs_root: Option<PathBuf>,
}

impl Storage {
    /// `fs:///absolute/path`, `memory://`, or (with the `s3` feature)
    /// `s3://bucket?endpoint=…&region=…`. Without a URL: `fs` under `<data_dir>/storage`.
    pub fn from_url(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        let url = url.map(str::trim).filter(|u| !u.is_empty());
        let (scheme, rest) = match url {
            None => ("fs", ""),
            Some(url) => url
                .split_once("://")
                .context("STORAGE_URL must look like fs:///path, memory:// or s3://bucket")?,
        };
        match scheme {
            "fs" => {
                let root = if url.is_none() {
                    data_dir.join("storage")
                } else {
                    PathBuf::from(rest)
                };
                if url.is_some() && !root.is_absolute() {
                    bail!(
                        "STORAGE_URL fs:// needs an absolute path, as in fs:///srv/organizer/storage"
                    );
                }
                std::fs::create_dir_all(&root).with_context(|| {
                    format!("could not create the storage folder {}", root.display())
                })?;
                let root = root.canonicalize()?;
                let builder = opendal::services::Fs::default().root(&root.to_string_lossy());
                let op = Operator::new(builder)?;
                Ok(Self {
                    op,
                    description: format!("fs:{}", root.display()),
                    fs_root: Some(root),
                })
            }
            "memory" => {
                let op = Operator::new(opendal::services::Memory::default())?;
                Ok(Self {
                    op,
                    description: "memory".into(),
                    fs_root: None,
                })
            }
            #[cfg(feature = "s3")]
            "s3" => {
                // Object stores need OpenDAL's HTTP transport installed once per process.
                opendal::install_default();
                let (bucket, query) = rest.split_once('?').unwrap_or((rest, ""));
                let mut builder =
                    opendal::services::S3::default().bucket(bucket.trim_end_matches('/'));
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    match pair.split_once('=') {
                        Some(("endpoint", v)) => builder = builder.endpoint(v),
                        Some(("region", v)) => builder = builder.region(v),
                        Some(("root", v)) => builder = builder.root(v),
                        _ => bail!(
                            "unknown STORAGE_URL parameter {pair:?} (known: endpoint, region, root)"
                        ),
                    }
                }
                let op = Operator::new(builder)?.layer(opendal::layers::RetryLayer::new());
                Ok(Self {
                    op,
                    description: format!("s3:{bucket}"),
                    fs_root: None,
                })
            }
            other => bail!(
                "unsupported STORAGE_URL scheme {other:?}: use fs://, memory:// or s3:// (s3 needs the `s3` cargo feature)"
            ),
        }
    }

    /// Where uploads are spooled: on `fs`, a folder on the storage's own file system
    /// (outside every user's space), so a spooled file becomes the stored file by a link
    /// and its bytes are written once. Elsewhere, `None` (the system's temporary folder).
    pub fn spool_dir(&self) -> Option<PathBuf> {
        let dir = self.fs_root.as_ref()?.join(".spool");
        std::fs::create_dir_all(&dir).ok()?;
        Some(dir)
    }

    /// A readable name of the backend, for logs and `serverStatus`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The namespace of one user.
    pub fn space(&self, user_id: Uuid) -> UserSpace {
        UserSpace {
            op: self.op.clone(),
            prefix: format!("users/{user_id}"),
            fs_root: self
                .fs_root
                .as_ref()
                .map(|root| root.join("users").join(user_id.to_string())),
        }
    }
}

/// One user's namespace. Paths in and out are relative to it.
#[derive(Clone)]
pub struct UserSpace {
    op: Operator,
    prefix: String,
    fs_root: Option<PathBuf>,
}

/// How many storage calls a scan or a batch of moves keeps in flight.
pub const IN_FLIGHT: usize = 16;

/// The user metadata key that carries a file's own modified time on backends whose
/// objects get the upload time (object stores).
const MTIME_KEY: &str = "organizer-mtime";

/// A file's modified time: the one it was uploaded with where the backend keeps it aside,
/// else the backend's own.
fn to_utc(meta: &Metadata) -> Option<DateTime<Utc>> {
    if let Some(kept) = meta
        .user_metadata()
        .and_then(|m| m.get(MTIME_KEY))
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    {
        return Some(kept.with_timezone(&Utc));
    }
    let ts = meta.last_modified()?.into_inner();
    DateTime::from_timestamp_millis(ts.as_millisecond())
}

impl UserSpace {
    fn abs(&self, rel: &str) -> String {
        paths::join(&self.prefix, rel)
    }

    fn abs_dir(&self, rel: &str) -> String {
        format!("{}/", self.abs(rel))
    }

    fn rel<'a>(&self, abs: &'a str) -> &'a str {
        abs.strip_prefix(&self.prefix)
            .unwrap_or(abs)
            .trim_matches('/')
    }

    /// On `fs`, refuses a path whose existing part resolves (through a symlink) outside
    /// the namespace. Other backends have no symlinks.
    fn ensure_contained(&self, rel: &str) -> anyhow::Result<()> {
        match &self.fs_root {
            Some(root) if !local::is_contained(root, rel) => Err(StorageError::OutsideSpace.into()),
            _ => Ok(()),
        }
    }

    /// Whether the path's existing part leads out of the namespace (through a symlink on
    /// `fs`): such a path is refused as the user's mistake, not failed as ours.
    pub fn leads_outside(&self, rel: &str) -> bool {
        self.ensure_contained(rel).is_err()
    }

    /// A file or folder, or `None` if nothing is there (or it is a symlink out of the space).
    pub async fn stat(&self, rel: &str) -> anyhow::Result<Option<FileMeta>> {
        if let Some(root) = &self.fs_root {
            // Locally: one blocking call for the containment check and the lstat.
            let (root, rel) = (root.clone(), rel.to_string());
            return tokio::task::spawn_blocking(move || {
                if !local::is_contained(&root, &rel) {
                    return Ok(None);
                }
                local::stat(&root, &rel)
            })
            .await?;
        }
        if rel.is_empty() {
            return Ok(Some(FileMeta::folder("")));
        }
        match self.op.stat(&self.abs(rel)).await {
            Ok(meta) if meta.mode() == EntryMode::FILE => Ok(Some(FileMeta::file(
                rel,
                meta.content_length(),
                to_utc(&meta),
            ))),
            Ok(meta) if meta.mode() == EntryMode::DIR => Ok(Some(FileMeta::folder(rel))),
            Ok(_) => Ok(None),
            Err(err) if err.kind() == ErrorKind::NotFound => {
                // Object stores have no folders, only prefixes: a folder exists if it has content.
                let children = self.op.list_with(&self.abs_dir(rel)).limit(1).await;
                match children {
                    Ok(entries) if !entries.is_empty() => Ok(Some(FileMeta::folder(rel))),
                    _ => Ok(None),
                }
            }
            Err(err) => Err(err).with_context(|| format!("stat {rel}")),
        }
    }

    /// Size and time of a listed entry, asking the backend when the lister left them out.
    async fn complete(&self, path: String, meta: Metadata) -> anyhow::Result<Option<FileMeta>> {
        // Listings carry no user metadata: where times are kept there, ask each file.
        if meta.last_modified().is_some() && !self.times_in_metadata() {
            return Ok(Some(FileMeta::file(
                path,
                meta.content_length(),
                to_utc(&meta),
            )));
        }
        match self.op.stat(&self.abs(&path)).await {
            Ok(meta) if meta.mode() == EntryMode::FILE => Ok(Some(FileMeta::file(
                path,
                meta.content_length(),
                to_utc(&meta),
            ))),
            Ok(_) => Ok(None),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None), // gone since listed
            Err(err) => Err(err).with_context(|| format!("stat {path}")),
        }
    }

    /// Direct children of a folder (files with size and time), in no particular order.
    /// Symlinks are left out: they are never followed.
    ///
    /// On `fs` this reads the folder directly (`read_dir` without following links, on
    /// the blocking pool): OpenDAL's listing resolves symlinks, and is several times
    /// slower on local disks. Everything else goes through OpenDAL.
    pub async fn list_dir(&self, rel: &str) -> anyhow::Result<Vec<FileMeta>> {
        self.ensure_contained(rel)?;
        if let Some(root) = &self.fs_root {
            let (dir, rel) = (root.join(rel), rel.to_string());
            return tokio::task::spawn_blocking(move || local::read_dir_no_follow(&dir, &rel))
                .await?;
        }
        let dir = self.abs_dir(rel);
        let entries = match self.op.list(&dir).await {
            Ok(entries) => entries,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err).context("list folder"),
        };
        let mut out = Vec::new();
        let mut pending = Vec::new();
        for entry in entries {
            if entry.path() == dir {
                continue; // a listing starts with the folder itself
            }
            let path = self.rel(entry.path()).to_string();
            match entry.metadata().mode() {
                EntryMode::DIR => out.push(FileMeta::folder(path)),
                EntryMode::FILE => pending.push((path, entry.metadata().clone())),
                _ => {}
            }
        }
        let files: Vec<Option<FileMeta>> = futures::stream::iter(pending)
            .map(|(path, meta)| self.complete(path, meta))
            .buffered(IN_FLIGHT)
            .try_collect()
            .await?;
        out.extend(files.into_iter().flatten());
        Ok(out)
    }

    /// How many files a walk of the folder will come to, where that is cheap to know
    /// ahead (a local folder); `None` elsewhere (on an object store, counting is the
    /// listing itself).
    pub async fn count_files(&self, rel: &str) -> Option<u64> {
        let root = self.fs_root.as_ref()?;
        if !local::is_contained(root, rel) {
            return None;
        }
        let dir = root.join(rel);
        tokio::task::spawn_blocking(move || local::count_files(&dir))
            .await
            .ok()
    }

    /// Names in a folder (files and subfolders), none if it is not there: what a new name
    /// there must not be.
    pub async fn names_in(&self, rel: &str) -> anyhow::Result<Vec<String>> {
        if let Some(mut local) = self.local() {
            let rel = rel.to_string();
            return tokio::task::spawn_blocking(move || local.names_in(&rel)).await?;
        }
        let dir = self.abs_dir(rel);
        let entries = match self.op.list(&dir).await {
            Ok(entries) => entries,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err).with_context(|| format!("list {rel}")),
        };
        Ok(entries
            .iter()
            .filter(|entry| entry.path() != dir)
            .map(|entry| paths::name(self.rel(entry.path())).to_string())
            .collect())
    }

    /// Every file under a folder, recursively, as a stream: memory holds the folders still
    /// to visit and a few batches of files (locally at most `WALK_AHEAD + 1` of
    /// `WALK_BATCH`; elsewhere one folder's entries), never the whole tree.
    pub fn walk<'a>(&'a self, rel: &'a str) -> impl Stream<Item = anyhow::Result<FileMeta>> + 'a {
        if let Some(root) = self.fs_root.clone() {
            // One blocking thread walks ahead of the caller, a batch of files at a time:
            // the walk runs beside the work on the files instead of in turn with it, and
            // costs no hop to the blocking pool per folder. It stops when the stream is
            // dropped (its next batch has nowhere to go).
            let (tx, rx) = tokio::sync::mpsc::channel(WALK_AHEAD);
            let rel = rel.to_string();
            tokio::task::spawn_blocking(move || {
                local::walk(&root, &rel, WALK_BATCH, |batch| {
                    tx.blocking_send(batch).is_ok()
                })
            });
            return tokio_stream::wrappers::ReceiverStream::new(rx)
                .map_ok(|files| futures::stream::iter(files.into_iter().map(Ok)))
                .try_flatten()
                .left_stream();
        }
        struct Walk {
            folders: Vec<String>,
            files: std::collections::VecDeque<FileMeta>,
        }
        let start = Walk {
            folders: vec![rel.to_string()],
            files: Default::default(),
        };
        futures::stream::try_unfold(start, move |mut walk| async move {
            loop {
                if let Some(file) = walk.files.pop_front() {
                    return Ok(Some((file, walk)));
                }
                let Some(folder) = walk.folders.pop() else {
                    return Ok(None);
                };
                for entry in self.list_dir(&folder).await? {
                    if entry.is_dir {
                        walk.folders.push(entry.path);
                    } else {
                        walk.files.push_back(entry);
                    }
                }
            }
        })
        .right_stream()
    }

    /// The first `len` bytes of a file of `size` bytes (all of it when it is shorter).
    /// Fails if the file no longer has that many bytes.
    pub async fn read_head(&self, rel: &str, size: u64, len: u64) -> anyhow::Result<Vec<u8>> {
        let want = size.min(len);
        if want == 0 {
            return Ok(Vec::new());
        }
        if let Some(mut local) = self.local() {
            let rel = rel.to_string();
            return tokio::task::spawn_blocking(move || local.read_head(&rel, want)).await?;
        }
        let buffer = self
            .op
            .read_with(&self.abs(rel))
            .range(0..want)
            .await
            .with_context(|| format!("read {rel}"))?;
        if buffer.len() as u64 != want {
            bail!("{rel} changed while it was read");
        }
        Ok(buffer.to_vec())
    }

    /// Streams a file's content in chunks of about `chunk` bytes.
    pub async fn chunks(
        &self,
        rel: &str,
        chunk: usize,
    ) -> anyhow::Result<impl Stream<Item = anyhow::Result<bytes::Bytes>>> {
        let reader = self
            .op
            .reader_with(&self.abs(rel))
            .chunk(chunk)
            .await
            .with_context(|| format!("open {rel}"))?;
        let stream = reader.into_bytes_stream(..).await?;
        Ok(stream.map_err(anyhow::Error::from))
    }

    /// Streams bytes `range` of a file (a download, or a zip entry).
    pub async fn read_range(
        &self,
        rel: &str,
        range: std::ops::Range<u64>,
    ) -> anyhow::Result<impl Stream<Item = anyhow::Result<bytes::Bytes>> + use<>> {
        self.ensure_contained(rel)?;
        let reader = self
            .op
            .reader_with(&self.abs(rel))
            .chunk(256 * 1024)
            .await
            .with_context(|| format!("open {rel}"))?;
        let stream = reader.into_bytes_stream(range).await?;
        Ok(stream.map_err(anyhow::Error::from))
    }

    /// Creates an empty file at `rel` unless something is already there. `true` if we did.
    ///
    /// On `fs` this is `open(O_CREAT | O_EXCL)` directly: OpenDAL's fs writer syncs every
    /// file it closes, which for an empty placeholder costs a disk flush per moved file
    /// and buys nothing (the write-ahead record, not the placeholder, is what must last).
    pub async fn claim(&self, rel: &str) -> anyhow::Result<bool> {
        self.ensure_contained(paths::parent(rel))?;
        if let Some(root) = &self.fs_root {
            let path = root.join(rel);
            return tokio::task::spawn_blocking(move || local::create_new(&path))
                .await?
                .with_context(|| format!("create {rel}"));
        }
        match self
            .op
            .write_with(&self.abs(rel), Vec::<u8>::new())
            .if_not_exists(true)
            .await
        {
            Ok(_) => Ok(true),
            Err(err)
                if matches!(
                    err.kind(),
                    ErrorKind::ConditionNotMatch | ErrorKind::AlreadyExists
                ) =>
            {
                Ok(false)
            }
            Err(err) => Err(err).with_context(|| format!("create {rel}")),
        }
    }

    /// Claims `wanted`, or a free `wanted (n).ext` near it (see `free_names`), and returns
    /// the claimed path. `names` carries what is known of the folder between calls: it is
    /// listed once, on the first collision.
    pub async fn claim_free_name(
        &self,
        wanted: &str,
        names: &mut FreeNames,
    ) -> anyhow::Result<String> {
        let folder = paths::parent(wanted);
        // Bounded: each failed claim teaches `names` a taken path, and a folder changing
        // under us this often is not one to keep trying in.
        for _ in 0..64 {
            let candidate = names.take(wanted);
            if self.claim(&candidate).await? {
                return Ok(candidate);
            }
            if !names.is_listed(folder) {
                names.learn(folder, self.names_in(folder).await?);
            }
        }
        bail!("no free name for {wanted}")
    }

    /// Moves a file onto a destination this process claimed (an empty placeholder), by
    /// rename where the backend has it, else by copy, size check and delete.
    pub async fn move_onto_claimed(
        &self,
        from: &str,
        to: &str,
        expected_size: u64,
    ) -> anyhow::Result<()> {
        if let Some(root) = &self.fs_root {
            // Locally: containment and the rename in one blocking call, no OpenDAL.
            let (root, from, to) = (root.clone(), from.to_string(), to.to_string());
            return tokio::task::spawn_blocking(move || {
                if !local::is_contained(&root, &from) {
                    return Err(StorageError::OutsideSpace.into());
                }
                std::fs::rename(root.join(&from), root.join(&to))
                    .with_context(|| format!("move {from} to {to}"))
            })
            .await?;
        }
        self.ensure_contained(from)?;
        let (from_abs, to_abs) = (self.abs(from), self.abs(to));
        let capability = self.op.info().capability();
        if capability.rename {
            return self
                .op
                .rename(&from_abs, &to_abs)
                .await
                .with_context(|| format!("move {from} to {to}"));
        }
        self.op
            .copy(&from_abs, &to_abs)
            .await
            .with_context(|| format!("copy {from} to {to}"))?;
        let copied = self.op.stat(&to_abs).await?.content_length();
        if copied != expected_size {
            bail!("copy of {from} has {copied} bytes, expected {expected_size}");
        }
        self.op
            .delete(&from_abs)
            .await
            .with_context(|| format!("delete {from} after copying"))
    }

    /// Direct access to the local folder (`fs` only), for batches of blocking calls.
    pub fn local(&self) -> Option<Local> {
        self.fs_root.clone().map(Local::new)
    }

    /// Whether moves can go straight to their destination without a placeholder: a local
    /// folder on Linux, where a rename can refuse to replace.
    pub fn moves_without_placeholder(&self) -> bool {
        cfg!(target_os = "linux") && self.fs_root.is_some()
    }

    /// Removes a placeholder we claimed but did not use.
    pub async fn release(&self, rel: &str) {
        if let Ok(meta) = self.op.stat(&self.abs(rel)).await
            && meta.content_length() == 0
        {
            let _ = self.op.delete(&self.abs(rel)).await;
        }
    }

    /// Whether files' own modified times are kept in user metadata (object stores): on
    /// `fs` they are set on the file itself.
    fn times_in_metadata(&self) -> bool {
        self.fs_root.is_none() && self.op.info().capability().write_with_user_metadata
    }

    /// Writes a new file under a free name near `wanted`, with `modified` as its modified
    /// time where given (on the file on `fs`, in user metadata on object stores; a backend
    /// with neither keeps its own time); returns its path and size.
    pub async fn write_new<S>(
        &self,
        wanted: &str,
        names: &mut FreeNames,
        content: S,
        modified: Option<DateTime<Utc>>,
    ) -> anyhow::Result<(String, u64)>
    where
        S: Stream<Item = std::io::Result<bytes::Bytes>> + Unpin,
    {
        let path = self.claim_free_name(wanted, names).await?;
        self.write_claimed(path, content, modified).await
    }

    /// Whether this space is a local folder (`fs`).
    pub fn is_local(&self) -> bool {
        self.fs_root.is_some()
    }

    /// On `fs`: stores an upload's files in one blocking call (`local::store_uploads`),
    /// `None` elsewhere (the caller writes them one by one).
    pub async fn store_uploads_locally(
        &self,
        uploads: Vec<local::Upload>,
        names: FreeNames,
    ) -> Option<anyhow::Result<(Vec<anyhow::Result<FileMeta>>, FreeNames)>> {
        let root = self.fs_root.clone()?;
        for upload in &uploads {
            if let Err(err) = self.ensure_contained(paths::parent(&upload.wanted)) {
                return Some(Err(err));
            }
        }
        let mut names = names;
        Some(
            tokio::task::spawn_blocking(move || {
                let stored = local::store_uploads(&root, uploads, &mut names);
                (stored, names)
            })
            .await
            .map_err(Into::into),
        )
    }

    /// Writes a file at a path this process claimed (an empty placeholder).
    async fn write_claimed<S>(
        &self,
        path: String,
        mut content: S,
        modified: Option<DateTime<Utc>>,
    ) -> anyhow::Result<(String, u64)>
    where
        S: Stream<Item = std::io::Result<bytes::Bytes>> + Unpin,
    {
        // Dropped before the write ends (a timeout, a client gone): the half-written file
        // is removed, as on an error.
        let unfinished = Unfinished {
            op: self.op.clone(),
            path: Some(self.abs(&path)),
        };
        let result: anyhow::Result<u64> = async {
            let mut writer = match modified {
                Some(time) if self.times_in_metadata() => {
                    self.op
                        .writer_with(&self.abs(&path))
                        .user_metadata([(MTIME_KEY.to_string(), time.to_rfc3339())])
                        .await?
                }
                _ => self.op.writer(&self.abs(&path)).await?,
            };
            let mut written = 0u64;
            while let Some(chunk) = content.next().await {
                let chunk = chunk?;
                written += chunk.len() as u64;
                writer.write(chunk).await?;
            }
            writer.close().await?;
            if let (Some(time), Some(root)) = (modified, &self.fs_root) {
                let file = root.join(&path);
                tokio::task::spawn_blocking(move || {
                    std::fs::File::options()
                        .write(true)
                        .open(file)?
                        .set_modified(time.into())
                })
                .await??;
            }
            Ok(written)
        }
        .await;
        match result {
            Ok(size) => {
                unfinished.done();
                Ok((path, size))
            }
            Err(err) => Err(err.context(format!("write {path}"))),
        }
    }

    pub async fn delete(&self, rel: &str) -> anyhow::Result<()> {
        self.ensure_contained(rel)?;
        self.op
            .delete(&self.abs(rel))
            .await
            .with_context(|| format!("delete {rel}"))
    }

    /// Removes the given folders, and then their parents, as long as they are empty,
    /// never going above `stop_at`. Only `fs` has folders of its own; on object stores a
    /// folder vanishes with its last file.
    pub async fn prune_empty_dirs(&self, dirs: Vec<String>, stop_at: &str) {
        let Some(root) = self.fs_root.clone() else {
            return;
        };
        let stop_at = stop_at.to_string();
        let _ = tokio::task::spawn_blocking(move || local::prune_empty_dirs(&root, dirs, &stop_at))
            .await;
    }

    /// Creates a folder (and its parents). `false` when something is already there.
    pub async fn create_folder(&self, rel: &str) -> anyhow::Result<bool> {
        self.ensure_contained(paths::parent(rel))?;
        if self.stat(rel).await?.is_some() {
            return Ok(false);
        }
        self.op
            .create_dir(&self.abs_dir(rel))
            .await
            .with_context(|| format!("create folder {rel}"))?;
        Ok(true)
    }

    /// Removes a folder if no file is left anywhere under it, with its empty folders;
    /// returns those removed (deepest first). Only where folders exist on their own
    /// (`fs`): elsewhere a folder with no file in it is not there anyway.
    pub async fn remove_empty_tree(&self, rel: &str) -> Vec<String> {
        let Some(root) = self.fs_root.clone() else {
            return Vec::new();
        };
        let rel = rel.to_string();
        tokio::task::spawn_blocking(move || local::remove_empty_tree(&root, &rel))
            .await
            .unwrap_or_default()
    }

    /// Deletes a folder and everything under it.
    pub async fn remove_all(&self, rel: &str) -> anyhow::Result<()> {
        self.ensure_contained(rel)?;
        match self
            .op
            .delete_with(&self.abs_dir(rel))
            .recursive(true)
            .await
        {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err).with_context(|| format!("delete {rel}")),
        }
    }
}

/// A file being written: deleted when dropped unless `done`.
struct Unfinished {
    op: Operator,
    path: Option<String>,
}

impl Unfinished {
    fn done(mut self) {
        self.path = None;
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        let Some(path) = self.path.take() else {
            return;
        };
        let op = self.op.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = op.delete(&path).await;
            });
        }
    }
}
