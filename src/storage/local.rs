//! The `fs` backend's fast paths, on the local folder directly instead of through
//! OpenDAL: listing without following symlinks, the containment check, an exclusive
//! create for claiming a name, and removing emptied folders. All blocking: callers run
//! them on the blocking pool.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::{FileMeta, paths};

/// A local folder's files and subfolders, without following symlinks. Names that are
/// not UTF-8 cannot be addressed through the API and are left out.
pub fn read_dir_no_follow(dir: &Path, rel: &str) -> anyhow::Result<Vec<FileMeta>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).context("list folder"),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.context("list folder")?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = paths::join(rel, &name);
        if kind.is_dir() {
            out.push(FileMeta::folder(path));
        } else if kind.is_file() {
            let Ok(meta) = entry.metadata() else { continue }; // gone since listed
            let modified = meta.modified().ok().map(DateTime::<Utc>::from);
            out.push(FileMeta::file(path, meta.len(), modified));
        }
    }
    Ok(out)
}

/// Every file under `rel`, depth first, a folder's files in listing order (as the
/// generic walk gives them), handed to `send` `batch` at a time until it returns `false`.
/// Each folder is checked to stay inside `root` before it is listed; an error ends the walk.
pub fn walk(
    root: &Path,
    rel: &str,
    batch: usize,
    mut send: impl FnMut(anyhow::Result<Vec<FileMeta>>) -> bool,
) {
    let mut folders = vec![rel.to_string()];
    let mut files = Vec::with_capacity(batch);
    while let Some(folder) = folders.pop() {
        if !is_contained(root, &folder) {
            send(Err(super::StorageError::OutsideSpace.into()));
            return;
        }
        match read_dir_no_follow(&root.join(&folder), &folder) {
            Ok(entries) => {
                for entry in entries {
                    if entry.is_dir {
                        folders.push(entry.path);
                    } else {
                        files.push(entry);
                    }
                }
            }
            Err(err) => {
                send(Err(err));
                return;
            }
        }
        if files.len() >= batch
            && !send(Ok(std::mem::replace(&mut files, Vec::with_capacity(batch))))
        {
            return;
        }
    }
    if !files.is_empty() {
        send(Ok(files));
    }
}

/// Whether `rel` stays inside `root` (already canonical: the storage folder is
/// canonicalized at start and `users/<id>` are folders we create). Resolves the deepest
/// part of the path that exists; if that is the namespace or below, nothing leads out.
pub fn is_contained(root: &Path, rel: &str) -> bool {
    let mut probe = root.join(rel);
    while probe.starts_with(root) {
        match probe.canonicalize() {
            Ok(real) => return real.starts_with(root),
            Err(_) => match probe.parent() {
                Some(parent) => probe = parent.to_path_buf(),
                None => break,
            },
        }
    }
    true // not even the namespace exists yet
}

/// Links a spooled upload, an unnamed temporary file (`O_TMPFILE`) on this file system,
/// onto `rel`, a placeholder this process claimed: its bytes become the stored file
/// without being written again. An error (another file system, a file that cannot be
/// linked) leaves the placeholder as it was, and the caller copies instead.
#[cfg(target_os = "linux")]
pub fn link_spooled(
    root: &Path,
    rel: &str,
    file: &std::fs::File,
    modified: Option<DateTime<Utc>>,
) -> anyhow::Result<u64> {
    use std::os::fd::AsRawFd;
    if !is_contained(root, rel) {
        anyhow::bail!(super::StorageError::OutsideSpace);
    }
    let target = root.join(rel);
    let folder = target.parent().context("a file has a folder")?;
    let aside = folder.join(format!(".upload-{}", uuid::Uuid::now_v7().simple()));
    rustix::fs::linkat(
        rustix::fs::CWD,
        format!("/proc/self/fd/{}", file.as_raw_fd()),
        rustix::fs::CWD,
        &aside,
        rustix::fs::AtFlags::SYMLINK_FOLLOW,
    )
    .context("link the spooled file")?;
    let placed = (|| {
        if let Some(time) = modified {
            file.set_modified(time.into())?;
        }
        // Over our own empty placeholder.
        std::fs::rename(&aside, &target)
    })();
    if let Err(err) = placed {
        let _ = std::fs::remove_file(&aside);
        return Err(err).context("place the spooled file");
    }
    Ok(file.metadata()?.len())
}

