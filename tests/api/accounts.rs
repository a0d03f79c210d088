//! Sign-up, login, tokens and sessions, driven over HTTP.

use entity::users;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;

use crate::helpers::{TEST_JWT_SECRET, assert_code, error_message, spawn_app};

const REFRESH: &str =
    "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }";

#[tokio::test]
async fn signup_signs_in_and_me_shows_the_new_account() {
    let app = spawn_app().await;
    let body = app
        .gql(
            None,
            "mutation { signup(input: { email: \" Ada@Example.com \", username: \"Ada_L\", password: \"correct horse\", fullName: \"Ada Lovelace\" }) {
                accessToken refreshToken expiresIn
                user { id email username fullName subscriptionTier storageQuotaGb storageUsedBytes isActive isVerified createdAt lastLoginAt } } }",
            json!({}),
        )
        .await;
    let payload = &body["data"]["signup"];
    assert_eq!(payload["expiresIn"], 1800, "{body}");
    let user = &payload["user"];
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["username"], "ada_l");
    assert_eq!(user["fullName"], "Ada Lovelace");
    assert_eq!(user["subscriptionTier"], "FREE");
    assert_eq!(user["storageUsedBytes"], 0);
    assert_eq!(user["isActive"], true);
    assert_eq!(user["isVerified"], false);
    assert!(user["createdAt"].as_str().unwrap().ends_with('Z'));
    uuid::Uuid::parse_str(user["id"].as_str().unwrap()).expect("ids are UUIDs");

    let token = payload["accessToken"].as_str().unwrap();
    let me = app.me(token).await;
    assert_eq!(me["data"]["me"]["id"], user["id"]);
    assert_eq!(me["data"]["me"]["username"], "ada_l");
}

#[tokio::test]
async fn login_accepts_email_or_username_in_any_case_and_records_the_time() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    for login in ["ada", "ADA", "ada@example.com", "Ada@Example.COM"] {
        let body = app.login(login, &ada.password).await;
        let payload = &body["data"]["login"];
        assert_eq!(payload["user"]["id"], ada.id.as_str(), "{login}: {body}");
        assert!(payload["user"]["lastLoginAt"].is_string());
        let me = app.me(payload["accessToken"].as_str().unwrap()).await;
        assert_eq!(me["data"]["me"]["id"], ada.id.as_str());
    }
    let stored = users::Entity::find_by_id(uuid::Uuid::parse_str(&ada.id).unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.last_login_at.is_some());
    assert!(stored.password_hash.starts_with("$argon2id$"));
}

#[tokio::test]
async fn wrong_password_and_unknown_account_get_the_same_answer() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let wrong_password = app.login("ada", "not-the-password").await;
    let unknown_user = app.login("nobody", &ada.password).await;
    let unknown_email = app.login("nobody@example.com", "whatever-password").await;
    for body in [&wrong_password, &unknown_user, &unknown_email] {
        assert_code(body, "UNAUTHENTICATED");
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(error_message(&wrong_password), error_message(&unknown_user));
    assert_eq!(
        error_message(&wrong_password),
        error_message(&unknown_email)
    );
}

