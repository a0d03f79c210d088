//! ORGANIZE on real files: files go to their category folder, options and category rules
//! change where, nothing is ever overwritten, and a file that cannot move stays put.

use serde_json::json;

use crate::helpers::{SAMPLE_TREE, Space, assert_code, contents};

#[tokio::test]
async fn organize_sorts_by_category_and_keeps_every_byte() {
    let s = Space::new().await;
    s.write(SAMPLE_TREE);
    let before = s.tree();

    let op = s.run("ORGANIZE", "inbox", json!({})).await;

    assert_eq!(op["status"], "COMPLETED", "{op}");
    let after = s.tree();
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
    let records = s.records(&op).await;
    assert_eq!(records.len(), 9);
    assert!(
        records
            .iter()
            .all(|r| r["status"] == "DONE" || r["status"] == "SKIPPED")
    );
    let skipped = records.iter().find(|r| r["status"] == "SKIPPED").unwrap();
    assert_eq!(skipped["errorMessage"], "already in place");
}

#[tokio::test]
async fn options_hidden_files_exclusions_and_templates_are_honoured() {
    let s = Space::new().await;
    s.write(SAMPLE_TREE);

    let op = s
        .run(
            "ORGANIZE",
            "inbox",
            json!({ "includeHidden": true, "exclude": ["**/*.mp3"], "destinationTemplate": "{category}/{ext}" }),
        )
        .await;

    assert_eq!(op["status"], "COMPLETED", "{op}");
    let after = s.tree();
    assert!(
        after.contains_key("inbox/song.mp3"),
        "excluded stays: {after:#?}"
    );
    assert!(
        after.contains_key("inbox/Documents/no-extension/.hidden"),
        "hidden included: {after:#?}"
    );
    assert!(after.contains_key("inbox/Documents/pdf/Überweisung März.pdf"));

    let unknown = s
        .try_start(
            "ORGANIZE",
            "inbox",
            json!({ "destinationTemplate": "{nope}" }),
        )
        .await;
    assert_code(&unknown, "BAD_USER_INPUT");
    let escape = s
        .try_start(
            "ORGANIZE",
            "inbox",
            json!({ "destinationTemplate": "../{category}" }),
        )
        .await;
    assert_code(&escape, "BAD_USER_INPUT");
}

#[tokio::test]
async fn moves_never_overwrite_an_existing_file() {
    let s = Space::new().await;
    s.write(&[
        ("box/Images/a.jpg", b"the one already there"),
        ("box/Images/a (1).jpg", b"and its first sibling"),
        ("box/a.jpg", b"newcomer"),
    ]);

    let op = s.run("ORGANIZE", "box", json!({})).await;

    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(s.tree().len(), 3);
    assert_eq!(s.read("box/Images/a.jpg"), b"the one already there");
    assert_eq!(s.read("box/Images/a (1).jpg"), b"and its first sibling");
    assert_eq!(s.read("box/Images/a (2).jpg"), b"newcomer");
}

/// Names may hold what separates columns and lines in a bulk copy (PostgreSQL's `COPY`):
/// a tab, a newline, a carriage return, a backslash, `\N`.
#[tokio::test]
async fn names_with_tabs_newlines_and_backslashes_are_recorded_exactly() {
    let s = Space::new().await;
    let odd = "in/odd\tname\\N with\nnew\rline\\.txt";
    s.write(&[(odd, b"odd bytes")]);
    let before = s.tree();

    let op = s.run("ORGANIZE", "in", json!({})).await;

    assert_eq!(op["status"], "COMPLETED", "{op}");
    let moved = "in/Documents/odd\tname\\N with\nnew\rline\\.txt";
    assert_eq!(s.read(moved), b"odd bytes");
    let records = s.records(&op).await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["originalPath"], odd);
    assert_eq!(records[0]["newPath"], moved);
    assert_eq!(records[0]["fileName"], "odd\tname\\N with\nnew\rline\\.txt");

    let rollback = s.rollback(&op).await;
    let done = s.wait(&rollback).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(s.tree(), before);
}
#[tokio::test]
async fn category_rules_win_over_the_defaults() {
    let s = Space::new().await;
    let create = "mutation($i: CategoryRuleInput!) { createCategoryRule(input: $i) { id name category extensions nameGlob priority } }";
    let scans = s.gql(create, json!({ "i": { "name": "scans", "category": "Scans", "nameGlob": "scan_*", "extensions": [".PDF"], "priority": 10 } })).await;
    let rule = &scans["data"]["createCategoryRule"];
    assert_eq!(rule["extensions"], json!(["pdf"]), "{scans}");
    let big = s
        .gql(
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
        assert_code(&s.gql(create, json!({ "i": bad })).await, "BAD_USER_INPUT");
    }
    let list = s
        .gql("{ categoryRules { name priority } }", json!({}))
        .await;
    assert_eq!(
        list["data"]["categoryRules"][0]["name"], "scans",
        "highest priority first: {list}"
    );

    s.write(&[
        ("in/scan_001.pdf", b"%PDF"),
        ("in/paper.pdf", b"%PDF"),
        ("in/huge.pdf", &[b'x'; 200]),
    ]);
    let op = s.run("ORGANIZE", "in", json!({})).await;
    assert_eq!(op["status"], "COMPLETED");
    assert!(s.exists("in/Scans/scan_001.pdf"));
    assert!(s.exists("in/Documents/paper.pdf"));
    assert!(s.exists("in/Big/huge.pdf"));

    let id = rule["id"].as_str().unwrap();
    let update = "mutation($id: ID!, $i: CategoryRuleInput!) { updateCategoryRule(id: $id, input: $i) { category priority } }";
    let updated = s.gql(update, json!({ "id": id, "i": { "name": "scans", "category": "Scanned", "nameGlob": "scan_*", "priority": 1 } })).await;
    assert_eq!(
        updated["data"]["updateCategoryRule"]["category"], "Scanned",
        "{updated}"
    );
    let delete = "mutation($id: ID!) { deleteCategoryRule(id: $id) }";
    let deleted = s.gql(delete, json!({ "id": id })).await;
    assert_eq!(deleted["data"]["deleteCategoryRule"], true);
    assert_code(&s.gql(delete, json!({ "id": id })).await, "NOT_FOUND");
}

