//! Operations in flight: progress while they run, cancel (pending or running), and a
//! worker killed mid-operation resuming after a restart.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Space, assert_code, contents};

/// `count` small distinct text files under `many/`, spread over 50 folders.
fn many_files(s: &Space, count: usize) {
    for i in 0..count {
        s.write(&[(
            &format!("many/f{:03}/file {i}.txt", i % 50),
            format!("content {i}").as_bytes(),
        )]);
    }
}

#[tokio::test]
async fn cancel_stops_a_pending_operation_at_once() {
    let s = Space::with(|c| c.workers = 0).await;
    s.write(&[("x/a.jpg", b"a")]);
    let started = s.start("ORGANIZE", "x", json!({})).await;
    assert_eq!(started["status"], "PENDING");
    // A second operation on an overlapping folder waits for nobody: it is refused.
    assert_code(
        &s.try_start("DUPLICATE_CLEANUP", "", json!({})).await,
        "CONFLICT",
    );

    let cancelled = s.cancel(&started).await;

    assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
    assert!(s.exists("x/a.jpg"));
    assert_code(
        &s.mutation("cancelOperation", "id", &started).await,
        "CONFLICT",
    );
}

#[tokio::test]
async fn cancel_stops_a_running_operation_and_what_it_did_rolls_back() {
    let s = Space::new().await;
    many_files(&s, 3000);
    let before = s.tree();
    let started = s.start("ORGANIZE", "many", json!({})).await;
    loop {
        let op = s.operation(&started).await;
        if op["phase"] == "MOVING" || op["status"] != "PENDING" && op["status"] != "RUNNING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    s.mutation("cancelOperation", "id", &started).await;
    let op = s.wait(&started).await;

    assert_eq!(op["status"], "CANCELLED", "{op}");
    let processed = op["filesProcessed"].as_i64().unwrap();
    assert!(processed < 3000, "stopped early: {op}");
    assert_eq!(
        processed + op["filesSkipped"].as_i64().unwrap(),
        3000,
        "every record has an outcome: {op}"
    );
    assert_eq!(contents(&s.tree()), contents(&before));

    let done = s.rollback_and_wait(&op).await;
    assert_eq!(done["filesProcessed"].as_i64().unwrap(), processed);
    assert_eq!(s.tree(), before);
}

#[tokio::test]
async fn a_worker_killed_mid_operation_resumes_after_restart_with_nothing_lost() {
    let s = Space::with(|c| c.fault_stop_after_files = Some(100)).await;
    many_files(&s, 400);
    let before = s.tree();
    let started = s.start("ORGANIZE", "many", json!({})).await;
    // The injected fault stops the worker after claiming destinations, before moving them.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let records = s.records(&started).await;
        let placeholders = std::fs::read_dir(s.path("many/Documents"))
            .map(|d| d.count())
            .unwrap_or(0);
        if records.len() == 400 && placeholders >= 100 {
            break;
        }
        assert!(Instant::now() < deadline, "the fault never hit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(s.operation(&started).await["status"], "RUNNING");

    let s = s.restart(|c| c.fault_stop_after_files = None).await;
    let op = s.wait(&started).await;

    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(op["filesProcessed"], 400, "{op}");
    let after = s.tree();
    assert_eq!(
        after.len(),
        400,
        "no file lost, no placeholder left: {}",
        after.len()
    );
    assert_eq!(contents(&after), contents(&before));
    assert!(
        after.keys().all(|p| p.starts_with("many/Documents/")),
        "every file moved once"
    );
    let records = s.records(&started).await;
    assert!(
        records.iter().all(|r| r["status"] == "DONE"),
        "every record done"
    );
}

#[tokio::test]
async fn progress_is_visible_while_polling_and_counters_end_true() {
    let s = Space::new().await;
    many_files(&s, 1500);
    let started = s.start("ORGANIZE", "many", json!({})).await;
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let op = s.operation(&started).await;
        let end = op["status"] == "COMPLETED" || op["status"] == "FAILED";
        seen.push(op);
        if end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let last = seen.last().unwrap();
    assert_eq!(last["filesProcessed"], 1500, "{last}");
    assert_eq!(last["filesScanned"], 1500);
    assert!(
        seen.iter().any(|op| op["status"] == "RUNNING"),
        "a poll saw it running"
    );
    let server = s
        .gql(
            "{ serverStatus { version database storage queue workers queueDepth } }",
            json!({}),
        )
        .await;
    assert_eq!(server["data"]["serverStatus"]["storage"], "fs", "{server}");
}
