//! Check-then-act under concurrency: twenty identical requests at once, of which exactly
//! one may win, on SQLite and PostgreSQL alike; and places only the engine writes to.

use serde_json::{Value, json};

use crate::helpers::{Space, error_code};

const CALLS: usize = 20;

fn outcomes(responses: &[Value], field: &str) -> (usize, Vec<String>) {
    let won = responses
        .iter()
        .filter(|r| r["data"][field].is_object())
        .count();
    let codes = responses
        .iter()
        .filter(|r| !r["data"][field].is_object())
        .map(error_code)
        .collect();
    (won, codes)
}

#[tokio::test]
async fn twenty_concurrent_starts_on_one_folder_accept_exactly_one() {
    // No workers: the accepted operation stays pending, so it keeps overlapping.
    let s = Space::with(|c| c.workers = 0).await;
    s.write(&[("inbox/a.txt", b"a"), ("inbox/b.txt", b"b")]);
    let responses =
        futures::future::join_all((0..CALLS).map(|_| s.try_start("ORGANIZE", "inbox", json!({}))))
            .await;
    let (won, codes) = outcomes(&responses, "startOperation");
    assert_eq!(won, 1, "{responses:?}");
    assert!(codes.iter().all(|c| c == "CONFLICT"), "{codes:?}");
}

#[tokio::test]
async fn twenty_concurrent_purges_delete_once_and_count_once() {
    let s = Space::new().await;
    let copy = vec![7u8; 1000];
    let unique = vec![9u8; 500];
    let uploaded = s
        .app
        .upload(
            s.token(),
            "photos",
            &[
                ("a.bin", &copy),
                ("b.bin", &copy),
                ("c.bin", &copy),
                ("d.bin", &unique),
            ],
        )
        .await;
    assert_eq!(
        uploaded["data"]["uploadFiles"].as_array().unwrap().len(),
        4,
        "{uploaded}"
    );
    let cleanup = s.run("DUPLICATE_CLEANUP", "photos", json!({})).await;
    assert_eq!(cleanup["duplicatesFound"], 2, "{cleanup}");
    let id = cleanup["id"].as_str().unwrap().to_string();
    let responses = futures::future::join_all((0..CALLS).map(|_| {
        s.gql(
            "mutation($id: ID!) { purgeTrash(operationId: $id) { id trashPurgedAt } }",
            json!({ "id": id }),
        )
    }))
    .await;
    let (won, codes) = outcomes(&responses, "purgeTrash");
    assert_eq!(won, 1, "{responses:?}");
    assert!(codes.iter().all(|c| c == "CONFLICT"), "{codes:?}");
    // Usage drops by exactly the two copies that were deleted.
    let me = s.gql("{ me { storageUsedBytes } }", json!({})).await;
    assert_eq!(me["data"]["me"]["storageUsedBytes"], 1500, "{me}");
    assert!(!s.exists(&format!(".trash/{id}")));
    let left: Vec<String> = s.tree().keys().cloned().collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[tokio::test]
async fn twenty_concurrent_rollbacks_start_exactly_one() {
    let s = Space::new().await;
    s.write(&[("inbox/a.jpg", b"a"), ("inbox/b.pdf", b"b")]);
    let op = s.run("ORGANIZE", "inbox", json!({})).await;
    let id = op["id"].as_str().unwrap().to_string();
    let responses = futures::future::join_all((0..CALLS).map(|_| {
        s.gql(
            "mutation($id: ID!) { rollbackOperation(id: $id) { id } }",
            json!({ "id": id }),
        )
    }))
    .await;
    let (won, codes) = outcomes(&responses, "rollbackOperation");
    assert_eq!(won, 1, "{responses:?}");
    assert!(codes.iter().all(|c| c == "CONFLICT"), "{codes:?}");
}

#[tokio::test]
async fn an_organize_cannot_write_into_the_trash() {
    let s = Space::new().await;
    s.write(&[("inbox/a.jpg", b"a"), ("b.pdf", b"b")]);
    for (root, template) in [
        ("", ".trash/{category}"),
        ("", ".trash"),
        ("", "./.trash/x"),
        ("inbox", "../.trash/x"),
    ] {
        let refused = s
            .try_start("ORGANIZE", root, json!({ "destinationTemplate": template }))
            .await;
        assert_eq!(
            error_code(&refused),
            "BAD_USER_INPUT",
            "{template}: {refused}"
        );
    }
    // A folder called .trash below the root is not the trash, and stays allowed.
    let fine = s
        .run(
            "ORGANIZE",
            "inbox",
            json!({ "destinationTemplate": "x/.trash" }),
        )
        .await;
    assert_eq!(fine["status"], "COMPLETED", "{fine}");
    assert!(s.exists("inbox/x/.trash/a.jpg"));
}
