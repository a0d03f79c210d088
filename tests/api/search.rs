//! `files(search:)` answers from the search index: built from the space on the first
//! search, then kept true by uploads and by every operation that moves files. After each
//! change the answers are checked against the tree on disk.

use serde_json::{Value, json};

use crate::helpers::Space;

/// Paths of the files under the root (trash left out) whose name holds `words` in any
/// case, in natural case-insensitive name order: what a search must answer.
fn expected(space: &Space, words: &str) -> Vec<String> {
    let mut found: Vec<String> = space
        .tree()
        .into_keys()
        .filter(|path| !path.starts_with(".trash/"))
        .filter(|path| {
            let name = path.rsplit('/').next().unwrap();
            name.to_lowercase().contains(&words.to_lowercase())
        })
        .collect();
    found.sort_by(|a, b| {
        let name = |p: &str| chunks(p.rsplit('/').next().unwrap());
        name(a).cmp(&name(b)).then_with(|| a.cmp(b))
    });
    found
}

/// A name as runs of text (lower-cased) and numbers (by value): comparing these is the
/// natural, case-insensitive order.
fn chunks(name: &str) -> Vec<(String, (usize, String))> {
    let mut out = Vec::new();
    let mut rest = name.to_lowercase();
    while !rest.is_empty() {
        let text: String = rest.chars().take_while(|c| !c.is_ascii_digit()).collect();
        rest = rest[text.len()..].to_string();
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        rest = rest[digits.len()..].to_string();
        let value = digits.trim_start_matches('0').to_string();
        out.push((text, (value.len(), value)));
    }
    out
}

async fn search(space: &Space, words: &str, more: Value) -> (Vec<String>, Value) {
    let mut vars = json!({ "s": words, "f": 100 });
    vars.as_object_mut()
        .unwrap()
        .extend(more.as_object().unwrap().clone());
    let body = space
        .gql(
            "query($s: String, $p: String, $f: Int, $o: FileSort, $min: BigInt, $max: BigInt, $after: DateTime, $before: DateTime) {
               files(search: $s, path: $p, first: $f, sort: $o, minSizeBytes: $min, maxSizeBytes: $max,
                     modifiedAfter: $after, modifiedBefore: $before) {
                 totalCount edges { node { path sizeBytes } } } }",
            vars,
        )
        .await;
    let paths = body["data"]["files"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["node"]["path"].as_str().unwrap().to_string())
        .collect();
    (paths, body)
}

/// Every query answers what the tree on disk says, count included.
async fn agrees(space: &Space, step: &str) {
    for words in ["report", "SONG", "file", "1", "do", "cat (1)", ".md"] {
        let (found, body) = search(space, words, json!({})).await;
        assert_eq!(
            found,
            expected(space, words),
            "{step}: search {words:?}: {body}"
        );
        assert_eq!(
            body["data"]["files"]["totalCount"],
            found.len(),
            "{step}: {words:?}"
        );
    }
}

async fn run(space: &Space, mutation: &str, vars: Value, field: &str) -> Value {
    let body = space.gql(mutation, vars).await;
    let op = body["data"][field].clone();
    assert!(op.is_object(), "{field}: {body}");
    let done = space.wait(&op).await;
    assert_eq!(done["status"], "COMPLETED", "{field}: {done}");
    done
}

