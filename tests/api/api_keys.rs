//! API keys: shown once, stored hashed, authenticate like tokens, revocable, private.

use entity::api_keys;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, spawn_app};

const CREATE: &str = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id name prefix createdAt lastUsedAt expiresAt } } }";
const LIST: &str = "{ apiKeys { id name prefix createdAt lastUsedAt expiresAt } }";
const REVOKE: &str = "mutation($id: ID!) { revokeApiKey(id: $id) }";

async fn create_key(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(Some(token), CREATE, json!({ "i": input })).await
}

async fn me_with_header(app: &TestApp, header: &str, value: &str) -> Value {
    app.http
        .post(app.url("/graphql"))
        .header(header, value)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_key_is_shown_once_and_authenticates_by_bearer_or_header() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let body = create_key(&app, &ada.access_token, json!({ "name": "backup script" })).await;
    let created = &body["data"]["createApiKey"];
    let secret = created["secret"]
        .as_str()
        .expect("secret shown")
        .to_string();
    let prefix = created["apiKey"]["prefix"].as_str().unwrap();
    assert!(
        secret.starts_with("org_") && secret.starts_with(prefix),
        "{secret} / {prefix}"
    );
    assert!(secret.len() > prefix.len() + 30);

    // Only a hash is stored.
    let stored = api_keys::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].key_hash, secret);
    assert!(!stored[0].key_hash.contains(&secret[prefix.len()..]));

    let bearer = me_with_header(&app, "Authorization", &format!("Bearer {secret}")).await;
    assert_eq!(bearer["data"]["me"]["id"], ada.id.as_str(), "{bearer}");
    let header = me_with_header(&app, "X-API-Key", &secret).await;
    assert_eq!(header["data"]["me"]["id"], ada.id.as_str(), "{header}");

    // The list never shows the secret, and records the use.
    let list = app.gql(Some(&ada.access_token), LIST, json!({})).await;
    let keys = list["data"]["apiKeys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], "backup script");
    assert!(keys[0]["lastUsedAt"].is_string(), "{list}");
    assert!(!list.to_string().contains(&secret));
}

#[tokio::test]
async fn a_revoked_key_stops_working_on_the_next_request() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let body = create_key(&app, &ada.access_token, json!({ "name": "ci" })).await;
    let secret = body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let id = body["data"]["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.me(&secret).await["data"]["me"]["id"], ada.id.as_str());

    let revoked = app
        .gql(Some(&ada.access_token), REVOKE, json!({ "id": id }))
        .await;
    assert_eq!(revoked["data"]["revokeApiKey"], true, "{revoked}");
    assert_code(&app.me(&secret).await, "UNAUTHENTICATED");
    let list = app.gql(Some(&ada.access_token), LIST, json!({})).await;
    assert_eq!(list["data"]["apiKeys"], json!([]));
    // Revoking twice: it is gone.
    assert_code(
        &app.gql(Some(&ada.access_token), REVOKE, json!({ "id": id }))
            .await,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn expiry_is_honoured_and_must_be_in_the_future() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let past = create_key(
        &app,
        &ada.access_token,
        json!({ "name": "old", "expiresAt": "2001-01-01T00:00:00Z" }),
    )
    .await;
    assert_code(&past, "BAD_USER_INPUT");
    assert_eq!(past["errors"][0]["extensions"]["field"], "expiresAt");

    let body = create_key(
        &app,
        &ada.access_token,
        json!({ "name": "soon", "expiresAt": "2999-01-01T00:00:00+02:00" }),
    )
    .await;
    let key = &body["data"]["createApiKey"];
    assert_eq!(key["apiKey"]["expiresAt"], "2998-12-31T22:00:00.000Z");
    let secret = key["secret"].as_str().unwrap();
    assert_eq!(app.me(secret).await["data"]["me"]["id"], ada.id.as_str());

    // Let it expire (by moving its expiry into the past) and it stops working.
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let stored = api_keys::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: api_keys::ActiveModel = stored.into();
    active.expires_at = Set(Some(chrono::Utc::now() - chrono::Duration::seconds(1)));
    active.update(&app.state.db).await.unwrap();
    assert_code(&app.me(secret).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn one_user_never_sees_or_revokes_another_users_keys() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    let body = create_key(&app, &ada.access_token, json!({ "name": "ada's key" })).await;
    let ada_key = body["data"]["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ada_secret = body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_string();

    let bob_list = app.gql(Some(&bob.access_token), LIST, json!({})).await;
    assert_eq!(bob_list["data"]["apiKeys"], json!([]), "{bob_list}");
    let steal = app
        .gql(Some(&bob.access_token), REVOKE, json!({ "id": ada_key }))
        .await;
    assert_code(&steal, "NOT_FOUND");
    let made_up = app
        .gql(
            Some(&bob.access_token),
            REVOKE,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    assert_eq!(
        steal["errors"][0]["message"],
        made_up["errors"][0]["message"]
    );
    // Ada's key still works.
    assert_eq!(
        app.me(&ada_secret).await["data"]["me"]["id"],
        ada.id.as_str()
    );
    let malformed = app
        .gql(
            Some(&bob.access_token),
            REVOKE,
            json!({ "id": "not-a-uuid" }),
        )
        .await;
    assert_code(&malformed, "BAD_USER_INPUT");
}

#[tokio::test]
async fn key_management_needs_a_signed_in_caller_and_a_name() {
    let app = spawn_app().await;
    assert_code(&app.gql(None, LIST, json!({})).await, "UNAUTHENTICATED");
    let anon = app.gql(None, CREATE, json!({ "i": { "name": "x" } })).await;
    assert_code(&anon, "UNAUTHENTICATED");
    let ada = app.signup("ada").await;
    let unnamed = create_key(&app, &ada.access_token, json!({ "name": "   " })).await;
    assert_code(&unnamed, "BAD_USER_INPUT");
    assert_code(
        &app.me("org_madeup12_notarealsecretatall").await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn an_api_key_cannot_mint_or_revoke_keys() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let created = create_key(&app, &ada.access_token, json!({ "name": "script" })).await;
    let secret = created["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let key_id = created["data"]["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The key itself works for ordinary calls...
    let me = app.gql(Some(&secret), "{ me { id } }", json!({})).await;
    assert!(me["data"]["me"]["id"].is_string(), "{me}");
    // ...but cannot make more keys or revoke any.
    let minted = create_key(&app, &secret, json!({ "name": "another" })).await;
    assert_code(&minted, "FORBIDDEN");
    let revoked = app
        .gql(
            Some(&secret),
            "mutation($id: ID!) { revokeApiKey(id: $id) }",
            json!({ "id": key_id }),
        )
        .await;
    assert_code(&revoked, "FORBIDDEN");
    let keys = app
        .gql(Some(&ada.access_token), "{ apiKeys { id } }", json!({}))
        .await;
    assert_eq!(
        keys["data"]["apiKeys"].as_array().unwrap().len(),
        1,
        "{keys}"
    );
}
