//! Uploads through the GraphQL multipart request, listings, quota, and path attacks.

use sea_orm::ActiveValue::Set;
use serde_json::{Value, json};

use crate::helpers::{Space, TestApp, assert_code, spawn_app, write_tree};

async fn upload(app: &TestApp, token: &str, path: &str, files: &[(&str, &[u8])]) -> Value {
    app.upload(token, path, files).await
}

async fn list(app: &TestApp, token: &str, path: &str) -> Value {
    app.gql(
        Some(token),
        "query($p: String) { files(path: $p, first: 100) { totalCount edges { cursor node { path name isDir sizeBytes modifiedAt category } } } }",
        json!({ "p": path }),
    )
    .await
}

#[tokio::test]
async fn uploads_land_in_storage_count_against_usage_and_never_overwrite() {
    let s = Space::new().await;
    let body = upload(
        &s.app,
        s.token(),
        "photos/2024",
        &[("beach.jpg", b"sand and sea"), ("notes Ü.txt", b"hello")],
    )
    .await;
    let stored = body["data"]["uploadFiles"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["path"], "photos/2024/beach.jpg");
    assert_eq!(stored[0]["sizeBytes"], 12);
    assert_eq!(s.read("photos/2024/beach.jpg"), b"sand and sea");

    let again = upload(
        &s.app,
        s.token(),
        "photos/2024",
        &[("beach.jpg", b"another beach")],
    )
    .await;
    assert_eq!(
        again["data"]["uploadFiles"][0]["path"], "photos/2024/beach (1).jpg",
        "{again}"
    );
    assert_eq!(s.read("photos/2024/beach.jpg"), b"sand and sea");

    let me = s.gql("{ me { storageUsedBytes } }", json!({})).await;
    assert_eq!(me["data"]["me"]["storageUsedBytes"], 12 + 5 + 13);

    let listing = list(&s.app, s.token(), "photos/2024").await;
    let names: Vec<&str> = listing["data"]["files"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["beach (1).jpg", "beach.jpg", "notes Ü.txt"]);
    assert_eq!(
        listing["data"]["files"]["edges"][1]["node"]["category"],
        "Images"
    );
    let top = list(&s.app, s.token(), "").await;
    assert_eq!(
        top["data"]["files"]["edges"][0]["node"]["isDir"], true,
        "{top}"
    );
}

#[tokio::test]
async fn listing_pages_with_cursors() {
    let s = Space::new().await;
    let files: Vec<(String, Vec<u8>)> = (0..7)
        .map(|i| (format!("dir/f{i}.txt"), vec![b'x'; i]))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    s.write(&refs);
    s.write(&[("dir/sub/inner.txt", b"i")]);
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = s
            .gql("query($a: String) { files(path: \"dir\", first: 3, after: $a) { totalCount pageInfo { hasNextPage } edges { cursor node { name } } } }", json!({ "a": after }))
            .await;
        let conn = &body["data"]["files"];
        assert_eq!(conn["totalCount"], 8, "{body}");
        for edge in conn["edges"].as_array().unwrap() {
            names.push(edge["node"]["name"].as_str().unwrap().to_string());
            after = Some(edge["cursor"].as_str().unwrap().to_string());
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
    }
    assert_eq!(
        names,
        [
            "sub", "f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt", "f5.txt", "f6.txt"
        ]
    );
}

#[tokio::test]
async fn uploads_past_the_quota_are_refused_and_nothing_is_written() {
    let s = Space::new().await;
    s.app
        .update_user(&s.user, |user| user.storage_quota_gb = Set(0))
        .await;
    let body = upload(&s.app, s.token(), "in", &[("a.bin", b"some bytes")]).await;
    assert_code(&body, "QUOTA_EXCEEDED");
    assert!(!s.exists("in/a.bin"));
    let me = s.gql("{ me { storageUsedBytes } }", json!({})).await;
    assert_eq!(me["data"]["me"]["storageUsedBytes"], 0);
}

