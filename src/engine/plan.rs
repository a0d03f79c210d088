//! Building an operation's records: scanning a folder for organize or cleanup, copying a
//! dry run's plan for `applyPlan`, or reversing an earlier operation for a rollback.
//! Records are inserted in batches, all before anything moves.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use chrono::{DateTime, Datelike, Utc};
use entity::{category_rules, file_records};
use futures::{StreamExt, TryStreamExt};
use globset::{Glob, GlobSet, GlobSetBuilder};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    engine::{
        KeepPolicy, Options, Phase, RecordStatus, TRASH_DIR,
        categorize::{self, Categorizer, Rule},
        runner::{Failure, Tracker},
        trash_path,
    },
    state::AppState,
    storage::{FileMeta, UserSpace, paths},
};

/// Rows per `INSERT`: 16 columns each stays far below PostgreSQL's 65,535 parameters.
const INSERT_BATCH: usize = 500;
/// Bytes read to sniff a file's type, and the first block hashed before a full hash.
const HEAD_BYTES: u64 = 8 * 1024;
const HASH_CHUNK: usize = 1024 * 1024;
/// Files hashed at once.
const HASH_IN_FLIGHT: usize = 4;

/// Buffers records and inserts them in batches.
struct RecordSink<'a> {
    tracker: &'a mut Tracker,
    batch: Vec<file_records::ActiveModel>,
    seq: i64,
}

pub struct NewRecord {
    pub original_path: String,
    pub new_path: Option<String>,
    pub size: u64,
    pub modified: Option<DateTime<Utc>>,
    pub hash: Option<String>,
    pub category: Option<String>,
    pub is_duplicate: bool,
    pub status: RecordStatus,
    pub note: Option<String>,
}

impl<'a> RecordSink<'a> {
    fn new(tracker: &'a mut Tracker) -> Self {
        Self {
            tracker,
            batch: Vec::with_capacity(INSERT_BATCH),
            seq: 0,
        }
    }

    async fn push_with_seq(&mut self, seq: i64, record: NewRecord) -> anyhow::Result<()> {
        let now = Utc::now();
        self.batch.push(file_records::ActiveModel {
            id: Set(Uuid::now_v7()),
            operation_id: Set(self.tracker.op.id),
            seq: Set(seq),
            file_name: Set(paths::name(&record.original_path).to_string()),
            original_path: Set(record.original_path),
            new_path: Set(record.new_path),
            file_size_bytes: Set(record.size as i64),
            file_modified_at: Set(record.modified),
            file_hash: Set(record.hash),
            category: Set(record.category),
            is_duplicate: Set(record.is_duplicate),
            status: Set(record.status.as_str().to_string()),
            error: Set(record.note),
            created_at: Set(now),
            updated_at: Set(now),
        });
        if self.batch.len() >= INSERT_BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn push(&mut self, record: NewRecord) -> anyhow::Result<()> {
        self.seq += 1;
        self.push_with_seq(self.seq, record).await
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        file_records::Entity::insert_many(batch)
            .exec(self.tracker.db())
            .await
            .context("insert file records")?;
        self.tracker.tick().await
    }
}

/// Which scanned files an operation looks at.
struct Filter {
    root: String,
    include_hidden: bool,
    exclude: GlobSet,
}

impl Filter {
    fn new(root: &str, options: &Options) -> anyhow::Result<Self> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &options.exclude {
            builder.add(Glob::new(pattern)?);
        }
        Ok(Self {
            root: root.to_string(),
            include_hidden: options.include_hidden,
            exclude: builder.build()?,
        })
    }

    fn wants(&self, path: &str) -> bool {
        let relative = path
            .strip_prefix(&self.root)
            .unwrap_or(path)
            .trim_start_matches('/');
        if path == TRASH_DIR || path.starts_with(&format!("{TRASH_DIR}/")) {
            return false;
        }
        if !self.include_hidden && relative.split('/').any(|segment| segment.starts_with('.')) {
            return false;
        }
        !self.exclude.is_match(relative)
    }
}

