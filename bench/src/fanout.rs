//! Fan-out: a thousand WebSocket listeners on one user's operations. They subscribe to
//! `operationEvents` before the job starts (a warm-up operation proves every one is
//! listening), so each sees the job live from its first event; latency is the arrival
//! time minus the event's own `updatedAt` (same machine, same clock). Then: does a job
//! slow down when fifty people watch it?

use std::{
    collections::HashSet,
    fs,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::{sync::mpsc, task::JoinHandle};

use crate::{
    api_load::percentile,
    client::{Api, Frame, Session, Ws, int_at, is_terminal, str_at, updated_at},
    engine_runs::{START, TreeLease, start_input},
    report::{Check, Fanout},
    server::Deployment,
    tree::Tree,
};

const OPERATION: &str =
    "query($id: ID!) { operation(id: $id) { status createdAt startedAt completedAt } }";

struct Seen {
    listener: usize,
    operation: String,
    terminal: bool,
    latency_us: i64,
}

struct Listeners {
    tasks: Vec<JoinHandle<()>>,
    events: mpsc::UnboundedReceiver<Seen>,
    connected: usize,
    failed: usize,
    first_error: Option<String>,
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Opens `count` authenticated connections (spread over the API processes, a few dozen
/// handshakes at a time), each subscribed to `operationEvents`.
async fn listen(ports: &[u16], token: &str, count: usize) -> Listeners {
    let (tx, events) = mpsc::unbounded_channel();
    let opened: Vec<(usize, Result<Ws>)> = futures::stream::iter(0..count)
        .map(|i| {
            let port = ports[i % ports.len()];
            let token = token.to_string();
            async move {
                let ws = async {
                    let mut ws = Ws::connect(port, &token).await?;
                    ws.subscribe(
                        "events",
                        "subscription { operationEvents { operationId status updatedAt } }",
                        json!({}),
                    )
                    .await?;
                    Ok(ws)
                }
                .await;
                (i, ws)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let mut listeners = Listeners {
        tasks: Vec::new(),
        events,
        connected: 0,
        failed: 0,
        first_error: None,
    };
    for (i, ws) in opened {
        match ws {
            Ok(ws) => {
                listeners.connected += 1;
                listeners
                    .tasks
                    .push(tokio::spawn(listener(i, ws, tx.clone())));
            }
            Err(e) => {
                listeners.failed += 1;
                listeners.first_error.get_or_insert(format!("{e:#}"));
            }
        }
    }
    listeners
}

async fn listener(index: usize, mut ws: Ws, tx: mpsc::UnboundedSender<Seen>) {
    while let Ok(frame) = ws.next(Duration::from_secs(3600)).await {
        let Frame::Next { payload, at, .. } = frame else {
            break;
        };
        let event = &payload["operationEvents"];
        let latency_us = updated_at(event)
            .and_then(|t| (at - t).num_microseconds())
            .unwrap_or(i64::MAX);
        let seen = Seen {
            listener: index,
            operation: event["operationId"].as_str().unwrap_or_default().into(),
            terminal: is_terminal(event["status"].as_str().unwrap_or_default()),
            latency_us,
        };
        if tx.send(seen).is_err() {
            break;
        }
    }
}

/// What the listeners saw of one operation.
struct Watched {
    latencies_us: Vec<i64>,
    finished: HashSet<usize>,
}

/// Collects the listeners' events for `id` until every listener has its terminal event,
/// or `grace` after the operation ended (by the API) for the late ones.
async fn watch(
    listeners: &mut Listeners,
    api: &Api,
    session: &Session,
    id: &str,
    grace: Duration,
) -> Result<Watched> {
    let mut watched = Watched {
        latencies_us: Vec::new(),
        finished: HashSet::new(),
    };
    let mut ended_at: Option<Instant> = None;
    let mut poll = tokio::time::interval(Duration::from_secs(1));
    let limit = Instant::now() + Duration::from_secs(4 * 3600);
    while watched.finished.len() < listeners.connected {
        tokio::select! {
            seen = listeners.events.recv() => {
                let Some(seen) = seen else { break };
                if seen.operation == id {
                    watched.latencies_us.push(seen.latency_us);
                    if seen.terminal {
                        watched.finished.insert(seen.listener);
                    }
                }
            }
            _ = poll.tick() => {
                if ended_at.is_none() {
                    let op = api.gql(Some(&session.token), OPERATION, json!({ "id": id })).await?;
                    if is_terminal(op["operation"]["status"].as_str().unwrap_or_default()) {
                        ended_at = Some(Instant::now());
                    }
                }
                if ended_at.is_some_and(|t| t.elapsed() > grace) || Instant::now() > limit {
                    break;
                }
            }
        }
    }
    Ok(watched)
}

async fn start(api: &Api, session: &Session, input: Value) -> Result<String> {
    let data = api.gql(Some(&session.token), START, input).await?;
    str_at(&data, &["startOperation", "id"])
}

/// Seconds from the operation's creation to its completion, by the server's clock (so
/// the way the benchmark waits does not count).
async fn server_seconds(api: &Api, session: &Session, id: &str) -> Result<f64> {
    loop {
        let op = &api
            .gql(Some(&session.token), OPERATION, json!({ "id": id }))
            .await?["operation"];
        let status = op["status"].as_str().unwrap_or_default();
        if is_terminal(status) {
            if status != "COMPLETED" {
                bail!("operation {id} ended {status}");
            }
            let at = |field: &str| {
                op[field]
                    .as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            };
            let (Some(created), Some(completed)) = (at("createdAt"), at("completedAt")) else {
                bail!("operation {id} has no times: {op}");
            };
            return Ok((completed - created).num_milliseconds() as f64 / 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A warm-up operation on a two-file folder; returns once every listener saw it end
/// (which proves each one's subscription is live), or fails.
async fn warm_up(listeners: &mut Listeners, api: &Api, session: &Session) -> Result<usize> {
    let id = start(
        api,
        session,
        json!({ "i": { "type": "DUPLICATE_CLEANUP", "rootPath": "warmup", "dryRun": true } }),
    )
    .await?;
    let watched = watch(listeners, api, session, &id, Duration::from_secs(30)).await?;
    Ok(watched.finished.len())
}

pub async fn run(
    deployment: &Deployment,
    api: &Api,
    session: &mut Session,
    tree: &Tree,
    count: usize,
    runs: usize,
    checks: &mut Vec<Check>,
) -> Result<Fanout> {
    let ports = deployment.api_ports();
    let warmup = deployment.user_dir(&session.user_id).join("warmup");
    fs::create_dir_all(&warmup)?;
    fs::write(warmup.join("a.txt"), "warm-up")?;
    fs::write(warmup.join("b.txt"), "warm-up")?;
    let _lease = TreeLease::take(tree, deployment, session)?;
    session.refresh(api).await?;

    eprintln!("fanout: opening {count} listeners");
    let rss_before = deployment.rss_now();
    let opened = Instant::now();
    let mut listeners = listen(&ports, &session.token, count).await;
    let open_seconds = opened.elapsed().as_secs_f64();
    let subscribed = warm_up(&mut listeners, api, session).await?;
    let rss_listening = deployment.rss_now();
    eprintln!(
        "fanout: {} connected, {} failed, {subscribed} subscribed in {open_seconds:.1} s",
        listeners.connected, listeners.failed
    );
    checks.push(Check::new(
        "fanout: every listener connected and subscribed",
        listeners.failed == 0 && subscribed == count,
        format!(
            "{} connected, {subscribed} saw the warm-up end, {} failed{}",
            listeners.connected,
            listeners.failed,
            listeners
                .first_error
                .as_ref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        ),
    ));

    eprintln!("fanout: duplicate cleanup dry run watched by {count}");
    deployment.reset_peaks();
    let id = start(api, session, start_input("DUPLICATE_CLEANUP", true)).await?;
    let mut watched = watch(&mut listeners, api, session, &id, Duration::from_secs(30)).await?;
    let peak_rss_mib = deployment.peaks();
    let job_seconds = server_seconds(api, session, &id).await?;
    drop(listeners);
    let lost = subscribed.saturating_sub(watched.finished.len());
    checks.push(Check::new(
        "fanout: every subscribed listener got the terminal event",
        lost == 0,
        format!("{} of {subscribed} got it", watched.finished.len()),
    ));
    watched.latencies_us.sort_unstable();
    let as_us: Vec<u32> = watched
        .latencies_us
        .iter()
        .map(|&l| l.clamp(0, u32::MAX as i64) as u32)
        .collect();
    let events = watched.latencies_us.len();

    // The same job with nobody watching and with fifty watching, interleaved.
    let (mut zero, mut fifty) = (Vec::new(), Vec::new());
    for run in 0..runs {
        session.refresh(api).await?;
        eprintln!("fanout: run {} of {runs}, no listener", run + 1);
        let id = start(api, session, start_input("DUPLICATE_CLEANUP", true)).await?;
        zero.push(server_seconds(api, session, &id).await?);
        eprintln!("fanout: run {} of {runs}, 50 listeners", run + 1);
        let mut fifty_listeners = listen(&ports, &session.token, 50).await;
        let ready = warm_up(&mut fifty_listeners, api, session).await?;
        if ready != 50 {
            bail!("only {ready} of 50 listeners subscribed");
        }
        let id = start(api, session, start_input("DUPLICATE_CLEANUP", true)).await?;
        let seen = watch(
            &mut fifty_listeners,
            api,
            session,
            &id,
            Duration::from_secs(30),
        )
        .await?;
        if seen.finished.len() != 50 {
            checks.push(Check::new(
                "fanout: all 50 listeners got the terminal event",
                false,
                format!("{} of 50", seen.finished.len()),
            ));
        }
        fifty.push(server_seconds(api, session, &id).await?);
    }
    let median_zero = median(&zero);
    let median_fifty = median(&fifty);
    let operations = api
        .gql(
            Some(&session.token),
            "{ operations(first: 1) { totalCount } }",
            json!({}),
        )
        .await
        .context("count operations")?;
    Ok(Fanout {
        listeners: count,
        connected: subscribed,
        open_seconds,
        events,
        events_per_listener: events as f64 / subscribed.max(1) as f64,
        p50_ms: percentile(&as_us, 0.5),
        p99_ms: percentile(&as_us, 0.99),
        max_ms: as_us.last().map_or(f64::NAN, |&m| m as f64 / 1000.0),
        lost_terminal: lost,
        job_seconds,
        peak_rss_mib,
        rss_before_mib: rss_before,
        rss_listening_mib: rss_listening,
        runs_zero: zero,
        runs_fifty: fifty,
        median_zero,
        median_fifty,
        operations_total: int_at(&operations, &["operations", "totalCount"]),
    })
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