#[tokio::test]
async fn search_follows_every_change_to_the_space() {
    let space = Space::new().await;
    space.write(&[
        ("file 10.txt", &b"1234567890"[..]),
        ("File 2.txt", &b"12"[..]),
        ("file 1.txt", &b"123456"[..]),
        ("docs/Report Q1.pdf", &b"%PDF q1"[..]),
        ("docs/deep/report-final.PDF", &b"%PDF final"[..]),
        ("music/song.mp3", &b"ID3 song"[..]),
        ("music/Song 2.mp3", &b"ID3 song 2"[..]),
        ("pics/cat.png", &b"\x89PNG cat"[..]),
        ("pics/cat (1).png", &b"\x89PNG cat copy"[..]),
        ("notes/todo.md", &b"# todo"[..]),
    ]);
    agrees(&space, "first search (builds the index)").await;

    // Uploads are found at once.
    let uploaded = space
        .app
        .upload(
            space.token(),
            "docs",
            &[("report 3.txt", &b"third report"[..])],
        )
        .await;
    assert!(uploaded["errors"].is_null(), "{uploaded}");
    agrees(&space, "after an upload").await;

    let organize = space.run("ORGANIZE", "", json!({})).await;
    assert_eq!(organize["status"], "COMPLETED", "{organize}");
    agrees(&space, "after an organize").await;

    let rename = run(
        &space,
        "mutation($p: String!) { renameEntry(path: $p, newName: \"annual summary.pdf\") { id } }",
        json!({ "p": expected(&space, "report q1")[0] }),
        "renameEntry",
    )
    .await;
    agrees(&space, "after a rename").await;
    assert_eq!(search(&space, "annual", json!({})).await.0.len(), 1);

    let songs = expected(&space, "song");
    run(
        &space,
        "mutation($p: [String!]!) { moveEntries(paths: $p, to: \"Documents\") { id } }",
        json!({ "p": songs }),
        "moveEntries",
    )
    .await;
    agrees(&space, "after a move").await;

    let cats = expected(&space, "cat");
    run(
        &space,
        "mutation($p: [String!]!) { deleteEntries(paths: $p) { id } }",
        json!({ "p": cats }),
        "deleteEntries",
    )
    .await;
    agrees(&space, "after a delete").await;
    assert!(search(&space, "cat", json!({})).await.0.is_empty());

    let trash = space
        .gql(
            "{ trash(first: 100) { edges { node { id originalPath } } } }",
            json!({}),
        )
        .await;
    let items: Vec<&Value> = trash["data"]["trash"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let restore: Vec<&str> = items
        .iter()
        .filter(|e| {
            e["node"]["originalPath"]
                .as_str()
                .unwrap()
                .ends_with("cat.png")
        })
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    run(
        &space,
        "mutation($ids: [ID!]!) { restoreEntries(ids: $ids) { id } }",
        json!({ "ids": restore }),
        "restoreEntries",
    )
    .await;
    agrees(&space, "after a restore").await;
    assert_eq!(search(&space, "cat", json!({})).await.0.len(), 1);

    let emptied = space.gql("mutation { emptyTrash }", json!({})).await;
    assert!(emptied["errors"].is_null(), "{emptied}");
    agrees(&space, "after emptying the trash").await;

    space.rollback_and_wait(&rename).await;
    agrees(&space, "after a rollback").await;
    space.rollback_and_wait(&organize).await;
    agrees(&space, "after the organize's rollback").await;

    // The answers come from the index, not from reading the folder: a file written
    // behind the server's back is not in it.
    space.write(&[("report behind.txt", &b"x"[..])]);
    assert!(
        !search(&space, "report", json!({}))
            .await
            .0
            .contains(&"report behind.txt".to_string())
    );
}

#[tokio::test]
async fn search_filters_escapes_and_bounds() {
    let space = Space::new().await;
    space.write(&[
        ("100%_done.txt", &b"a"[..]),
        ("100 done.txt", &b"bb"[..]),
        ("big/video.mp4", &[7u8; 5000][..]),
        ("big/Video 2.mp4", &[7u8; 3000][..]),
        ("quote\"d.txt", &b"q"[..]),
    ]);
    // `%` and `_` are letters in a search, not patterns.
    assert_eq!(search(&space, "%_", json!({})).await.0, ["100%_done.txt"]);
    assert_eq!(search(&space, "%", json!({})).await.0, ["100%_done.txt"]);
    assert_eq!(search(&space, "\"d", json!({})).await.0, ["quote\"d.txt"]);
    assert_eq!(
        search(&space, "x\"", json!({})).await.0,
        Vec::<String>::new()
    );
    // Sizes, either way, and bounds.
    let (by_size, _) = search(&space, "video", json!({ "o": "SIZE_DESC" })).await;
    assert_eq!(by_size, ["big/video.mp4", "big/Video 2.mp4"]);
    let (bounded, body) = search(&space, "o", json!({ "min": "2", "max": "4000" })).await;
    assert_eq!(bounded, ["100 done.txt", "big/Video 2.mp4"], "{body}");
    let (listed, _) = search(&space, "", json!({ "min": "4000" })).await;
    assert_eq!(
        listed,
        Vec::<String>::new(),
        "folder listing: files of the root only"
    );
    let (recent, _) = search(
        &space,
        "video",
        json!({ "after": "2000-01-01T00:00:00Z", "before": "2999-01-01T00:00:00Z" }),
    )
    .await;
    assert_eq!(recent.len(), 2);
    let (none, _) = search(&space, "video", json!({ "before": "2000-01-01T00:00:00Z" })).await;
    assert!(none.is_empty());
    let (_, bad) = search(&space, "video", json!({ "min": "-1" })).await;
    crate::helpers::assert_code(&bad, "BAD_USER_INPUT");
}

/// An operation larger than `SEARCH_FOLLOW_MAX_MOVES` does not follow its moves row by row:
/// the index is built again on the next search, whose answers are as true.
#[tokio::test]
async fn after_a_large_operation_the_index_is_built_again() {
    let space = Space::with(|c| c.search_follow_max_moves = 3).await;
    space.write(&[
        ("a/report 1.txt", &b"1"[..]),
        ("a/report 2.txt", &b"22"[..]),
        ("b/report 3.pdf", &b"%PDF 3"[..]),
        ("b/song.mp3", &b"ID3 x"[..]),
        ("c/notes.md", &b"# n"[..]),
    ]);
    agrees(&space, "first search").await;
    let organize = space.run("ORGANIZE", "", json!({})).await;
    assert_eq!(organize["status"], "COMPLETED", "{organize}");
    agrees(&space, "after a large organize").await;
    // The rebuilt index follows small changes again.
    space.write(&[("behind.txt", &b"x"[..])]);
    let rename = run(
        &space,
        "mutation($p: String!) { renameEntry(path: $p, newName: \"summary.md\") { id } }",
        json!({ "p": expected(&space, "notes")[0] }),
        "renameEntry",
    )
    .await;
    assert_eq!(rename["status"], "COMPLETED");
    assert_eq!(search(&space, "summary", json!({})).await.0.len(), 1);
    assert!(
        search(&space, "behind", json!({})).await.0.is_empty(),
        "answers come from the rebuilt index"
    );
    space.rollback_and_wait(&organize).await;
    agrees(&space, "after the large organize's rollback").await;
}

/// Every page of `words`, `first` at a time, following the cursors.
async fn all_pages(space: &Space, words: &str, first: usize) -> Vec<String> {
    let mut found = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = space
            .gql(
                "query($s: String, $f: Int, $a: String) { files(search: $s, first: $f, after: $a) {
                   totalCount pageInfo { endCursor hasNextPage } edges { node { path } } } }",
                json!({ "s": words, "f": first, "a": after }),
            )
            .await;
        let files = &body["data"]["files"];
        assert_eq!(
            files["totalCount"],
            expected(space, words).len(),
            "{words:?}: {body}"
        );
        let edges = files["edges"].as_array().expect("edges");
        assert!(edges.len() <= first, "{body}");
        found.extend(
            edges
                .iter()
                .map(|e| e["node"]["path"].as_str().unwrap().to_string()),
        );
        if files["pageInfo"]["hasNextPage"] != true {
            return found;
        }
        after = files["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn pages_by_name_are_exact_across_equal_names_and_later_changes() {
    pages_by_name_are_exact(Space::new().await).await;
}

