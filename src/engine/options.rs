//! What an operation was started with: stored in `operations.metadata` as
//! `{"options": …}`, checked once when the operation is created.

use serde::{Deserialize, Serialize};

use crate::{
    engine::{TRASH_DIR, template},
    error::{AppError, AppResult},
    storage::paths,
};

/// Which duplicate to keep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeepPolicy {
    #[default]
    Oldest,
    Newest,
    ShortestPath,
}

/// Longest accepted `settleSeconds`: ten years.
const MAX_SETTLE_SECONDS: i64 = 10 * 365 * 24 * 3600;
/// Entries of `exclude` and of `protectedPaths`, and bytes of one glob.
pub const MAX_PATTERNS: usize = 100;
pub const MAX_PATTERN_BYTES: usize = 1024;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    pub keep: KeepPolicy,
    /// Clean paths (relative to the namespace) whose files are always kept.
    pub protected_paths: Vec<String>,
    pub include_hidden: bool,
    /// Globs matched against the path relative to the operation's root.
    pub exclude: Vec<String>,
    pub destination_template: Option<String>,
    /// Organize: also record each file's SHA-256 (so rollback can verify content).
    pub hash_files: bool,
    /// Skip files modified in the last this many seconds.
    pub settle_seconds: i64,
}

impl Options {
    /// Checks every option and cleans the paths; each failure names its field.
    pub fn validate(mut self) -> AppResult<Self> {
        for (field, list) in [
            ("exclude", &self.exclude),
            ("protectedPaths", &self.protected_paths),
        ] {
            if list.len() > MAX_PATTERNS {
                return Err(AppError::bad_input(
                    field,
                    format!("{field} may list at most {MAX_PATTERNS} entries"),
                ));
            }
        }
        if self.exclude.iter().any(|p| p.len() > MAX_PATTERN_BYTES) {
            return Err(AppError::bad_input(
                "exclude",
                format!("an exclude glob may be at most {MAX_PATTERN_BYTES} bytes"),
            ));
        }
        for pattern in &self.exclude {
            globset::Glob::new(pattern).map_err(|_| {
                AppError::bad_input("exclude", format!("not a valid glob: {pattern}"))
            })?;
        }
        self.protected_paths = self
            .protected_paths
            .iter()
            .map(|p| paths::normalize("protectedPaths", p))
            .collect::<AppResult<_>>()?;
        if let Some(template) = &self.destination_template {
            template::check(template)?;
        }
        if self.settle_seconds < 0 {
            return Err(AppError::bad_input(
                "settleSeconds",
                "settleSeconds must not be negative",
            ));
        }
        if self.settle_seconds > MAX_SETTLE_SECONDS {
            return Err(AppError::bad_input(
                "settleSeconds",
                "settleSeconds is too large",
            ));
        }
        Ok(self)
    }

    /// The options as stored on the operation row.
    pub fn to_metadata(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::json!({ "options": serde_json::to_value(self)? }))
    }

    /// The options stored on an operation row. A row without options (older rows) has
    /// the defaults; options that do not parse are an error, never silently the defaults.
    pub fn from_metadata(metadata: &serde_json::Value) -> anyhow::Result<Self> {
        match metadata.get("options") {
            None | Some(serde_json::Value::Null) => Ok(Self::default()),
            Some(value) => serde_json::from_value(value.clone())
                .map_err(|err| anyhow::anyhow!("stored operation options do not parse: {err}")),
        }
    }
}

/// Whether a path (relative to the namespace) is in a reserved place that only the
/// engine itself writes into: the trash, which a purge empties for good.
pub fn is_reserved(path: &str) -> bool {
    paths::is_within(path, TRASH_DIR)
}

impl Options {
    /// Refuses an organize whose destination would be a reserved place. Categories
    /// cannot start with `.` and placeholders never render `/`, so only the template's
    /// own text can lead there, and one sample rendering shows it.
    pub fn check_destination(&self, root: &str) -> AppResult<()> {
        let template = self
            .destination_template
            .as_deref()
            .unwrap_or(template::DEFAULT);
        let folder = paths::normalize(
            "destinationTemplate",
            &template::render(template, "Images", None, "a.jpg"),
        )?;
        if is_reserved(&paths::join(root, &folder)) {
            return Err(AppError::bad_input(
                "destinationTemplate",
                format!("destinationTemplate must not lead into the {TRASH_DIR} folder"),
            ));
        }
        Ok(())
    }
}