#[tokio::test]
async fn a_file_that_cannot_move_is_failed_reported_and_left_in_place() {
    let s = Space::new().await;
    // A *file* named like the category folder the photo needs (left out of the organize,
    // so it stays in the way whatever order the moves run in).
    s.write(&[
        ("f/Images", b"plain text, not a folder"),
        ("f/x.jpg", b"photo"),
    ]);

    let op = s
        .run("ORGANIZE", "f", json!({ "exclude": ["Images"] }))
        .await;

    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(
        op["errorMessage"],
        "1 file(s) could not be moved; their records say why"
    );
    let records = s.records(&op).await;
    let photo = records
        .iter()
        .find(|r| r["originalPath"] == "f/x.jpg")
        .unwrap();
    assert_eq!(photo["status"], "FAILED", "{photo}");
    assert!(
        !photo["errorMessage"]
            .as_str()
            .unwrap()
            .contains(s.app.data_dir.path().to_str().unwrap()),
        "no server path: {photo}"
    );
    assert_eq!(s.read("f/x.jpg"), b"photo", "left where it was");
    let report = s
        .gql(
            "query($id: ID!) { operationReport(id: $id) { filesFailed } }",
            json!({ "id": op["id"] }),
        )
        .await;
    assert_eq!(
        report["data"]["operationReport"]["filesFailed"], 1,
        "{report}"
    );
}

/// An organize respects what it finds: a project folder stays whole (never flattened
/// into Code/), a category folder already there in another case is used, and source
/// folders it emptied go — and come back with a rollback.
#[tokio::test]
async fn projects_stay_whole_case_is_matched_and_emptied_folders_go() {
    let s = crate::helpers::Space::new().await;
    s.write(&[
        ("in/app/package.json", b"{}"),
        ("in/app/src/index.js", b"console.log(1)"),
        ("in/tool/Cargo.toml", b"[package]"),
        ("in/tool/src/main.rs", b"fn main() {}"),
        ("in/loose/script.py", b"print(1)"),
        ("in/photos/day/beach.jpg", b"\xff\xd8\xff\xe0 jpeg"),
        ("in/images/old.png", b"\x89PNG\r\n\x1a\n png"),
    ]);
    // `images` exists; the organize's own category is `Images`.
    let before = s.tree();
    let done = s.run("ORGANIZE", "in", serde_json::json!({})).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let after = s.tree();
    for stays in [
        "in/app/package.json",
        "in/app/src/index.js",
        "in/tool/src/main.rs",
    ] {
        assert!(
            after.contains_key(stays),
            "{stays} stays in its project: {after:?}"
        );
    }
    assert!(
        after.contains_key("in/images/beach.jpg"),
        "into the existing folder: {after:?}"
    );
    assert!(!s.path("in/Images").exists());
    assert!(
        !s.path("in/photos").exists(),
        "the folder it emptied is gone"
    );
    assert!(!s.path("in/loose").exists());
    let records = s.records(&done).await;
    let project = records
        .iter()
        .find(|r| r["originalPath"] == "in/app/src/index.js")
        .unwrap();
    assert_eq!(project["status"], "SKIPPED");
    assert_eq!(
        project["errorMessage"],
        "in the project folder in/app (it has package.json): left whole"
    );
    s.rollback_and_wait(&done).await;
    assert_eq!(s.tree(), before);
    assert!(s.path("in/photos/day").is_dir());
}
