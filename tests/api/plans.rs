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

/// `applyPlan` with edits: the excluded records stay where they are (recorded as left
/// out), the rest move exactly as planned.
#[tokio::test]
async fn an_edited_plan_applies_exactly_the_records_left() {
    let s = Space::new().await;
    s.write(SAMPLE_TREE);
    let plan = s.dry_run("ORGANIZE", "inbox", json!({})).await;
    let planned: Vec<serde_json::Value> = s
        .records(&plan)
        .await
        .into_iter()
        .filter(|r| r["status"] == "PLANNED")
        .collect();
    let (left_out, kept_in) = planned.split_at(3);
    let exclude: Vec<&serde_json::Value> = left_out.iter().map(|r| &r["id"]).collect();
    let body = s
        .gql(
            "mutation($id: ID!, $x: [ID!]) { applyPlan(id: $id, exclude: $x) { id } }",
            json!({ "id": plan["id"], "x": exclude }),
        )
        .await;
    let applied = s.wait(&body["data"]["applyPlan"]).await;
    assert_eq!(applied["status"], "COMPLETED", "{applied}");
    assert_eq!(applied["filesProcessed"], kept_in.len(), "{applied}");
    let after = s.tree();
    for record in left_out {
        assert!(after.contains_key(record["originalPath"].as_str().unwrap()));
    }
    for record in kept_in {
        assert!(after.contains_key(record["newPath"].as_str().unwrap()));
    }
    let records = s.records(&applied).await;
    let left: Vec<_> = records
        .iter()
        .filter(|r| r["errorMessage"] == "left out of the plan by you")
        .collect();
    assert_eq!(left.len(), 3, "{records:#?}");

    // Bad edits: not a record of this plan, not planned, kept outside a cleanup.
    let plan2 = s.dry_run("ORGANIZE", "elsewhere", json!({})).await;
    for (vars, code) in [
        (
            json!({ "id": plan2["id"], "x": [left_out[0]["id"]] }),
            "NOT_FOUND",
        ),
        (
            json!({ "id": plan2["id"], "x": ["not-an-id"] }),
            "BAD_USER_INPUT",
        ),
    ] {
        let body = s
            .gql(
                "mutation($id: ID!, $x: [ID!]) { applyPlan(id: $id, exclude: $x) { id } }",
                vars,
            )
            .await;
        assert_code(&body, code);
    }
    let keep = s
        .gql(
            "mutation($id: ID!, $k: [ID!]) { applyPlan(id: $id, keep: $k) { id } }",
            json!({ "id": plan2["id"], "k": [] }),
        )
        .await;
    assert!(
        keep["data"]["applyPlan"]["id"].is_string(),
        "an empty edit is no edit: {keep}"
    );
}

/// A partial rollback undoes exactly the chosen files; a later rollback undoes the rest.
#[tokio::test]
async fn a_partial_rollback_moves_back_exactly_the_chosen_files() {
    let s = Space::new().await;
    s.write(SAMPLE_TREE);
    let before = s.tree();
    let organized = s.run("ORGANIZE", "inbox", json!({})).await;
    let done: Vec<serde_json::Value> = s
        .records(&organized)
        .await
        .into_iter()
        .filter(|r| r["status"] == "DONE")
        .collect();
    assert!(done.len() >= 4);
    let (undo, stay) = done.split_at(2);
    let only: Vec<&serde_json::Value> = undo.iter().map(|r| &r["id"]).collect();
    let body = s
        .gql(
            "mutation($id: ID!, $o: [ID!]) { rollbackOperation(id: $id, only: $o) { id } }",
            json!({ "id": organized["id"], "o": only }),
        )
        .await;
    let partial = s.wait(&body["data"]["rollbackOperation"]).await;
    assert_eq!(partial["status"], "COMPLETED", "{partial}");
    assert_eq!(partial["filesProcessed"], 2, "{partial}");
    let after = s.tree();
    for record in undo {
        assert!(
            after.contains_key(record["originalPath"].as_str().unwrap()),
            "{record}"
        );
    }
    for record in stay {
        assert!(
            after.contains_key(record["newPath"].as_str().unwrap()),
            "{record}"
        );
    }
    // The same files cannot be undone twice; the rest can, and then all is as before.
    let again = s
        .gql(
            "mutation($id: ID!, $o: [ID!]) { rollbackOperation(id: $id, only: $o) { id } }",
            json!({ "id": organized["id"], "o": only }),
        )
        .await;
    assert_code(&again, "BAD_USER_INPUT");
    let rest = s.rollback_and_wait(&organized).await;
    assert_eq!(rest["status"], "COMPLETED", "{rest}");
    assert_eq!(s.tree(), before);
    assert_code(
        &s.mutation("rollbackOperation", "id", &organized).await,
        "CONFLICT",
    );
}

/// The review of a plan counts every record on the server, per category and per folder,
/// and finds records by path in any case, across every page.
#[tokio::test]
async fn a_plan_is_reviewed_with_server_counts_and_search() {
    let s = Space::new().await;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..150 {
        files.push((
            format!("inbox/a/song {i}.mp3"),
            format!("ID3 {i}").into_bytes(),
        ));
    }
    for i in 0..30 {
        files.push((
            format!("inbox/b/Photo {i}.jpg"),
            format!("jpg {i}").into_bytes(),
        ));
    }
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    s.write(&borrowed);
    let plan = s.dry_run("ORGANIZE", "inbox", json!({})).await;
    let report = s
        .gql(
            "query($id: ID!) { operationReport(id: $id) { categories { category files } folders { folder files bytes } } }",
            json!({ "id": plan["id"] }),
        )
        .await;
    let report = &report["data"]["operationReport"];
    assert_eq!(
        report["folders"],
        json!([
            { "folder": "inbox/a", "files": 150, "bytes": files[..150].iter().map(|(_, c)| c.len()).sum::<usize>() },
            { "folder": "inbox/b", "files": 30, "bytes": files[150..].iter().map(|(_, c)| c.len()).sum::<usize>() },
        ]),
        "{report}"
    );
    assert!(
        report["categories"]
            .as_array()
            .unwrap()
            .contains(&json!({ "category": "Audio", "files": 150 })),
        "{report}"
    );
    let found = s
        .gql(
            "query($id: ID!) { fileRecords(operationId: $id, search: \"PHOTO 1\", first: 100) { totalCount } }",
            json!({ "id": plan["id"] }),
        )
        .await;
    // Photo 1, Photo 10 … Photo 19.
    assert_eq!(found["data"]["fileRecords"]["totalCount"], 11, "{found}");
    let literal = s
        .gql(
            "query($id: ID!) { fileRecords(operationId: $id, search: \"%\") { totalCount } }",
            json!({ "id": plan["id"] }),
        )
        .await;
    assert_eq!(literal["data"]["fileRecords"]["totalCount"], 0, "{literal}");
}