#[cfg(not(target_os = "linux"))]
pub fn link_spooled(
    _root: &Path,
    _rel: &str,
    _file: &std::fs::File,
    _modified: Option<DateTime<Utc>>,
) -> anyhow::Result<u64> {
    anyhow::bail!("spooled files are linked on Linux only")
}

/// A file an upload stores: where it should go, its bytes, its own modified time, and
/// whether it may be linked into place (a spooled file not stored under another name).
pub struct Upload {
    pub wanted: String,
    pub content: std::fs::File,
    pub modified: Option<DateTime<Utc>>,
    pub linkable: bool,
}

/// Stores an upload's files in one blocking call: each under a free name near the one
/// wanted (never replacing anything), linked into place or copied, its modified time
/// set. One result per file, in order; a failed file leaves nothing behind.
pub fn store_uploads(
    root: &Path,
    uploads: Vec<Upload>,
    names: &mut super::FreeNames,
) -> Vec<anyhow::Result<FileMeta>> {
    use std::os::unix::fs::MetadataExt;
    let root_device = std::fs::metadata(root).ok().map(|m| m.dev());
    let mut contained: std::collections::HashMap<String, bool> = Default::default();
    uploads
        .into_iter()
        .map(|upload| {
            let folder = paths::parent(&upload.wanted).to_string();
            let inside = *contained
                .entry(folder.clone())
                .or_insert_with(|| is_contained(root, &folder));
            if !inside {
                anyhow::bail!(super::StorageError::OutsideSpace);
            }
            let (path, placeholder) = claim_free_name(root, &upload.wanted, &folder, names)?;
            let stored = place(root, &path, placeholder, upload, root_device);
            if stored.is_err() {
                let _ = std::fs::remove_file(root.join(&path));
            }
            stored.with_context(|| format!("write {path}"))
        })
        .collect()
}

/// A free name near `wanted`, and the empty file created there for it.
fn claim_free_name(
    root: &Path,
    wanted: &str,
    folder: &str,
    names: &mut super::FreeNames,
) -> anyhow::Result<(String, std::fs::File)> {
    for _ in 0..64 {
        let candidate = names.take(wanted);
        if let Some(file) = create_new_file(&root.join(&candidate))
            .with_context(|| format!("create {candidate}"))?
        {
            return Ok((candidate, file));
        }
        if !names.is_listed(folder) {
            let taken = match std::fs::read_dir(root.join(folder)) {
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect(),
                Err(_) => Vec::new(),
            };
            names.learn(folder, taken);
        }
    }
    anyhow::bail!("no free name for {wanted}")
}

/// Puts an upload's bytes at `path`, a placeholder claimed for it.
fn place(
    root: &Path,
    path: &str,
    mut placeholder: std::fs::File,
    upload: Upload,
    root_device: Option<u64>,
) -> anyhow::Result<FileMeta> {
    use std::os::unix::fs::MetadataExt;
    let mut content = upload.content;
    // Only a file spooled on this file system can be linked (one in memory cannot).
    let linkable = upload.linkable
        && root_device.is_some()
        && content.metadata().ok().map(|m| m.dev()) == root_device;
    let size = if linkable && let Ok(size) = link_spooled(root, path, &content, upload.modified) {
        size
    } else {
        std::io::Seek::rewind(&mut content)?;
        let size = std::io::copy(&mut content, &mut placeholder)?;
        if let Some(time) = upload.modified {
            placeholder.set_modified(time.into())?;
        }
        size
    };
    let modified = match upload.modified {
        Some(time) => Some(time),
        None => std::fs::metadata(root.join(path))?
            .modified()
            .ok()
            .map(DateTime::<Utc>::from),
    };
    Ok(FileMeta {
        path: path.to_string(),
        is_dir: false,
        size,
        modified,
    })
}

