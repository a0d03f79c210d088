//! The job queue: operation ids waiting for a worker. It only carries ids; the operation's
//! state lives in the database, and a worker claims an operation (a lease on its row)
//! before running it, so a lost or repeated message is harmless.
//!
//! * In-process: a channel, for the embedded deployment (one process).
//! * Redis: one stream, one consumer group, each worker a consumer. A job is acknowledged
//!   as soon as a worker takes it: from then on the operation's lease says who runs it,
//!   and the sweeper queues again an operation whose lease ran out (its worker died). A
//!   job delivered to a worker that died before acknowledging it is claimed again by
//!   another after the reclaim window (`XAUTOCLAIM`); a live worker's job never is, however
//!   long it runs.

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
    /// job Redis had delivered to such a read then waited for the reclaim window).
    Redis {
        client: Client,
        reader: Option<Client>,
        /// A job not acknowledged this long after delivery is handed to another worker
        /// (`ORGANIZER_RECLAIM_IDLE_SECS`, 60 by default).
        reclaim_idle: Duration,
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
    pub async fn redis(client: Client, reclaim_idle: Duration) -> Self {
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
            reclaim_idle,
        }
    }

    /// The queue as one worker task uses it: on Redis with a connection of its own for
    /// reading jobs.
    pub async fn for_worker(&self) -> Self {
        match self {
            Self::InProcess(_) => self.clone(),
            Self::Redis {
                client,
                reclaim_idle,
                ..
            } => Self::Redis {
                client: client.clone(),
                reader: Some(crate::redis::another(client).await),
                reclaim_idle: *reclaim_idle,
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
            Self::Redis {
                client,
                reader,
                reclaim_idle,
            } => {
                if let Some(job) = reclaim(client, consumer, *reclaim_idle).await? {
                    return Ok(Some(job));
                }
                let Some(reader) = reader else {
                    anyhow::bail!("jobs are read from a worker's own queue (for_worker)");
                };
                // The read may wait `BLOCK` on the server: its reply must not time out.
                let read: Result<fred::types::Value, _> = reader
                    .with_options(&Options {
                        timeout: Some(BLOCK + crate::redis::COMMAND_TIMEOUT),
                        ..Default::default()
                    })
                    .xreadgroup(
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
                    // Nothing came within `BLOCK`: an empty read, not an error.
                    Ok(read) if read.is_null() => return Ok(None),
                    Ok(read) => read,
                    Err(err) if err.details().contains("NOGROUP") => {
                        let _: Result<(), _> = client.xgroup_create(STREAM, GROUP, "0", true).await;
                        return Ok(None);
                    }
                    Err(err) => return Err(err.into()),
                };
                let read: XReadResponse<String, String, String, String> =
                    read.into_xread_response()?;
                Ok(read.into_values().flatten().next().and_then(job_of))
            }
        }
    }

    /// Takes a job off the queue for good (the worker has it; the lease and the sweeper
    /// look after the operation from here).
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

/// A job some consumer took and never acknowledged within the reclaim window: its worker
/// died between reading and acknowledging it; take it over.
async fn reclaim(
    client: &Client,
    consumer: &str,
    reclaim_idle: Duration,
) -> anyhow::Result<Option<Job>> {
    let claimed = client
        .xautoclaim_values::<String, String, String, _, _, _, _>(
            STREAM,
            GROUP,
            consumer,
            reclaim_idle.as_millis() as u64,
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
