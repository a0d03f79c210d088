//! The engine, through the API, on real files: organize, duplicate cleanup, plans,
//! rollback, cancel, resume after a crash, name conflicts.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::helpers::{assert_code, snapshot, spawn_app, spawn_app_with, user_dir, write_tree};

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
];

fn sample_tree() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("inbox/holiday photo.jpg", b"jpeg bytes 1".to_vec()),
        (
            "inbox/nested/deeper/holiday photo.jpg",
            b"jpeg bytes 2".to_vec(),
        ),
        ("inbox/Überweisung März.pdf", b"%PDF-1.4 invoice".to_vec()),
        ("inbox/日本語 ノート.txt", "こんにちは".as_bytes().to_vec()),
        ("inbox/song.mp3", b"ID3 music".to_vec()),
        ("inbox/no extension picture", PNG.to_vec()),
        ("inbox/archive.tar.gz", b"gz".to_vec()),
        ("inbox/empty.txt", Vec::new()),
        ("inbox/.hidden", b"secret dotfile".to_vec()),
        ("inbox/Documents/already.pdf", b"%PDF in place".to_vec()),
        ("elsewhere/untouched.jpg", b"outside the root".to_vec()),
    ]
}

fn write(root: &std::path::Path, files: &[(&str, Vec<u8>)]) {
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (*p, c.as_slice())).collect();
    write_tree(root, &refs);
}

/// The multiset of contents, which any move must keep.
fn contents(tree: &BTreeMap<String, String>) -> Vec<String> {
    let mut hashes: Vec<String> = tree.values().cloned().collect();
    hashes.sort();
    hashes
}

#[tokio::test]
async fn organize_sorts_by_category_then_rollback_restores_the_exact_tree() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    write(&root, &sample_tree());
    let before = snapshot(&root);

    let op = app
        .run_operation(&ada.access_token, "ORGANIZE", "inbox", false, json!({}))
        .await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    let after = snapshot(&root);
    assert_eq!(contents(&after), contents(&before), "no byte lost or added");
    for expected in [
        "inbox/Images/holiday photo.jpg",
        "inbox/Images/holiday photo (1).jpg",
        "inbox/Documents/Überweisung März.pdf",
        "inbox/Documents/日本語 ノート.txt",
        "inbox/Documents/empty.txt",
        "inbox/Audio/song.mp3",
        "inbox/Images/no extension picture",
        "inbox/Archives/archive.tar.gz",
        "inbox/Documents/already.pdf",
        "inbox/.hidden",
        "elsewhere/untouched.jpg",
    ] {
        assert!(
            after.contains_key(expected),
            "missing {expected}: {after:#?}"
        );
    }
    assert_eq!(op["filesProcessed"], 8, "{op}");
    assert_eq!(op["filesSkipped"], 1, "already.pdf is in place: {op}");
    let records = app
        .records(&ada.access_token, op["id"].as_str().unwrap())
        .await;
    assert_eq!(records.len(), 9);
    assert!(
        records
            .iter()
            .all(|r| r["status"] == "DONE" || r["status"] == "SKIPPED")
    );
    let skipped = records.iter().find(|r| r["status"] == "SKIPPED").unwrap();
    assert_eq!(skipped["errorMessage"], "already in place");

    let rollback = app
        .op_mutation(
            &ada.access_token,
            "rollbackOperation",
            "id",
            op["id"].as_str().unwrap(),
        )
        .await;
    let rollback_id = rollback["data"]["rollbackOperation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{rollback}"))
        .to_string();
    assert_eq!(rollback["data"]["rollbackOperation"]["type"], "ROLLBACK");
    assert_eq!(
        rollback["data"]["rollbackOperation"]["rollbackOf"],
        op["id"]
    );
    let done = app.wait_operation(&ada.access_token, &rollback_id).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["filesProcessed"], 8);
    assert_eq!(
        snapshot(&root),
        before,
        "the same paths with the same bytes"
    );
    for folder in [
        "inbox/Images",
        "inbox/Audio",
        "inbox/Archives",
        "inbox/Other",
    ] {
        assert!(
            !root.join(folder).exists(),
            "{folder} was created by the organize and is gone again"
        );
    }
    assert!(
        root.join("inbox/Documents").exists(),
        "it was there before, with a file still in it"
    );

    // The undone records say so, and a second rollback is refused.
    let records = app
        .records(&ada.access_token, op["id"].as_str().unwrap())
        .await;
    assert_eq!(
        records.iter().filter(|r| r["status"] == "REVERTED").count(),
        8
    );
    let again = app
        .op_mutation(
            &ada.access_token,
            "rollbackOperation",
            "id",
            op["id"].as_str().unwrap(),
        )
        .await;
    assert_code(&again, "CONFLICT");
}