/// `create_new`, keeping the file open for writing.
fn create_new_file(path: &Path) -> std::io::Result<Option<std::fs::File>> {
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
    };
    // The folder is made only when it is missing (one call per file, not a walk).
    let opened = match open() {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            open()
        }
        opened => opened,
    };
    match opened {
        Ok(file) => Ok(Some(file)),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
        Err(err) => Err(err),
    }
}

/// `open(O_CREAT | O_EXCL)`, creating the parent folders: `true` if we created the file,
/// `false` if something was already there.
pub fn create_new(path: &Path) -> std::io::Result<bool> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(err),
    }
}

/// Removes the given folders, and then their parents, as long as they are empty, never
/// going above `stop_at`.
pub fn prune_empty_dirs(root: &Path, mut dirs: Vec<String>, stop_at: &str) {
    dirs.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
    for dir in dirs {
        let mut current = dir.as_str();
        while !current.is_empty() && current != stop_at && paths::is_within(current, stop_at) {
            // Fails (and stops) when the folder is not empty or not a plain folder.
            if std::fs::remove_dir(root.join(current)).is_err() {
                break;
            }
            current = paths::parent(current);
        }
    }
}

/// Removes `rel` and every folder under it that holds no file at any depth, deepest
/// first; a folder with a file in it stays (so nothing but empty folders ever goes).
/// Returns the folders removed, relative to the namespace. Symlinks are not followed.
pub fn remove_empty_tree(root: &Path, rel: &str) -> Vec<String> {
    fn visit(root: &Path, rel: &str, removed: &mut Vec<String>) -> bool {
        let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
            return false;
        };
        let mut empty = true;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let child = paths::join(rel, &name);
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => empty &= visit(root, &child, removed),
                _ => empty = false,
            }
        }
        if empty && std::fs::remove_dir(root.join(rel)).is_ok() {
            removed.push(rel.to_string());
            return true;
        }
        false
    }
    let mut removed = Vec::new();
    if !rel.is_empty() && is_contained(root, rel) {
        visit(root, rel, &mut removed);
    }
    removed
}

/// A file or folder, without following a final symlink (a link is "nothing there").
pub fn stat(root: &Path, rel: &str) -> anyhow::Result<Option<FileMeta>> {
    if rel.is_empty() {
        return Ok(Some(FileMeta::folder("")));
    }
    let meta = match std::fs::symlink_metadata(root.join(rel)) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // A path through a file ("a.txt/b") is not there either.
        Err(err) if err.raw_os_error() == Some(20) => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("stat {rel}")),
    };
    let kind = meta.file_type();
    if kind.is_dir() {
        return Ok(Some(FileMeta::folder(rel)));
    }
    if !kind.is_file() {
        return Ok(None);
    }
    Ok(Some(FileMeta::file(
        rel,
        meta.len(),
        meta.modified().ok().map(DateTime::<Utc>::from),
    )))
}

/// `stat` relative to the folder's descriptor (`fstatat`, the final symlink not followed).
#[cfg(target_os = "linux")]
fn stat_at(dir: rustix::fd::BorrowedFd<'_>, rel: &str) -> anyhow::Result<Option<FileMeta>> {
    use rustix::{fs::FileType, io::Errno};
    let st = match rustix::fs::statat(dir, rel, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        // Nothing there, or a path through a file ("a.txt/b").
        Err(Errno::NOENT | Errno::NOTDIR) => return Ok(None),
        Err(err) => return Err(std::io::Error::from(err)).with_context(|| format!("stat {rel}")),
    };
    Ok(match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => Some(FileMeta::folder(rel)),
        FileType::RegularFile => Some(FileMeta::file(
            rel,
            st.st_size as u64,
            DateTime::from_timestamp(st.st_mtime, st.st_mtime_nsec as u32),
        )),
        _ => None,
    })
}

