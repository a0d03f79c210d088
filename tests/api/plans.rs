//! Dry runs and `applyPlan`: a dry run changes nothing, and applying its plan does exactly
//! what the plan showed, skipping files that changed since.

use serde_json::json;

use crate::helpers::{SAMPLE_TREE, Space, assert_code};

#[tokio::test]
async fn a_dry_run_changes_nothing_and_apply_plan_does_exactly_what_it_showed() {
    let s = Space::new().await;
    s.write(SAMPLE_TREE);
    let before = s.tree();

    let plan = s.dry_run("ORGANIZE", "inbox", json!({})).await;

    assert_eq!(plan["status"], "COMPLETED", "{plan}");
    assert_eq!(plan["dryRun"], true);
    assert_eq!(s.tree(), before, "a dry run moves nothing");
    let plan_id = plan["id"].as_str().unwrap();
    let planned = s.records(&plan).await;
    assert!(
        planned.iter().filter(|r| r["status"] == "PLANNED").count() == 8,
        "{planned:#?}"
    );

    // One file changes after planning: it must be skipped, not moved.
    s.write(&[("inbox/song.mp3", b"ID3 music, edited and longer")]);
    let applied = s.apply_plan(&plan).await;
    assert_eq!(applied["planOf"], plan_id);
    let done = s.wait(&applied).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["filesProcessed"], 7, "{done}");

    let after = s.tree();
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
    let records = s.records(&applied).await;
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

    // A plan is applied once; an application is no plan; a plan has nothing to roll back.
    assert_code(&s.mutation("applyPlan", "id", &plan).await, "CONFLICT");
    assert_code(
        &s.mutation("applyPlan", "id", &applied).await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &s.mutation("rollbackOperation", "id", &plan).await,
        "BAD_USER_INPUT",
    );
}

#[tokio::test]
async fn a_destination_taken_after_the_plan_is_never_overwritten() {
    let s = Space::new().await;
    s.write(&[
        ("inbox/a.jpg", b"the photo"),
        ("inbox/b.pdf", b"%PDF the doc"),
    ]);
    let plan = s.dry_run("ORGANIZE", "inbox", json!({})).await;
    let planned = s.records(&plan).await;
    let photo = planned
        .iter()
        .find(|r| r["originalPath"] == "inbox/a.jpg")
        .unwrap();
    assert_eq!(photo["newPath"], "inbox/Images/a.jpg");
    // Someone puts a file exactly where the photo was to go.
    s.write(&[("inbox/Images/a.jpg", b"somebody else's photo")]);
    let applied = s.apply_plan(&plan).await;
    let done = s.wait(&applied).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["filesProcessed"], 2, "{done}");
    assert_eq!(s.read("inbox/Images/a.jpg"), b"somebody else's photo");
    assert_eq!(s.read("inbox/Images/a (1).jpg"), b"the photo");
    let records = s.records(&applied).await;
    let moved = records
        .iter()
        .find(|r| r["originalPath"] == "inbox/a.jpg")
        .unwrap();
    assert_eq!(
        moved["newPath"], "inbox/Images/a (1).jpg",
        "the record says where it went"
    );
    // And the rollback brings it back from there.
    let undone = s.rollback_and_wait(&applied).await;
    assert_eq!(undone["status"], "COMPLETED", "{undone}");
    assert_eq!(s.read("inbox/a.jpg"), b"the photo");
    assert_eq!(s.read("inbox/Images/a.jpg"), b"somebody else's photo");
}