#[tokio::test]
async fn options_hidden_files_exclusions_and_templates_are_honoured() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    write(&root, &sample_tree());
    let options = json!({ "includeHidden": true, "exclude": ["**/*.mp3"], "destinationTemplate": "{category}/{ext}" });
    let op = app
        .run_operation(&ada.access_token, "ORGANIZE", "inbox", false, options)
        .await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    let after = snapshot(&root);
    assert!(
        after.contains_key("inbox/song.mp3"),
        "excluded stays: {after:#?}"
    );
    assert!(
        after.contains_key("inbox/Documents/no-extension/.hidden"),
        "hidden included: {after:#?}"
    );
    assert!(after.contains_key("inbox/Documents/pdf/Überweisung März.pdf"));

    let bad = app
        .start_operation(
            &ada.access_token,
            "ORGANIZE",
            "inbox",
            false,
            json!({ "destinationTemplate": "{nope}" }),
        )
        .await;
    assert_code(&bad, "BAD_USER_INPUT");
    let escape = app
        .start_operation(
            &ada.access_token,
            "ORGANIZE",
            "inbox",
            false,
            json!({ "destinationTemplate": "../{category}" }),
        )
        .await;
    assert_code(&escape, "BAD_USER_INPUT");
}

#[tokio::test]
async fn moves_never_overwrite_an_existing_file() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    write_tree(
        &root,
        &[
            ("box/Images/a.jpg", b"the one already there"),
            ("box/Images/a (1).jpg", b"and its first sibling"),
            ("box/a.jpg", b"newcomer"),
        ],
    );
    let op = app
        .run_operation(&ada.access_token, "ORGANIZE", "box", false, json!({}))
        .await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    let after = snapshot(&root);
    assert_eq!(after.len(), 3);
    assert_eq!(
        std::fs::read(root.join("box/Images/a.jpg")).unwrap(),
        b"the one already there"
    );
    assert_eq!(
        std::fs::read(root.join("box/Images/a (1).jpg")).unwrap(),
        b"and its first sibling"
    );
    assert_eq!(
        std::fs::read(root.join("box/Images/a (2).jpg")).unwrap(),
        b"newcomer"
    );
}

/// Duplicate groups by brute force: SHA-256 of every non-empty file, hidden files aside.
fn brute_force_groups(
    tree: &BTreeMap<String, String>,
    sizes: &HashMap<String, u64>,
) -> Vec<Vec<String>> {
    let mut by_hash: BTreeMap<&String, Vec<String>> = BTreeMap::new();
    for (path, hash) in tree {
        if sizes[path] > 0 && !path.split('/').any(|s| s.starts_with('.')) {
            by_hash.entry(hash).or_default().push(path.clone());
        }
    }
    let mut groups: Vec<Vec<String>> = by_hash.into_values().filter(|g| g.len() > 1).collect();
    for g in &mut groups {
        g.sort();
    }
    groups.sort();
    groups
}

fn set_mtime(path: &std::path::Path, secs_ago: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago))
        .unwrap();
}

