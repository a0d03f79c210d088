//! What a user does to their files directly: make a folder, rename, move, delete into
//! the trash. Each change of place is a small operation (`Move`, `Delete`) with a record
//! per file, so it shows in the history, reports and progress like any other, and is
//! undone by `rollbackOperation`. Names are checked as uploads check them, nothing is
//! overwritten (a taken name is `CONFLICT`), and a path an active operation works on is
//! `CONFLICT` too (`commands::create`).

use std::collections::BTreeSet;

use entity::{operations, states::OperationType};
use uuid::Uuid;

use crate::{
    engine::{
        Source, options,
        relocate::{self, Entry},
    },
    error::{AppError, AppResult},
    operations::commands::{Creation, create},
    state::AppState,
    storage::{FileMeta, UserSpace, paths},
};

/// Paths one request may name.
pub const MAX_ENTRIES: usize = 1000;

/// Creates a folder (its parents too). A name already taken is `CONFLICT`.
pub async fn create_folder(state: &AppState, user_id: Uuid, input: &str) -> AppResult<FileMeta> {
    let path = paths::normalize("path", input)?;
    if path.is_empty() {
        return Err(AppError::bad_input("path", "the root folder always exists"));
    }
    refuse_reserved("path", &path)?;
    let space = state.storage.space(user_id);
    if space.leads_outside(&path) {
        return Err(AppError::bad_input(
            "path",
            "path leads outside your storage",
        ));
    }
    if let Some(parent) = ancestor_file(&space, &path).await? {
        return Err(AppError::Conflict(format!(
            "{parent} is a file, not a folder"
        )));
    }
    if !space.create_folder(&path).await? {
        return Err(AppError::Conflict(format!("{path} already exists")));
    }
    Ok(FileMeta::folder(path))
}

/// Renames a file or folder where it is.
pub async fn rename(
    state: &AppState,
    user_id: Uuid,
    input: &str,
    new_name: &str,
) -> AppResult<operations::Model> {
    let space = state.storage.space(user_id);
    let from = existing(&space, "path", input).await?.path;
    let name = paths::file_name("newName", new_name)?;
    let to = paths::join(paths::parent(&from), &name);
    if to == from {
        return Err(AppError::bad_input("newName", "that is its name already"));
    }
    refuse_reserved("newName", &to)?;
    refuse_taken(&space, &to).await?;
    start(
        state,
        user_id,
        OperationType::Move,
        vec![Entry {
            from,
            to: Some(to),
            record: None,
        }],
    )
    .await
}

/// Moves files and folders into a folder, keeping their names.
pub async fn move_entries(
    state: &AppState,
    user_id: Uuid,
    inputs: &[String],
    into: &str,
) -> AppResult<operations::Model> {
    let space = state.storage.space(user_id);
    let folder = existing(&space, "to", into).await?;
    if !folder.is_dir {
        return Err(AppError::bad_input("to", "to is a file, not a folder"));
    }
    refuse_reserved("to", &folder.path)?;
    let mut entries = Vec::new();
    let mut names = BTreeSet::new();
    for from in named(&space, inputs).await? {
        if paths::parent(&from) == folder.path {
            return Err(AppError::bad_input(
                "paths",
                format!("{from} is in that folder already"),
            ));
        }
        if paths::is_within(&folder.path, &from) {
            return Err(AppError::bad_input(
                "to",
                format!("{from} cannot be moved into itself"),
            ));
        }
        let to = paths::join(&folder.path, paths::name(&from));
        if !names.insert(to.clone()) {
            return Err(AppError::Conflict(format!(
                "two of the paths are named {}",
                paths::name(&from)
            )));
        }
        refuse_taken(&space, &to).await?;
        entries.push(Entry {
            from,
            to: Some(to),
            record: None,
        });
    }
    start(state, user_id, OperationType::Move, entries).await
}

/// Moves files and folders into the trash (`.trash/<operation id>/<path>`), from which
/// they can be restored, or rolled back like any operation.
pub async fn delete_entries(
    state: &AppState,
    user_id: Uuid,
    inputs: &[String],
) -> AppResult<operations::Model> {
    let space = state.storage.space(user_id);
    let entries = named(&space, inputs)
        .await?
        .into_iter()
        .map(|from| Entry {
            from,
            to: None,
            record: None,
        })
        .collect();
    start(state, user_id, OperationType::Delete, entries).await
}

pub(super) async fn start(
    state: &AppState,
    user_id: Uuid,
    op_type: OperationType,
    entries: Vec<Entry>,
) -> AppResult<operations::Model> {
    let root = paths::common_folder(
        entries
            .iter()
            .flat_map(|e| std::iter::once(e.from.as_str()).chain(e.to.as_deref())),
    );
    create(
        state,
        user_id,
        Creation {
            op_type,
            root,
            dry_run: false,
            metadata: relocate::to_metadata(&entries)?,
            source: Source::Scan,
        },
    )
    .await
}

/// The paths a request names: each there, none the root or in the trash, none twice
/// and none inside another (its files would be named twice).
async fn named(space: &UserSpace, inputs: &[String]) -> AppResult<Vec<String>> {
    if inputs.is_empty() {
        return Err(AppError::bad_input("paths", "name at least one path"));
    }
    if inputs.len() > MAX_ENTRIES {
        return Err(AppError::bad_input(
            "paths",
            format!("at most {MAX_ENTRIES} paths at once"),
        ));
    }
    let mut paths_seen: Vec<String> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let path = existing(space, "paths", input).await?.path;
        if path.is_empty() {
            return Err(AppError::bad_input(
                "paths",
                "the root folder cannot be moved or deleted",
            ));
        }
        if let Some(other) = paths_seen
            .iter()
            .find(|p| paths::is_within(&path, p) || paths::is_within(p, &path))
        {
            return Err(AppError::bad_input(
                "paths",
                format!("{path} and {other} overlap; name each file once"),
            ));
        }
        paths_seen.push(path);
    }
    Ok(paths_seen)
}

/// A file or folder that is there (`NOT_FOUND` otherwise), not in the trash.
async fn existing(space: &UserSpace, field: &str, input: &str) -> AppResult<FileMeta> {
    let path = paths::normalize(field, input)?;
    refuse_reserved(field, &path)?;
    space
        .stat(&path)
        .await?
        .ok_or(AppError::NotFound("file or folder"))
}

fn refuse_reserved(field: &str, path: &str) -> AppResult<()> {
    if options::is_reserved(path) {
        return Err(AppError::bad_input(
            field,
            "the trash is changed through deleteEntries, restoreEntries and emptyTrash",
        ));
    }
    Ok(())
}

/// `CONFLICT` when `to` is taken (the stores we use tell `a` from `A`).
async fn refuse_taken(space: &UserSpace, to: &str) -> AppResult<()> {
    if space.stat(to).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "{to} already exists; choose another name or move it first"
        )));
    }
    Ok(())
}

/// The nearest part of `path` above it that is a file, if any.
async fn ancestor_file(space: &UserSpace, path: &str) -> AppResult<Option<String>> {
    let mut current = paths::parent(path);
    while !current.is_empty() {
        if let Some(meta) = space.stat(current).await? {
            return Ok((!meta.is_dir).then(|| current.to_string()));
        }
        current = paths::parent(current);
    }
    Ok(None)
}
