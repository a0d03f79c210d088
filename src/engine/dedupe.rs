//! Planning a duplicate cleanup: group candidates by size, then by a hash of the first
//! block, then by full SHA-256; keep one file of each group by policy (or every protected
//! one) and plan the rest into the operation's trash folder.

use std::collections::HashMap;

use anyhow::Context;
use entity::states::{Phase, RecordStatus};
use futures::{StreamExt, TryStreamExt};

use crate::{
    engine::{
        Engine, KeepPolicy, Options,
        failure::Failure,
        hash::HEAD_BYTES,
        lookup::Lookup,
        records::{NewRecord, RecordSink},
        scan::Filter,
        tracker::Tracker,
        trash_path,
    },
    storage::{FileMeta, UserSpace, paths},
};

/// Files hashed at once through OpenDAL (each a stream of requests).
const HASH_IN_FLIGHT: usize = 8;
/// On a local folder, files per blocking task (small files cost a hop each otherwise),
/// and bytes to read per task (large files go one or a few per task, so that every core
/// hashes: 64 large files in one task were hashed on one thread).
const LOCAL_CHUNK: usize = 64;
const LOCAL_CHUNK_BYTES: u64 = 4 << 20;
/// Candidates hashed together (whole sizes at a time): what the hashing holds at once, so
/// its memory does not grow with the tree.
const BATCH_FILES: usize = 65_536;

struct Candidate {
    file: FileMeta,
    hash: String,
}

pub async fn plan(
    engine: &Engine,
    tracker: &mut Tracker,
    options: &Options,
) -> Result<(), Failure> {
    let op = tracker.op.clone();
    let space = engine.storage.space(op.user_id);
    let filter = Filter::new(&op.root_path, options)?;
    let by_size = same_sizes(&space, tracker, &filter, &op.root_path).await?;
    let candidates: i64 = by_size.values().map(|v| v.len() as i64).sum();
    tracker.op.files_total = Some(candidates);
    // Known before the phase is announced, so its first event already says 0 % of it.
    tracker.work.to_hash = 2 * candidates;
    tracker.set_phase(Phase::Hashing).await?;
    let groups = identical(&space, tracker, by_size).await?;
    write_plan(tracker, groups, options, op.id).await
}

/// Step 1: Files of the same size (more than one per size). Empty files are never duplicates.
async fn same_sizes(
    space: &UserSpace,
    tracker: &mut Tracker,
    filter: &Filter,
    root: &str,
) -> Result<HashMap<u64, Vec<FileMeta>>, Failure> {
    tracker.count_beside(space, root);
    let mut by_size: HashMap<u64, Vec<FileMeta>> = HashMap::new();
    let mut files = Box::pin(space.walk(root));
    while let Some(mut file) = files.try_next().await.context("scan the folder")? {
        if !filter.wants(&file.path) {
            continue;
        }
        tracker.stop_if_cancelled()?;
        tracker.op.files_scanned += 1;
        if file.size > 0 && !filter.too_recent(&file) {
            // Every file is held until the walk ends: no spare capacity in its path.
            file.path.shrink_to_fit();
            by_size.entry(file.size).or_default().push(file);
        }
        tracker.tick().await?;
    }
    by_size.retain(|_, files| files.len() > 1);
    Ok(by_size)
}

