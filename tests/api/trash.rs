//! The trash people can see: what deletes and cleanups put there, restored item by item
//! (byte for byte, never over a file that took its place), emptied for good by choice,
//! by age or all at once, with the storage used following what is really stored.

use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, assert_code, snapshot, spawn_app, user_dir};

const ITEMS: &str = "query($f: Int, $a: String) { trash(first: $f, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { node { id originalPath trashPath sizeBytes deletedAt operationId operationType } } } }";

async fn trash(app: &TestApp, who: &Account) -> Vec<Value> {
    let body = app
        .gql(Some(&who.access_token), ITEMS, json!({ "f": 100 }))
        .await;
    body["data"]["trash"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn used(app: &TestApp, who: &Account) -> String {
    let me = app
        .gql(
            Some(&who.access_token),
            "{ me { storageUsedBytes } }",
            json!({}),
        )
        .await;
    me["data"]["me"]["storageUsedBytes"]
        .to_string()
        .trim_matches('"')
        .to_string()
}

async fn wait_for(app: &TestApp, who: &Account, body: &Value, field: &str) -> Value {
    let id = body["data"][field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{field}: {body}"));
    let op = app.wait_operation(&who.access_token, id).await;
    assert_eq!(op["status"], "COMPLETED", "{op}");
    op
}

async fn delete(app: &TestApp, who: &Account, paths: &[&str]) -> Value {
    let body = app
        .gql(
            Some(&who.access_token),
            "mutation($p: [String!]!) { deleteEntries(paths: $p) { id } }",
            json!({ "p": paths }),
        )
        .await;
    wait_for(app, who, &body, "deleteEntries").await
}

#[tokio::test]
async fn deleted_files_are_listed_restored_and_emptied_for_good() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    app.upload(
        &ada.access_token,
        "docs",
        &[("a.txt", b"alpha"), ("b.txt", b"bravo!")],
    )
    .await;
    app.upload(&ada.access_token, "pics", &[("c.jpg", &[3u8; 1000])])
        .await;
    let root = user_dir(&app, &ada);
    let before = snapshot(&root);
    assert_eq!(used(&app, &ada).await, "1011");

    delete(&app, &ada, &["docs"]).await;
    let deleted = delete(&app, &ada, &["pics/c.jpg"]).await;
    let items = trash(&app, &ada).await;
    assert_eq!(items.len(), 3, "{items:?}");
    // Newest first: the picture, deleted last.
    assert_eq!(items[0]["originalPath"], "pics/c.jpg");
    assert_eq!(items[0]["operationType"], "DELETE");
    assert_eq!(items[0]["operationId"], deleted["id"]);
    assert_eq!(items[0]["sizeBytes"].to_string().trim_matches('"'), "1000");
    let trash_path = items[0]["trashPath"].as_str().unwrap();
    assert!(trash_path.starts_with(".trash/"), "{trash_path}");
    assert!(root.join(trash_path).exists());
    // Paged like every list.
    let page = app
        .gql(Some(&ada.access_token), ITEMS, json!({ "f": 2 }))
        .await;
    assert_eq!(page["data"]["trash"]["totalCount"], 3);
    assert_eq!(page["data"]["trash"]["pageInfo"]["hasNextPage"], true);
    let cursor = page["data"]["trash"]["pageInfo"]["endCursor"].clone();
    let rest = app
        .gql(
            Some(&ada.access_token),
            ITEMS,
            json!({ "f": 2, "a": cursor }),
        )
        .await;
    assert_eq!(rest["data"]["trash"]["edges"].as_array().unwrap().len(), 1);

    // Restore two; one's place is taken by a new file, which stays as it is.
    app.upload(&ada.access_token, "docs", &[("a.txt", b"a new a")])
        .await;
    let pick = |path: &str| items.iter().find(|i| i["originalPath"] == path).unwrap()["id"].clone();
    let restored = app
        .gql(
            Some(&ada.access_token),
            "mutation($ids: [ID!]!) { restoreEntries(ids: $ids) { id type } }",
            json!({ "ids": [pick("docs/a.txt"), pick("pics/c.jpg")] }),
        )
        .await;
    let op = wait_for(&app, &ada, &restored, "restoreEntries").await;
    assert_eq!(op["type"], "RESTORE");
    assert_eq!(
        std::fs::read(root.join("pics/c.jpg")).unwrap(),
        vec![3u8; 1000]
    );
    assert_eq!(std::fs::read(root.join("docs/a.txt")).unwrap(), b"a new a");
    assert_eq!(
        std::fs::read(root.join("docs/a (1).txt")).unwrap(),
        b"alpha"
    );
    let left: Vec<Value> = trash(&app, &ada).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["originalPath"], "docs/b.txt");

    // Emptied for good: gone from storage, from the list, and from the usage.
    let emptied = app
        .gql(
            Some(&ada.access_token),
            "mutation($ids: [ID!]) { emptyTrash(ids: $ids) }",
            json!({ "ids": [left[0]["id"]] }),
        )
        .await;
    assert_eq!(emptied["data"]["emptyTrash"], 1, "{emptied}");
    assert!(!root.join(left[0]["trashPath"].as_str().unwrap()).exists());
    assert!(trash(&app, &ada).await.is_empty());
    assert_eq!(used(&app, &ada).await, (1011 - 6 + 7).to_string());
    let mut expected = before.clone();
    expected.remove("docs/b.txt");
    expected.remove("docs/a.txt");
    let now = snapshot(&root);
    assert_eq!(now.get("pics/c.jpg"), expected.get("pics/c.jpg"));
    assert!(!now.contains_key("docs/b.txt"));
}

#[tokio::test]
async fn emptying_by_age_or_all_and_bad_requests() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    app.upload(&ada.access_token, "x", &[("1.txt", b"1"), ("2.txt", b"22")])
        .await;
    delete(&app, &ada, &["x"]).await;
    let items = trash(&app, &ada).await;
    assert_eq!(items.len(), 2);

    // Not theirs, not an id, not a sane age.
    for (query, vars, code) in [
        (
            "mutation($ids: [ID!]!) { restoreEntries(ids: $ids) { id } }",
            json!({ "ids": [items[0]["id"]] }),
            "NOT_FOUND",
        ),
        (
            "mutation($ids: [ID!]) { emptyTrash(ids: $ids) }",
            json!({ "ids": [items[0]["id"]] }),
            "NOT_FOUND",
        ),
        (
            "mutation($ids: [ID!]!) { restoreEntries(ids: $ids) { id } }",
            json!({ "ids": ["nope"] }),
            "BAD_USER_INPUT",
        ),
        (
            "mutation($ids: [ID!]!) { restoreEntries(ids: $ids) { id } }",
            json!({ "ids": [] }),
            "BAD_USER_INPUT",
        ),
        (
            "mutation { emptyTrash(olderThanDays: -1) }",
            json!({}),
            "BAD_USER_INPUT",
        ),
    ] {
        let body = app.gql(Some(&bob.access_token), query, vars).await;
        assert_code(&body, code);
    }
    assert!(trash(&app, &bob).await.is_empty());

    let none = app
        .gql(
            Some(&ada.access_token),
            "mutation { emptyTrash(olderThanDays: 1) }",
            json!({}),
        )
        .await;
    assert_eq!(none["data"]["emptyTrash"], 0, "just deleted: not a day old");
    let all = app
        .gql(
            Some(&ada.access_token),
            "mutation { emptyTrash }",
            json!({}),
        )
        .await;
    assert_eq!(all["data"]["emptyTrash"], 2, "{all}");
    assert_eq!(used(&app, &ada).await, "0");
    assert!(
        !user_dir(&app, &ada)
            .join(".trash")
            .join(items[0]["operationId"].as_str().unwrap())
            .exists()
    );
}

/// `TRASH_RETENTION_DAYS`: what has been in the trash longer is deleted for good by the
/// server itself (here 0 days: everything, at the next start).
#[tokio::test]
async fn the_server_empties_the_trash_after_its_retention() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    app.upload(&ada.access_token, "x", &[("1.txt", b"1")]).await;
    delete(&app, &ada, &["x"]).await;
    assert_eq!(trash(&app, &ada).await.len(), 1);
    let mut app = app.restart_with(|c| c.trash_retention_days = Some(0)).await;
    let mut left = trash(&app, &ada).await;
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        left = trash(&app, &ada).await;
    }
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(used(&app, &ada).await, "0");
    app.stop().await;
}
