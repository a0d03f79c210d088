//! The same engine on an object store (`--features s3`), against the S3 server named by
//! `TEST_S3_URL` (CI starts one; see `.ci/run`). Object stores have no rename and no
//! folders, so moves go by claim, copy, check and delete.

use serde_json::json;

use crate::helpers::Space;

/// The files (not folders) directly under `path`: (path, size), sorted.
async fn listing(s: &Space, path: &str) -> Vec<(String, i64)> {
    let body = s
        .gql("query($p: String) { files(path: $p, first: 100) { edges { node { path sizeBytes isDir } } } }", json!({ "p": path }))
        .await;
    let mut out: Vec<(String, i64)> = body["data"]["files"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|e| e["node"]["isDir"] == false)
        .map(|e| {
            (
                e["node"]["path"].as_str().unwrap().to_string(),
                e["node"]["sizeBytes"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn object_storage_organizes_rolls_back_and_cleans_up_without_overwriting() {
    let url = std::env::var("TEST_S3_URL")
        .expect("TEST_S3_URL names the S3 server for the s3 tests (see .ci/run)");
    let s = Space::with(|c| c.storage_url = Some(url)).await;
    for (name, content) in [
        ("a.jpg", &b"photo"[..]),
        ("b.jpg", b"photo"),
        ("c.pdf", b"%PDF doc"),
    ] {
        let body = s.app.upload(s.token(), "in", &[(name, content)]).await;
        assert_eq!(
            body["data"]["uploadFiles"][0]["path"],
            format!("in/{name}"),
            "{body}"
        );
    }
    let again = s
        .app
        .upload(s.token(), "in", &[("a.jpg", b"other photo")])
        .await;
    assert_eq!(
        again["data"]["uploadFiles"][0]["path"], "in/a (1).jpg",
        "{again}"
    );
    let before = listing(&s, "in").await;

    let op = s.run("ORGANIZE", "in", json!({})).await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(op["filesProcessed"], 4);
    let images = listing(&s, "in/Images").await;
    assert_eq!(
        images.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["in/Images/a (1).jpg", "in/Images/a.jpg", "in/Images/b.jpg"]
    );
    assert!(
        listing(&s, "in").await.is_empty(),
        "no file left behind at the source"
    );

    assert_eq!(s.rollback_and_wait(&op).await["filesProcessed"], 4);
    assert_eq!(listing(&s, "in").await, before);

    let cleanup = s.run("DUPLICATE_CLEANUP", "in", json!({})).await;
    assert_eq!(cleanup["duplicatesFound"], 1, "{cleanup}");
    assert_eq!(listing(&s, "in").await.len(), 3);
}

#[tokio::test]
async fn object_storage_keeps_uploaded_file_times() {
    let url = std::env::var("TEST_S3_URL")
        .expect("TEST_S3_URL names the S3 server for the s3 tests (see .ci/run)");
    let s = Space::with(|c| c.storage_url = Some(url)).await;
    let body = s
        .app
        .upload_dated(
            s.token(),
            "dated",
            &[
                ("new.jpg", b"same", json!("2021-07-01T10:00:00Z")),
                ("old.jpg", b"same", json!("2019-05-01T08:30:00Z")),
            ],
        )
        .await;
    assert_eq!(
        body["data"]["uploadFiles"][1]["modifiedAt"], "2019-05-01T08:30:00.000Z",
        "{body}"
    );
    let cleanup = s
        .dry_run("DUPLICATE_CLEANUP", "dated", json!({ "keep": "OLDEST" }))
        .await;
    assert_eq!(
        s.kept_paths(&cleanup).await,
        vec!["dated/old.jpg".to_string()]
    );
    let op = s
        .run(
            "ORGANIZE",
            "dated",
            json!({ "destinationTemplate": "{year}" }),
        )
        .await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    let moved = listing(&s, "dated/2019").await;
    assert_eq!(moved, vec![("dated/2019/old.jpg".to_string(), 4)]);
}
