//! Every input bounded up front, with `BAD_USER_INPUT` and the offending field; a user's
//! active operations bounded; GraphQL answers never cached; `serverStatus` keeps other
//! users' activity to operators.

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{TestApp, assert_code, spawn_app, spawn_app_with, user_dir, write_tree};

/// Starts a dry-run organize of `root` for the caller of `token`; fails unless queued.
async fn queue_dry_run(app: &TestApp, token: &str, root: &str) {
    let body = app
        .start_operation(token, "ORGANIZE", root, true, json!({}))
        .await;
    assert!(body["data"]["startOperation"]["id"].is_string(), "{body}");
}

fn field(body: &serde_json::Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn long_strings_and_long_lists_are_refused_with_their_field() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    write_tree(&user_dir(&app, &ada), &[("in/a.txt", b"a")]);
    // 5,000 globs: refused before anything runs (they used to fail the run internally).
    let globs: Vec<String> = (0..5000).map(|i| format!("*.t{i}")).collect();
    for count in [5000, 101] {
        let body = app
            .start_operation(
                &ada.access_token,
                "ORGANIZE",
                "in",
                true,
                json!({ "exclude": &globs[..count] }),
            )
            .await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(field(&body), "exclude", "{body}");
    }
    let body = app
        .start_operation(
            &ada.access_token,
            "ORGANIZE",
            "in",
            true,
            json!({ "exclude": ["x".repeat(2000)] }),
        )
        .await;
    assert_eq!(field(&body), "exclude", "{body}");
    // A 500 KB login: refused, never a rate-limit key (inline literal or variable alike).
    let long = "x".repeat(500_000);
    let body = app.login(&long, "whatever password").await;
    assert_code(&body, "BAD_USER_INPUT");
    assert_eq!(field(&body), "login", "{body}");
    let body = app.login(&"y".repeat(300), "whatever password").await;
    assert_eq!(field(&body), "login", "{body}");
    let inline = app
        .gql(
            None,
            &format!("mutation {{ login(input: {{ login: \"{}\", password: \"p\" }}) {{ accessToken }} }}", "z".repeat(20_000)),
            json!({}),
        )
        .await;
    assert_code(&inline, "BAD_USER_INPUT");
    assert_eq!(field(&inline), "login", "{inline}");
    // A rule listing thousands of extensions.
    let extensions: Vec<String> = (0..2000).map(|i| format!("e{i}")).collect();
    let rule = app
        .gql(
            Some(&ada.access_token),
            "mutation($i: CategoryRuleInput!) { createCategoryRule(input: $i) { id } }",
            json!({ "i": { "name": "many", "category": "Many", "extensions": extensions } }),
        )
        .await;
    assert_code(&rule, "BAD_USER_INPUT");
    assert_eq!(field(&rule), "extensions", "{rule}");
    let rule = app
        .gql(
            Some(&ada.access_token),
            "mutation($i: CategoryRuleInput!) { createCategoryRule(input: $i) { id } }",
            json!({ "i": { "name": "many", "category": "Many", "extensions": &extensions[..150] } }),
        )
        .await;
    assert_eq!(field(&rule), "extensions", "{rule}");
    // The server still answers.
    assert!(app.me(&ada.access_token).await["data"]["me"]["id"].is_string());
}

#[tokio::test]
async fn a_user_has_a_bounded_number_of_active_operations() {
    let app = spawn_app_with(|c| {
        c.workers = 0; // they stay queued
        c.max_active_operations_per_user = 3;
    })
    .await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    for n in 0..4 {
        write_tree(&user_dir(&app, &ada), &[(&format!("f{n}/a.txt"), b"a")]);
    }
    for n in 0..3 {
        queue_dry_run(&app, &ada.access_token, &format!("f{n}")).await;
    }
    let fourth = app
        .start_operation(&ada.access_token, "ORGANIZE", "f3", true, json!({}))
        .await;
    assert_code(&fourth, "CONFLICT");
    // Another user is not held back by ada's.
    write_tree(&user_dir(&app, &bob), &[("in/a.txt", b"a")]);
    queue_dry_run(&app, &bob.access_token, "in").await;
}

#[tokio::test]
async fn graphql_answers_are_never_cached_and_server_status_keeps_to_the_caller() {
    let app = spawn_app_with(|c| {
        c.workers = 0;
        c.admin_emails = vec!["root@example.com".into()];
    })
    .await;
    // Not the first account (which administers the server too): ada is the first here.
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    let root = app.signup("root").await;
    app.state
        .db
        .execute_unprepared("UPDATE users SET role = 'user'")
        .await
        .unwrap();
    for (path, token) in [
        (None, None),
        (Some("{ me { id } }"), Some(ada.access_token.as_str())),
    ] {
        let mut request = app
            .http
            .post(app.url("/graphql"))
            .json(&json!({ "query": path.unwrap_or("{ me { id } }") }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    // Bob queues two operations; ada sees none of them, the operator sees both.
    for n in 0..2 {
        write_tree(&user_dir(&app, &bob), &[(&format!("d{n}/a.txt"), b"a")]);
        queue_dry_run(&app, &bob.access_token, &format!("d{n}")).await;
    }
    let status = "{ serverStatus { queueDepth reclaims } }";
    let seen_by_ada = app.gql(Some(&ada.access_token), status, json!({})).await;
    assert_eq!(
        seen_by_ada["data"]["serverStatus"]["queueDepth"], 0,
        "{seen_by_ada}"
    );
    assert!(seen_by_ada["data"]["serverStatus"]["reclaims"].is_null());
    let seen_by_bob = app.gql(Some(&bob.access_token), status, json!({})).await;
    assert_eq!(
        seen_by_bob["data"]["serverStatus"]["queueDepth"], 2,
        "{seen_by_bob}"
    );
    let seen_by_root = app.gql(Some(&root.access_token), status, json!({})).await;
    assert_eq!(
        seen_by_root["data"]["serverStatus"]["queueDepth"], 2,
        "{seen_by_root}"
    );
    assert!(seen_by_root["data"]["serverStatus"]["reclaims"].is_number());
}
