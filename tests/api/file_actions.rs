//! What a user does to their files directly: folders, renames, moves and deletes. Each
//! change of place is an operation with records, undone byte for byte by rollback; bad
//! paths, taken names and paths an active operation works on are refused clearly.

use serde_json::{Value, json};

use crate::helpers::{
    Account, OPERATION_FIELDS, TestApp, assert_code, snapshot, spawn_app, spawn_app_with, user_dir,
    write_tree,
};

async fn act(app: &TestApp, who: &Account, query: &str, variables: Value) -> Value {
    app.gql(Some(&who.access_token), query, variables).await
}

async fn rename(app: &TestApp, who: &Account, path: &str, name: &str) -> Value {
    act(
        app,
        who,
        &format!("mutation($p: String!, $n: String!) {{ renameEntry(path: $p, newName: $n) {{ {OPERATION_FIELDS} }} }}"),
        json!({ "p": path, "n": name }),
    )
    .await
}

async fn move_entries(app: &TestApp, who: &Account, paths: &[&str], to: &str) -> Value {
    act(
        app,
        who,
        &format!("mutation($p: [String!]!, $t: String!) {{ moveEntries(paths: $p, to: $t) {{ {OPERATION_FIELDS} }} }}"),
        json!({ "p": paths, "t": to }),
    )
    .await
}

async fn delete_entries(app: &TestApp, who: &Account, paths: &[&str]) -> Value {
    act(
        app,
        who,
        &format!(
            "mutation($p: [String!]!) {{ deleteEntries(paths: $p) {{ {OPERATION_FIELDS} }} }}"
        ),
        json!({ "p": paths }),
    )
    .await
}

/// Waits for the operation a mutation answered with; it must complete.
async fn completed(app: &TestApp, who: &Account, body: &Value, field: &str) -> Value {
    let id = body["data"][field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{field} failed: {body}"));
    let op = app.wait_operation(&who.access_token, id).await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    op
}

async fn roll_back(app: &TestApp, who: &Account, op: &Value) {
    let body = app
        .op_mutation(
            &who.access_token,
            "rollbackOperation",
            "id",
            op["id"].as_str().unwrap(),
        )
        .await;
    completed(app, who, &body, "rollbackOperation").await;
}

fn tree() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("proj/src/main.rs", b"fn main() {}"),
        ("proj/README.md", b"# proj"),
        ("loose.txt", b"loose"),
        ("archive/old.txt", b"old"),
    ]
}

#[tokio::test]
async fn rename_and_move_are_operations_that_roll_back_byte_for_byte() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    write_tree(&root, &tree());
    // An empty folder inside a moved one moves with it.
    std::fs::create_dir_all(root.join("proj/empty/deeper")).unwrap();
    let before = snapshot(&root);

    let renamed = rename(&app, &ada, "loose.txt", "kept.txt").await;
    let op = completed(&app, &ada, &renamed, "renameEntry").await;
    assert_eq!(op["type"], "MOVE");
    assert_eq!(op["filesProcessed"], 1);
    assert_eq!(std::fs::read(root.join("kept.txt")).unwrap(), b"loose");
    assert!(!root.join("loose.txt").exists());
    roll_back(&app, &ada, &op).await;
    assert_eq!(snapshot(&root), before);

    // A folder and a file at once; the folder leaves nothing behind.
    let moved = move_entries(&app, &ada, &["proj", "loose.txt"], "archive").await;
    let op = completed(&app, &ada, &moved, "moveEntries").await;
    assert_eq!(op["filesProcessed"], 3);
    assert_eq!(
        std::fs::read(root.join("archive/proj/src/main.rs")).unwrap(),
        b"fn main() {}"
    );
    assert!(root.join("archive/loose.txt").exists());
    assert!(
        !root.join("proj").exists(),
        "the moved folder is gone from where it was"
    );
    roll_back(&app, &ada, &op).await;
    assert_eq!(snapshot(&root), before);
    assert!(!root.join("archive/proj").exists());
}

#[tokio::test]
async fn delete_goes_to_the_trash_out_of_sight_and_comes_back_byte_for_byte() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let up = app
        .upload(
            &ada.access_token,
            "proj",
            &[("a.txt", b"aaa"), ("b.bin", &[7u8; 5000])],
        )
        .await;
    assert!(up["data"]["uploadFiles"].is_array(), "{up}");
    let root = user_dir(&app, &ada);
    std::fs::create_dir_all(root.join("proj/nothing/here")).unwrap();
    let before = snapshot(&root);
    let usage = || async {
        act(&app, &ada, "{ me { storageUsedBytes } }", json!({})).await["data"]["me"]["storageUsedBytes"].clone()
    };
    let used = usage().await;

    let deleted = delete_entries(&app, &ada, &["proj"]).await;
    let op = completed(&app, &ada, &deleted, "deleteEntries").await;
    assert_eq!(op["type"], "DELETE");
    let id = op["id"].as_str().unwrap();
    assert!(!root.join("proj").exists());
    assert_eq!(
        std::fs::read(root.join(format!(".trash/{id}/proj/a.txt"))).unwrap(),
        b"aaa"
    );
    // The trash is not one of the folders; what it holds still counts.
    let listing = act(
        &app,
        &ada,
        "{ files { edges { node { path } } } }",
        json!({}),
    )
    .await;
    assert_eq!(listing["data"]["files"]["edges"], json!([]), "{listing}");
    assert_eq!(usage().await, used);

    roll_back(&app, &ada, &op).await;
    assert_eq!(snapshot(&root), before);
    assert!(
        root.join("proj/nothing/here").is_dir(),
        "empty folders come back too"
    );
}

