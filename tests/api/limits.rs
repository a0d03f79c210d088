//! Query limits, introspection switches and rate limits.

use serde_json::{Value, json};

use crate::helpers::{assert_code, error_code, spawn_app, spawn_app_with};

/// The introspection query GraphiQL sends (graphql-js `getIntrospectionQuery` with
/// descriptions and deprecated input values, `TypeRef` nested nine levels).
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}
"#;

#[tokio::test]
async fn graphiqls_introspection_query_passes_the_limits() {
    let app = spawn_app().await;
    let body = app.gql(None, INTROSPECTION, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    let types = body["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "User"));
}

#[tokio::test]
async fn introspection_and_suggestions_can_be_turned_off() {
    let app = spawn_app_with(|c| c.disable_introspection = true).await;
    let body = app
        .gql(None, "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        body["data"].is_null() || body["data"]["__schema"].is_null(),
        "{body}"
    );
    let typo = app.gql(None, "{ apiKey { id } }", json!({})).await;
    assert_code(&typo, "BAD_USER_INPUT");
    assert!(!typo.to_string().contains("Did you mean"), "{typo}");

    let open = spawn_app().await;
    let typo = open.gql(None, "{ apiKey { id } }", json!({})).await;
    assert!(typo.to_string().contains("Did you mean"), "{typo}");
}

#[tokio::test]
async fn too_deep_or_too_long_queries_are_refused() {
    let app = spawn_app().await;
    let mut deep = String::from("kind");
    for _ in 0..30 {
        deep = format!("ofType {{ {deep} }}");
    }
    let query = format!("{{ __schema {{ types {{ {deep} }} }} }}");
    let body = app.gql(None, &query, json!({})).await;
    assert_code(&body, "BAD_USER_INPUT");
    assert!(body["data"].is_null());

    let long = format!("{{ __typename }} #{}", "x".repeat(40 * 1024));
    let body = app.gql(None, &long, json!({})).await;
    assert_code(&body, "BAD_USER_INPUT");
}

async fn login_attempt(app: &crate::helpers::TestApp, login: &str, xff: Option<&str>) -> Value {
    let mut request = app.http.post(app.url("/graphql")).json(&json!({
        "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        "variables": { "i": { "login": login, "password": "wrong-password" } }
    }));
    if let Some(xff) = xff {
        request = request.header("X-Forwarded-For", xff);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn login_is_rate_limited_per_account_with_retry_after() {
    let app = spawn_app_with(|c| c.auth_rate_limit_per_account = 3).await;
    let ada = app.signup("ada").await;
    for _ in 0..3 {
        assert_code(&login_attempt(&app, "ada", None).await, "UNAUTHENTICATED");
    }
    let limited = login_attempt(&app, "ada", None).await;
    assert_code(&limited, "RATE_LIMITED");
    let retry_after = limited["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{limited}");
    // Even the right password waits: the limit is on attempts, not failures.
    assert_code(&app.login("ada", &ada.password).await, "RATE_LIMITED");
    // Another account is not affected.
    assert_code(&login_attempt(&app, "bob", None).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn aliases_cannot_multiply_attempts() {
    let app = spawn_app_with(|c| c.auth_rate_limit_per_ip = 3).await;
    let aliases: String = (0..6)
        .map(|i| format!("a{i}: login(input: {{ login: \"user{i}\", password: \"wrong-password\" }}) {{ accessToken }} "))
        .collect();
    let body = app
        .gql(None, &format!("mutation {{ {aliases} }}"), json!({}))
        .await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "RATE_LIMITED").count(),
        3,
        "{body}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == "UNAUTHENTICATED").count(),
        3,
        "{body}"
    );
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    let untrusted = spawn_app_with(|c| c.auth_rate_limit_per_ip = 2).await;
    for i in 0..2 {
        let body = login_attempt(
            &untrusted,
            &format!("u{i}"),
            Some(&format!("198.51.100.{i}")),
        )
        .await;
        assert_code(&body, "UNAUTHENTICATED");
    }
    // A spoofed header from an untrusted peer does not buy a fresh budget.
    assert_code(
        &login_attempt(&untrusted, "u9", Some("198.51.100.99")).await,
        "RATE_LIMITED",
    );

    let behind_proxy = spawn_app_with(|c| {
        c.auth_rate_limit_per_ip = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    for i in 0..5 {
        let body = login_attempt(
            &behind_proxy,
            &format!("u{i}"),
            Some(&format!("198.51.100.{i}")),
        )
        .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
}

#[tokio::test]
async fn signup_is_rate_limited_per_client() {
    let app = spawn_app_with(|c| c.auth_rate_limit_per_ip = 2).await;
    app.signup("one").await;
    app.signup("two").await;
    let third = app
        .gql(
            None,
            "mutation($i: SignupInput!) { signup(input: $i) { accessToken } }",
            json!({ "i": { "email": "three@example.com", "username": "three", "password": "long enough pw" } }),
        )
        .await;
    assert_code(&third, "RATE_LIMITED");
}

#[tokio::test]
async fn the_account_limit_counts_every_name_of_the_account() {
    let app = spawn_app_with(|c| c.auth_rate_limit_per_account = 3).await;
    app.signup("ada").await;
    for _ in 0..3 {
        assert_code(&login_attempt(&app, "ada", None).await, "UNAUTHENTICATED");
    }
    // The same account by its email: still the same budget.
    assert_code(
        &login_attempt(&app, "ada@example.com", None).await,
        "RATE_LIMITED",
    );
    assert_code(
        &login_attempt(&app, "ADA@Example.com", None).await,
        "RATE_LIMITED",
    );
}

#[tokio::test]
async fn only_the_address_a_trusted_proxy_saw_counts_not_what_the_client_wrote() {
    let app = spawn_app_with(|c| {
        c.auth_rate_limit_per_ip = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // The client writes whatever it likes on the left; the proxy appends what it saw.
    for i in 0..2 {
        let xff = format!("203.0.113.{i}, 198.51.100.7");
        assert_code(
            &login_attempt(&app, &format!("u{i}"), Some(&xff)).await,
            "UNAUTHENTICATED",
        );
    }
    let spoofed = login_attempt(&app, "u9", Some("203.0.113.99, 198.51.100.7")).await;
    assert_code(&spoofed, "RATE_LIMITED");
    // IPv6 clients are one client per /64.
    for i in 0..2 {
        let xff = format!("2001:db8:1:2::{i:x}");
        assert_code(
            &login_attempt(&app, &format!("v{i}"), Some(&xff)).await,
            "UNAUTHENTICATED",
        );
    }
    let same_64 = login_attempt(&app, "v9", Some("2001:db8:1:2:ffff::9")).await;
    assert_code(&same_64, "RATE_LIMITED");
    let other_64 = login_attempt(&app, "v10", Some("2001:db8:1:3::1")).await;
    assert_code(&other_64, "UNAUTHENTICATED");
}

#[tokio::test]
async fn aliases_and_page_sizes_count_toward_the_cost_of_a_query() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let token = Some(ada.access_token.as_str());
    // Six hundred counts in one request: refused before any runs.
    let many: String = (0..600)
        .map(|i| format!("a{i}: operations {{ totalCount }} "))
        .collect();
    let body = app.gql(token, &format!("{{ {many} }}"), json!({})).await;
    assert_code(&body, "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliases"),
        "{body}"
    );
    // Within the alias cap, big pages still add up.
    let pages: String = (0..25)
        .map(|i| {
            format!("p{i}: operations(first: 100) {{ edges {{ node {{ id status rootPath }} }} }} ")
        })
        .collect();
    let body = app.gql(token, &format!("{{ {pages} }}"), json!({})).await;
    assert_code(&body, "BAD_USER_INPUT");
    // A page an ordinary client asks for is fine.
    let ok = app
        .gql(
            token,
            "{ operations(first: 100) { totalCount edges { cursor node { id type status rootPath dryRun filesTotal filesProcessed createdAt } } pageInfo { hasNextPage endCursor } } }",
            json!({}),
        )
        .await;
    assert!(ok["errors"].is_null(), "{ok}");
}

#[tokio::test]
async fn a_document_seen_before_is_still_checked_on_every_request() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    // Short enough to be kept parsed; refused each time it comes.
    let aliases: String = (0..31).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let too_many = format!("{{ {aliases} }}");
    for _ in 0..2 {
        let body = app.gql(Some(&ada.access_token), &too_many, json!({})).await;
        assert_code(&body, "BAD_USER_INPUT");
    }
    // One text, three callers: each answer is the caller's own.
    assert_eq!(
        app.me(&ada.access_token).await["data"]["me"]["id"],
        ada.id.as_str()
    );
    assert_eq!(
        app.me(&bob.access_token).await["data"]["me"]["id"],
        bob.id.as_str()
    );
    let anonymous = app
        .gql(None, "{ me { id email username } }", json!({}))
        .await;
    assert_code(&anonymous, "UNAUTHENTICATED");
    // One text, two sets of variables: the bad one is refused.
    let page = "query($n: Int) { operations(first: $n) { totalCount } }";
    let ok = app
        .gql(Some(&ada.access_token), page, json!({ "n": 5 }))
        .await;
    assert!(ok["errors"].is_null(), "{ok}");
    let bad = app
        .gql(Some(&ada.access_token), page, json!({ "n": "five" }))
        .await;
    assert_code(&bad, "BAD_USER_INPUT");
}

/// Every tab a person opens refreshes once: twelve within a minute are fine (with the
/// default limits), and past the refresh limit the answer says when to try again.
#[tokio::test]
async fn twelve_tabs_refresh_and_the_refresh_limit_says_when_to_retry() {
    let app = spawn_app_with(|c| {
        c.auth_rate_limit_per_ip = 30;
        c.auth_rate_limit_per_account = 10;
        c.refresh_rate_limit_per_account = 60;
    })
    .await;
    let ada = app.signup("ada").await;
    const REFRESH: &str =
        "mutation($t: String!) { refreshToken(refreshToken: $t) { refreshToken } }";
    let mut token = ada.refresh_token.clone();
    for tab in 0..12 {
        let body = app.gql(None, REFRESH, json!({ "t": token })).await;
        token = body["data"]["refreshToken"]["refreshToken"]
            .as_str()
            .unwrap_or_else(|| panic!("tab {tab}: {body}"))
            .to_string();
    }

    let app = spawn_app_with(|c| c.refresh_rate_limit_per_account = 3).await;
    let ada = app.signup("ada").await;
    let mut token = ada.refresh_token.clone();
    for _ in 0..3 {
        let body = app.gql(None, REFRESH, json!({ "t": token })).await;
        token = body["data"]["refreshToken"]["refreshToken"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_string();
    }
    let limited = app.gql(None, REFRESH, json!({ "t": token })).await;
    assert_code(&limited, "RATE_LIMITED");
    let retry_after = limited["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{limited}");
    // Signing in is counted apart.
    assert!(app.login("ada", &ada.password).await["errors"].is_null());
}
