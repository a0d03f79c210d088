//! Engine SHA-256 per core: a duplicate dry run over files that only a full hash tells
//! apart (one size, the same first 8 KiB, different after it), started through the API
//! and timed by the server's clock, against single-core `sha2` over the same files in the
//! same invocation. Nearly every second of that run is hashing, so its bytes per second, per
//! core the engine hashes on, is the engine's SHA-256 rate.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, Result};

use crate::{
    client::{Api, Session, int_at},
    engine_runs::{self, TreeLease},
    report::{Check, Hashing},
    server::Deployment,
    tree,
};

/// Enough bytes (3 GiB) that the run's fixed costs (a few database round trips, which
/// on PostgreSQL are milliseconds each) stay small beside the hashing.
const FILES: usize = 96;
const SIZE: usize = 32 << 20;
/// The engine's first cut: files alike in their first block are hashed whole.
const HEAD: usize = 8 << 10;

/// `<work>/hash-tree`: `FILES` files of `SIZE` bytes, alike in their first `HEAD` bytes;
/// the last one is a copy of the first (one duplicate group, to check the answer). Made
/// once per work folder.
fn prepare(work: &Path) -> Result<PathBuf> {
    let root = work.join("hash-tree");
    let done = work.join("hash-tree.complete");
    let shape = format!("{FILES} x {SIZE}");
    if fs::read_to_string(&done).is_ok_and(|made| made == shape) {
        return Ok(root);
    }
    eprintln!("hashing: writing {FILES} files of {} MiB", SIZE >> 20);
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root)?;
    let mut bytes = vec![0u8; SIZE];
    for index in 0..FILES {
        let seed = if index == FILES - 1 { 0 } else { index as u64 };
        fill(&mut bytes[..HEAD], u64::MAX);
        fill(&mut bytes[HEAD..], seed);
        fs::File::create(root.join(format!("part-{index:02}.bin")))?.write_all(&bytes)?;
    }
    fs::write(&done, shape)?;
    Ok(root)
}

/// Deterministic bytes (xorshift64*), different for every seed.
fn fill(bytes: &mut [u8], seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for chunk in bytes.chunks_mut(8) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let word = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

/// Single-core `sha2` over the files, 1 MiB reads: MB/s.
fn one_core(root: &Path) -> Result<f64> {
    let mut buf = vec![0u8; 1 << 20];
    let started = Instant::now();
    for index in 0..FILES {
        tree::sha256_file(&root.join(format!("part-{index:02}.bin")), &mut buf)?;
    }
    Ok((FILES * SIZE) as f64 / 1e6 / started.elapsed().as_secs_f64())
}

pub async fn run(
    deployment: &mut Deployment,
    api: &Api,
    session: &mut Session,
    work: &Path,
    checks: &mut Vec<Check>,
) -> Result<Hashing> {
    let root = tokio::task::block_in_place(|| prepare(work))?;
    // Before (which also brings the files into the page cache) and after the engine's
    // run; the faster of the two is the reference.
    let before = tokio::task::block_in_place(|| one_core(&root))?;
    let lease = TreeLease::lend(&root, deployment, session, "hashing")?;
    session.refresh(api).await?;
    eprintln!("hashing: duplicate cleanup dry run on {FILES} files of one size");
    let timed = engine_runs::timed(
        deployment,
        api,
        session,
        engine_runs::START,
        serde_json::json!({ "i": { "type": "DUPLICATE_CLEANUP", "rootPath": "hashing", "dryRun": true } }),
        FILES,
    )
    .await
    .context("the hashing run")?;
    drop(lease);
    let after = tokio::task::block_in_place(|| one_core(&root))?;
    let found = int_at(&timed.operation, &["duplicatesFound"]);
    checks.push(Check::new(
        "hashing: COMPLETED, the one copy found",
        timed.run.status == "COMPLETED" && found == 1,
        format!("{}, {found} found, 1 expected", timed.run.status),
    ));
    // Every file is read whole (its first block alone settles nothing), and its first
    // block once more before that. Timed by the server's clock from the run's start to
    // its end: the engine's work, without the queue and the event on their way (tens of
    // milliseconds, which at half a second of hashing would be counted against it).
    let bytes = (FILES * (SIZE + HEAD)) as f64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let at = |field: &str| {
        timed.operation[field]
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    let (Some(started), Some(completed)) = (at("startedAt"), at("completedAt")) else {
        anyhow::bail!("the hashing run has no times: {}", timed.operation);
    };
    let seconds = (completed - started).num_microseconds().unwrap_or(0) as f64 / 1e6;
    let engine_mb_per_s = bytes / 1e6 / seconds;
    let sha2_one_core_mb_per_s = before.max(after);
    let per_core = engine_mb_per_s / cores.min(FILES) as f64;
    Ok(Hashing {
        files: FILES,
        file_bytes: SIZE as u64,
        seconds,
        end_to_end_seconds: timed.run.seconds,
        engine_mb_per_s,
        cores,
        engine_mb_per_s_per_core: per_core,
        sha2_one_core_mb_per_s,
        sha2_runs_mb_per_s: vec![before, after],
        per_core_vs_sha2: per_core / sha2_one_core_mb_per_s,
    })
}