#[tokio::test]
async fn bad_paths_taken_names_and_busy_paths_are_refused_and_nothing_moves() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let root = user_dir(&app, &ada);
    write_tree(&root, &tree());
    let before = snapshot(&root);

    // Folders.
    let made = act(
        &app,
        &ada,
        "mutation { createFolder(path: \"new/deep\") { path isDir } }",
        json!({}),
    )
    .await;
    assert_eq!(
        made["data"]["createFolder"],
        json!({ "path": "new/deep", "isDir": true }),
        "{made}"
    );
    assert!(root.join("new/deep").is_dir());
    for (path, code) in [
        ("new/deep", "CONFLICT"),
        ("loose.txt/inside", "CONFLICT"),
        ("../escape", "BAD_USER_INPUT"),
        (".trash/mine", "BAD_USER_INPUT"),
        ("", "BAD_USER_INPUT"),
    ] {
        let body = act(
            &app,
            &ada,
            "mutation($p: String!) { createFolder(path: $p) { path } }",
            json!({ "p": path }),
        )
        .await;
        assert_code(&body, code);
    }

    // Renames and moves that cannot be.
    assert_code(
        &rename(&app, &ada, "loose.txt", "README.md/x").await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &rename(&app, &ada, "missing.txt", "x.txt").await,
        "NOT_FOUND",
    );
    assert_code(
        &rename(&app, &ada, "loose.txt", "archive").await,
        "CONFLICT",
    );
    assert_code(
        &rename(&app, &ada, "loose.txt", &"n".repeat(256)).await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &move_entries(&app, &ada, &["proj"], "proj/src").await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &move_entries(&app, &ada, &["proj", "proj/src"], "archive").await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &move_entries(&app, &ada, &["loose.txt"], "nowhere").await,
        "NOT_FOUND",
    );
    assert_code(
        &move_entries(&app, &ada, &["proj"], "loose.txt").await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &move_entries(&app, &ada, &["archive/old.txt"], "archive").await,
        "BAD_USER_INPUT",
    );
    write_tree(&root, &[("new/loose.txt", b"taken")]);
    assert_code(
        &move_entries(&app, &ada, &["loose.txt"], "new").await,
        "CONFLICT",
    );
    std::fs::remove_file(root.join("new/loose.txt")).unwrap();
    assert_code(&delete_entries(&app, &ada, &[""]).await, "BAD_USER_INPUT");
    assert_code(&delete_entries(&app, &ada, &[]).await, "BAD_USER_INPUT");
    assert_code(
        &delete_entries(&app, &ada, &[".trash"]).await,
        "BAD_USER_INPUT",
    );

    // Another user's files are not there for them.
    let bob = app.signup("bob").await;
    assert_code(
        &delete_entries(&app, &bob, &["loose.txt"]).await,
        "NOT_FOUND",
    );
    let _ = std::fs::remove_dir_all(root.join("new"));
    assert_eq!(snapshot(&root), before, "nothing moved");
}

#[tokio::test]
async fn a_path_an_active_operation_works_on_is_busy() {
    // No workers: a started operation stays queued, covering its folder.
    let app = spawn_app_with(|c| c.workers = 0).await;
    let ada = app.signup("ada").await;
    write_tree(&user_dir(&app, &ada), &tree());
    let queued = app
        .start_operation(&ada.access_token, "ORGANIZE", "proj", true, json!({}))
        .await;
    assert!(
        queued["data"]["startOperation"]["id"].is_string(),
        "{queued}"
    );
    assert_code(
        &move_entries(&app, &ada, &["proj/README.md"], "archive").await,
        "CONFLICT",
    );
    assert_code(
        &move_entries(&app, &ada, &["loose.txt"], "proj").await,
        "CONFLICT",
    );
    assert_code(&delete_entries(&app, &ada, &["proj"]).await, "CONFLICT");
    // Elsewhere is free.
    let elsewhere = move_entries(&app, &ada, &["loose.txt"], "archive").await;
    assert!(
        elsewhere["data"]["moveEntries"]["id"].is_string(),
        "{elsewhere}"
    );
}
