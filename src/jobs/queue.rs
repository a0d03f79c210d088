//! The job queue: operation ids waiting for a worker. The queue only carries ids; the
//! operation's state lives in the database, so a lost or repeated message is harmless
//! (a worker claims an operation with a conditional update before running it).

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};
use uuid::Uuid;

#[derive(Clone)]
pub enum JobQueue {
    InProcess(InProcessQueue),
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

    pub async fn push(&self, operation_id: Uuid) -> anyhow::Result<()> {
        match self {
            Self::InProcess(queue) => queue
                .tx
                .send(operation_id)
                .map_err(|_| anyhow::anyhow!("job queue closed")),
        }
    }

    /// The next job; `None` when the queue is closed.
    pub async fn pop(&self) -> Option<Uuid> {
        match self {
            Self::InProcess(queue) => queue.rx.lock().await.recv().await,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::InProcess(_) => "in-process",
        }
    }
}