async fn load_rules(state: &AppState, user_id: Uuid) -> anyhow::Result<Categorizer> {
    let rules = category_rules::Entity::find()
        .filter(category_rules::Column::UserId.eq(user_id))
        .order_by_desc(category_rules::Column::Priority)
        .order_by_asc(category_rules::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(Categorizer::new(
        rules.iter().filter_map(Rule::compile).collect(),
    ))
}

/// `{category}/{year}` etc. for one file.
pub fn render_template(
    template: &str,
    category: &str,
    modified: Option<DateTime<Utc>>,
    name: &str,
) -> String {
    let (year, month) = modified.map_or(
        ("unknown-year".to_string(), "unknown-month".to_string()),
        |t| (format!("{:04}", t.year()), format!("{:02}", t.month())),
    );
    let ext = categorize::extension(name).unwrap_or_else(|| "no-extension".into());
    template
        .replace("{category}", category)
        .replace("{year}", &year)
        .replace("{month}", &month)
        .replace("{ext}", &ext)
}

fn too_recent(file: &FileMeta, options: &Options) -> bool {
    options.settle_seconds > 0
        && file.modified.is_some_and(|m| {
            Utc::now() - m < chrono::Duration::seconds(options.settle_seconds as i64)
        })
}

pub async fn organize(
    state: &AppState,
    tracker: &mut Tracker,
    options: &Options,
) -> Result<(), Failure> {
    let op = tracker.op.clone();
    let space = state.storage.space(op.user_id);
    let categorizer = load_rules(state, op.user_id).await?;
    let filter = Filter::new(&op.root_path, options)?;
    let template = options
        .destination_template
        .clone()
        .unwrap_or_else(|| "{category}".into());
    let mut taken: HashSet<String> = HashSet::new();
    let mut sink = RecordSink::new(tracker);
    let mut files = Box::pin(space.walk(&op.root_path));
    while let Some(file) = files.try_next().await? {
        if !filter.wants(&file.path) {
            continue;
        }
        sink.tracker.op.files_scanned += 1;
        let name = paths::name(&file.path).to_string();
        if too_recent(&file, options) {
            sink.push(skip(
                &file,
                None,
                format!(
                    "modified within the last {} seconds",
                    options.settle_seconds
                ),
            ))
            .await?;
            continue;
        }
        let head = if categorizer.wants_head(&name) {
            match space.read_head(&file.path, file.size, HEAD_BYTES).await {
                Ok(head) => Some(head),
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), path = %file.path, "could not read a file's first bytes");
                    sink.push(skip(&file, None, "could not be read".into()))
                        .await?;
                    continue;
                }
            }
        } else {
            None
        };
        let category = categorizer.categorize(&name, file.size, head.as_deref());
        let folder = paths::normalize(
            "destinationTemplate",
            &render_template(&template, &category, file.modified, &name),
        )
        .map_err(|err| Failure::User(err.to_string()))?;
        let target = paths::join(&paths::join(&op.root_path, &folder), &name);
        if target == file.path {
            sink.push(skip(&file, Some(category), "already in place".into()))
                .await?;
            continue;
        }
        let target = free_target(&space, &mut taken, &target).await?;
        let hash = if options.hash_files {
            Some(sha256(&space, &file.path).await?)
        } else {
            None
        };
        sink.push(NewRecord {
            original_path: file.path.clone(),
            new_path: Some(target),
            size: file.size,
            modified: file.modified,
            hash,
            category: Some(category),
            is_duplicate: false,
            status: RecordStatus::Planned,
            note: None,
        })
        .await?;
        sink.tracker.tick().await?;
    }
    sink.flush().await?;
    Ok(())
}

fn skip(file: &FileMeta, category: Option<String>, reason: String) -> NewRecord {
    NewRecord {
        original_path: file.path.clone(),
        new_path: None,
        size: file.size,
        modified: file.modified,
        hash: None,
        category,
        is_duplicate: false,
        status: RecordStatus::Skipped,
        note: Some(reason),
    }
}

/// The target itself, or the first `name (n).ext` that is neither on storage nor planned.
async fn free_target(
    space: &UserSpace,
    taken: &mut HashSet<String>,
    target: &str,
) -> anyhow::Result<String> {
    let mut candidate = target.to_string();
    let mut n = 0;
    // A target that cannot even be looked at (a file where a folder should be, say)
    // counts as free here: claiming it will fail, and that file's record will say so.
    while taken.contains(&candidate) || space.stat(&candidate).await.ok().flatten().is_some() {
        n += 1;
        candidate = paths::numbered(target, n);
    }
    taken.insert(candidate.clone());
    Ok(candidate)
}

