//! ROLLBACK: an organize undone restores the exact tree, once; a rollback never overwrites
//! and skips what changed since.

use serde_json::json;

use crate::helpers::{SAMPLE_TREE, Space, assert_code};

#[tokio::test]
async fn rollback_of_an_organize_restores_the_exact_tree_and_only_once() {
    let s = Space::new().await;
    s.write(SAMPLE_TREE);
    let before = s.tree();
    let op = s.run("ORGANIZE", "inbox", json!({})).await;
    assert_eq!(op["status"], "COMPLETED", "{op}");

    let rollback = s.rollback(&op).await;
    assert_eq!(rollback["type"], "ROLLBACK");
    assert_eq!(rollback["rollbackOf"], op["id"]);
    let done = s.wait(&rollback).await;

    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["filesProcessed"], 8);
    assert_eq!(s.tree(), before, "the same paths with the same bytes");
    for folder in [
        "inbox/Images",
        "inbox/Audio",
        "inbox/Archives",
        "inbox/Other",
    ] {
        assert!(
            !s.exists(folder),
            "{folder} was created by the organize and is gone again"
        );
    }
    assert!(
        s.exists("inbox/Documents"),
        "it was there before, with a file still in it"
    );

    // The undone records say so, and a second rollback is refused.
    let records = s.records(&op).await;
    assert_eq!(
        records.iter().filter(|r| r["status"] == "REVERTED").count(),
        8
    );
    // The rollback's own records (copied by the database): each the reverse of one undone
    // record, under an id of its own, named as the file was where the rollback found it.
    let undo = s.records(&rollback).await;
    assert_eq!(undo.len(), 8);
    let ids: std::collections::HashSet<_> = undo.iter().map(|r| r["id"].clone()).collect();
    assert_eq!(ids.len(), 8, "{undo:?}");
    for r in &undo {
        let from = r["originalPath"].as_str().unwrap();
        assert_eq!(r["fileName"], from.rsplit('/').next().unwrap(), "{r}");
        assert_eq!(r["status"], "DONE", "{r}");
        assert!(
            records.iter().any(|o| o["newPath"] == r["originalPath"]
                && o["originalPath"] == r["newPath"]
                && o["fileSizeBytes"] == r["fileSizeBytes"]
                && o["category"] == r["category"]),
            "{r}"
        );
    }
    let again = s.mutation("rollbackOperation", "id", &op).await;
    assert_code(&again, "CONFLICT");
}

#[tokio::test]
async fn rollback_skips_files_that_changed_or_whose_place_is_taken() {
    let s = Space::new().await;
    s.write(&[
        ("r/a.jpg", b"aaaa"),
        ("r/b.jpg", b"bbbb"),
        ("r/c.jpg", b"cccc"),
    ]);
    let op = s.run("ORGANIZE", "r", json!({ "hashFiles": true })).await;
    s.write(&[
        ("r/Images/a.jpg", b"AAAA"),      // same size, other content
        ("r/b.jpg", b"someone else's b"), // original place taken
    ]);

    let rollback = s.rollback(&op).await;
    let done = s.wait(&rollback).await;

    assert_eq!(done["filesProcessed"], 1, "{done}");
    assert_eq!(done["filesSkipped"], 2, "{done}");
    assert_eq!(s.read("r/c.jpg"), b"cccc");
    assert_eq!(s.read("r/b.jpg"), b"someone else's b", "never overwritten");
    assert_eq!(s.read("r/Images/b.jpg"), b"bbbb");
    assert_eq!(s.read("r/Images/a.jpg"), b"AAAA");
    let reasons: Vec<String> = s
        .records(&rollback)
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
