//! Which files of a folder an operation looks at: not the trash, not hidden files unless
//! asked, not excluded globs, not files changed too recently.

use chrono::Utc;
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::{
    engine::{Options, options},
    storage::FileMeta,
};

pub struct Filter {
    root: String,
    include_hidden: bool,
    exclude: GlobSet,
    settle_seconds: i64,
}

impl Filter {
    pub fn new(root: &str, options: &Options) -> anyhow::Result<Self> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &options.exclude {
            builder.add(Glob::new(pattern)?);
        }
        Ok(Self {
            root: root.to_string(),
            include_hidden: options.include_hidden,
            exclude: builder.build()?,
            settle_seconds: options.settle_seconds,
        })
    }

    /// Whether the operation looks at this file at all.
    pub fn wants(&self, path: &str) -> bool {
        if options::is_reserved(path) {
            return false;
        }
        let relative = path
            .strip_prefix(&self.root)
            .unwrap_or(path)
            .trim_start_matches('/');
        if !self.include_hidden && relative.split('/').any(|segment| segment.starts_with('.')) {
            return false;
        }
        !self.exclude.is_match(relative)
    }

    /// A file modified within the last `settleSeconds` may still be being written.
    pub fn too_recent(&self, file: &FileMeta) -> bool {
        self.settle_seconds > 0
            && file
                .modified
                .is_some_and(|m| Utc::now() - m < chrono::Duration::seconds(self.settle_seconds))
    }

    /// Why a too recent file was skipped.
    pub fn too_recent_reason(&self) -> String {
        format!("modified within the last {} seconds", self.settle_seconds)
    }
}