#[tokio::test]
async fn duplicate_cleanup_finds_exactly_the_brute_force_groups_and_rollback_restores_them() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    let big_a: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let mut big_b = big_a.clone();
    *big_b.last_mut().unwrap() ^= 1; // same size, same first block, different tail
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("d/a.txt", b"same small".to_vec()),
        ("d/sub/a copy.txt", b"same small".to_vec()),
        ("d/sub/deeper/a again.txt", b"same small".to_vec()),
        ("d/other.txt", b"diff small".to_vec()), // same size, different content
        ("d/big1.bin", big_a.clone()),
        ("d/big2.bin", big_a.clone()),
        ("d/big3.bin", big_b.clone()),
        ("d/empty1", Vec::new()),
        ("d/empty2", Vec::new()),
        ("d/unique.dat", b"only one of me".to_vec()),
        ("d/.hidden copy.txt", b"same small".to_vec()),
    ];
    write(&root, &files);
    // Ages: the kept copy under OLDEST must be the oldest one.
    set_mtime(&root.join("d/sub/a copy.txt"), 3000);
    set_mtime(&root.join("d/a.txt"), 2000);
    set_mtime(&root.join("d/sub/deeper/a again.txt"), 1000);
    let before = snapshot(&root);
    let sizes: HashMap<String, u64> = before
        .keys()
        .map(|p| (p.clone(), std::fs::metadata(root.join(p)).unwrap().len()))
        .collect();
    let expected = brute_force_groups(&before, &sizes);
    assert_eq!(expected.len(), 2);

    let op = app
        .run_operation(
            &ada.access_token,
            "DUPLICATE_CLEANUP",
            "d",
            false,
            json!({}),
        )
        .await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(op["duplicatesFound"], 3, "{op}");
    assert_eq!(op["spaceSavedBytes"], 2 * 10 + 20_000, "{op}");
    let id = op["id"].as_str().unwrap();

    let body = app
        .gql(
            Some(&ada.access_token),
            "query($id: ID!) { duplicateGroups(operationId: $id) { totalCount edges { node { hash sizeBytes kept { originalPath } files { originalPath newPath isDuplicate status } } } } }",
            json!({ "id": id }),
        )
        .await;
    let groups = body["data"]["duplicateGroups"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let mut found: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            let mut paths: Vec<String> = g["node"]["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["originalPath"].as_str().unwrap().to_string())
                .collect();
            paths.sort();
            paths
        })
        .collect();
    found.sort();
    assert_eq!(found, expected);
    let small = groups
        .iter()
        .find(|g| g["node"]["sizeBytes"] == 10)
        .unwrap();
    assert_eq!(
        small["node"]["kept"]["originalPath"], "d/sub/a copy.txt",
        "OLDEST keeps the oldest"
    );

    let after = snapshot(&root);
    assert!(after.contains_key("d/sub/a copy.txt"));
    assert!(!after.contains_key("d/a.txt"));
    assert!(after.contains_key(&format!(".trash/{id}/d/a.txt")));
    assert!(
        after.contains_key("d/big3.bin")
            && after.contains_key("d/empty1")
            && after.contains_key("d/empty2")
    );
    assert_eq!(contents(&after), contents(&before), "moved, not deleted");

    let report = app
        .gql(Some(&ada.access_token), "query($id: ID!) { operationReport(id: $id) { duplicatesFound spaceSavedBytes filesFailed skipped { reason files } statuses { status files } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        report["data"]["operationReport"]["duplicatesFound"], 3,
        "{report}"
    );
    assert_eq!(report["data"]["operationReport"]["filesFailed"], 0);

    let rollback = app
        .op_mutation(&ada.access_token, "rollbackOperation", "id", id)
        .await;
    let rid = rollback["data"]["rollbackOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = app.wait_operation(&ada.access_token, &rid).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(snapshot(&root), before);
    assert!(
        !root.join(".trash").join(id).exists(),
        "the emptied trash folder is gone"
    );
}