/// Moves `from` to `to` unless something is at `to` (`renameat2(RENAME_NOREPLACE)` on
/// Linux: one system call, atomic, never overwrites). `Ok(false)`: `to` was taken.
/// `to`'s folder must exist.
///
/// Relative to `dir` (the folder's own descriptor) where there is one, which spares the
/// kernel a walk of the folder's absolute path twice per move.
#[cfg(target_os = "linux")]
fn rename_no_replace(
    dir: Option<rustix::fd::BorrowedFd<'_>>,
    root: &Path,
    from: &str,
    to: &str,
) -> anyhow::Result<bool> {
    let flags = rustix::fs::RenameFlags::NOREPLACE;
    let renamed = match dir {
        Some(dir) => rustix::fs::renameat_with(dir, from, dir, to, flags),
        None => rustix::fs::renameat_with(
            rustix::fs::CWD,
            root.join(from),
            rustix::fs::CWD,
            root.join(to),
            flags,
        ),
    };
    match renamed {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::EXIST) => Ok(false),
        Err(err) => Err(std::io::Error::from(err)).with_context(|| format!("move {from} to {to}")),
    }
}

/// Many calls on one local folder from one blocking task: a batch of stats, moves or
/// reads costs one hop to the blocking pool instead of one per file. Containment is
/// checked once per parent folder of the batch (files themselves are never followed:
/// `stat` is an `lstat`, and only regular files are read or moved).
#[derive(Clone)]
pub struct Local {
    root: std::path::PathBuf,
    contained: std::collections::HashMap<String, bool>,
    /// Folders this batch has made sure exist (moves go to a few folders, many times).
    made: std::collections::HashSet<String>,
    /// The folder itself, opened at first use (shared by clones): files are opened,
    /// looked at and moved relative to it (see `open`).
    root_dir: std::sync::Arc<std::sync::OnceLock<Option<rustix::fd::OwnedFd>>>,
}

impl Local {
    pub fn new(root: std::path::PathBuf) -> Self {
        Self {
            root,
            contained: Default::default(),
            made: Default::default(),
            root_dir: Default::default(),
        }
    }

    /// The folder's own descriptor, opened once (shared by clones); `None` if it cannot
    /// be opened (not made yet), and callers go by path.
    fn root_dir(&self) -> Option<rustix::fd::BorrowedFd<'_>> {
        use rustix::fd::AsFd;
        use rustix::fs::{Mode, OFlags};
        self.root_dir
            .get_or_init(|| {
                rustix::fs::open(
                    &self.root,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .ok()
            })
            .as_ref()
            .map(|fd| fd.as_fd())
    }

    /// A file opened by `openat2(RESOLVE_BENEATH)` from the folder: the kernel refuses any
    /// step (`..`, an absolute or escaping symlink) that leaves it, in the same call, so
    /// no `realpath` of the file's folder is needed and no swap of a folder for a symlink
    /// can slip in between a check and the open. `None` where `openat2` is missing (kernels
    /// before 5.6, some seccomp profiles) or the folder cannot be opened: the caller
    /// checks and opens the portable way.
    #[cfg(target_os = "linux")]
    fn open_beneath(&self, rel: &str) -> Option<anyhow::Result<std::fs::File>> {
        use rustix::{
            fs::{Mode, OFlags, ResolveFlags},
            io::Errno,
        };
        let dir = self.root_dir()?;
        let opened = rustix::fs::openat2(
            dir,
            rel,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::BENEATH,
        );
        match opened {
            Ok(fd) => Some(Ok(std::fs::File::from(fd))),
            Err(Errno::NOSYS | Errno::PERM) => None,
            Err(Errno::XDEV) => Some(Err(super::StorageError::OutsideSpace.into())),
            Err(err) => Some(Err(std::io::Error::from(err)).with_context(|| format!("read {rel}"))),
        }
    }

    fn folder_contained(&mut self, rel: &str) -> bool {
        let dir = paths::parent(rel);
        if let Some(known) = self.contained.get(dir) {
            return *known;
        }
        let known = is_contained(&self.root, dir);
        self.contained.insert(dir.to_string(), known);
        known
    }

