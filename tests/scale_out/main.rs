//! Many processes on one PostgreSQL + Redis: `serve --workers 0` API processes and
//! `worker` processes, started from the real binary, killed and restarted as an operator
//! (or a crash) would. They need `TEST_DATABASE_URL` (a PostgreSQL server) and a
//! `redis-server` binary (each test runs its own on a free port); `.ci/run` provides both
//! and runs them with `--include-ignored`.

mod cluster;
#[path = "../common/multipart.rs"]
mod multipart;
#[path = "../common/postgres.rs"]
mod postgres;

use std::time::Duration;

use serde_json::{Value, json};

use cluster::{Cluster, OwnPostgres, Redis, wait_until};

const NEEDS: &str = "needs TEST_DATABASE_URL and redis-server: run by .ci/run";

fn organize_input(root: &str) -> Value {
    json!({ "i": { "type": "ORGANIZE", "rootPath": root } })
}

/// The same contents, each exactly once, wherever they moved.
#[track_caller]
fn assert_same_contents(
    before: &std::collections::BTreeMap<String, String>,
    after: &std::collections::BTreeMap<String, String>,
) {
    let mut moved: Vec<&String> = after.values().collect();
    let mut original: Vec<&String> = before.values().collect();
    moved.sort();
    original.sort();
    assert_eq!(moved, original, "the same contents, each exactly once");
}

/// Writes `files` files under `inbox`, starts organizing them through `server`, and waits
/// until the move counters show work done: the tree as it was, and the operation's id.
async fn organize_mid_run(
    cluster: &Cluster,
    server: usize,
    account: &cluster::Account,
    files: usize,
) -> (std::collections::BTreeMap<String, String>, String) {
    cluster.write_tree(account, "inbox", files);
    let before = cluster.tree(account);
    let id = cluster
        .start(server, account, organize_input("inbox"))
        .await;
    cluster
        .wait_for(
            server,
            account,
            &id,
            Duration::from_secs(60),
            moved_more_than(200),
        )
        .await;
    (before, id)
}

