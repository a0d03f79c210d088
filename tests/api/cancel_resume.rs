//! Operations in flight: progress while they run, cancel (pending or running), and a
//! worker killed mid-operation resuming after a restart.

use std::time::{Duration, Instant};

use organizer::config::FaultPoint;
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
    many_files(&s, BIG);
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
    assert!(processed < BIG as i64, "stopped early: {op}");
    assert_eq!(
        processed + op["filesSkipped"].as_i64().unwrap(),
        BIG as i64,
        "every record has an outcome: {op}"
    );
    assert_eq!(contents(&s.tree()), contents(&before));

    let done = s.rollback_and_wait(&op).await;
    assert_eq!(done["filesProcessed"].as_i64().unwrap(), processed);
    assert_eq!(s.tree(), before);
}

#[tokio::test]
async fn a_worker_killed_mid_operation_resumes_after_restart_with_nothing_lost() {
    killed_and_resumed(FaultPoint::Claimed).await;
}

#[tokio::test]
async fn a_worker_killed_after_moving_before_writing_outcomes_resumes_with_nothing_lost() {
    killed_and_resumed(FaultPoint::Moved).await;
}

/// The injected fault stops the worker after writing its first batch ahead (and, on
/// object stores, claiming placeholders): before moving anything (`Claimed`), or once the
/// batch moved but before any outcome is written (`Moved`).
async fn killed_and_resumed(at: FaultPoint) {
    let s = Space::with(|c| {
        c.fault_stop_after_files = Some(100);
        c.fault_stop_at = at;
    })
    .await;
    many_files(&s, 400);
    let before = s.tree();
    let started = s.start("ORGANIZE", "many", json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let op = s.operation(&started).await;
        let records = s.records(&started).await;
        if records.len() == 400 && op["phase"] == "MOVING" {
            break;
        }
        assert!(Instant::now() < deadline, "the fault never hit: {op}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stuck = s.operation(&started).await;
    assert_eq!(stuck["status"], "RUNNING", "{stuck}");
    assert_eq!(stuck["filesProcessed"], 0, "no outcome written: {stuck}");
    let moved = s
        .tree()
        .keys()
        .filter(|p| p.starts_with("many/Documents/"))
        .count();
    match at {
        FaultPoint::Claimed => assert_eq!(moved, 0, "stopped before moving"),
        FaultPoint::Moved => assert_eq!(moved, 400, "stopped after moving the batch"),
    }

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

/// Waits (polling fast) until the operation is in `phase` with some work counted, then
/// cancels it; returns how long the cancel took to show as CANCELLED, and the operation.
async fn cancel_in_phase(s: &Space, op: &Value, phase: &str, counter: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = s.operation(op).await;
        assert!(
            now["status"] == "PENDING" || now["status"] == "RUNNING",
            "the operation ended before it could be cancelled in {phase}: {now}"
        );
        // Counters reach the database once a second; a phase change at once.
        if now["phase"] == phase && (counter.is_empty() || now[counter].as_i64().unwrap_or(0) > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "never reached {phase}: {now}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let asked = s.cancel(op).await;
    assert!(asked["status"].is_string(), "{asked}");
    // Noticed within a second or so, however much work was left.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = s.operation(op).await;
        if now["status"] == "CANCELLED" {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "not cancelled 5 s after the request, in {phase}: {now}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every record has an outcome: none is left planned.
async fn statuses(s: &Space, op: &Value) -> std::collections::BTreeMap<String, i64> {
    let report = s
        .gql(
            "query($id: ID!) { operationReport(id: $id) { statuses { status files } } }",
            json!({ "id": op["id"] }),
        )
        .await;
    report["data"]["operationReport"]["statuses"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"))
        .iter()
        .map(|s| {
            (
                s["status"].as_str().unwrap().to_string(),
                s["files"].as_i64().unwrap(),
            )
        })
        .collect()
}

const BIG: usize = 12_000;

#[tokio::test]
async fn a_cancel_during_the_scan_stops_the_scan() {
    // Four times the usual tree: the planner reads file heads in chunks now and scanned
    // 12,000 files within the second the first counters take to reach the database.
    const FILES: usize = 4 * BIG;
    let s = Space::new().await;
    many_files(&s, FILES);
    let op = s
        .app
        .start_operation(
            s.token(),
            "ORGANIZE",
            "many",
            true,
            json!({ "hashFiles": true }),
        )
        .await["data"]["startOperation"]
        .clone();
    let done = cancel_in_phase(&s, &op, "SCANNING", "filesScanned").await;
    let scanned = done["filesScanned"].as_i64().unwrap();
    assert!(
        scanned < FILES as i64,
        "the whole tree was scanned anyway: {done}"
    );
    let statuses = statuses(&s, &op).await;
    assert!(!statuses.contains_key("PLANNED"), "{statuses:?}");
}

#[tokio::test]
async fn a_cancel_during_hashing_stops_the_hashing() {
    let s = Space::new().await;
    // Files of one size, in pairs of copies: every one must be hashed, and a run that
    // finished its hashing would plan half of them into the trash.
    for i in 0..BIG {
        let content = format!("{:0200}", i / 2);
        s.write(&[(&format!("same/d{}/f{i}.bin", i % 50), content.as_bytes())]);
    }
    let op = s
        .app
        .start_operation(s.token(), "DUPLICATE_CLEANUP", "same", true, json!({}))
        .await["data"]["startOperation"]
        .clone();
    let done = cancel_in_phase(&s, &op, "HASHING", "filesScanned").await;
    assert_eq!(done["duplicatesFound"], 0, "no plan after a cancel: {done}");
    let statuses = statuses(&s, &op).await;
    assert!(!statuses.contains_key("PLANNED"), "{statuses:?}");
}

#[tokio::test]
async fn a_cancel_while_moving_leaves_every_file_accounted_for() {
    let s = Space::new().await;
    many_files(&s, BIG);
    let op = s.start("ORGANIZE", "many", json!({})).await;
    let done = cancel_in_phase(&s, &op, "MOVING", "").await;
    let statuses = statuses(&s, &op).await;
    assert!(!statuses.contains_key("PLANNED"), "{statuses:?}");
    let moved = statuses.get("DONE").copied().unwrap_or(0);
    let skipped = statuses.get("SKIPPED").copied().unwrap_or(0);
    assert!(moved > 0 && moved < BIG as i64, "{statuses:?}");
    assert_eq!(moved + skipped, BIG as i64, "{statuses:?}");
    assert_eq!(done["filesProcessed"], moved, "{done}");
    // On disk: exactly the moved files are in category folders.
    let tree = s.tree();
    let in_place = tree
        .keys()
        .filter(|p| p.starts_with("many/Documents/"))
        .count();
    assert_eq!(in_place as i64, moved);
}

#[tokio::test]
async fn a_cancel_during_a_rollback_stops_it_and_accounts_for_every_file() {
    let s = Space::new().await;
    many_files(&s, BIG);
    let organized = s.run("ORGANIZE", "many", json!({})).await;
    assert_eq!(organized["status"], "COMPLETED", "{organized}");
    let rollback = s.rollback(&organized).await;
    let done = cancel_in_phase(&s, &rollback, "MOVING", "").await;
    let statuses = statuses(&s, &rollback).await;
    assert!(!statuses.contains_key("PLANNED"), "{statuses:?}");
    let back = statuses.get("DONE").copied().unwrap_or(0);
    assert!(back > 0 && back < BIG as i64, "{statuses:?} {done}");
    let tree = s.tree();
    let still_sorted = tree
        .keys()
        .filter(|p| p.starts_with("many/Documents/"))
        .count();
    assert_eq!(still_sorted as i64, BIG as i64 - back);
}