#[tokio::test]
async fn keep_policies_and_protected_paths_choose_the_survivor() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    write_tree(
        &root,
        &[
            ("p/x/long/name.txt", b"dup"),
            ("p/short.txt", b"dup"),
            ("p/keep/this.txt", b"dup"),
        ],
    );
    set_mtime(&root.join("p/x/long/name.txt"), 100);
    set_mtime(&root.join("p/short.txt"), 50);
    set_mtime(&root.join("p/keep/this.txt"), 10);

    let newest = app
        .run_operation(
            &ada.access_token,
            "DUPLICATE_CLEANUP",
            "p",
            true,
            json!({ "keep": "NEWEST" }),
        )
        .await;
    assert_eq!(
        app.kept_paths(&ada.access_token, &newest).await,
        ["p/keep/this.txt"]
    );

    let shortest = app
        .run_operation(
            &ada.access_token,
            "DUPLICATE_CLEANUP",
            "p",
            true,
            json!({ "keep": "SHORTEST_PATH" }),
        )
        .await;
    assert_eq!(
        app.kept_paths(&ada.access_token, &shortest).await,
        ["p/short.txt"]
    );

    let protected = app
        .run_operation(
            &ada.access_token,
            "DUPLICATE_CLEANUP",
            "p",
            false,
            json!({ "protectedPaths": ["p/x"] }),
        )
        .await;
    assert_eq!(protected["duplicatesFound"], 2, "{protected}");
    assert!(root.join("p/x/long/name.txt").exists());
    assert!(!root.join("p/short.txt").exists() && !root.join("p/keep/this.txt").exists());
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_apply_plan_does_exactly_what_it_showed() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    write(&root, &sample_tree());
    let before = snapshot(&root);

    let plan = app
        .run_operation(&ada.access_token, "ORGANIZE", "inbox", true, json!({}))
        .await;
    assert_eq!(plan["status"], "COMPLETED", "{plan}");
    assert_eq!(plan["dryRun"], true);
    assert_eq!(snapshot(&root), before, "a dry run moves nothing");
    let plan_id = plan["id"].as_str().unwrap().to_string();
    let planned = app.records(&ada.access_token, &plan_id).await;
    assert!(
        planned.iter().filter(|r| r["status"] == "PLANNED").count() == 8,
        "{planned:#?}"
    );

    // One file changes after planning: it must be skipped, not moved.
    std::fs::write(root.join("inbox/song.mp3"), b"ID3 music, edited and longer").unwrap();
    let applied = app
        .op_mutation(&ada.access_token, "applyPlan", "id", &plan_id)
        .await;
    let applied_id = applied["data"]["applyPlan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{applied}"))
        .to_string();
    assert_eq!(applied["data"]["applyPlan"]["planOf"], plan_id.as_str());
    let done = app.wait_operation(&ada.access_token, &applied_id).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["filesProcessed"], 7, "{done}");

    let after = snapshot(&root);
    for record in planned.iter().filter(|r| r["status"] == "PLANNED") {
        let (from, to) = (
            record["originalPath"].as_str().unwrap(),
            record["newPath"].as_str().unwrap(),
        );
        if from == "inbox/song.mp3" {
            assert!(
                after.contains_key(from) && !after.contains_key(to),
                "the changed file stayed"
            );
        } else {
            assert!(
                after.contains_key(to) && !after.contains_key(from),
                "{from} → {to}"
            );
        }
    }
    let records = app.records(&ada.access_token, &applied_id).await;
    let song = records
        .iter()
        .find(|r| r["originalPath"] == "inbox/song.mp3")
        .unwrap();
    assert_eq!(song["status"], "SKIPPED");
    assert!(
        song["errorMessage"]
            .as_str()
            .unwrap()
            .contains("changed since"),
        "{song}"
    );

    assert_code(
        &app.op_mutation(&ada.access_token, "applyPlan", "id", &plan_id)
            .await,
        "CONFLICT",
    );
    assert_code(
        &app.op_mutation(&ada.access_token, "applyPlan", "id", &applied_id)
            .await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &app.op_mutation(&ada.access_token, "rollbackOperation", "id", &plan_id)
            .await,
        "BAD_USER_INPUT",
    );
}

