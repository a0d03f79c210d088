//! SHA-256 of files: whole, or of their first block (the cheap first cut of a duplicate
//! search). On a local folder a file is read and hashed in one blocking call with large
//! reads; elsewhere it streams through OpenDAL in large chunks, hashed on the blocking pool.

use std::io::Read;

use futures::TryStreamExt;
use sha2::{Digest, Sha256};

use crate::storage::{Local, UserSpace};

/// The first block hashed before a full hash (the same block that sniffing reads).
pub const HEAD_BYTES: u64 = crate::engine::categorize::HEAD_BYTES;
const CHUNK: usize = 1024 * 1024;
// A first block is read into the kept buffer whole.
const _: () = assert!(HEAD_BYTES as usize <= CHUNK);

/// Full SHA-256 of a file, as lower-case hex.
pub async fn sha256(space: &UserSpace, path: &str) -> anyhow::Result<String> {
    if let Some(mut local) = space.local() {
        let path = path.to_string();
        return tokio::task::spawn_blocking(move || sha256_local(&mut local, &path)).await?;
    }
    let mut hasher = Sha256::new();
    let mut chunks = Box::pin(space.chunks(path, CHUNK).await?);
    while let Some(chunk) = chunks.try_next().await? {
        metrics::counter!(crate::metrics::BYTES_HASHED).increment(chunk.len() as u64);
        hasher = tokio::task::spawn_blocking(move || {
            hasher.update(&chunk);
            hasher
        })
        .await?;
    }
    Ok(hex::encode(hasher.finalize()))
}

thread_local! {
    /// One read buffer per blocking thread, kept: a fresh zeroed megabyte per file cost
    /// more than hashing a small file (page faults, zeroing).
    static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; CHUNK]);
}

/// Full SHA-256 of a local file, read in large blocks (blocking).
pub fn sha256_local(local: &mut Local, path: &str) -> anyhow::Result<String> {
    let mut file = local.open(path)?;
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    BUFFER.with_borrow_mut(|buffer| {
        loop {
            let read = file.read(buffer)?;
            if read == 0 {
                metrics::counter!(crate::metrics::BYTES_HASHED).increment(total);
                return Ok(hex::encode(hasher.finalize()));
            }
            total += read as u64;
            hasher.update(&buffer[..read]);
        }
    })
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
    Ok(hex::encode(digest))
}

/// SHA-256 of the first `limit` bytes of a local file of `size` bytes (blocking); fails
/// if it is shorter now.
pub fn sha256_head_local(
    local: &mut Local,
    path: &str,
    size: u64,
    limit: u64,
) -> anyhow::Result<String> {
    let head = ..size.min(limit) as usize;
    // Into the kept buffer: a fresh zeroed allocation per file cost page faults.
    BUFFER.with_borrow_mut(|buffer| {
        local.read_head_into(path, &mut buffer[head])?;
        Ok(hex::encode(Sha256::digest(&buffer[head])))
    })
}