    /// A file or folder, or `None` (nothing there, a symlink, or out of the space).
    pub fn stat(&mut self, rel: &str) -> anyhow::Result<Option<FileMeta>> {
        if !self.folder_contained(rel) {
            return Ok(None);
        }
        #[cfg(target_os = "linux")]
        if !rel.is_empty()
            && let Some(dir) = self.root_dir()
        {
            return stat_at(dir, rel);
        }
        stat(&self.root, rel)
    }

    /// A file, opened for reading; a symlink is refused (`O_NOFOLLOW`), not followed.
    pub fn open(&mut self, rel: &str) -> anyhow::Result<std::fs::File> {
        use rustix::fs::{Mode, OFlags};
        #[cfg(target_os = "linux")]
        if let Some(opened) = self.open_beneath(rel) {
            return opened;
        }
        if !self.folder_contained(rel) {
            return Err(super::StorageError::OutsideSpace.into());
        }
        let fd = rustix::fs::open(
            self.root.join(rel),
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(std::io::Error::from)
        .with_context(|| format!("read {rel}"))?;
        Ok(std::fs::File::from(fd))
    }

    /// The first `want` bytes of a file, exactly (fails if it is shorter now); for none,
    /// the file is not opened.
    pub fn read_head(&mut self, rel: &str, want: u64) -> anyhow::Result<Vec<u8>> {
        let mut buffer = vec![0; want as usize];
        self.read_head_into(rel, &mut buffer)?;
        Ok(buffer)
    }

    /// `read_head` into a buffer of the caller's (as long as the bytes wanted).
    pub fn read_head_into(&mut self, rel: &str, buffer: &mut [u8]) -> anyhow::Result<()> {
        use std::io::Read;
        if buffer.is_empty() {
            return Ok(());
        }
        self.open(rel)?
            .read_exact(buffer)
            .with_context(|| format!("{rel} changed while it was read"))
    }

    /// Moves `from` to `to` unless something is at `to` (see `rename_no_replace`);
    /// `Ok(false)` when `to` is taken.
    pub fn move_no_replace(&mut self, from: &str, to: &str) -> anyhow::Result<bool> {
        if !self.folder_contained(from) || !self.folder_contained(to) {
            return Err(super::StorageError::OutsideSpace.into());
        }
        let folder = paths::parent(to);
        if !self.made.contains(folder) {
            std::fs::create_dir_all(self.root.join(folder))
                .with_context(|| format!("create the folder of {to}"))?;
            self.made.insert(folder.to_string());
        }
        #[cfg(target_os = "linux")]
        return rename_no_replace(self.root_dir(), &self.root, from, to);
        #[cfg(not(target_os = "linux"))]
        anyhow::bail!("moves without a placeholder need a local folder on Linux")
    }

    /// Names present in a folder (files and folders alike), or none if it is not there.
    pub fn names_in(&mut self, dir: &str) -> anyhow::Result<Vec<String>> {
        if !is_contained(&self.root, dir) {
            return Ok(Vec::new());
        }
        let entries = match std::fs::read_dir(self.root.join(dir)) {
            Ok(entries) => entries,
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(Vec::new());
            }
            Err(err) => return Err(err).with_context(|| format!("list {dir}")),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("list {dir}"))?;
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }
}

