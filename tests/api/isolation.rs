//! One user never sees or touches another user's operations, records or files.

use serde_json::json;

use crate::helpers::{Space, assert_code, spawn_app};

#[tokio::test]
async fn another_users_operation_is_not_found_everywhere() {
    let s = Space::new().await;
    let app = &s.app;
    let bob = app.signup("bob").await;
    s.write(&[
        ("private/a.jpg", b"ada's photo"),
        ("private/b.jpg", b"ada's photo"),
    ]);
    let op = s.run("DUPLICATE_CLEANUP", "private", json!({})).await;
    let id = op["id"].as_str().unwrap();
    let made_up = uuid::Uuid::now_v7().to_string();

    assert!(app.operation(&bob.access_token, id).await.is_null());
    for (field, arg) in [
        ("cancelOperation", "id"),
        ("rollbackOperation", "id"),
        ("applyPlan", "id"),
        ("purgeTrash", "operationId"),
    ] {
        let theirs = app.op_mutation(&bob.access_token, field, arg, id).await;
        let nobody = app
            .op_mutation(&bob.access_token, field, arg, &made_up)
            .await;
        assert_code(&theirs, "NOT_FOUND");
        assert_eq!(
            theirs["errors"][0]["message"], nobody["errors"][0]["message"],
            "{field}"
        );
    }
    for query in [
        "query($id: ID!) { fileRecords(operationId: $id) { totalCount } }",
        "query($id: ID!) { duplicateGroups(operationId: $id) { totalCount } }",
        "query($id: ID!) { operationReport(id: $id) { duplicatesFound } }",
    ] {
        assert_code(
            &app.gql(Some(&bob.access_token), query, json!({ "id": id }))
                .await,
            "NOT_FOUND",
        );
    }
    let listed = app
        .gql(
            Some(&bob.access_token),
            "{ operations { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["data"]["operations"]["totalCount"], 0);
    let files = app
        .gql(
            Some(&bob.access_token),
            "{ files { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(files["data"]["files"]["totalCount"], 0, "{files}");
    let their_folder = app
        .start_operation(&bob.access_token, "ORGANIZE", "private", false, json!({}))
        .await;
    assert_code(&their_folder, "BAD_USER_INPUT");
    // Ada's things are as she left them.
    assert_eq!(s.operation(id).await["status"], "COMPLETED");
    assert!(s.exists("private/a.jpg"));
}

#[tokio::test]
async fn operations_need_a_signed_in_caller() {
    let app = spawn_app().await;
    for query in [
        "{ operations { totalCount } }",
        "{ files { totalCount } }",
        "{ categoryRules { id } }",
        "{ serverStatus { version } }",
    ] {
        assert_code(&app.gql(None, query, json!({})).await, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn ids_answer_one_documented_way() {
    let s = Space::new().await;
    // Well-formed but unknown: null for `operation`, NOT_FOUND where an object is required.
    let unknown = "01900000-0000-7000-8000-000000000000";
    let body = s
        .gql(
            "query($id: ID!) { operation(id: $id) { id } }",
            json!({ "id": unknown }),
        )
        .await;
    assert!(
        body["errors"].is_null() && body["data"]["operation"].is_null(),
        "{body}"
    );
    let report = s
        .gql(
            "query($id: ID!) { operationReport(id: $id) { duplicatesFound } }",
            json!({ "id": unknown }),
        )
        .await;
    assert_code(&report, "NOT_FOUND");
    // Malformed: BAD_USER_INPUT everywhere, naming the argument.
    for query in [
        "query($id: ID!) { operation(id: $id) { id } }",
        "query($id: ID!) { operationReport(id: $id) { duplicatesFound } }",
        "query($id: ID!) { fileRecords(operationId: $id) { totalCount } }",
        "mutation($id: ID!) { cancelOperation(id: $id) { id } }",
    ] {
        let body = s.gql(query, json!({ "id": "not-a-uuid" })).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert!(
            body["errors"][0]["extensions"]["field"].is_string(),
            "{body}"
        );
    }
}
