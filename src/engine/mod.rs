//! The operations engine. Destructive work is planned as data first: a scan produces
//! `file_records` rows (`planned`), written before anything moves; applying them moves
//! each file and marks its row `done`, `skipped` (with a reason) or `failed`. A dry run
//! is the plan alone; `applyPlan` and rollback are further runs over recorded rows.
//!
//! * `categorize` — which category a file belongs to;
//! * `plan` — scanning a folder and writing the plan of an organize or a cleanup;
//! * `apply` — carrying out planned rows, with the checks that keep files safe;
//! * `runner` — one operation from start to end (or from where a dead worker left it).

pub mod apply;
pub mod categorize;
pub mod plan;
pub mod runner;

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

string_enum!(
    /// What an operation does.
    OpType { Organize = "organize", DuplicateCleanup = "duplicate_cleanup", Rollback = "rollback" }
);
string_enum!(
    /// Where an operation is in its life.
    OpStatus { Pending = "pending", Running = "running", Completed = "completed", Failed = "failed", Cancelled = "cancelled" }
);
string_enum!(
    /// What a running operation is doing.
    Phase { Queued = "queued", Scanning = "scanning", Hashing = "hashing", Moving = "moving", Finishing = "finishing", Done = "done" }
);
string_enum!(
    /// A file record's state. `moving` is internal (shown as `PLANNED`): the destination
    /// name is claimed and the move may be under way, which a resumed run must know.
    RecordStatus { Planned = "planned", Moving = "moving", Done = "done", Skipped = "skipped", Failed = "failed", Reverted = "reverted" }
);

impl OpStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// Which duplicate to keep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeepPolicy {
    #[default]
    Oldest,
    Newest,
    ShortestPath,
}

/// The options an operation was started with, stored in `operations.metadata`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
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
    pub settle_seconds: u64,
}

/// The trash folder of the namespace; never scanned.
pub const TRASH_DIR: &str = ".trash";

/// Where a cleanup puts a duplicate.
pub fn trash_path(operation_id: uuid::Uuid, original: &str) -> String {
    format!("{TRASH_DIR}/{operation_id}/{original}")
}