/// Full SHA-256 of a file, read in large chunks and hashed on the blocking pool.
pub async fn sha256(space: &UserSpace, path: &str) -> anyhow::Result<String> {
    hash_prefix(space, path, 0, None).await
}

/// SHA-256 of the first `limit` bytes of a file of `size` bytes, or of all of it.
async fn hash_prefix(
    space: &UserSpace,
    path: &str,
    size: u64,
    limit: Option<u64>,
) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    if let Some(limit) = limit {
        let head = space.read_head(path, size, limit).await?;
        hasher = tokio::task::spawn_blocking(move || {
            hasher.update(&head);
            hasher
        })
        .await?;
    } else {
        let mut chunks = Box::pin(space.chunks(path, HASH_CHUNK).await?);
        while let Some(chunk) = chunks.try_next().await? {
            hasher = tokio::task::spawn_blocking(move || {
                hasher.update(&chunk);
                hasher
            })
            .await?;
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

struct Candidate {
    file: FileMeta,
    hash: String,
}

pub async fn duplicate_cleanup(
    state: &AppState,
    tracker: &mut Tracker,
    options: &Options,
) -> Result<(), Failure> {
    let op = tracker.op.clone();
    let space = state.storage.space(op.user_id);
    let filter = Filter::new(&op.root_path, options)?;

    // 1. Group by size. Empty files are never duplicates.
    let mut by_size: HashMap<u64, Vec<FileMeta>> = HashMap::new();
    {
        let mut files = Box::pin(space.walk(&op.root_path));
        while let Some(file) = files.try_next().await? {
            if !filter.wants(&file.path) {
                continue;
            }
            tracker.op.files_scanned += 1;
            if file.size > 0 && !too_recent(&file, options) {
                by_size.entry(file.size).or_default().push(file);
            }
            tracker.tick().await?;
        }
    }
    by_size.retain(|_, files| files.len() > 1);
    tracker.op.files_total = Some(by_size.values().map(|v| v.len() as i64).sum());
    tracker.set_phase(Phase::Hashing).await?;

    // 2. Within a size, group by a hash of the first block; 3. then by full SHA-256.
    let mut groups: Vec<(String, Vec<FileMeta>)> = Vec::new();
    for (size, files) in by_size {
        let heads = hash_all(&space, files, Some(HEAD_BYTES)).await?;
        for (head_hash, same_head) in group(heads) {
            if same_head.len() < 2 {
                continue;
            }
            if size <= HEAD_BYTES {
                groups.push((head_hash, same_head.into_iter().map(|c| c.file).collect()));
                continue;
            }
            let full = hash_all(
                &space,
                same_head.into_iter().map(|c| c.file).collect(),
                None,
            )
            .await?;
            for (hash, same) in group(full) {
                if same.len() > 1 {
                    groups.push((hash, same.into_iter().map(|c| c.file).collect()));
                }
            }
        }
        tracker.tick().await?;
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));

    // 4. Keep one of each group (or every protected one); plan the rest into the trash.
    let protected: Vec<String> = options.protected_paths.clone();
    let is_protected = |path: &str| protected.iter().any(|p| paths::is_within(path, p));
    let mut sink = RecordSink::new(tracker);
    for (hash, mut files) in groups {
        order_for_keeping(&mut files, options.keep);
        let any_protected = files.iter().any(|f| is_protected(&f.path));
        for (index, file) in files.into_iter().enumerate() {
            let keep_reason = if is_protected(&file.path) {
                Some("kept: under a protected path")
            } else if !any_protected && index == 0 {
                Some(match options.keep {
                    KeepPolicy::Oldest => "kept: oldest copy",
                    KeepPolicy::Newest => "kept: newest copy",
                    KeepPolicy::ShortestPath => "kept: shortest path",
                })
            } else {
                None
            };
            let record = NewRecord {
                new_path: keep_reason.is_none().then(|| trash_path(op.id, &file.path)),
                original_path: file.path,
                size: file.size,
                modified: file.modified,
                hash: Some(hash.clone()),
                category: None,
                is_duplicate: keep_reason.is_none(),
                status: if keep_reason.is_some() {
                    RecordStatus::Skipped
                } else {
                    RecordStatus::Planned
                },
                note: keep_reason.map(String::from),
            };
            sink.push(record).await?;
        }
    }
    sink.flush().await?;
    Ok(())
}

/// Puts the file to keep first; ties are broken by path so runs are deterministic.
pub fn order_for_keeping(files: &mut [FileMeta], policy: KeepPolicy) {
    match policy {
        KeepPolicy::Oldest => files.sort_by(|a, b| {
            a.modified
                .cmp(&b.modified)
                .then_with(|| a.path.cmp(&b.path))
        }),
        KeepPolicy::Newest => files.sort_by(|a, b| {
            b.modified
                .cmp(&a.modified)
                .then_with(|| a.path.cmp(&b.path))
        }),
        KeepPolicy::ShortestPath => files.sort_by(|a, b| {
            a.path
                .len()
                .cmp(&b.path.len())
                .then_with(|| a.path.cmp(&b.path))
        }),
    }
}

async fn hash_all(
    space: &UserSpace,
    files: Vec<FileMeta>,
    limit: Option<u64>,
) -> anyhow::Result<Vec<Candidate>> {
    let candidates = futures::stream::iter(files)
        .map(|file| async move {
            // A file that cannot be read is left out: it is never called a duplicate.
            match hash_prefix(space, &file.path, file.size, limit).await {
                Ok(hash) => Some(Candidate { file, hash }),
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), path = %file.path, "could not hash a file");
                    None
                }
            }
        })
        .buffer_unordered(HASH_IN_FLIGHT)
        .filter_map(|candidate| async move { candidate })
        .collect::<Vec<_>>()
        .await;
    Ok(candidates)
}