#[tokio::test]
async fn rollback_skips_files_that_changed_or_whose_place_is_taken() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    write_tree(
        &root,
        &[
            ("r/a.jpg", b"aaaa"),
            ("r/b.jpg", b"bbbb"),
            ("r/c.jpg", b"cccc"),
        ],
    );
    let op = app
        .run_operation(
            &ada.access_token,
            "ORGANIZE",
            "r",
            false,
            json!({ "hashFiles": true }),
        )
        .await;
    std::fs::write(root.join("r/Images/a.jpg"), b"AAAA").unwrap(); // same size, other content
    std::fs::write(root.join("r/b.jpg"), b"someone else's b").unwrap(); // original place taken
    let rollback = app
        .op_mutation(
            &ada.access_token,
            "rollbackOperation",
            "id",
            op["id"].as_str().unwrap(),
        )
        .await;
    let rid = rollback["data"]["rollbackOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = app.wait_operation(&ada.access_token, &rid).await;
    assert_eq!(done["filesProcessed"], 1, "{done}");
    assert_eq!(done["filesSkipped"], 2, "{done}");
    assert_eq!(std::fs::read(root.join("r/c.jpg")).unwrap(), b"cccc");
    assert_eq!(
        std::fs::read(root.join("r/b.jpg")).unwrap(),
        b"someone else's b",
        "never overwritten"
    );
    assert_eq!(std::fs::read(root.join("r/Images/b.jpg")).unwrap(), b"bbbb");
    assert_eq!(std::fs::read(root.join("r/Images/a.jpg")).unwrap(), b"AAAA");
    let reasons: Vec<String> = app
        .records(&ada.access_token, &rid)
        .await
        .iter()
        .filter_map(|r| r["errorMessage"].as_str().map(String::from))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("content differs")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("original place is taken")),
        "{reasons:?}"
    );
}

fn many_files(root: &std::path::Path, count: usize) {
    for i in 0..count {
        let path = root.join(format!("many/f{:03}/file {i}.txt", i % 50));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("content {i}")).unwrap();
    }
}

#[tokio::test]
async fn cancel_stops_a_pending_operation_at_once() {
    let app = spawn_app_with(|c| c.workers = 0).await;
    let ada = app.signup("ada").await;
    write_tree(&user_dir(&app, &ada), &[("x/a.jpg", b"a")]);
    let started = app
        .start_operation(&ada.access_token, "ORGANIZE", "x", false, json!({}))
        .await;
    let id = started["data"]["startOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(started["data"]["startOperation"]["status"], "PENDING");
    // A second operation on an overlapping folder waits for nobody: it is refused.
    assert_code(
        &app.start_operation(&ada.access_token, "DUPLICATE_CLEANUP", "", false, json!({}))
            .await,
        "CONFLICT",
    );
    let cancelled = app
        .op_mutation(&ada.access_token, "cancelOperation", "id", &id)
        .await;
    assert_eq!(
        cancelled["data"]["cancelOperation"]["status"], "CANCELLED",
        "{cancelled}"
    );
    assert!(user_dir(&app, &ada).join("x/a.jpg").exists());
    assert_code(
        &app.op_mutation(&ada.access_token, "cancelOperation", "id", &id)
            .await,
        "CONFLICT",
    );
}

#[tokio::test]
async fn cancel_stops_a_running_operation_and_what_it_did_rolls_back() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    many_files(&root, 3000);
    let before = snapshot(&root);
    let started = app
        .start_operation(&ada.access_token, "ORGANIZE", "many", false, json!({}))
        .await;
    let id = started["data"]["startOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    loop {
        let op = app.operation(&ada.access_token, &id).await;
        if op["phase"] == "MOVING" || op["status"] != "PENDING" && op["status"] != "RUNNING" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    app.op_mutation(&ada.access_token, "cancelOperation", "id", &id)
        .await;
    let op = app.wait_operation(&ada.access_token, &id).await;
    assert_eq!(op["status"], "CANCELLED", "{op}");
    let processed = op["filesProcessed"].as_i64().unwrap();
    assert!(processed < 3000, "stopped early: {op}");
    assert_eq!(
        processed + op["filesSkipped"].as_i64().unwrap(),
        3000,
        "every record has an outcome: {op}"
    );
    assert_eq!(contents(&snapshot(&root)), contents(&before));

    let rollback = app
        .op_mutation(&ada.access_token, "rollbackOperation", "id", &id)
        .await;
    let rid = rollback["data"]["rollbackOperation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{rollback}"))
        .to_string();
    let done = app.wait_operation(&ada.access_token, &rid).await;
    assert_eq!(done["filesProcessed"].as_i64().unwrap(), processed);
    assert_eq!(snapshot(&root), before);
}

