//! Planning an organize: every wanted file under the root gets a record saying which
//! category folder it goes to, under a name that is free both on storage and in the plan.

use anyhow::Context;
use entity::states::RecordStatus;
use futures::{StreamExt, TryStreamExt};

use crate::{
    engine::{
        Engine, Options,
        categorize::{Categorizer, HEAD_BYTES},
        failure::Failure,
        hash,
        lookup::Lookup,
        options,
        records::{NewRecord, RecordSink},
        scan::Filter,
        template,
        tracker::Tracker,
    },
    storage::{FileMeta, IN_FLIGHT, UserSpace, free_names::FreeNames, paths},
};

pub async fn plan(
    engine: &Engine,
    tracker: &mut Tracker,
    options: &Options,
) -> Result<(), Failure> {
    let op = tracker.op.clone();
    let space = engine.storage.space(op.user_id);
    let mut planner = Planner {
        categorizer: Categorizer::load(&engine.db, op.user_id).await?,
        filter: Filter::new(&op.root_path, options)?,
        template: options
            .destination_template
            .clone()
            .unwrap_or_else(|| template::DEFAULT.into()),
        root: op.root_path.clone(),
        hash_files: options.hash_files,
        names: FreeNames::default(),
        space: space.clone(),
        projects: Default::default(),
        listings: Default::default(),
        resolved_folders: Default::default(),
    };
    tracker.count_beside(&space, &op.root_path);
    let mut sink = RecordSink::new(tracker);
    let mut files = Box::pin(space.walk(&op.root_path));
    loop {
        let mut chunk = Vec::with_capacity(PLAN_CHUNK);
        while chunk.len() < PLAN_CHUNK
            && let Some(file) = files.try_next().await.context("scan the folder")?
        {
            if planner.filter.wants(&file.path) {
                chunk.push(file);
            }
        }
        if chunk.is_empty() {
            break;
        }
        let heads = planner.heads(&chunk).await?;
        for (file, head) in chunk.into_iter().zip(heads) {
            sink.tracker.stop_if_cancelled()?;
            sink.tracker.op.files_scanned += 1;
            let record = planner.plan_file(file, head).await?;
            sink.push(record).await?;
            sink.tracker.tick().await?;
        }
    }
    sink.flush().await?;
    Ok(())
}

/// Files planned together: the first bytes the categorizer wants of them are read together
/// (on a local folder in one blocking call, not one per file).
const PLAN_CHUNK: usize = 256;

/// A file's first bytes: not wanted, read, or why not.
type Head = Option<anyhow::Result<Vec<u8>>>;

struct Planner {
    space: UserSpace,
    categorizer: Categorizer,
    filter: Filter,
    template: String,
    root: String,
    hash_files: bool,
    /// Targets given to earlier files of this plan, and names already in the destination
    /// folders (each listed once, instead of a lookup on storage per file).
    names: FreeNames,
    /// Folders looked at for the files that make a folder a project: the marker found.
    projects: std::collections::HashMap<String, Option<&'static str>>,
    /// Names in folders a destination passes through, to find `code` for `Code`.
    listings: std::collections::HashMap<String, Listing>,
    /// Destination folders as `existing_case` resolved them.
    resolved_folders: std::collections::HashMap<String, String>,
}

/// A folder's names, exactly and by their lower case (the first of each).
type Listing = (
    std::collections::HashSet<String>,
    std::collections::HashMap<String, String>,
);

/// Files whose presence makes a folder a project, which an organize leaves whole.
const PROJECT_MARKERS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "package.json",
    "Cargo.toml",
    "pyproject.toml",
    "setup.py",
    "go.mod",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Gemfile",
    "composer.json",
    "mix.exs",
    "CMakeLists.txt",
    ".project",
    "Package.swift",
];

impl Planner {
    /// The first bytes of each file whose category depends on them.
    async fn heads(&self, files: &[FileMeta]) -> Result<Vec<Head>, Failure> {
        let wanted: Vec<Option<(String, u64)>> = files
            .iter()
            .map(|file| {
                (!self.filter.too_recent(file)
                    && self.categorizer.wants_head(paths::name(&file.path)))
                .then(|| (file.path.clone(), file.size))
            })
            .collect();
        async fn read(files: &mut impl Lookup, wanted: Option<(String, u64)>) -> Head {
            let (path, size) = wanted?;
            Some(files.read_head(&path, size, HEAD_BYTES).await)
        }
        if let Some(mut local) = self.space.local() {
            return Ok(tokio::task::spawn_blocking(move || {
                wanted
                    .into_iter()
                    .map(|wanted| futures::executor::block_on(read(&mut local, wanted)))
                    .collect()
            })
            .await
            .context("read the first bytes of files")?);
        }
        let space = &self.space;
        Ok(futures::stream::iter(wanted)
            .map(|wanted| async move { read(&mut space.clone(), wanted).await })
            .buffered(IN_FLIGHT)
            .collect()
            .await)
    }