#[tokio::test]
async fn path_attacks_are_refused_everywhere() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let t = &ada.access_token;
    for path in [
        "..",
        "../..",
        "a/../../etc",
        "/../etc",
        "a\\b",
        "a\u{0}b",
        &"x".repeat(300),
    ] {
        assert_code(&list(&app, t, path).await, "BAD_USER_INPUT");
        assert_code(
            &upload(&app, t, path, &[("a.txt", b"x")]).await,
            "BAD_USER_INPUT",
        );
    }
    for name in ["../evil.txt", "..", "a/b.txt", "back\\slash.txt"] {
        let body = upload(&app, t, "ok", &[(name, b"x")]).await;
        assert_code(&body, "BAD_USER_INPUT");
    }
    assert_code(
        &upload(&app, t, ".trash", &[("a.txt", b"x")]).await,
        "BAD_USER_INPUT",
    );
    // Nothing escaped into the storage root or beyond.
    let storage = app.data_dir.path().join("storage");
    let outside: Vec<_> = std::fs::read_dir(&storage)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    // `.spool` holds uploads being received (unnamed files): empty between requests.
    assert!(
        outside
            .iter()
            .all(|name| name == "users" || name == ".spool"),
        "{outside:?}"
    );
    assert_eq!(
        std::fs::read_dir(storage.join(".spool"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
    assert!(
        !app.data_dir.path().join("etc").exists() && !app.data_dir.path().join("evil.txt").exists()
    );
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_never_lead_out_of_the_namespace() {
    let s = Space::new().await;
    let secret_dir = s.app.data_dir.path().join("not-yours");
    write_tree(&secret_dir, &[("secret.txt", b"server secret")]);
    s.write(&[("mine/a.jpg", b"mine")]);
    std::os::unix::fs::symlink(&secret_dir, s.path("mine/link")).unwrap();
    std::os::unix::fs::symlink(
        secret_dir.join("secret.txt"),
        s.path("mine/secret-link.txt"),
    )
    .unwrap();

    let through = list(&s.app, s.token(), "mine/link").await;
    assert!(
        through["data"].is_null() || through["data"]["files"]["totalCount"] == 0,
        "{through}"
    );
    assert!(!through.to_string().contains("secret.txt"));
    let root_via_link = s.try_start("ORGANIZE", "mine/link", json!({})).await;
    assert_code(&root_via_link, "BAD_USER_INPUT");

    let op = s.run("ORGANIZE", "mine", json!({})).await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(
        op["filesProcessed"], 1,
        "symlinks are not followed or moved: {op}"
    );
    assert_eq!(
        std::fs::read(secret_dir.join("secret.txt")).unwrap(),
        b"server secret"
    );
    // An upload into the link, or below it, is the user's mistake, not ours.
    for folder in ["mine/link", "mine/link/deeper"] {
        let upload = s.app.upload(s.token(), folder, &[("x.txt", b"x")]).await;
        assert_code(&upload, "BAD_USER_INPUT");
    }
    assert!(!secret_dir.join("x.txt").exists());
    assert!(!secret_dir.join("deeper").exists());
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_and_what_is_in_it_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = Space::new().await;
    let uploaded = s.app.upload(s.token(), "docs", &[("a.txt", b"a")]).await;
    assert!(uploaded["data"]["uploadFiles"].is_array(), "{uploaded}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let data = s.app.data_dir.path();
    assert_eq!(mode(data), 0o700);
    for entry in walk(data) {
        assert_eq!(
            mode(&entry) & 0o077,
            0,
            "{} is readable by others",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[tokio::test]
async fn uploads_keep_the_files_own_times_and_operations_use_them() {
    let s = Space::new().await;
    let body = s
        .app
        .upload_dated(
            s.token(),
            "inbox",
            &[
                ("new.jpg", b"same bytes", json!("2021-07-01T10:00:00Z")),
                ("old.jpg", b"same bytes", json!("2019-05-01T08:30:00Z")),
                ("now.txt", b"no time", Value::Null),
            ],
        )
        .await;
    let stored = body["data"]["uploadFiles"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(
        stored[0]["modifiedAt"], "2021-07-01T10:00:00.000Z",
        "{body}"
    );
    assert_eq!(
        stored[1]["modifiedAt"], "2019-05-01T08:30:00.000Z",
        "{body}"
    );
    assert!(stored[2]["modifiedAt"].as_str().unwrap() > "2025", "{body}");
    // The oldest copy is the one with the oldest own time, though it came second.
    let cleanup = s
        .dry_run("DUPLICATE_CLEANUP", "inbox", json!({ "keep": "OLDEST" }))
        .await;
    let kept = s.kept_paths(&cleanup).await;
    assert_eq!(kept, vec!["inbox/old.jpg".to_string()]);
    // `{year}` sorts by the file's own year.
    let op = s
        .run(
            "ORGANIZE",
            "inbox",
            json!({ "destinationTemplate": "{year}" }),
        )
        .await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert!(s.exists("inbox/2021/new.jpg"));
    assert!(s.exists("inbox/2019/old.jpg"));

    // Times that cannot be right are refused, and so is a list longer than the files.
    for times in [
        json!(["2999-01-01T00:00:00Z"]),
        json!(["1960-01-01T00:00:00Z"]),
    ] {
        let refused = s
            .app
            .upload_dated(s.token(), "later", &[("a.txt", b"a", times[0].clone())])
            .await;
        assert_code(&refused, "BAD_USER_INPUT");
    }
    let form = crate::multipart::upload_form(
        "mutation($files: [Upload!]!, $t: [DateTime]) { uploadFiles(path: \"x\", files: $files, modifiedAt: $t) { path } }",
        json!({ "t": ["2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"] }),
        &[("x.txt", b"x")],
    );
    let refused: Value = s
        .app
        .http
        .post(s.app.url("/graphql"))
        .bearer_auth(s.token())
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_code(&refused, "BAD_USER_INPUT");
    assert!(!s.exists("later/a.txt") && !s.exists("x/x.txt"));
}

#[tokio::test]
async fn a_listing_shows_the_category_an_organize_gives() {
    let s = Space::new().await;
    s.write(&[
        ("mixed/README", b"plain words, no extension"),
        (
            "mixed/photo",
            &[
                0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
            ],
        ),
        ("mixed/blob", &[0u8, 159, 146, 150, 0, 1]),
        ("mixed/report.pdf", b"%PDF-1.4"),
    ]);
    let listed = list(&s.app, s.token(), "mixed").await;
    let shown: std::collections::BTreeMap<String, String> = listed["data"]["files"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .map(|e| {
            (
                e["node"]["name"].as_str().unwrap().to_string(),
                e["node"]["category"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let plan = s.dry_run("ORGANIZE", "mixed", json!({})).await;
    let planned: std::collections::BTreeMap<String, String> = s
        .records(&plan)
        .await
        .iter()
        .map(|r| {
            (
                r["fileName"].as_str().unwrap().to_string(),
                r["category"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(shown, planned);
    assert_eq!(shown["README"], "Documents");
    assert_eq!(shown["photo"], "Images");
    assert_eq!(shown["blob"], "Other");
}

/// `files(search:)` finds names anywhere under a folder, in any case, never in the trash;
/// listings sort naturally by name, or by size or time, either way, folders first.
#[tokio::test]
async fn search_and_sort_find_and_order_files_as_people_expect() {
    let app = crate::helpers::spawn_app().await;
    let ada = app.signup("ada").await;
    let root = crate::helpers::user_dir(&app, &ada);
    crate::helpers::write_tree(
        &root,
        &[
            ("file 10.txt", b"1234567890"),
            ("File 2.txt", b"12"),
            ("file 1.txt", b"123456"),
            ("docs/Report Q1.pdf", b"%PDF q1"),
            ("docs/deep/report-final.PDF", b"%PDF final"),
            ("music/song.mp3", b"ID3"),
        ],
    );
    let list = |vars: serde_json::Value| {
        let app = &app;
        let token = ada.access_token.clone();
        async move {
            let body = app
                .gql(
                    Some(&token),
                    "query($p: String, $s: String, $o: FileSort, $c: String, $a: String, $f: Int) { files(path: $p, search: $s, sort: $o, category: $c, after: $a, first: $f) { totalCount pageInfo { hasNextPage endCursor } edges { node { path } } } }",
                    vars,
                )
                .await;
            let conn = body["data"]["files"].clone();
            let paths: Vec<String> = conn["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .iter()
                .map(|e| e["node"]["path"].as_str().unwrap().to_string())
                .collect();
            (paths, conn)
        }
    };
    let (names, _) = list(json!({})).await;
    assert_eq!(
        names,
        ["docs", "music", "file 1.txt", "File 2.txt", "file 10.txt"]
    );
    let (names, _) = list(json!({ "o": "NAME_DESC" })).await;
    assert_eq!(
        names,
        ["music", "docs", "file 10.txt", "File 2.txt", "file 1.txt"]
    );
    let (names, _) = list(json!({ "o": "SIZE_DESC" })).await;
    assert_eq!(&names[2..], ["file 10.txt", "file 1.txt", "File 2.txt"]);

    let (found, conn) = list(json!({ "s": "REPORT" })).await;
    assert_eq!(found, ["docs/Report Q1.pdf", "docs/deep/report-final.PDF"]);
    assert_eq!(conn["totalCount"], 2);
    let (found, _) = list(json!({ "s": "report", "p": "docs/deep" })).await;
    assert_eq!(found, ["docs/deep/report-final.PDF"]);
    let (found, _) = list(json!({ "s": ".", "c": "Audio" })).await;
    assert_eq!(found, ["music/song.mp3"]);
    // Paged: the second page starts where the first ended.
    let (first, conn) = list(json!({ "s": "file", "f": 2 })).await;
    assert_eq!(first, ["file 1.txt", "File 2.txt"]);
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    let (rest, _) = list(json!({ "s": "file", "f": 2, "a": conn["pageInfo"]["endCursor"] })).await;
    assert_eq!(rest, ["file 10.txt"]);
    // The trash is never searched.
    let deleted = app
        .gql(
            Some(&ada.access_token),
            "mutation { deleteEntries(paths: [\"music\"]) { id } }",
            json!({}),
        )
        .await;
    app.wait_operation(
        &ada.access_token,
        deleted["data"]["deleteEntries"]["id"].as_str().unwrap(),
    )
    .await;
    let (found, _) = list(json!({ "s": "song" })).await;
    assert!(found.is_empty(), "{found:?}");
    let bad = app
        .gql(
            Some(&ada.access_token),
            "{ files(after: \"nonsense\") { totalCount } }",
            json!({}),
        )
        .await;
    crate::helpers::assert_code(&bad, "BAD_USER_INPUT");
}
