//! The job queue: operation ids waiting for a worker. It only carries ids; the operation's
//! state lives in the database, and a worker claims an operation (a lease on its row)
//! before running it, so a lost or repeated message is harmless.
//!
//! * In-process: a channel, for the embedded deployment (one process).
//! * Redis: one stream, one consumer group, each worker a consumer. A job is acknowledged
//!   only once its operation has ended; a job a dead worker held is claimed again by
//!   another after `RECLAIM_IDLE` (`XAUTOCLAIM`).

use std::{sync::Arc, time::Duration};

use fred::{
    prelude::{Client, ClientLike, KeysInterface, Options, SortedSetsInterface, StreamsInterface},
    types::streams::{XReadResponse, XReadValue},
};
use tokio::sync::{Mutex, mpsc};
use uuid::Uuid;

const STREAM: &str = "organizer:jobs";
const GROUP: &str = "workers";
const RECLAIMS: &str = "organizer:reclaims";
const WORKERS: &str = "organizer:workers";
/// A job not acknowledged this long after delivery is handed to another worker (the lease
/// on the operation still decides who may run it).
pub const RECLAIM_IDLE: Duration = Duration::from_secs(60);
/// How long one read waits for a new job.
const BLOCK: Duration = Duration::from_secs(2);

/// A job taken from the queue: the operation, and the stream entry to acknowledge.
#[derive(Clone, Debug)]
pub struct Job {
    pub operation_id: Uuid,
    entry: Option<String>,
}

#[derive(Clone)]
pub enum JobQueue {
    InProcess(InProcessQueue),
    /// `client` for commands; `reader`, in a worker task's own queue (`for_worker`), for
    /// its blocking read of new jobs alone: a blocking read holds its connection for up
    /// to `BLOCK`, and on a shared one it held back every progress event, lease renewal
    /// and rate check of the process, and other workers' reads past their timeout (the
    /// job Redis had delivered to such a read then waited for `RECLAIM_IDLE`).
    Redis {
        client: Client,
        reader: Option<Client>,
    },
}

#[derive(Clone)]
pub struct InProcessQueue {
    tx: mpsc::UnboundedSender<Uuid>,
    rx: Arc<Mutex<mpsc::UnboundedReceiver<Uuid>>>,
}

