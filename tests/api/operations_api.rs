//! The operations API itself: what `startOperation` refuses, and how `operations` lists,
//! filters and pages.

use serde_json::json;

use crate::helpers::{Space, assert_code};

#[tokio::test]
async fn bad_roots_and_options_are_refused() {
    let s = Space::new().await;
    s.write(&[("file.txt", b"x")]);
    for root in [
        "missing",
        "file.txt",
        "../x",
        "a/../../b",
        "a\\b",
        "nul\u{0}",
        ".trash",
    ] {
        let body = s.try_start("ORGANIZE", root, json!({})).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "rootPath",
            "{root:?}: {body}"
        );
    }
    for (kind, options) in [
        ("ROLLBACK", json!({})),
        ("ORGANIZE", json!({ "exclude": ["a[b"] })),
        ("ORGANIZE", json!({ "settleSeconds": -1 })),
        ("DUPLICATE_CLEANUP", json!({ "protectedPaths": ["../up"] })),
    ] {
        assert_code(&s.try_start(kind, "", options).await, "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn operations_list_filters_and_pages() {
    let s = Space::new().await;
    s.write(&[("a/x.jpg", b"x")]);
    let mut ids: Vec<String> = Vec::new();
    for kind in ["ORGANIZE", "ORGANIZE", "ORGANIZE", "DUPLICATE_CLEANUP"] {
        let op = s.dry_run(kind, "a", json!({})).await;
        ids.push(op["id"].as_str().unwrap().to_string());
    }
    let page = |after: Option<String>| {
        s.gql(
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

    let bad = s
        .gql("{ operations(after: \"zzz\") { totalCount } }", json!({}))
        .await;
    assert_code(&bad, "BAD_USER_INPUT");
    let filtered = s
        .gql(
            "{ operations(status: COMPLETED, type: DUPLICATE_CLEANUP) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(filtered["data"]["operations"]["totalCount"], 1);
}