/// Words with more hits than a search sorts at once (PostgreSQL counts them from an index
/// and reads the page in name order): the same pages.
#[tokio::test]
async fn pages_of_words_with_many_hits_are_exact() {
    pages_by_name_are_exact(Space::with(|c| c.search_sort_max_hits = 3).await).await;
}

async fn pages_by_name_are_exact(space: Space) {
    let mut files = Vec::new();
    for folder in ["a", "b", "c", "d", "e"] {
        for name in [
            "doc 1.txt",
            "Doc 2.txt",
            "doc 10.txt",
            "zdoc.txt",
            "other.txt",
        ] {
            files.push((format!("{folder}/{name}"), format!("{folder}{name}")));
        }
    }
    files.push(("doc 1.txt".into(), "root doc".into()));
    let written: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_bytes()))
        .collect();
    space.write(&written);
    for words in ["doc", "oc", "d", "doc 1"] {
        for first in [1, 4, 7] {
            assert_eq!(
                all_pages(&space, words, first).await,
                expected(&space, words),
                "built: {words:?} by {first}"
            );
        }
    }

    // A move keeps a row's place in the built order while its path now sorts after (or
    // before) the other files of the same name.
    for (paths, to) in [
        ("\"a/doc 1.txt\", \"a/Doc 2.txt\"", "z"),
        ("\"e/doc 1.txt\"", "0"),
    ] {
        let folder = space
            .gql(
                &format!("mutation {{ createFolder(path: \"{to}\") {{ path }} }}"),
                json!({}),
            )
            .await;
        assert!(folder["errors"].is_null(), "{folder}");
        run(
            &space,
            &format!("mutation {{ moveEntries(paths: [{paths}], to: \"{to}\") {{ id }} }}"),
            json!({}),
            "moveEntries",
        )
        .await;
    }
    for words in ["doc", "doc 1"] {
        for first in [1, 4] {
            assert_eq!(
                all_pages(&space, words, first).await,
                expected(&space, words),
                "moved: {words:?} by {first}"
            );
        }
    }

    // Rows added and renamed after the build are not in the built order.
    let uploaded = space
        .app
        .upload(
            space.token(),
            "f",
            &[
                ("doc 1.txt", &b"late"[..]),
                ("doc 3.txt", &b"late 3"[..]),
                ("aaa doc.txt", &b"first by name"[..]),
            ],
        )
        .await;
    assert!(uploaded["errors"].is_null(), "{uploaded}");
    run(
        &space,
        "mutation { renameEntry(path: \"c/doc 10.txt\", newName: \"doc 0.txt\") { id } }",
        json!({}),
        "renameEntry",
    )
    .await;
    run(
        &space,
        "mutation { deleteEntries(paths: [\"b/doc 1.txt\", \"d/zdoc.txt\"]) { id } }",
        json!({}),
        "deleteEntries",
    )
    .await;
    for words in ["doc", "oc", "d", "doc 1"] {
        for first in [1, 4, 7] {
            assert_eq!(
                all_pages(&space, words, first).await,
                expected(&space, words),
                "changed: {words:?} by {first}"
            );
        }
    }
}

/// A letter is found in names where it appears folded from another character (the Kelvin
/// sign is a `k` in any case), and counted the same way when a page does not hold every hit.
#[tokio::test]
async fn one_letter_counts_names_that_fold_to_it() {
    for space in [
        Space::new().await,
        Space::with(|c| c.search_sort_max_hits = 1).await,
    ] {
        letters_fold(space).await;
    }
}

async fn letters_fold(space: Space) {
    space.write(&[
        ("\u{212A}elvin.txt", &b"k"[..]),
        ("kite.txt", &b"k"[..]),
        ("notes/Kayak.md", &b"k"[..]),
        ("plain.txt", &b"p"[..]),
    ]);
    for words in ["k", "K", "ke"] {
        let all = expected(&space, words);
        let (found, body) = search(&space, words, json!({})).await;
        assert_eq!(found, all, "{words:?}: {body}");
        // A page of one: the total is counted, not seen.
        let (page, body) = search(&space, words, json!({ "f": 1 })).await;
        assert_eq!(page, all[..1], "{words:?}: {body}");
        assert_eq!(
            body["data"]["files"]["totalCount"],
            all.len(),
            "{words:?}: {body}"
        );
    }
}