#[tokio::test]
async fn a_worker_killed_mid_operation_resumes_after_restart_with_nothing_lost() {
    let app = spawn_app_with(|c| c.fault_stop_after_files = Some(100)).await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    many_files(&root, 400);
    let before = snapshot(&root);
    let started = app
        .start_operation(&ada.access_token, "ORGANIZE", "many", false, json!({}))
        .await;
    let id = started["data"]["startOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The injected fault stops the worker after claiming destinations, before moving them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let records = app.records(&ada.access_token, &id).await;
        let placeholders = std::fs::read_dir(root.join("many/Documents"))
            .map(|d| d.count())
            .unwrap_or(0);
        if records.len() == 400 && placeholders >= 100 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the fault never hit");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        app.operation(&ada.access_token, &id).await["status"],
        "RUNNING"
    );

    let mut app = app;
    app.config.fault_stop_after_files = None;
    let app = app.restart().await;
    let op = app.wait_operation(&ada.access_token, &id).await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(op["filesProcessed"], 400, "{op}");
    let after = snapshot(&root);
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
    let records = app.records(&ada.access_token, &id).await;
    assert!(
        records.iter().all(|r| r["status"] == "DONE"),
        "every record done"
    );
}

#[tokio::test]
async fn bad_roots_and_options_are_refused() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    write_tree(&user_dir(&app, &ada), &[("file.txt", b"x")]);
    let t = &ada.access_token;
    for root in [
        "missing",
        "file.txt",
        "../x",
        "a/../../b",
        "a\\b",
        "nul\u{0}",
        ".trash",
    ] {
        let body = app
            .start_operation(t, "ORGANIZE", root, false, json!({}))
            .await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "rootPath",
            "{root:?}: {body}"
        );
    }
    assert_code(
        &app.start_operation(t, "ROLLBACK", "", false, json!({}))
            .await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &app.start_operation(t, "ORGANIZE", "", false, json!({ "exclude": ["a[b"] }))
            .await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &app.start_operation(t, "ORGANIZE", "", false, json!({ "settleSeconds": -1 }))
            .await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &app.start_operation(
            t,
            "DUPLICATE_CLEANUP",
            "",
            false,
            json!({ "protectedPaths": ["../up"] }),
        )
        .await,
        "BAD_USER_INPUT",
    );
}