/// Work to see: the operation has moved more than `n` files.
fn moved_more_than(n: i64) -> impl Fn(&Value) -> bool {
    move |op| op["filesProcessed"].as_i64().unwrap_or(0) > n
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and redis-server: run by .ci/run"]
async fn an_operation_started_on_one_server_is_watched_to_its_end_on_another() {
    let redis = Redis::start().await;
    let mut cluster = Cluster::new(&redis).await.expect(NEEDS);
    let a = cluster.serve().await;
    let b = cluster.serve().await;
    cluster.worker().await;
    cluster.worker().await;
    let ada = cluster.signup(a, "ada").await;
    cluster.write_tree(&ada, "inbox", 300);
    let id = cluster.start(a, &ada, organize_input("inbox")).await;
    // Watched through the other server, which runs no workers: every event came from a
    // worker process through Redis.
    let events = cluster.watch(b, &ada, &id).await;
    let last = events.last().unwrap();
    assert_eq!(last["status"], "COMPLETED", "{events:?}");
    assert_eq!(last["percent"], 100.0);
    assert!(
        events.len() >= 2,
        "a snapshot, then live events: {events:?}"
    );
    let status = cluster
        .gql(
            b,
            &ada,
            "{ serverStatus { queue progressBus rateLimiter workers workersSeen } }",
            json!({}),
        )
        .await;
    let status = &status["data"]["serverStatus"];
    assert_eq!(status["queue"], "redis", "{status}");
    assert_eq!(status["progressBus"], "redis");
    assert_eq!(status["rateLimiter"], "redis");
    assert_eq!(status["workers"], 0);
    assert!(status["workersSeen"].as_i64().unwrap() >= 2, "{status}");
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and redis-server: run by .ci/run"]
async fn a_worker_killed_mid_organize_is_taken_over_and_every_file_moves_once() {
    let redis = Redis::start().await;
    let mut cluster = Cluster::new(&redis).await.expect(NEEDS);
    let a = cluster.serve().await;
    let first = cluster.worker().await;
    let ada = cluster.signup(a, "ada").await;
    // Large enough that moving takes seconds, so the kill (once the move counters, written
    // once a second, show work done) lands in the middle of it: 30,000 files moved in
    // about 1.5 s here, and the kill sometimes came after the end.
    let files = 80_000;
    let (before, id) = organize_mid_run(&cluster, a, &ada, files).await;
    // Kill the only worker in the middle of moving, then bring in a second one.
    cluster.kill(first);
    let killed_at = cluster.operation(a, &ada, &id).await;
    assert_eq!(killed_at["status"], "RUNNING", "{killed_at}");
    cluster.worker().await;
    let done = cluster.wait(a, &ada, &id, Duration::from_secs(120)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["filesProcessed"], files as i64, "{done}");
    assert_eq!(done["filesSkipped"], 0, "{done}");
    // Every file is in exactly one place, whole; no placeholder is left behind.
    let after = cluster.tree(&ada);
    assert_same_contents(&before, &after);
    assert!(
        after.keys().all(|p| p.starts_with("inbox/Documents/")),
        "all sorted"
    );
    let reclaims = cluster
        .gql(a, &ada, "{ serverStatus { reclaims } }", json!({}))
        .await;
    assert!(
        reclaims["data"]["serverStatus"]["reclaims"].is_number(),
        "{reclaims}"
    );
    // And the rollback puts back exactly the tree that was there.
    let undo_id = cluster.rollback(a, &ada, &id).await;
    let undone = cluster
        .wait(a, &ada, &undo_id, Duration::from_secs(120))
        .await;
    assert_eq!(undone["status"], "COMPLETED", "{undone}");
    assert_eq!(cluster.tree(&ada), before);
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and redis-server: run by .ci/run"]
async fn a_cancel_sent_to_one_server_stops_the_worker_running_the_job() {
    let redis = Redis::start().await;
    let mut cluster = Cluster::new(&redis).await.expect(NEEDS);
    let a = cluster.serve().await;
    let b = cluster.serve().await;
    cluster.worker().await;
    let ada = cluster.signup(a, "ada").await;
    cluster.write_tree(&ada, "inbox", 30_000);
    let id = cluster.start(a, &ada, organize_input("inbox")).await;
    cluster
        .wait_for(a, &ada, &id, Duration::from_secs(120), |op| {
            op["phase"] == "MOVING"
        })
        .await;
    cluster
        .gql(
            b,
            &ada,
            "mutation($id: ID!) { cancelOperation(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    let done = cluster.wait(b, &ada, &id, Duration::from_secs(10)).await;
    assert_eq!(done["status"], "CANCELLED", "{done}");
    assert!(done["filesProcessed"].as_i64().unwrap() < 30_000, "{done}");
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and redis-server: run by .ci/run"]
async fn redis_stopped_and_started_mid_run_loses_nothing() {
    let mut redis = Redis::start().await;
    let mut cluster = Cluster::new(&redis).await.expect(NEEDS);
    let a = cluster.serve().await;
    cluster.worker().await;
    cluster.worker().await;
    let ada = cluster.signup(a, "ada").await;
    cluster.write_tree(&ada, "one", 3000);
    cluster.write_tree(&ada, "two", 50);
    let first = cluster.start(a, &ada, organize_input("one")).await;
    cluster
        .wait_for(a, &ada, &first, Duration::from_secs(60), |op| {
            op["status"] == "RUNNING"
        })
        .await;
    redis.stop();
    // Queries keep answering; readiness says Redis is away.
    let me = cluster.gql(a, &ada, "{ me { id } }", json!({})).await;
    assert!(me["data"]["me"]["id"].is_string(), "{me}");
    wait_until(Duration::from_secs(20), || async {
        cluster.ready(a).await == 503
    })
    .await;
    // An operation started now is accepted (stored; queued once Redis is back).
    let second = cluster.start(a, &ada, organize_input("two")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.start_again().await;
    wait_until(Duration::from_secs(30), || async {
        cluster.ready(a).await == 200
    })
    .await;
    for id in [&first, &second] {
        let done = cluster.wait(a, &ada, id, Duration::from_secs(120)).await;
        assert_eq!(done["status"], "COMPLETED", "{done}");
    }
    assert_eq!(cluster.tree(&ada).len(), 3050);
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and redis-server: run by .ci/run"]
async fn the_sign_in_limit_is_shared_by_every_server() {
    let redis = Redis::start().await;
    let mut cluster = Cluster::new(&redis).await.expect(NEEDS);
    cluster.env("AUTH_RATE_LIMIT_PER_IP", "4");
    let a = cluster.serve().await;
    let b = cluster.serve().await;
    let attempt = |server| {
        let cluster = &cluster;
        async move {
            cluster
                .anonymous(
                    server,
                    "mutation { login(input: { login: \"nobody\", password: \"wrong password\" }) { accessToken } }",
                )
                .await["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    for server in [a, b, a, b] {
        assert_eq!(attempt(server).await, "UNAUTHENTICATED");
    }
    assert_eq!(attempt(a).await, "RATE_LIMITED");
    assert_eq!(attempt(b).await, "RATE_LIMITED");
}

/// The same take-over on an object store (`TEST_S3_URL`, moto in CI): files are uploaded
/// and checked through the API, and the organize records each file's SHA-256 so that the
/// rollback verifies every byte it puts back.
#[cfg(feature = "s3")]
#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL, TEST_S3_URL and redis-server: run by .ci/run"]
async fn on_object_storage_a_killed_worker_is_taken_over_and_the_rollback_is_exact() {
    let s3 = std::env::var("TEST_S3_URL").expect("TEST_S3_URL names the S3 server");
    let redis = Redis::start().await;
    let mut cluster = Cluster::new(&redis).await.expect(NEEDS);
    cluster.env("STORAGE_URL", &s3);
    let a = cluster.serve().await;
    let first = cluster.worker().await;
    let ada = cluster.signup(a, "ada").await;
    let files = 600;
    for start in (0..files).step_by(100) {
        let batch: Vec<(String, Vec<u8>)> = (start..start + 100)
            .map(|i| {
                (
                    format!("file {i}.txt"),
                    format!("object content {i}").into_bytes(),
                )
            })
            .collect();
        let uploaded = cluster
            .upload(a, &ada, &format!("inbox/d{}", start / 100), &batch)
            .await;
        assert_eq!(
            uploaded["data"]["uploadFiles"].as_array().map(Vec::len),
            Some(100),
            "{uploaded}"
        );
    }
    let id = cluster
        .start(a, &ada, json!({ "i": { "type": "ORGANIZE", "rootPath": "inbox", "options": { "hashFiles": true } } }))
        .await;
    cluster
        .wait_for(a, &ada, &id, Duration::from_secs(120), moved_more_than(20))
        .await;
    cluster.kill(first);
    cluster.worker().await;
    cluster.worker().await;
    let done = cluster.wait(a, &ada, &id, Duration::from_secs(300)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["filesProcessed"], files, "{done}");
    assert_eq!(cluster.count(a, &ada, "inbox/Documents").await, files);
    let undo_id = cluster.rollback(a, &ada, &id).await;
    let undone = cluster
        .wait(a, &ada, &undo_id, Duration::from_secs(300))
        .await;
    // Every file back, each checked against the hash recorded when it moved.
    assert_eq!(undone["status"], "COMPLETED", "{undone}");
    assert_eq!(undone["filesProcessed"], files, "{undone}");
    assert_eq!(undone["filesSkipped"], 0, "{undone}");
    for folder in 0..files / 100 {
        assert_eq!(
            cluster.count(a, &ada, &format!("inbox/d{folder}")).await,
            100
        );
    }
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and redis-server: run by .ci/run"]
async fn a_job_longer_than_the_reclaim_window_is_not_reclaimed_and_idle_reads_are_quiet() {
    let redis = Redis::start().await;
    let mut cluster = Cluster::new(&redis).await.expect(NEEDS);
    // A one-second reclaim window: any job still unacknowledged after it would be taken
    // from its (live) worker.
    cluster.env("ORGANIZER_RECLAIM_IDLE_SECS", "1");
    let a = cluster.serve().await;
    let w = cluster.worker().await;
    cluster.worker().await;
    let ada = cluster.signup(a, "ada").await;
    // Large enough to run for seconds (30,000 files take about 1.5 s here).
    cluster.write_tree(&ada, "inbox", 80_000);
    let id = cluster.start(a, &ada, organize_input("inbox")).await;
    let done = cluster.wait(a, &ada, &id, Duration::from_secs(180)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let took = chrono::DateTime::parse_from_rfc3339(done["completedAt"].as_str().unwrap()).unwrap()
        - chrono::DateTime::parse_from_rfc3339(done["startedAt"].as_str().unwrap()).unwrap();
    assert!(
        took > chrono::Duration::seconds(2),
        "the job must outlast the window to show anything: {took}"
    );
    let status = cluster
        .gql(a, &ada, "{ serverStatus { reclaims } }", json!({}))
        .await;
    assert_eq!(status["data"]["serverStatus"]["reclaims"], 0, "{status}");
    // Idle workers wait on empty reads (two seconds each): not an error to log.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let log = cluster.log(w);
    assert!(!log.contains("could not read the job queue"), "{log}");
    assert!(!log.contains("reclaimed a job"), "{log}");
    assert_eq!(cluster.tree(&ada).len(), 80_000);
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and redis-server: run by .ci/run"]
async fn a_frozen_redis_keeps_queries_and_readiness_answering_and_loses_nothing() {
    let redis = Redis::start().await;
    let mut cluster = Cluster::new(&redis).await.expect(NEEDS);
    let a = cluster.serve().await;
    cluster.worker().await;
    let ada = cluster.signup(a, "ada").await;
    cluster.write_tree(&ada, "inbox", 3000);
    let before = cluster.tree(&ada);
    let id = cluster.start(a, &ada, organize_input("inbox")).await;
    cluster
        .wait_for(a, &ada, &id, Duration::from_secs(60), |op| {
            op["status"] == "RUNNING"
        })
        .await;
    redis.freeze();
    let frozen_at = std::time::Instant::now();
    // Readiness answers at once (503), and queries keep answering, while it is frozen.
    while frozen_at.elapsed() < Duration::from_secs(8) {
        let asked = std::time::Instant::now();
        let ready = cluster.ready(a).await;
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "/ready took {:?}",
            asked.elapsed()
        );
        if ready == 503 {
            break;
        }
    }
    assert_eq!(cluster.ready(a).await, 503);
    let asked = std::time::Instant::now();
    let me = cluster.gql(a, &ada, "{ me { id } }", json!({})).await;
    assert!(me["data"]["me"]["id"].is_string(), "{me}");
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "{:?}",
        asked.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(8).saturating_sub(frozen_at.elapsed())).await;
    redis.thaw();
    let done = cluster.wait(a, &ada, &id, Duration::from_secs(120)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    wait_until(Duration::from_secs(30), || async {
        cluster.ready(a).await == 200
    })
    .await;
    // Every file moved exactly once, and the rollback puts back exactly the tree.
    let undo = cluster.rollback(a, &ada, &id).await;
    let undone = cluster.wait(a, &ada, &undo, Duration::from_secs(120)).await;
    assert_eq!(undone["status"], "COMPLETED", "{undone}");
    assert_eq!(cluster.tree(&ada), before);
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and redis-server: run by .ci/run"]
async fn serve_stopped_by_sigterm_hands_its_running_job_back() {
    let redis = Redis::start().await;
    let mut cluster = Cluster::new(&redis).await.expect(NEEDS);
    cluster.env("SHUTDOWN_GRACE_SECS", "0");
    let a = cluster.serve().await;
    let b = cluster.serve_with_workers(1).await;
    let ada = cluster.signup(a, "ada").await;
    let files = 80_000;
    let (before, id) = organize_mid_run(&cluster, a, &ada, files).await;
    assert!(
        cluster.terminate(b, Duration::from_secs(15)).await,
        "serve stops on SIGTERM; log:\n{}",
        cluster.log(b)
    );
    let log = cluster.log(b);
    assert!(log.contains("stopping: no new jobs"), "{log}");
    // Handed back, not left to a lease running out: a worker takes it at once.
    cluster.worker().await;
    let done = cluster.wait(a, &ada, &id, Duration::from_secs(120)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["filesProcessed"], files as i64, "{done}");
    assert_same_contents(&before, &cluster.tree(&ada));
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and redis-server: run by .ci/run"]
async fn a_worker_frozen_past_its_lease_writes_nothing_when_it_wakes() {
    let redis = Redis::start().await;
    let mut cluster = Cluster::new(&redis).await.expect(NEEDS);
    let a = cluster.serve().await;
    let zombie = cluster.worker().await;
    let ada = cluster.signup(a, "ada").await;
    let files = 80_000;
    let (before, id) = organize_mid_run(&cluster, a, &ada, files).await;
    // Frozen mid-organize, past its lease (3 s): another worker takes over and finishes.
    cluster.freeze(zombie, true);
    cluster.worker().await;
    let done = cluster.wait(a, &ada, &id, Duration::from_secs(180)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["filesProcessed"], files as i64, "{done}");
    let finished_tree = cluster.tree(&ada);
    // Woken: it must not move, record, count or end anything.
    cluster.freeze(zombie, false);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = cluster.operation(a, &ada, &id).await;
    assert_eq!(after, done, "the row is as the second worker left it");
    assert_eq!(
        cluster.tree(&ada),
        finished_tree,
        "no file moved after the takeover"
    );
    let log = cluster.log(zombie);
    assert!(
        log.contains("refused a write") || log.contains("lost the lease"),
        "the woken worker noticed it was fenced off:\n{log}"
    );
    // And the rollback puts back exactly the tree that was there.
    let undo = cluster.rollback(a, &ada, &id).await;
    let undone = cluster.wait(a, &ada, &undo, Duration::from_secs(180)).await;
    assert_eq!(undone["status"], "COMPLETED", "{undone}");
    assert_eq!(cluster.tree(&ada), before);
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and redis-server: run by .ci/run"]
#[allow(clippy::print_stderr)] // the reason for a skip is for whoever reads the output
async fn postgres_restarted_under_running_processes_loses_nothing() {
    let pg = match OwnPostgres::start() {
        Ok(pg) => pg,
        Err(why) => {
            eprintln!("skipped: no PostgreSQL of this test's own ({why})");
            return;
        }
    };
    let redis = Redis::start().await;
    let mut cluster = Cluster::on_database(&redis, &pg.url()).await.expect(NEEDS);
    let a = cluster.serve().await;
    cluster.worker().await;
    let ada = cluster.signup(a, "ada").await;
    let files = 80_000;
    let (before, id) = organize_mid_run(&cluster, a, &ada, files).await;
    pg.stop();
    // Readiness says so at once while it is away.
    let asked = std::time::Instant::now();
    assert_eq!(cluster.ready(a).await, 503);
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "{:?}",
        asked.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    pg.start_again().expect("PostgreSQL starts again");
    wait_until(Duration::from_secs(30), || async {
        cluster.ready(a).await == 200
    })
    .await;
    let done = cluster.wait(a, &ada, &id, Duration::from_secs(180)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["filesProcessed"], files as i64, "{done}");
    assert_same_contents(&before, &cluster.tree(&ada));
    let undo = cluster.rollback(a, &ada, &id).await;
    let undone = cluster.wait(a, &ada, &undo, Duration::from_secs(180)).await;
    assert_eq!(undone["status"], "COMPLETED", "{undone}");
    assert_eq!(cluster.tree(&ada), before, "rolled back byte for byte");
}
