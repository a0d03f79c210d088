//! SHA-256 of files: whole, or of their first block (the cheap first cut of a duplicate
//! search). Read in large chunks, hashed on the blocking pool.

use futures::TryStreamExt;
use sha2::{Digest, Sha256};

use crate::storage::UserSpace;

/// The first block hashed before a full hash (the same block that sniffing reads).
pub const HEAD_BYTES: u64 = crate::engine::categorize::HEAD_BYTES;
const CHUNK: usize = 1024 * 1024;

/// Full SHA-256 of a file, as lower-case hex.
pub async fn sha256(space: &UserSpace, path: &str) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    let mut chunks = Box::pin(space.chunks(path, CHUNK).await?);
    while let Some(chunk) = chunks.try_next().await? {
        hasher = tokio::task::spawn_blocking(move || {
            hasher.update(&chunk);
            hasher
        })
        .await?;
    }
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 of the first `limit` bytes of a file of `size` bytes (all of it if shorter).
pub async fn sha256_head(
    space: &UserSpace,
    path: &str,
    size: u64,
    limit: u64,
) -> anyhow::Result<String> {
    let head = space.read_head(path, size, limit).await?;
    let digest = tokio::task::spawn_blocking(move || Sha256::digest(&head)).await?;
    Ok(hex(&digest))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