#[tokio::test]
async fn operations_list_filters_and_pages() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    write_tree(&user_dir(&app, &ada), &[("a/x.jpg", b"x")]);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            app.run_operation(&ada.access_token, "ORGANIZE", "a", true, json!({}))
                .await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.push(
        app.run_operation(&ada.access_token, "DUPLICATE_CLEANUP", "a", true, json!({}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let page = |after: Option<String>| {
        app.gql(
            Some(&ada.access_token),
            "query($after: String) { operations(first: 2, after: $after, type: ORGANIZE) { totalCount pageInfo { hasNextPage } edges { cursor node { id type } } } }",
            json!({ "after": after }),
        )
    };
    let first = page(None).await;
    let conn = &first["data"]["operations"];
    assert_eq!(conn["totalCount"], 3, "{first}");
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        conn["edges"][0]["node"]["id"],
        ids[2].as_str(),
        "newest first"
    );
    let cursor = conn["edges"][1]["cursor"].as_str().unwrap().to_string();
    let second = page(Some(cursor)).await;
    let edges = second["data"]["operations"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["id"], ids[0].as_str());
    assert_eq!(
        second["data"]["operations"]["pageInfo"]["hasNextPage"],
        false
    );
    let bad = app
        .gql(
            Some(&ada.access_token),
            "{ operations(after: \"zzz\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_code(&bad, "BAD_USER_INPUT");
    let filtered = app
        .gql(
            Some(&ada.access_token),
            "{ operations(status: COMPLETED, type: DUPLICATE_CLEANUP) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(filtered["data"]["operations"]["totalCount"], 1);
}

#[tokio::test]
async fn purge_trash_deletes_for_good_and_ends_rollback() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    write_tree(&root, &[("t/a.txt", b"twin"), ("t/b.txt", b"twin")]);
    let op = app
        .run_operation(
            &ada.access_token,
            "DUPLICATE_CLEANUP",
            "t",
            false,
            json!({}),
        )
        .await;
    let id = op["id"].as_str().unwrap();
    assert!(root.join(format!(".trash/{id}/t/b.txt")).exists());
    let purged = app
        .op_mutation(&ada.access_token, "purgeTrash", "operationId", id)
        .await;
    assert!(purged["data"]["purgeTrash"]["id"].is_string(), "{purged}");
    assert!(!root.join(format!(".trash/{id}/t/b.txt")).exists());
    assert!(root.join("t/a.txt").exists());
    assert_code(
        &app.op_mutation(&ada.access_token, "purgeTrash", "operationId", id)
            .await,
        "CONFLICT",
    );
    assert_code(
        &app.op_mutation(&ada.access_token, "rollbackOperation", "id", id)
            .await,
        "CONFLICT",
    );
}

#[tokio::test]
async fn category_rules_win_over_the_defaults() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let t = &ada.access_token;
    let create = "mutation($i: CategoryRuleInput!) { createCategoryRule(input: $i) { id name category extensions nameGlob priority } }";
    let scans = app.gql(Some(t), create, json!({ "i": { "name": "scans", "category": "Scans", "nameGlob": "scan_*", "extensions": [".PDF"], "priority": 10 } })).await;
    let rule = &scans["data"]["createCategoryRule"];
    assert_eq!(rule["extensions"], json!(["pdf"]), "{scans}");
    let big = app
        .gql(
            Some(t),
            create,
            json!({ "i": { "name": "big", "category": "Big", "minSizeBytes": 100 } }),
        )
        .await;
    assert!(big["data"]["createCategoryRule"]["id"].is_string(), "{big}");
    for bad in [
        json!({ "name": "x", "category": "../up", "extensions": ["a"] }),
        json!({ "name": "x", "category": "C" }),
        json!({ "name": "x", "category": "C", "minSizeBytes": 5, "maxSizeBytes": 1 }),
    ] {
        assert_code(
            &app.gql(Some(t), create, json!({ "i": bad })).await,
            "BAD_USER_INPUT",
        );
    }
    let list = app
        .gql(Some(t), "{ categoryRules { name priority } }", json!({}))
        .await;
    assert_eq!(
        list["data"]["categoryRules"][0]["name"], "scans",
        "highest priority first: {list}"
    );

    write_tree(
        &user_dir(&app, &ada),
        &[
            ("in/scan_001.pdf", b"%PDF"),
            ("in/paper.pdf", b"%PDF"),
            ("in/huge.pdf", &[b'x'; 200]),
        ],
    );
    let op = app
        .run_operation(t, "ORGANIZE", "in", false, json!({}))
        .await;
    assert_eq!(op["status"], "COMPLETED");
    let root = user_dir(&app, &ada);
    assert!(root.join("in/Scans/scan_001.pdf").exists());
    assert!(root.join("in/Documents/paper.pdf").exists());
    assert!(root.join("in/Big/huge.pdf").exists());

    let id = rule["id"].as_str().unwrap();
    let update = "mutation($id: ID!, $i: CategoryRuleInput!) { updateCategoryRule(id: $id, input: $i) { category priority } }";
    let updated = app.gql(Some(t), update, json!({ "id": id, "i": { "name": "scans", "category": "Scanned", "nameGlob": "scan_*", "priority": 1 } })).await;
    assert_eq!(
        updated["data"]["updateCategoryRule"]["category"], "Scanned",
        "{updated}"
    );
    let deleted = app
        .gql(
            Some(t),
            "mutation($id: ID!) { deleteCategoryRule(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteCategoryRule"], true);
    assert_code(
        &app.gql(
            Some(t),
            "mutation($id: ID!) { deleteCategoryRule(id: $id) }",
            json!({ "id": id }),
        )
        .await,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn progress_is_visible_while_polling_and_counters_end_true() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    many_files(&user_dir(&app, &ada), 1500);
    let started = app
        .start_operation(&ada.access_token, "ORGANIZE", "many", false, json!({}))
        .await;
    let id = started["data"]["startOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let op = app.operation(&ada.access_token, &id).await;
        let end = op["status"] == "COMPLETED" || op["status"] == "FAILED";
        seen.push(op);
        if end {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let last = seen.last().unwrap();
    assert_eq!(last["filesProcessed"], 1500, "{last}");
    assert_eq!(last["filesScanned"], 1500);
    assert!(
        seen.iter().any(|op| op["status"] == "RUNNING"),
        "a poll saw it running"
    );
    let server = app
        .gql(
            Some(&ada.access_token),
            "{ serverStatus { version database storage queue workers queueDepth } }",
            json!({}),
        )
        .await;
    assert_eq!(server["data"]["serverStatus"]["storage"], "fs", "{server}");
}

#[tokio::test]
async fn a_file_that_cannot_move_is_failed_reported_and_left_in_place() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    // A *file* named like the category folder the photo needs.
    write_tree(
        &root,
        &[
            ("f/Images", b"plain text, not a folder"),
            ("f/x.jpg", b"photo"),
        ],
    );
    let op = app
        .run_operation(&ada.access_token, "ORGANIZE", "f", false, json!({}))
        .await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(
        op["errorMessage"],
        "1 file(s) could not be moved; their records say why"
    );
    let records = app
        .records(&ada.access_token, op["id"].as_str().unwrap())
        .await;
    let photo = records
        .iter()
        .find(|r| r["originalPath"] == "f/x.jpg")
        .unwrap();
    assert_eq!(photo["status"], "FAILED", "{photo}");
    assert!(
        !photo["errorMessage"]
            .as_str()
            .unwrap()
            .contains(app.data_dir.path().to_str().unwrap()),
        "no server path: {photo}"
    );
    assert_eq!(
        std::fs::read(root.join("f/x.jpg")).unwrap(),
        b"photo",
        "left where it was"
    );
    let report = app
        .gql(
            Some(&ada.access_token),
            "query($id: ID!) { operationReport(id: $id) { filesFailed } }",
            json!({ "id": op["id"] }),
        )
        .await;
    assert_eq!(
        report["data"]["operationReport"]["filesFailed"], 1,
        "{report}"
    );
}
