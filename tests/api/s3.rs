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

/// Downloads, moves, deletes into the trash and restores work on an object store too.
#[tokio::test]
async fn object_storage_downloads_moves_deletes_and_restores() {
    let url = std::env::var("TEST_S3_URL")
        .expect("TEST_S3_URL names the S3 server for the s3 tests (see .ci/run)");
    let s = Space::with(|c| c.storage_url = Some(url)).await;
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    s.app
        .upload(
            s.token(),
            "docs",
            &[("big.bin", &big), ("note.txt", b"a note")],
        )
        .await;

    let url = s.app.url("/files/docs/big.bin");
    let whole = s
        .app
        .http
        .get(&url)
        .bearer_auth(s.token())
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap().as_ref(), &big[..]);
    let part = s
        .app
        .http
        .get(&url)
        .bearer_auth(s.token())
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &big[100..200]);

    let moved = s
        .gql(
            "mutation { moveEntries(paths: [\"docs/note.txt\"], to: \"docs/sub\") { id } }",
            json!({}),
        )
        .await;
    assert!(moved["errors"].is_array(), "no such folder yet: {moved}");
    let made = s
        .gql(
            "mutation { createFolder(path: \"kept\") { path } }",
            json!({}),
        )
        .await;
    assert_eq!(made["data"]["createFolder"]["path"], "kept", "{made}");
    let moved = s
        .gql(
            "mutation { moveEntries(paths: [\"docs/note.txt\"], to: \"kept\") { id } }",
            json!({}),
        )
        .await;
    let op = s.wait(&moved["data"]["moveEntries"]).await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(
        listing(&s, "kept").await,
        [("kept/note.txt".to_string(), 6)]
    );

    let deleted = s
        .gql(
            "mutation { deleteEntries(paths: [\"docs\"]) { id } }",
            json!({}),
        )
        .await;
    let op = s.wait(&deleted["data"]["deleteEntries"]).await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    // Nothing left under it: on an object store the folder is gone with its files.
    let gone = s
        .gql("{ files(path: \"docs\") { totalCount } }", json!({}))
        .await;
    assert!(
        gone["data"]["files"]["totalCount"] == 0
            || gone["errors"][0]["extensions"]["code"] == "NOT_FOUND",
        "{gone}"
    );
    let trash = s
        .gql(
            "{ trash { edges { node { id originalPath } } } }",
            json!({}),
        )
        .await;
    let items = trash["data"]["trash"]["edges"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{trash}");
    let restored = s
        .gql(
            "mutation($ids: [ID!]!) { restoreEntries(ids: $ids) { id } }",
            json!({ "ids": [items[0]["node"]["id"]] }),
        )
        .await;
    let op = s.wait(&restored["data"]["restoreEntries"]).await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(
        listing(&s, "docs").await,
        [("docs/big.bin".to_string(), 200_000)]
    );
}

/// Every object of the files a user stored on an object store.
async fn objects(s: &Space, user_id: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let space = s.app.state.storage.space(user_id.parse().unwrap());
    let found: Vec<_> = space.walk("").try_collect().await.unwrap();
    found
        .into_iter()
        .filter(|f| !f.is_dir)
        .map(|f| f.path)
        .collect()
}

/// A deleted account leaves no object behind, and another user's are untouched.
#[tokio::test]
async fn object_storage_deleting_an_account_leaves_no_object() {
    let url = std::env::var("TEST_S3_URL")
        .expect("TEST_S3_URL names the S3 server for the s3 tests (see .ci/run)");
    let s = Space::with(|c| c.storage_url = Some(url)).await;
    let bob = s.app.signup("bob").await;
    for token in [s.token(), bob.access_token.as_str()] {
        let up = s
            .app
            .upload(token, "docs", &[("a.txt", b"a"), ("b.txt", b"bb")])
            .await;
        assert!(up["errors"].is_null(), "{up}");
    }
    let trashed = s
        .gql(
            "mutation { deleteEntries(paths: [\"docs/b.txt\"]) { id } }",
            json!({}),
        )
        .await;
    s.wait(&trashed["data"]["deleteEntries"]).await;
    assert_eq!(
        objects(&s, &s.user.id).await.len(),
        2,
        "a file and one in the trash"
    );
    let deleted = s
        .gql(
            "mutation($p: String!) { deleteAccount(password: $p) }",
            json!({ "p": s.user.password }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteAccount"], true, "{deleted}");
    assert_eq!(objects(&s, &s.user.id).await, Vec::<String>::new());
    let mut bobs = objects(&s, &bob.id).await;
    bobs.sort();
    assert_eq!(bobs, ["docs/a.txt", "docs/b.txt"]);
}
