//! Workers: tasks that take jobs from the queue and run them, and the sweeper that makes
//! sure no accepted operation waits for ever.
//!
//! * A job is acknowledged as soon as it is taken: the operation's lease, not the queue,
//!   says who runs it, so a job that runs for long is never reclaimed from a live worker;
//!   a handed-back operation is queued again.
//! * The sweeper queues operations that a queue may have lost: `pending` ones not started
//!   within `REQUEUE_AFTER` of being queued (Redis was down when they were started, say),
//!   and `running` ones whose lease ran out (their worker died). Queueing twice is
//!   harmless: the lease decides who runs.
//! * One process alone (no Redis) takes over everything unfinished at start: whatever is
//!   `running` was left by its own previous life.

use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use tokio::task::JoinHandle;

use crate::{
    engine::{
        Engine,
        run::{self, RunEnd},
    },
    lifecycle::lease,
};

/// A queued operation not started within this long is queued again.
pub const REQUEUE_AFTER: Duration = Duration::from_secs(30);
const SWEEP_EVERY: Duration = Duration::from_secs(5);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);

/// Starts `count` workers, the sweeper and the heartbeat on the current runtime.
pub fn spawn_workers(engine: &Engine, count: usize) -> Vec<JoinHandle<()>> {
    let mut tasks: Vec<JoinHandle<()>> = (0..count)
        .map(|n| {
            let mut engine = engine.clone();
            engine.worker_id = format!("{}-{n}", engine.worker_id);
            tokio::spawn(async move { work(engine).await })
        })
        .collect();
    if count > 0 {
        tasks.push(tokio::spawn(sweep(engine.clone())));
    }
    tasks
}

async fn work(engine: Engine) {
    let queue = engine.queue.for_worker().await;
    let mut stopping = engine.stopping.clone();
    loop {
        if *stopping.borrow() {
            break;
        }
        let job = tokio::select! {
            job = queue.pop(&engine.worker_id) => job,
            _ = stopping.changed() => continue,
        };
        let job = match job {
            Ok(Some(job)) => job,
            Ok(None) if engine.single_process => break, // the in-process queue closed
            Ok(None) => continue,
            Err(err) => {
                tracing::warn!(worker = %engine.worker_id, error = %format!("{err:#}"), "could not read the job queue; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let operation_id = job.operation_id;
        if let Err(err) = engine.queue.ack(&job).await {
            // Left on the queue: another worker may claim it after the reclaim window, and
            // the lease keeps it from running twice.
            tracing::warn!(%operation_id, error = %format!("{err:#}"), "could not acknowledge a job");
        }
        let end = match run::run(&engine, operation_id).await {
            Ok(end) => end,
            Err(err) => {
                // Not even the failure could be recorded (the database is away): the
                // sweeper queues it again once its lease has run out.
                tracing::error!(worker = %engine.worker_id, %operation_id, error = %format!("{err:#}"), "operation run failed");
                continue;
            }
        };
        if let RunEnd::HandedBack = end
            && let Err(err) = engine.queue.push(operation_id).await
        {
            // The sweeper queues it again once the released lease is seen.
            tracing::warn!(%operation_id, error = %format!("{err:#}"), "could not queue a handed-back operation");
        }
    }
    tracing::info!(worker = %engine.worker_id, "worker stopped");
}

/// Every few seconds: queue what may have been lost, and say this process is alive.
async fn sweep(engine: Engine) {
    if engine.single_process
        && let Err(err) = take_over_unfinished(&engine).await
    {
        tracing::error!(error = %format!("{err:#}"), "could not resume unfinished operations");
    }
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    let mut last_heartbeat: Option<tokio::time::Instant> = None;
    let mut stopping = engine.stopping.clone();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => {}
        }
        if *stopping.borrow() {
            return;
        }
        if last_heartbeat.is_none_or(|t| t.elapsed() >= HEARTBEAT_EVERY) {
            if let Err(err) = engine.queue.heartbeat(&engine.worker_id).await {
                tracing::debug!(error = %format!("{err:#}"), "heartbeat not recorded");
            }
            last_heartbeat = Some(tokio::time::Instant::now());
        }
        if let Err(err) = requeue_stale(&engine).await {
            tracing::warn!(error = %format!("{err:#}"), "sweep failed; trying again shortly");
        }
    }
}

/// Queues operations that should be running but that no worker seems to have.
async fn requeue_stale(engine: &Engine) -> anyhow::Result<usize> {
    // Pushed off by REQUEUE_AFTER: queued again only if no worker took it by then.
    let next = Utc::now() + chrono::Duration::from_std(REQUEUE_AFTER).unwrap_or_default();
    let stale = lease::claim_stale(&engine.db, next, 1000)
        .await
        .context("claim stale operations for re-queueing")?;
    for id in &stale {
        engine.queue.push(*id).await?;
    }
    if !stale.is_empty() {
        tracing::info!(count = stale.len(), "queued operations that no worker had");
    }
    Ok(stale.len())
}

/// One process alone: every unfinished operation is queued again now.
async fn take_over_unfinished(engine: &Engine) -> anyhow::Result<()> {
    lease::free_all(&engine.db)
        .await
        .context("free the leases of a previous run of this process")?;
    let queued = requeue_stale(engine).await?;
    if queued > 0 {
        tracing::info!(count = queued, "resuming unfinished operations");
    }
    Ok(())
}