fn group(candidates: Vec<Candidate>) -> HashMap<String, Vec<Candidate>> {
    let mut groups: HashMap<String, Vec<Candidate>> = HashMap::new();
    for candidate in candidates {
        groups
            .entry(candidate.hash.clone())
            .or_default()
            .push(candidate);
    }
    groups
}

/// `applyPlan`: the dry run's records, as they were planned.
pub async fn copy_plan(tracker: &mut Tracker, source: Uuid) -> Result<(), Failure> {
    copy_records(tracker, source, false).await
}

/// A rollback: the done records of the source, reversed (from where the file went back
/// to where it was). Each keeps the source's `seq`, and is applied newest first.
pub async fn copy_reversed(tracker: &mut Tracker, source: Uuid) -> Result<(), Failure> {
    copy_records(tracker, source, true).await
}

async fn copy_records(tracker: &mut Tracker, source: Uuid, reverse: bool) -> Result<(), Failure> {
    let mut after = 0i64;
    let mut sink = RecordSink::new(tracker);
    loop {
        let mut query = file_records::Entity::find()
            .filter(file_records::Column::OperationId.eq(source))
            .filter(file_records::Column::Seq.gt(after))
            .order_by_asc(file_records::Column::Seq)
            .limit(INSERT_BATCH as u64);
        query = if reverse {
            query
                .filter(file_records::Column::Status.eq(RecordStatus::Done.as_str()))
                .filter(file_records::Column::NewPath.is_not_null())
        } else {
            query.filter(file_records::Column::Status.is_in([
                RecordStatus::Planned.as_str(),
                RecordStatus::Skipped.as_str(),
            ]))
        };
        let rows = query.all(sink.tracker.db()).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in rows {
            sink.tracker.op.files_scanned += 1;
            let (from, to) = if reverse {
                (
                    row.new_path.clone().unwrap_or_default(),
                    Some(row.original_path.clone()),
                )
            } else {
                (row.original_path.clone(), row.new_path.clone())
            };
            let record = NewRecord {
                original_path: from,
                new_path: to,
                size: row.file_size_bytes.max(0) as u64,
                modified: row.file_modified_at,
                hash: row.file_hash,
                category: row.category,
                is_duplicate: row.is_duplicate,
                // A reversed record is always to do; a copied plan keeps its skips.
                status: if reverse {
                    RecordStatus::Planned
                } else {
                    RecordStatus::parse(&row.status).unwrap_or(RecordStatus::Planned)
                },
                note: if reverse { None } else { row.error },
            };
            sink.push_with_seq(row.seq, record).await?;
        }
    }
    sink.flush().await?;
    Ok(())
}
