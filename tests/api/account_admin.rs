//! Leaving and being administered: `deleteAccount` leaves nothing of the account (rows,
//! files, tokens) and nothing of anyone else is touched; the first account (or one in
//! `ADMIN_EMAILS`) lists accounts and changes their tier, quota and whether they may sign
//! in; ordinary users see nothing of it.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, spawn_app, spawn_app_with, user_dir, write_tree};

const USERS: &str = "query($s: String) { users(first: 10, search: $s) { totalCount edges { node { id username role storageUsedBytes isActive subscriptionTier storageQuotaGb } } } }";
const UPDATE: &str = "mutation($id: ID!, $i: AdminUserInput!) { adminUpdateUser(id: $id, input: $i) { id subscriptionTier storageQuotaGb isActive } }";

/// Rows of `table` whose `column` is the id.
async fn rows(app: &TestApp, table: &str, column: &str, id: &str) -> i64 {
    let backend = app.state.db.get_database_backend();
    let id = uuid::Uuid::parse_str(id).unwrap();
    let placeholder = match backend {
        sea_orm::DbBackend::Postgres => "$1",
        _ => "?",
    };
    let row = app
        .state
        .db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = {placeholder}"),
            [id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn a_deleted_account_leaves_nothing_and_touches_no_one_else() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    for (account, name) in [(&ada, "ada"), (&bob, "bob")] {
        let uploaded = app
            .upload(
                &account.access_token,
                "inbox",
                &[("notes.txt", name.as_bytes()), ("song.mp3", b"ID3")],
            )
            .await;
        assert!(uploaded["errors"].is_null(), "{uploaded}");
        let op = app
            .gql(Some(&account.access_token), "mutation { startOperation(input: { type: ORGANIZE, rootPath: \"inbox\" }) { id } }", json!({}))
            .await;
        let id = op["data"]["startOperation"]["id"]
            .as_str()
            .expect("an operation")
            .to_string();
        app.wait_operation(&account.access_token, &id).await;
        app.gql(
            Some(&account.access_token),
            "mutation { createApiKey(input: { name: \"script\" }) { secret } }",
            json!({}),
        )
        .await;
        app.gql(Some(&account.access_token), "mutation { createCategoryRule(input: { name: \"Notes\", category: \"Notes\", extensions: [\"txt\"] }) { id } }", json!({}))
            .await;
        app.gql(
            Some(&account.access_token),
            "{ files(search: \"notes\") { totalCount } }",
            json!({}),
        )
        .await;
    }
    app.gql(
        Some(&ada.access_token),
        "mutation { requestEmailVerification }",
        json!({}),
    )
    .await;
    write_tree(&user_dir(&app, &ada), &[("deep/a/b/c.txt", b"c")]);
    let bob_before = crate::helpers::snapshot(&user_dir(&app, &bob));
    assert!(bob_before.len() >= 2, "bob has files: {bob_before:?}");
    assert!(
        crate::helpers::snapshot(&user_dir(&app, &ada)).len() >= 3,
        "ada has files to lose"
    );

    let delete = "mutation($p: String!) { deleteAccount(password: $p) }";
    assert_code(
        &app.gql(
            Some(&ada.access_token),
            delete,
            json!({ "p": "not the password" }),
        )
        .await,
        "BAD_USER_INPUT",
    );
    let deleted = app
        .gql(
            Some(&ada.access_token),
            delete,
            json!({ "p": ada.password }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteAccount"], true, "{deleted}");

    assert!(!user_dir(&app, &ada).exists(), "ada's files are gone");
    assert_eq!(crate::helpers::snapshot(&user_dir(&app, &bob)), bob_before);
    for (table, column) in [
        ("users", "id"),
        ("operations", "user_id"),
        ("api_keys", "user_id"),
        ("refresh_tokens", "user_id"),
        ("category_rules", "user_id"),
        ("account_tokens", "user_id"),
        ("search_entries", "user_id"),
        ("search_indexes", "user_id"),
    ] {
        assert_eq!(
            rows(&app, table, column, &ada.id).await,
            0,
            "{table} keeps ada"
        );
    }
    let records = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM file_records r WHERE NOT EXISTS \
             (SELECT 1 FROM operations o WHERE o.id = r.operation_id)",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(records, 0, "no record outlives its operation");
    assert!(
        rows(&app, "operations", "user_id", &bob.id).await > 0,
        "bob keeps his"
    );
    assert_code(&app.me(&ada.access_token).await, "UNAUTHENTICATED");
    assert_code(&app.login("ada", &ada.password).await, "UNAUTHENTICATED");
    assert!(app.me(&bob.access_token).await["data"]["me"].is_object());
}

#[tokio::test]
async fn the_first_account_administers_and_no_one_else_sees_it() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    let role = |body: Value| body["data"]["me"]["role"].clone();
    assert_eq!(
        role(
            app.gql(Some(&ada.access_token), "{ me { role } }", json!({}))
                .await
        ),
        "ADMIN"
    );
    assert_eq!(
        role(
            app.gql(Some(&bob.access_token), "{ me { role } }", json!({}))
                .await
        ),
        "USER"
    );

    // An ordinary user sees nothing of it.
    assert_code(
        &app.gql(Some(&bob.access_token), USERS, json!({})).await,
        "FORBIDDEN",
    );
    assert_code(
        &app.gql(
            Some(&bob.access_token),
            UPDATE,
            json!({ "id": ada.id, "i": { "isActive": false } }),
        )
        .await,
        "NOT_FOUND",
    );
    assert_code(
        &app.gql(
            Some(&bob.access_token),
            UPDATE,
            json!({ "id": bob.id, "i": { "storageQuotaGb": 999 } }),
        )
        .await,
        "NOT_FOUND",
    );

    app.upload(&bob.access_token, "", &[("a.txt", b"12345")])
        .await;
    let listed = app
        .gql(Some(&ada.access_token), USERS, json!({ "s": "BO" }))
        .await;
    let users = &listed["data"]["users"];
    assert_eq!(users["totalCount"], 1, "{listed}");
    assert_eq!(users["edges"][0]["node"]["username"], "bob");
    assert_eq!(users["edges"][0]["node"]["storageUsedBytes"], 5);
    assert_eq!(
        app.gql(Some(&ada.access_token), USERS, json!({})).await["data"]["users"]["totalCount"],
        2
    );
    // `_` and `%` are taken literally.
    let underscored = app.signup("bob_the_2nd").await;
    let found = app
        .gql(Some(&ada.access_token), USERS, json!({ "s": "bob_the" }))
        .await;
    assert_eq!(found["data"]["users"]["totalCount"], 1, "{found}");
    assert_eq!(
        found["data"]["users"]["edges"][0]["node"]["id"],
        underscored.id.as_str()
    );
    let none = app
        .gql(Some(&ada.access_token), USERS, json!({ "s": "b%b" }))
        .await;
    assert_eq!(none["data"]["users"]["totalCount"], 0, "{none}");

    let changed = app
        .gql(
            Some(&ada.access_token),
            UPDATE,
            json!({ "id": bob.id, "i": { "subscriptionTier": "PRO", "storageQuotaGb": 50 } }),
        )
        .await;
    assert_eq!(
        changed["data"]["adminUpdateUser"]["subscriptionTier"], "PRO",
        "{changed}"
    );
    assert_eq!(changed["data"]["adminUpdateUser"]["storageQuotaGb"], 50);
    assert_code(
        &app.gql(
            Some(&ada.access_token),
            UPDATE,
            json!({ "id": bob.id, "i": { "storageQuotaGb": -1 } }),
        )
        .await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &app.gql(
            Some(&ada.access_token),
            UPDATE,
            json!({ "id": ada.id, "i": { "isActive": false } }),
        )
        .await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &app.gql(
            Some(&ada.access_token),
            UPDATE,
            json!({ "id": uuid::Uuid::now_v7().to_string(), "i": {} }),
        )
        .await,
        "NOT_FOUND",
    );

    // Every account's operations, for the administrator only.
    let dry = "mutation { startOperation(input: { type: ORGANIZE, rootPath: \"\", dryRun: true }) { id } }";
    let bobs = app.gql(Some(&bob.access_token), dry, json!({})).await;
    let bobs = bobs["data"]["startOperation"]["id"]
        .as_str()
        .expect("started")
        .to_string();
    let all =
        "{ operations(allUsers: true, first: 50) { totalCount edges { node { id ownerId } } } }";
    assert_code(
        &app.gql(Some(&bob.access_token), all, json!({})).await,
        "FORBIDDEN",
    );
    let seen = app.gql(Some(&ada.access_token), all, json!({})).await;
    let edges = seen["data"]["operations"]["edges"]
        .as_array()
        .expect("a list")
        .clone();
    assert!(
        edges
            .iter()
            .any(|e| e["node"]["id"] == bobs.as_str() && e["node"]["ownerId"] == bob.id.as_str()),
        "{seen}"
    );
    let own = app
        .gql(
            Some(&ada.access_token),
            "{ operations { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        own["data"]["operations"]["totalCount"], 0,
        "without allUsers: ada's own"
    );

    // Disabled: every credential of the account stops at once.
    let key = app
        .gql(
            Some(&bob.access_token),
            "mutation { createApiKey(input: { name: \"k\" }) { secret } }",
            json!({}),
        )
        .await["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let disabled = app
        .gql(
            Some(&ada.access_token),
            UPDATE,
            json!({ "id": bob.id, "i": { "isActive": false } }),
        )
        .await;
    assert_eq!(
        disabled["data"]["adminUpdateUser"]["isActive"], false,
        "{disabled}"
    );
    assert_code(&app.me(&bob.access_token).await, "UNAUTHENTICATED");
    assert_code(&app.me(&key).await, "UNAUTHENTICATED");
    assert_code(&app.login("bob", &bob.password).await, "FORBIDDEN");
    let enabled = app
        .gql(
            Some(&ada.access_token),
            UPDATE,
            json!({ "id": bob.id, "i": { "isActive": true } }),
        )
        .await;
    assert_eq!(enabled["data"]["adminUpdateUser"]["isActive"], true);
    assert!(app.login("bob", &bob.password).await["data"]["login"].is_object());
}

#[tokio::test]
async fn administrators_can_be_named_by_address() {
    let app = spawn_app_with(|c| c.admin_emails = vec!["Bob@Example.com".into()]).await;
    app.signup("ada").await;
    let bob = app.signup("bob").await;
    let me = app
        .gql(Some(&bob.access_token), "{ me { role } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["role"], "ADMIN", "{me}");
    assert_eq!(
        app.gql(Some(&bob.access_token), USERS, json!({})).await["data"]["users"]["totalCount"],
        2
    );
}

#[tokio::test]
async fn an_export_holds_every_file_and_the_history() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    let uploaded = app
        .upload(&ada.access_token, "inbox", &[("notes.txt", b"ada's notes")])
        .await;
    assert!(uploaded["data"]["uploadFiles"].is_array(), "{uploaded}");
    let uploaded = app
        .upload(
            &ada.access_token,
            "inbox/deep",
            &[("song.mp3", b"ID3 song")],
        )
        .await;
    assert!(uploaded["data"]["uploadFiles"].is_array(), "{uploaded}");
    app.upload(&bob.access_token, "", &[("bob.txt", b"bob's")])
        .await;
    app.gql(Some(&ada.access_token), "mutation { createCategoryRule(input: { name: \"Notes\", category: \"Notes\", extensions: [\"txt\"] }) { id } }", json!({}))
        .await;
    let deleted = app
        .gql(
            Some(&ada.access_token),
            "mutation { deleteEntries(paths: [\"inbox/deep/song.mp3\"]) { id } }",
            json!({}),
        )
        .await;
    let id = deleted["data"]["deleteEntries"]["id"]
        .as_str()
        .expect("an operation");
    app.wait_operation(&ada.access_token, id).await;

    let link = app
        .gql(
            Some(&ada.access_token),
            "mutation { exportAccount }",
            json!({}),
        )
        .await["data"]["exportAccount"]
        .as_str()
        .expect("a link")
        .to_string();
    assert!(link.starts_with("/export?"), "{link}");
    let response = app.http.get(app.url(&link)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let entries = crate::helpers::unzip(response.bytes().await.unwrap().to_vec()).await;
    assert_eq!(
        entries.get("files/inbox/notes.txt").map(Vec::as_slice),
        Some(&b"ada's notes"[..]),
        "{:?} {}",
        entries.keys(),
        String::from_utf8_lossy(&entries["account.json"])
    );
    assert!(
        entries
            .keys()
            .all(|k| k == "account.json" || k.starts_with("files/inbox/")),
        "{:?}",
        entries.keys()
    );
    assert!(
        !entries
            .keys()
            .any(|k| k.contains(".trash") || k.contains("bob")),
        "trash and others left out"
    );
    let account: Value = serde_json::from_slice(&entries["account.json"]).unwrap();
    assert_eq!(account["user"]["username"], "ada");
    assert_eq!(account["categoryRules"][0]["name"], "Notes");
    assert_eq!(account["operations"][0]["type"], "delete", "{account}");

    // A link is for its own account and expiry: changed, it opens nothing.
    let tampered = link.replace(&ada.id, &bob.id);
    assert_eq!(
        app.http
            .get(app.url(&tampered))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        app.http
            .get(app.url("/export"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