#[tokio::test]
async fn signup_validation_names_the_offending_field() {
    let app = spawn_app().await;
    let cases = [
        ("not-an-email", "valid_name", "long enough pw", "email"),
        ("a@example.com", "x", "long enough pw", "username"),
        ("a@example.com", "has space", "long enough pw", "username"),
        (
            "a@example.com",
            &"y".repeat(33),
            "long enough pw",
            "username",
        ),
        ("a@example.com", "valid_name", "short", "password"),
        ("a@example.com", "valid_name", &"p".repeat(129), "password"),
    ];
    for (email, username, password, field) in cases {
        let body = app
            .gql(
                None,
                "mutation($i: SignupInput!) { signup(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "username": username, "password": password } }),
            )
            .await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // Nothing was created along the way.
    assert_eq!(
        users::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn taken_email_or_username_is_a_conflict_whatever_the_case() {
    let app = spawn_app().await;
    app.signup("ada").await;
    for (email, username) in [("ADA@example.com", "other"), ("other@example.com", "ADA")] {
        let body = app
            .gql(
                None,
                "mutation($i: SignupInput!) { signup(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "username": username, "password": "long enough pw" } }),
            )
            .await;
        assert_code(&body, "CONFLICT");
        // One message for both: it does not say which of the two is taken.
        assert_eq!(
            body["errors"][0]["message"], "an account with this email or username already exists",
            "{body}"
        );
    }
    assert_eq!(
        users::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn refresh_rotates_the_token_and_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let refresh = |token: String| {
        let app = &app;
        async move { app.gql(None, REFRESH, json!({ "t": token })).await }
    };
    let token_of = |body: &serde_json::Value| {
        body["data"]["refreshToken"]["refreshToken"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_string()
    };

    let first = refresh(ada.refresh_token.clone()).await;
    let second_token = token_of(&first);
    assert_ne!(second_token, ada.refresh_token);
    let access = first["data"]["refreshToken"]["accessToken"]
        .as_str()
        .unwrap();
    assert_eq!(app.me(access).await["data"]["me"]["id"], ada.id.as_str());

    // The reply was lost (a reload mid-refresh): the same token again, at once, gets the
    // same successor and a working access token; so do two at the same moment.
    let again = refresh(ada.refresh_token.clone()).await;
    assert_eq!(token_of(&again), second_token);
    let access = again["data"]["refreshToken"]["accessToken"]
        .as_str()
        .unwrap();
    assert_eq!(app.me(access).await["data"]["me"]["id"], ada.id.as_str());
    let (a, b) = tokio::join!(
        refresh(ada.refresh_token.clone()),
        refresh(ada.refresh_token.clone())
    );
    assert_eq!(
        (token_of(&a), token_of(&b)),
        (second_token.clone(), second_token.clone())
    );

    // Once the successor is used, the first token coming back is reuse...
    let third_token = token_of(&refresh(second_token.clone()).await);
    let reuse = refresh(ada.refresh_token.clone()).await;
    assert_code(&reuse, "UNAUTHENTICATED");
    // ... which revoked the newest token too.
    assert_code(&refresh(third_token).await, "UNAUTHENTICATED");

    // After the grace window, a rotated token coming back is reuse even when its
    // successor was never used.
    let login = app.login("ada", &ada.password).await;
    let fresh = login["data"]["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let next = token_of(&refresh(fresh.clone()).await);
    {
        use entity::refresh_tokens;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        refresh_tokens::Entity::update_many()
            .col_expr(
                refresh_tokens::Column::RevokedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::seconds(60)),
            )
            .filter(refresh_tokens::Column::ReplacedBy.is_not_null())
            .exec(&app.state.db)
            .await
            .unwrap();
    }
    assert_code(&refresh(fresh).await, "UNAUTHENTICATED");
    assert_code(&refresh(next).await, "UNAUTHENTICATED");

    // Another login is a separate family and still works.
    let again = app.login("ada", &ada.password).await;
    let fresh = again["data"]["login"]["refreshToken"].as_str().unwrap();
    let ok = app.gql(None, REFRESH, json!({ "t": fresh })).await;
    assert!(
        ok["data"]["refreshToken"]["accessToken"].is_string(),
        "{ok}"
    );
}

#[tokio::test]
async fn unknown_refresh_token_is_unauthenticated() {
    let app = spawn_app().await;
    let body = app
        .gql(None, REFRESH, json!({ "t": "made-up-token" }))
        .await;
    assert_code(&body, "UNAUTHENTICATED");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let logout = "mutation($t: String!) { logout(refreshToken: $t) }";
    let body = app
        .gql(None, logout, json!({ "t": ada.refresh_token }))
        .await;
    assert_eq!(body["data"]["logout"], true, "{body}");
    assert_code(
        &app.gql(None, REFRESH, json!({ "t": ada.refresh_token }))
            .await,
        "UNAUTHENTICATED",
    );
    let again = app
        .gql(None, logout, json!({ "t": ada.refresh_token }))
        .await;
    assert_eq!(again["data"]["logout"], false);
}

#[tokio::test]
async fn me_needs_a_valid_access_token() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    assert_code(
        &app.gql(None, "{ me { id } }", json!({})).await,
        "UNAUTHENTICATED",
    );

    let forged = forge(&ada.id, "HS256", b"some-other-secret-some-other-secret", 0);
    let expired = forge(&ada.id, "HS256", TEST_JWT_SECRET.as_bytes(), -7200);
    let other_alg = forge(&ada.id, "HS384", TEST_JWT_SECRET.as_bytes(), 0);
    let none_alg = {
        let parts: Vec<String> = forge(&ada.id, "HS256", TEST_JWT_SECRET.as_bytes(), 0)
            .split('.')
            .map(String::from)
            .collect();
        format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1])
    };
    let valid_control = forge(&ada.id, "HS256", TEST_JWT_SECRET.as_bytes(), 0);
    assert_eq!(
        app.me(&valid_control).await["data"]["me"]["id"],
        ada.id.as_str(),
        "the forging helper works"
    );

    for (what, token) in [
        ("garbage", "not-a-token".to_string()),
        ("bad signature", forged),
        ("expired", expired),
        ("another algorithm", other_alg),
        ("alg none", none_alg),
        ("refresh token as access token", ada.refresh_token.clone()),
    ] {
        let body = app.me(&token).await;
        assert_code(&body, "UNAUTHENTICATED");
        assert!(body["data"].is_null(), "{what}: {body}");
    }
}

#[tokio::test]
async fn a_disabled_account_cannot_log_in_and_its_tokens_stop_working() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    // Signed in and recently seen (the server keeps the account for up to a second).
    assert_eq!(
        app.me(&ada.access_token).await["data"]["me"]["id"],
        ada.id.as_str()
    );
    // Disabled behind the server's back, as an administrator would in the database.
    app.update_user(&ada, |user| user.is_active = Set(false))
        .await;

    assert_code(&app.login("ada", &ada.password).await, "FORBIDDEN");
    assert_code(&app.login("ada", "wrong-password").await, "UNAUTHENTICATED");
    // The access token stops working within the second the account may be kept.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let body = app.me(&ada.access_token).await;
        if body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" {
            assert!(body["data"].is_null(), "{body}");
            break;
        }
        assert_eq!(body["data"]["me"]["id"], ada.id.as_str(), "{body}");
        assert!(
            std::time::Instant::now() < deadline,
            "still signed in after 5 s: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_code(
        &app.gql(None, REFRESH, json!({ "t": ada.refresh_token }))
            .await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn accounts_and_tokens_survive_a_restart() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let app = app.restart().await;
    assert_eq!(
        app.me(&ada.access_token).await["data"]["me"]["id"],
        ada.id.as_str()
    );
    let body = app.login("ada", &ada.password).await;
    assert_eq!(body["data"]["login"]["user"]["id"], ada.id.as_str());
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A hand-made JWT for `user`, issued `offset` seconds from now.
fn forge(user: &str, alg: &str, secret: &[u8], offset: i64) -> String {
    use hmac::{KeyInit, Mac};
    let now = chrono::Utc::now().timestamp() + offset;
    let claims = json!({
        "sub": user, "iss": "organizer", "aud": "organizer-api", "iat": now, "exp": now + 1800,
        "jti": uuid::Uuid::now_v7(), "typ": "access"
    });
    let header = json!({ "alg": alg, "typ": "JWT" });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = match alg {
        "HS384" => {
            let mut mac = hmac::Hmac::<sha2::Sha384>::new_from_slice(secret).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    format!("{input}.{}", b64(&signature))
}

/// A browser keeps its session in an `HttpOnly` cookie scoped to `/graphql`: only
/// requests with `X-Organizer-Session: cookie` get or use it, and the token never shows
/// in an answer a script could read.
#[tokio::test]
async fn a_browser_session_lives_in_an_http_only_cookie() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let post = |query: &str, variables: serde_json::Value, cookie: Option<&str>, opt_in: bool| {
        let mut request = app
            .http
            .post(app.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if opt_in {
            request = request.header("X-Organizer-Session", "cookie");
        }
        if let Some(cookie) = cookie {
            request = request.header("Cookie", format!("organizer_refresh={cookie}"));
        }
        async move {
            let response = request.send().await.unwrap();
            let set_cookie: Vec<String> = response
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect();
            let body: serde_json::Value = response.json().await.unwrap();
            (body, set_cookie)
        }
    };
    let cookie_value = |set: &[String]| {
        let first = set.first().expect("a Set-Cookie").clone();
        let value = first
            .strip_prefix("organizer_refresh=")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        (value, first)
    };
    const LOGIN: &str =
        "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }";
    const COOKIE_REFRESH: &str = "mutation { refreshToken { accessToken refreshToken } }";
    let credentials = json!({ "i": { "login": "ada", "password": ada.password } });

    // An API client: the token in the answer, no cookie.
    let (body, set) = post(LOGIN, credentials.clone(), None, false).await;
    assert!(set.is_empty(), "{set:?}");
    assert!(
        !body["data"]["login"]["refreshToken"]
            .as_str()
            .unwrap()
            .is_empty()
    );

    // A browser: the token only in the cookie, which scripts cannot read.
    let (body, set) = post(LOGIN, credentials, None, true).await;
    assert_eq!(body["data"]["login"]["refreshToken"], "", "{body}");
    let (token, header) = cookie_value(&set);
    assert!(token.len() >= 32, "{header}");
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/graphql",
        "Max-Age=604800",
    ] {
        assert!(header.contains(attribute), "{attribute} in {header}");
    }
    assert!(!header.contains("Secure"), "plain HTTP here: {header}");

    // Refreshing from the cookie rotates it; the access token works.
    let (body, set) = post(COOKIE_REFRESH, json!({}), Some(&token), true).await;
    let access = body["data"]["refreshToken"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(app.me(access).await["data"]["me"]["id"], ada.id.as_str());
    assert_eq!(body["data"]["refreshToken"]["refreshToken"], "");
    let (next, _) = cookie_value(&set);
    assert_ne!(next, token);

    // Without the header the cookie is never read (a forged cross-site request cannot
    // send the header): the argument is required.
    let (body, set) = post(COOKIE_REFRESH, json!({}), Some(&next), false).await;
    assert_code(&body, "BAD_USER_INPUT");
    assert!(set.is_empty());
    // With the header but no cookie: sign in again.
    let (body, _) = post(COOKIE_REFRESH, json!({}), None, true).await;
    assert_code(&body, "UNAUTHENTICATED");

    // Logout ends the session and clears the cookie.
    let (body, set) = post("mutation { logout }", json!({}), Some(&next), true).await;
    assert_eq!(body["data"]["logout"], true, "{body}");
    assert!(
        set[0].starts_with("organizer_refresh=;") && set[0].contains("Max-Age=0"),
        "{set:?}"
    );
    let (body, set) = post(COOKIE_REFRESH, json!({}), Some(&next), true).await;
    assert_code(&body, "UNAUTHENTICATED");
    assert!(
        set[0].contains("Max-Age=0"),
        "a dead cookie is cleared: {set:?}"
    );
}