impl JobQueue {
    pub fn in_process() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self::InProcess(InProcessQueue {
            tx,
            rx: Arc::new(Mutex::new(rx)),
        })
    }

    /// The queue on Redis; creates the stream and the group if they are not there yet.
    pub async fn redis(client: Client) -> Self {
        let created: Result<(), _> = client.xgroup_create(STREAM, GROUP, "0", true).await;
        if let Err(err) = created
            && !err.details().contains("BUSYGROUP")
        {
            // Redis may be down at start: the group is created on first use instead.
            tracing::warn!(error = %err, "could not create the job stream's consumer group yet");
        }
        Self::Redis {
            client,
            reader: None,
        }
    }

    /// The queue as one worker task uses it: on Redis with a connection of its own for
    /// reading jobs.
    pub async fn for_worker(&self) -> Self {
        match self {
            Self::InProcess(_) => self.clone(),
            Self::Redis { client, .. } => Self::Redis {
                client: client.clone(),
                reader: Some(crate::redis::another(client).await),
            },
        }
    }

    pub async fn push(&self, operation_id: Uuid) -> anyhow::Result<()> {
        match self {
            Self::InProcess(queue) => queue
                .tx
                .send(operation_id)
                .map_err(|_| anyhow::anyhow!("job queue closed")),
            Self::Redis { client, .. } => {
                let _: String = client
                    .xadd(
                        STREAM,
                        false,
                        None,
                        "*",
                        vec![("op", operation_id.to_string())],
                    )
                    .await?;
                Ok(())
            }
        }
    }

    /// The next job for `consumer`; `None` when the queue is closed (in-process) or
    /// nothing came within a short wait (Redis: call again).
    pub async fn pop(&self, consumer: &str) -> anyhow::Result<Option<Job>> {
        match self {
            Self::InProcess(queue) => Ok(queue.rx.lock().await.recv().await.map(|id| Job {
                operation_id: id,
                entry: None,
            })),
            Self::Redis { client, reader } => {
                if let Some(job) = reclaim(client, consumer).await? {
                    return Ok(Some(job));
                }
                let Some(reader) = reader else {
                    anyhow::bail!("jobs are read from a worker's own queue (for_worker)");
                };
                // The read may wait `BLOCK` on the server: its reply must not time out.
                let read: Result<XReadResponse<String, String, String, String>, _> = reader
                    .with_options(&Options {
                        timeout: Some(BLOCK + crate::redis::COMMAND_TIMEOUT),
                        ..Default::default()
                    })
                    .xreadgroup_map(
                        GROUP,
                        consumer,
                        Some(1),
                        Some(BLOCK.as_millis() as u64),
                        false,
                        STREAM,
                        ">",
                    )
                    .await;
                let read = match read {
                    Ok(read) => read,
                    Err(err) if err.details().contains("NOGROUP") => {
                        let _: Result<(), _> = client.xgroup_create(STREAM, GROUP, "0", true).await;
                        return Ok(None);
                    }
                    Err(err) => return Err(err.into()),
                };
                Ok(read.into_values().flatten().next().and_then(job_of))
            }
        }
    }

    /// Done with a job: its operation ended (or is gone), so no one needs it again.
    pub async fn ack(&self, job: &Job) -> anyhow::Result<()> {
        if let (Self::Redis { client, .. }, Some(entry)) = (self, &job.entry) {
            let _: i64 = client.xack(STREAM, GROUP, entry.as_str()).await?;
            let _: i64 = client.xdel(STREAM, entry.as_str()).await?;
        }
        Ok(())
    }

    /// Records that a worker is alive (for `serverStatus`).
    pub async fn heartbeat(&self, worker_id: &str) -> anyhow::Result<()> {
        if let Self::Redis { client, .. } = self {
            let now = chrono::Utc::now().timestamp() as f64;
            let _: i64 = client
                .zadd(WORKERS, None, None, false, false, (now, worker_id))
                .await?;
            // Forget workers not seen for a day.
            let _: i64 = client
                .zremrangebyscore(WORKERS, f64::MIN, now - 86_400.0)
                .await?;
        }
        Ok(())
    }

    /// Jobs waiting or held: `(stream length, jobs claimed again from dead workers, workers
    /// seen in the last minute)`. In-process there is no stream and no reclaim.
    pub async fn stats(&self) -> anyhow::Result<QueueStats> {
        match self {
            Self::InProcess(_) => Ok(QueueStats::default()),
            Self::Redis { client, .. } => {
                let depth: i64 = client.xlen(STREAM).await?;
                let reclaims: Option<i64> = client.get(RECLAIMS).await?;
                let since = chrono::Utc::now().timestamp() as f64 - 60.0;
                let workers: i64 = client.zcount(WORKERS, since, f64::MAX).await?;
                Ok(QueueStats {
                    depth: Some(depth),
                    reclaims: reclaims.unwrap_or(0),
                    workers_seen: Some(workers),
                })
            }
        }
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        if let Self::Redis { client, .. } = self {
            let _: String = fred::prelude::ClientLike::ping(client, None).await?;
        }
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::InProcess(_) => "in-process",
            Self::Redis { .. } => "redis",
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct QueueStats {
    pub depth: Option<i64>,
    pub reclaims: i64,
    pub workers_seen: Option<i64>,
}

fn job_of((entry, fields): XReadValue<String, String, String>) -> Option<Job> {
    let id = fields.get("op").and_then(|v| Uuid::parse_str(v).ok());
    if id.is_none() {
        tracing::warn!(%entry, "a job without an operation id in the stream; ignored");
    }
    id.map(|operation_id| Job {
        operation_id,
        entry: Some(entry),
    })
}

/// A job some consumer took and never acknowledged for `RECLAIM_IDLE`: its worker died
/// (or is stuck); take it over.
async fn reclaim(client: &Client, consumer: &str) -> anyhow::Result<Option<Job>> {
    let claimed = client
        .xautoclaim_values::<String, String, String, _, _, _, _>(
            STREAM,
            GROUP,
            consumer,
            RECLAIM_IDLE.as_millis() as u64,
            "0-0",
            Some(1),
            false,
        )
        .await;
    let (_, entries) = match claimed {
        Ok(claimed) => claimed,
        Err(err) if err.details().contains("NOGROUP") => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    let Some(job) = entries.into_iter().next().and_then(job_of) else {
        return Ok(None);
    };
    let _: i64 = client.incr(RECLAIMS).await?;
    tracing::warn!(operation_id = %job.operation_id, "reclaimed a job from a worker that stopped answering");
    Ok(Some(job))
}
