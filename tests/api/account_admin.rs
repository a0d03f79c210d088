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
        assert!(op["data"]["startOperation"]["id"].is_string(), "{op}");
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