/// Steps 2 and 3: files of the same size with the same first block, then with the same
/// full SHA-256. Candidates go in batches of whole sizes (`BATCH_FILES`); each batch is
/// hashed in one stream, so all cores stay busy however small the groups, and only
/// duplicates outlive their batch. Groups come out sorted by hash, so runs are
/// deterministic.
///
/// Progress (`Work::to_hash`, set by `plan`) counts two steps per candidate: its first
/// block, then its whole file (or, when its first block already settled it, that decision).
async fn identical(
    space: &UserSpace,
    tracker: &mut Tracker,
    by_size: HashMap<u64, Vec<FileMeta>>,
) -> Result<Vec<(String, Vec<FileMeta>)>, Failure> {
    let mut sizes = by_size.into_values();
    let mut groups: Vec<(String, Vec<FileMeta>)> = Vec::new();
    loop {
        let mut batch = Vec::new();
        while batch.len() < BATCH_FILES
            && let Some(files) = sizes.next()
        {
            batch.extend(files);
        }
        if batch.is_empty() {
            break;
        }
        let batch_len = batch.len();
        let heads = hash_all(space, tracker, batch, Some(HEAD_BYTES)).await?;
        let mut need_full = Vec::new();
        for ((size, head_hash), same_head) in group(heads) {
            if same_head.len() < 2 {
                continue;
            }
            if size <= HEAD_BYTES {
                // The first block is the whole file: its hash is the full hash.
                groups.push((head_hash, same_head));
            } else {
                need_full.extend(same_head);
            }
        }
        tracker.work.hashed += (batch_len - need_full.len()) as i64;
        for ((_, hash), same) in group(hash_all(space, tracker, need_full, None).await?) {
            if same.len() > 1 {
                groups.push((hash, same));
            }
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(groups)
}

/// Step 4: One record per file of each group: the kept one (`kept`, with why) and the rest
/// planned into the trash.
async fn write_plan(
    tracker: &mut Tracker,
    groups: Vec<(String, Vec<FileMeta>)>,
    options: &Options,
    operation_id: uuid::Uuid,
) -> Result<(), Failure> {
    let is_protected = |path: &str| {
        options
            .protected_paths
            .iter()
            .any(|p| paths::is_within(path, p))
    };
    let mut sink = RecordSink::new(tracker);
    for (hash, mut files) in groups {
        sink.tracker.stop_if_cancelled()?;
        let why_kept = order_for_keeping(&mut files, options.keep);
        let any_protected = files.iter().any(|f| is_protected(&f.path));
        for (index, file) in files.into_iter().enumerate() {
            let keep_reason = if is_protected(&file.path) {
                Some("kept: under a protected path")
            } else if !any_protected && index == 0 {
                Some(why_kept)
            } else {
                None
            };
            sink.push(NewRecord {
                new_path: keep_reason
                    .is_none()
                    .then(|| trash_path(operation_id, &file.path)),
                original_path: file.path,
                size: file.size,
                modified: file.modified,
                hash: Some(hash.clone()),
                category: None,
                is_duplicate: keep_reason.is_none(),
                status: if keep_reason.is_some() {
                    RecordStatus::Kept
                } else {
                    RecordStatus::Planned
                },
                note: keep_reason.map(String::from),
            })
            .await?;
        }
    }
    sink.flush().await?;
    Ok(())
}

/// Puts the file to keep first and says why it was chosen. The policy decides; when it
/// ties (equal modified times are common after an upload or a copy), the copy whose name
/// does not look like a copy's wins, then the shortest path, then the path itself, so
/// runs are deterministic.
pub fn order_for_keeping(files: &mut [FileMeta], policy: KeepPolicy) -> &'static str {
    let by_policy = |a: &FileMeta, b: &FileMeta| match policy {
        KeepPolicy::Oldest => a.modified.cmp(&b.modified),
        KeepPolicy::Newest => b.modified.cmp(&a.modified),
        KeepPolicy::ShortestPath => a.path.len().cmp(&b.path.len()),
    };
    let by_name = |a: &FileMeta, b: &FileMeta| {
        looks_like_copy(&a.path)
            .cmp(&looks_like_copy(&b.path))
            .then_with(|| a.path.len().cmp(&b.path.len()))
            .then_with(|| a.path.cmp(&b.path))
    };
    files.sort_by(|a, b| by_policy(a, b).then_with(|| by_name(a, b)));
    let tied = files.len() > 1 && by_policy(&files[0], &files[1]).is_eq();
    let named_apart = tied && looks_like_copy(&files[0].path) != looks_like_copy(&files[1].path);
    match (policy, tied, named_apart) {
        (KeepPolicy::Oldest, false, _) => "kept: oldest copy",
        (KeepPolicy::Newest, false, _) => "kept: newest copy",
        (KeepPolicy::ShortestPath, false, _) => "kept: shortest path",
        (_, true, true) => "kept: the others are as old, and their names look like copies",
        (KeepPolicy::ShortestPath, true, false) => "kept: shortest path, first by name",
        (_, true, false) => "kept: the others are as old; shortest path",
    }
}

/// Whether a path reads as a copy of another file: `Copy of …`, `… copy`, `… - Copy`,
/// `… (1)`, or in a folder such as `backup` or `Photos copy`.
pub fn looks_like_copy(path: &str) -> bool {
    let lower = path.to_lowercase();
    let mut segments: Vec<&str> = lower.split('/').collect();
    let name = segments.pop().unwrap_or_default();
    let stem = paths::split_ext(name).0.trim();
    let copy_words = |s: &str| {
        s.starts_with("copy of ")
            || s == "copy"
            || [" copy", "-copy", "_copy", " - copy"]
                .iter()
                .any(|end| s.ends_with(end))
            || s.split_once(" copy ")
                .is_some_and(|(_, n)| n.trim().parse::<u32>().is_ok())
    };
    let numbered = stem
        .strip_suffix(')')
        .and_then(|s| s.rsplit_once(" ("))
        .is_some_and(|(_, n)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let copy_folder = segments.iter().any(|folder| {
        copy_words(folder) || matches!(*folder, "copies" | "backup" | "backups" | "old")
    });
    copy_words(stem) || numbered || copy_folder
}

/// Hashes of many files (of their first `limit` bytes, or whole). A file that cannot be
/// read is left out: it is never called a duplicate. Stops early (with `Err`) on a cancel.
async fn hash_all(
    space: &UserSpace,
    tracker: &mut Tracker,
    files: Vec<FileMeta>,
    limit: Option<u64>,
) -> Result<Vec<Candidate>, Failure> {
    let cancel = tracker.cancel_flag();
    let mut out = Vec::with_capacity(files.len());
    if let Some(local) = space.local() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let read = move |file: &FileMeta| limit.map_or(file.size, |limit| file.size.min(limit));
        let mut chunks = futures::stream::iter(chunked(files, read))
            .map(|chunk| {
                let (mut local, cancel) = (local.clone(), cancel.clone());
                tokio::task::spawn_blocking(move || {
                    let tried = chunk.len();
                    let hashed = chunk
                        .into_iter()
                        .take_while(|_| !cancel.is_set())
                        .filter_map(|file| {
                            futures::executor::block_on(hash_one(&mut local, file, limit))
                        })
                        .collect::<Vec<_>>();
                    (hashed, tried)
                })
            })
            // Twice the cores: a finished chunk's successor is already running while this
            // task takes its result, so no core waits for the hand-off.
            .buffer_unordered(2 * cores);
        while let Some(hashed) = chunks.next().await {
            let (hashed, tried) = hashed.context("hash files")?;
            tracker.work.hashed += tried as i64;
            out.extend(hashed);
            tracker.stop_if_cancelled()?;
            tracker.tick().await?;
        }
        return Ok(out);
    }
    let mut hashed = futures::stream::iter(files)
        .map(|file| async move { hash_one(&mut space.clone(), file, limit).await })
        .buffer_unordered(HASH_IN_FLIGHT);
    while let Some(candidate) = hashed.next().await {
        tracker.work.hashed += 1;
        out.extend(candidate);
        tracker.stop_if_cancelled()?;
        tracker.tick().await?;
    }
    Ok(out)
}

/// The file with its hash (of its first `limit` bytes, or whole), or nothing (logged)
/// when it could not be read.
async fn hash_one(
    files: &mut impl Lookup,
    file: FileMeta,
    limit: Option<u64>,
) -> Option<Candidate> {
    let hashed = match limit {
        Some(limit) => files.sha256_head(&file.path, file.size, limit).await,
        None => files.sha256(&file.path).await,
    };
    match hashed {
        Ok(hash) => Some(Candidate { file, hash }),
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), path = %file.path, "could not hash a file");
            None
        }
    }
}