/// How many regular files are under a folder (symlinks not followed), counted from
/// directory entries alone: no `stat` per file, so a million take about a second.
pub fn count_files(dir: &Path) -> u64 {
    let mut count = 0;
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => folders.push(entry.path()),
                Ok(kind) if kind.is_file() => count += 1,
                _ => {}
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `<tmp>/space` (the folder) holding `in/a.txt`, a symlinked folder leading out, one
    /// leading to a folder inside, and a symlinked file; `<tmp>/secret.txt` outside.
    fn space() -> (tempfile::TempDir, Local) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("space");
        std::fs::create_dir_all(root.join("in")).unwrap();
        std::fs::write(root.join("in/a.txt"), b"inside").unwrap();
        std::fs::write(tmp.path().join("secret.txt"), b"outside").unwrap();
        std::os::unix::fs::symlink(tmp.path(), root.join("out")).unwrap();
        std::os::unix::fs::symlink("in", root.join("alias")).unwrap();
        std::os::unix::fs::symlink("in/a.txt", root.join("link.txt")).unwrap();
        let root = root.canonicalize().unwrap();
        (tmp, Local::new(root))
    }

    fn read(local: &mut Local, rel: &str) -> anyhow::Result<String> {
        use std::io::Read;
        let mut text = String::new();
        local.open(rel)?.read_to_string(&mut text)?;
        Ok(text)
    }

    #[test]
    fn a_spooled_upload_becomes_the_stored_file_without_a_copy() {
        use std::{io::Write, os::unix::fs::MetadataExt};
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("users/u/in")).unwrap();
        let mut spooled = tempfile::tempfile_in(&root).unwrap();
        spooled.write_all(b"the bytes, once").unwrap();
        // The placeholder a claim leaves.
        std::fs::write(root.join("users/u/in/a.txt"), b"").unwrap();
        let when = chrono::DateTime::parse_from_rfc3339("2020-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let size = link_spooled(&root, "users/u/in/a.txt", &spooled, Some(when)).unwrap();
        assert_eq!(size, 15);
        let stored = std::fs::metadata(root.join("users/u/in/a.txt")).unwrap();
        assert_eq!(
            stored.ino(),
            spooled.metadata().unwrap().ino(),
            "the same file, not a copy"
        );
        assert_eq!(
            std::fs::read(root.join("users/u/in/a.txt")).unwrap(),
            b"the bytes, once"
        );
        assert_eq!(
            stored.modified().unwrap(),
            std::time::SystemTime::from(when)
        );
        // Nothing left aside.
        assert_eq!(
            std::fs::read_dir(root.join("users/u/in")).unwrap().count(),
            1
        );
        // A path leading out is refused.
        assert!(link_spooled(&root, "../x.txt", &spooled, None).is_err());
    }

    #[test]
    fn files_open_only_beneath_the_folder() {
        let (_tmp, mut local) = space();
        assert_eq!(read(&mut local, "in/a.txt").unwrap(), "inside");
        assert_eq!(read(&mut local, "alias/a.txt").unwrap(), "inside");
        for escape in ["out/secret.txt", "../secret.txt", "in/../../secret.txt"] {
            let err = read(&mut local, escape).unwrap_err();
            assert!(
                matches!(
                    err.downcast_ref::<super::super::StorageError>(),
                    Some(super::super::StorageError::OutsideSpace)
                ),
                "{escape}: {err:#}"
            );
        }
        // A symlink as the file itself is never followed.
        assert!(read(&mut local, "link.txt").is_err());
    }

    #[test]
    fn stats_and_moves_go_by_the_folder() {
        let (_tmp, mut local) = space();
        let file = local.stat("in/a.txt").unwrap().unwrap();
        assert_eq!((file.is_dir, file.size), (false, 6));
        assert!(file.modified.is_some());
        assert!(local.stat("in").unwrap().unwrap().is_dir);
        assert!(
            local.stat("link.txt").unwrap().is_none(),
            "a symlink is not a file"
        );
        assert!(local.stat("out/secret.txt").unwrap().is_none(), "outside");
        assert!(local.stat("in/a.txt/x").unwrap().is_none());
        assert!(local.stat("in/none.txt").unwrap().is_none());

        std::fs::write(local.root.join("in/b.txt"), b"b").unwrap();
        assert!(
            !local.move_no_replace("in/a.txt", "in/b.txt").unwrap(),
            "never replaces"
        );
        assert!(
            local
                .move_no_replace("in/a.txt", "Documents/a.txt")
                .unwrap()
        );
        assert_eq!(read(&mut local, "Documents/a.txt").unwrap(), "inside");
        assert_eq!(std::fs::read(local.root.join("in/b.txt")).unwrap(), b"b");
        assert!(
            local.move_no_replace("in/b.txt", "out/b.txt").is_err(),
            "outside"
        );
    }
}