    /// The record of one scanned file (with its first bytes, where `heads` read them):
    /// where it goes, or why it stays.
    async fn plan_file(&mut self, file: FileMeta, head: Head) -> Result<NewRecord, Failure> {
        let skip = |category: Option<String>, reason: String| {
            NewRecord::skipped(&file.path, file.size, file.modified, category, reason)
        };
        if self.filter.too_recent(&file) {
            return Ok(skip(None, self.filter.too_recent_reason()));
        }
        if let Some((project, marker)) = self.project_of(&file.path).await? {
            return Ok(skip(
                None,
                format!("in the project folder {project} (it has {marker}): left whole"),
            ));
        }
        let name = paths::name(&file.path).to_string();
        let head = match head {
            Some(Ok(head)) => Some(head),
            Some(Err(err)) => {
                tracing::warn!(error = %format!("{err:#}"), path = %file.path, "could not read a file's first bytes");
                return Ok(skip(None, "could not be read".into()));
            }
            None => None,
        };
        let category = self
            .categorizer
            .categorize(&name, file.size, head.as_deref());
        let folder = paths::normalize(
            "destinationTemplate",
            &template::render(&self.template, &category, file.modified, &name),
        )
        .map_err(|err| Failure::User(err.to_string()))?;
        let folder = self.existing_case(&folder).await?;
        let target = paths::join(&paths::join(&self.root, &folder), &name);
        if target == file.path {
            return Ok(skip(Some(category), "already in place".into()));
        }
        if options::is_reserved(&target) {
            return Ok(skip(
                Some(category),
                "its destination is a reserved folder".into(),
            ));
        }
        let target = self.free_target(&target).await?;
        let hash = if self.hash_files {
            Some(
                hash::sha256(&self.space, &file.path)
                    .await
                    .context("hash a file")?,
            )
        } else {
            None
        };
        Ok(NewRecord {
            original_path: file.path,
            new_path: Some(target),
            size: file.size,
            modified: file.modified,
            hash,
            category: Some(category),
            is_duplicate: false,
            status: RecordStatus::Planned,
            note: None,
        })
    }

    /// The project folder (below the root) a file is in, and the marker that makes it one.
    async fn project_of(&mut self, path: &str) -> Result<Option<(String, &'static str)>, Failure> {
        let mut folders = Vec::new();
        let mut folder = paths::parent(path);
        while folder != self.root && paths::is_within(folder, &self.root) && !folder.is_empty() {
            folders.push(folder.to_string());
            folder = paths::parent(folder);
        }
        // Outermost first: a project inside a project is the outer one's.
        for folder in folders.into_iter().rev() {
            let marker = match self.projects.get(&folder) {
                Some(known) => *known,
                None => {
                    let names = self.space.names_in(&folder).await?;
                    let found = PROJECT_MARKERS
                        .iter()
                        .copied()
                        .find(|m| names.iter().any(|n| n == m));
                    self.projects.insert(folder.clone(), found);
                    found
                }
            };
            if let Some(marker) = marker {
                return Ok(Some((folder, marker)));
            }
        }
        Ok(None)
    }

    /// The destination folder (under the root) with each folder already there under
    /// another case spelled as it is: `Code` goes into an existing `code`, not beside it.
    /// Each folder is looked up once per plan (the root may hold a great many names).
    async fn existing_case(&mut self, folder: &str) -> Result<String, Failure> {
        if let Some(resolved) = self.resolved_folders.get(folder) {
            return Ok(resolved.clone());
        }
        let mut resolved = String::new();
        for segment in folder.split('/').filter(|s| !s.is_empty()) {
            let parent = paths::join(&self.root, &resolved);
            if !self.listings.contains_key(&parent) {
                let names = self.space.names_in(&parent).await.unwrap_or_default();
                // Exact names first, so that an exact match wins over another case.
                let mut by_case = std::collections::HashMap::with_capacity(names.len());
                for name in &names {
                    by_case
                        .entry(name.to_lowercase())
                        .or_insert_with(|| name.clone());
                }
                let exact = names.into_iter().collect();
                self.listings.insert(parent.clone(), (exact, by_case));
            }
            let (exact, by_case) = &self.listings[&parent];
            let name = if exact.contains(segment) {
                segment.to_string()
            } else {
                by_case
                    .get(&segment.to_lowercase())
                    .cloned()
                    .unwrap_or_else(|| segment.to_string())
            };
            resolved = paths::join(&resolved, &name);
        }
        self.resolved_folders
            .insert(folder.to_string(), resolved.clone());
        Ok(resolved)
    }

    /// The target itself, or a `name (n).ext` that is neither on storage nor planned.
    async fn free_target(&mut self, target: &str) -> Result<String, Failure> {
        let folder = paths::parent(target);
        if !self.names.is_listed(folder) {
            let names = self.space.names_in(folder).await?;
            self.names.learn(folder, names);
        }
        Ok(self.names.take(target))
    }
}