/// Files in chunks of at most `LOCAL_CHUNK` files and, past the first file of a chunk,
/// `LOCAL_CHUNK_BYTES` bytes to read.
fn chunked(files: Vec<FileMeta>, read: impl Fn(&FileMeta) -> u64) -> Vec<Vec<FileMeta>> {
    let mut chunks = Vec::new();
    let mut chunk: Vec<FileMeta> = Vec::new();
    let mut bytes = 0;
    for file in files {
        let size = read(&file);
        if !chunk.is_empty() && (chunk.len() >= LOCAL_CHUNK || bytes + size > LOCAL_CHUNK_BYTES) {
            chunks.push(std::mem::take(&mut chunk));
            bytes = 0;
        }
        bytes += size;
        chunk.push(file);
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    chunks
}

/// Candidates by size and hash, as files.
fn group(candidates: Vec<Candidate>) -> HashMap<(u64, String), Vec<FileMeta>> {
    let mut groups: HashMap<(u64, String), Vec<FileMeta>> = HashMap::new();
    for candidate in candidates {
        groups
            .entry((candidate.file.size, candidate.hash))
            .or_default()
            .push(candidate.file);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(sizes: &[u64]) -> Vec<FileMeta> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| FileMeta::file(format!("f{i}"), size, None))
            .collect()
    }

    #[test]
    fn chunks_hold_many_small_files_and_few_large_ones() {
        let lens = |chunks: Vec<Vec<FileMeta>>| chunks.iter().map(Vec::len).collect::<Vec<_>>();
        let whole = |f: &FileMeta| f.size;
        assert_eq!(lens(chunked(files(&[10; 130]), whole)), [64, 64, 2]);
        let big = 32 << 20;
        assert_eq!(
            lens(chunked(files(&[big, big, 10, big]), whole)),
            [1, 1, 1, 1]
        );
        assert_eq!(lens(chunked(files(&[1 << 20; 9]), whole)), [4, 4, 1]);
        // Only the first block of each is read: small reads, full chunks.
        let heads = |f: &FileMeta| f.size.min(HEAD_BYTES);
        assert_eq!(lens(chunked(files(&[big; 70]), heads)), [64, 6]);
    }
}

