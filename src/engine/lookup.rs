//! What the engine reads about a file before it acts: its metadata, its first bytes and
//! its SHA-256 (whole or of the first block). Answered through OpenDAL by a `UserSpace`
//! (many files at once), or straight from a local folder by a `Local`, a batch of files in
//! one blocking call:
//! there the futures are ready at once and run under `block_on` on the blocking thread,
//! so one piece of logic serves both.

use crate::{
    engine::hash,
    storage::{FileMeta, Local, UserSpace},
};

pub(crate) trait Lookup {
    /// A file or folder, or `None` if nothing is there.
    async fn stat(&mut self, rel: &str) -> anyhow::Result<Option<FileMeta>>;
    /// Full SHA-256, as lower-case hex.
    async fn sha256(&mut self, rel: &str) -> anyhow::Result<String>;
    /// SHA-256 of the first `limit` bytes of a file of `size` bytes.
    async fn sha256_head(&mut self, rel: &str, size: u64, limit: u64) -> anyhow::Result<String>;
    /// The first `limit` bytes of a file of `size` bytes (all of it when shorter).
    async fn read_head(&mut self, rel: &str, size: u64, limit: u64) -> anyhow::Result<Vec<u8>>;
}

impl Lookup for UserSpace {
    async fn stat(&mut self, rel: &str) -> anyhow::Result<Option<FileMeta>> {
        UserSpace::stat(self, rel).await
    }

    async fn sha256(&mut self, rel: &str) -> anyhow::Result<String> {
        hash::sha256(self, rel).await
    }

    async fn sha256_head(&mut self, rel: &str, size: u64, limit: u64) -> anyhow::Result<String> {
        hash::sha256_head(self, rel, size, limit).await
    }

    async fn read_head(&mut self, rel: &str, size: u64, limit: u64) -> anyhow::Result<Vec<u8>> {
        UserSpace::read_head(self, rel, size, limit).await
    }
}

impl Lookup for Local {
    async fn stat(&mut self, rel: &str) -> anyhow::Result<Option<FileMeta>> {
        Local::stat(self, rel)
    }

    async fn sha256(&mut self, rel: &str) -> anyhow::Result<String> {
        hash::sha256_local(self, rel)
    }

    async fn sha256_head(&mut self, rel: &str, size: u64, limit: u64) -> anyhow::Result<String> {
        hash::sha256_head_local(self, rel, size, limit)
    }

    async fn read_head(&mut self, rel: &str, size: u64, limit: u64) -> anyhow::Result<Vec<u8>> {
        Local::read_head(self, rel, size.min(limit))
    }
}