#[cfg(test)]
mod keeping {
    use super::*;

    fn file(path: &str, secs: i64) -> FileMeta {
        FileMeta::file(path, 3, chrono::DateTime::from_timestamp(secs, 0))
    }

    #[test]
    fn names_that_look_like_copies_are_known() {
        for copy in [
            "Photos copy/cat 93.png",
            "Photos/Copy of cat 93.png",
            "a/cat 93 (1).png",
            "a/cat - Copy.png",
            "a/cat copy.png",
            "a/cat copy 2.png",
            "backup/cat.png",
            "a/cat_copy.png",
        ] {
            assert!(looks_like_copy(copy), "{copy}");
        }
        for original in [
            "Photos/cat 93.png",
            "a/copying notes.txt",
            "a/(1).png",
            "a/Copyright.txt",
        ] {
            assert!(!looks_like_copy(original), "{original}");
        }
    }

    #[test]
    fn on_a_tie_the_original_is_kept_and_the_reason_says_so() {
        let mut files = vec![
            file("Photos copy/Copy of cat 93.png", 100),
            file("Photos/cat 93.png", 100),
        ];
        let why = order_for_keeping(&mut files, KeepPolicy::Oldest);
        assert_eq!(files[0].path, "Photos/cat 93.png");
        assert!(why.contains("look like copies"), "{why}");
        // No tie: the policy alone decides, whatever the names.
        let mut files = vec![file("Photos/cat.png", 200), file("Copy of cat.png", 100)];
        assert_eq!(
            order_for_keeping(&mut files, KeepPolicy::Oldest),
            "kept: oldest copy"
        );
        assert_eq!(files[0].path, "Copy of cat.png");
    }
}
