//! Accounts people run themselves, through the mail the server sends: verify an address,
//! reset a forgotten password, change the password, the profile and the address. Mail
//! is read from the embedded outbox (`<data-dir>/outbox/*.eml`), as a person would read
//! their inbox; `mail_goes_out_through_a_real_smtp_server` sends through SMTP.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, spawn_app, spawn_app_with};

/// The messages in the outbox, oldest first, as text with quoted-printable undone.
pub fn outbox(app: &TestApp) -> Vec<String> {
    let dir = app.data_dir.path().join("outbox");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|name| name.ends_with(".eml") && !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
        .iter()
        .map(|name| unquote(&std::fs::read_to_string(dir.join(name)).unwrap()))
        .collect()
}

/// Quoted-printable soft line breaks and `=3D` undone (all our links need).
pub fn unquote(raw: &str) -> String {
    raw.replace("=\r\n", "").replace("=3D", "=")
}

/// Waits for the `n`-th message (1-based) to `to` and returns it.
pub async fn mail_to(app: &TestApp, to: &str, n: usize) -> String {
    for _ in 0..100 {
        let found: Vec<String> = outbox(app)
            .into_iter()
            .filter(|m| m.contains(&format!("To: {to}")))
            .collect();
        if found.len() >= n {
            return found[n - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no message {n} to {to}; outbox: {:?}", outbox(app));
}

/// The token of the `/{path}?token=…` link in a message.
pub fn token_in(mail: &str, path: &str) -> String {
    let marker = format!("/{path}?token=");
    let start = mail
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} link in {mail}"))
        + marker.len();
    mail[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

async fn me(app: &TestApp, token: &str) -> Value {
    app.gql(
        Some(token),
        "{ me { id email username fullName emailVerified isVerified role } }",
        json!({}),
    )
    .await
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Value {
    app.gql(
        None,
        "mutation($t: String) { refreshToken(refreshToken: $t) { accessToken refreshToken } }",
        json!({ "t": refresh_token }),
    )
    .await
}

#[tokio::test]
async fn an_address_is_verified_once_by_its_link() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    assert_eq!(
        me(&app, &ada.access_token).await["data"]["me"]["emailVerified"],
        false
    );

    let asked = app
        .gql(
            Some(&ada.access_token),
            "mutation { requestEmailVerification }",
            json!({}),
        )
        .await;
    assert_eq!(asked["data"]["requestEmailVerification"], true, "{asked}");
    let mail = mail_to(&app, "ada@example.com", 1).await;
    assert!(
        mail.contains("Subject: Confirm your email address"),
        "{mail}"
    );
    assert!(mail.contains("Content-Type: text/plain") && mail.contains("Content-Type: text/html"));
    let token = token_in(&mail, "verify-email");

    let verify = "mutation($t: String!) { verifyEmail(token: $t) { email emailVerified } }";
    let wrong = app.gql(None, verify, json!({ "t": "not-a-token" })).await;
    assert_code(&wrong, "BAD_USER_INPUT");
    let verified = app.gql(None, verify, json!({ "t": token })).await;
    assert_eq!(
        verified["data"]["verifyEmail"]["emailVerified"], true,
        "{verified}"
    );
    assert_eq!(
        me(&app, &ada.access_token).await["data"]["me"]["isVerified"],
        true
    );
    // Single use.
    assert_code(
        &app.gql(None, verify, json!({ "t": token })).await,
        "BAD_USER_INPUT",
    );
    // Nothing more to verify.
    let again = app
        .gql(
            Some(&ada.access_token),
            "mutation { requestEmailVerification }",
            json!({}),
        )
        .await;
    assert_eq!(again["data"]["requestEmailVerification"], false, "{again}");
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_mail_and_every_session_ends() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let other = app.login("ada", &ada.password).await;
    let other_refresh = other["data"]["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let other_access = other["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();

    let request = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    let known = app
        .gql(None, request, json!({ "e": "ADA@example.com" }))
        .await;
    let unknown = app
        .gql(None, request, json!({ "e": "nobody@example.com" }))
        .await;
    assert_eq!(known, json!({ "data": { "requestPasswordReset": true } }));
    assert_eq!(unknown, known, "the answer tells nothing about the address");
    let mail = mail_to(&app, "ada@example.com", 1).await;
    let token = token_in(&mail, "reset-password");

    let reset = "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }";
    let short = app
        .gql(None, reset, json!({ "t": token, "p": "short" }))
        .await;
    assert_code(&short, "BAD_USER_INPUT");
    assert_eq!(
        short["errors"][0]["extensions"]["field"], "newPassword",
        "{short}"
    );
    let done = app
        .gql(
            None,
            reset,
            json!({ "t": token, "p": "a brand new password" }),
        )
        .await;
    assert_eq!(done["data"]["resetPassword"], true, "{done}");
    // Single use.
    assert_code(
        &app.gql(
            None,
            reset,
            json!({ "t": token, "p": "another new password" }),
        )
        .await,
        "BAD_USER_INPUT",
    );

    // Every session ended: refresh tokens, and access tokens too.
    assert_code(&refresh(&app, &ada.refresh_token).await, "UNAUTHENTICATED");
    assert_code(&refresh(&app, &other_refresh).await, "UNAUTHENTICATED");
    assert_code(&me(&app, &ada.access_token).await, "UNAUTHENTICATED");
    assert_code(&me(&app, &other_access).await, "UNAUTHENTICATED");
    assert_code(&app.login("ada", &ada.password).await, "UNAUTHENTICATED");
    let signed_in = app.login("ada", "a brand new password").await;
    assert!(signed_in["data"]["login"].is_object(), "{signed_in}");
    // No mail went to the unknown address.
    assert!(
        outbox(&app)
            .iter()
            .all(|m| !m.contains("nobody@example.com"))
    );

    // An expired link does not work.
    app.gql(None, request, json!({ "e": "ada@example.com" }))
        .await;
    let token = token_in(&mail_to(&app, "ada@example.com", 2).await, "reset-password");
    use sea_orm::{ConnectionTrait, Statement};
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    app.state
        .db
        .execute_raw(Statement::from_sql_and_values(
            app.state.db.get_database_backend(),
            match app.state.db.get_database_backend() {
                sea_orm::DbBackend::Postgres => "UPDATE account_tokens SET expires_at = $1",
                _ => "UPDATE account_tokens SET expires_at = ?",
            },
            [past.into()],
        ))
        .await
        .unwrap();
    assert_code(
        &app.gql(None, reset, json!({ "t": token, "p": "too late for this" }))
            .await,
        "BAD_USER_INPUT",
    );
}

#[tokio::test]
async fn reset_requests_are_limited_per_address_known_or_not() {
    let app = spawn_app_with(|c| c.auth_rate_limit_per_account = 2).await;
    app.signup("ada").await;
    let request = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    for email in ["ada@example.com", "nobody@example.com"] {
        for _ in 0..2 {
            let ok = app.gql(None, request, json!({ "e": email })).await;
            assert_eq!(ok["data"]["requestPasswordReset"], true, "{ok}");
        }
        assert_code(
            &app.gql(None, request, json!({ "e": email })).await,
            "RATE_LIMITED",
        );
    }
}

#[tokio::test]
async fn a_changed_password_ends_the_other_sessions_only() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let other = app.login("ada", &ada.password).await;
    let other_refresh = other["data"]["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let other_access = other["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";

    let wrong = app
        .gql(
            Some(&ada.access_token),
            change,
            json!({ "c": "not it at all", "n": "a new password" }),
        )
        .await;
    assert_code(&wrong, "BAD_USER_INPUT");
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "currentPassword");
    let changed = app
        .gql(
            Some(&ada.access_token),
            change,
            json!({ "c": ada.password, "n": "a new password" }),
        )
        .await;
    assert_eq!(changed["data"]["changePassword"], true, "{changed}");

    assert_code(&me(&app, &other_access).await, "UNAUTHENTICATED");
    assert_code(&refresh(&app, &other_refresh).await, "UNAUTHENTICATED");
    assert!(me(&app, &ada.access_token).await["data"]["me"].is_object());
    assert!(refresh(&app, &ada.refresh_token).await["data"]["refreshToken"].is_object());
    assert!(app.login("ada", "a new password").await["data"]["login"].is_object());
}

#[tokio::test]
async fn profile_and_address_change_as_asked() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    app.signup("bob").await;
    let update =
        "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { username fullName } }";
    let named = app
        .gql(
            Some(&ada.access_token),
            update,
            json!({ "i": { "fullName": "Ada Lovelace", "username": "Countess" } }),
        )
        .await;
    assert_eq!(
        named["data"]["updateProfile"],
        json!({ "username": "countess", "fullName": "Ada Lovelace" }),
        "{named}"
    );
    assert_code(
        &app.gql(
            Some(&ada.access_token),
            update,
            json!({ "i": { "username": "bob" } }),
        )
        .await,
        "CONFLICT",
    );
    assert_code(
        &app.gql(
            Some(&ada.access_token),
            update,
            json!({ "i": { "username": "no spaces" } }),
        )
        .await,
        "BAD_USER_INPUT",
    );
    let cleared = app
        .gql(
            Some(&ada.access_token),
            update,
            json!({ "i": { "fullName": null } }),
        )
        .await;
    assert_eq!(
        cleared["data"]["updateProfile"],
        json!({ "username": "countess", "fullName": null })
    );

    let change = "mutation($e: String!, $p: String!) { changeEmail(newEmail: $e, password: $p) }";
    assert_code(
        &app.gql(
            Some(&ada.access_token),
            change,
            json!({ "e": "ada2@example.com", "p": "wrong password" }),
        )
        .await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &app.gql(
            Some(&ada.access_token),
            change,
            json!({ "e": "bob@example.com", "p": ada.password }),
        )
        .await,
        "CONFLICT",
    );
    let asked = app
        .gql(
            Some(&ada.access_token),
            change,
            json!({ "e": "ada2@example.com", "p": ada.password }),
        )
        .await;
    assert_eq!(asked["data"]["changeEmail"], true, "{asked}");
    // Nothing changes until the new address is proved; the old one is told.
    assert_eq!(
        me(&app, &ada.access_token).await["data"]["me"]["email"],
        "ada@example.com"
    );
    let notice = mail_to(&app, "ada@example.com", 1).await;
    assert!(notice.contains("ada2@example.com"), "{notice}");
    let token = token_in(&mail_to(&app, "ada2@example.com", 1).await, "verify-email");
    let verified = app
        .gql(
            None,
            "mutation($t: String!) { verifyEmail(token: $t) { email emailVerified } }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(
        verified["data"]["verifyEmail"],
        json!({ "email": "ada2@example.com", "emailVerified": true })
    );
    assert!(app.login("ada2@example.com", &ada.password).await["data"]["login"].is_object());
}

#[tokio::test]
async fn operations_wait_for_a_verified_address_when_the_server_asks() {
    let app = spawn_app_with(|c| c.require_verified_email = true).await;
    let ada = app.signup("ada").await;
    let start = "mutation { startOperation(input: { type: ORGANIZE, rootPath: \"\", dryRun: true }) { id } }";
    let refused = app.gql(Some(&ada.access_token), start, json!({})).await;
    assert_code(&refused, "FORBIDDEN");
    app.gql(
        Some(&ada.access_token),
        "mutation { requestEmailVerification }",
        json!({}),
    )
    .await;
    let token = token_in(&mail_to(&app, "ada@example.com", 1).await, "verify-email");
    app.gql(
        None,
        "mutation($t: String!) { verifyEmail(token: $t) { id } }",
        json!({ "t": token }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = app.gql(Some(&ada.access_token), start, json!({})).await;
    assert!(
        started["data"]["startOperation"]["id"].is_string(),
        "{started}"
    );
}

/// A real SMTP server process on loopback (Python's `aiosmtpd`, installed and run by
/// `.ci/run`: `cargo test --test api account_mail -- --ignored`) receives what the
/// server sends.
#[tokio::test]
#[ignore = "needs `python3 -m aiosmtpd` (pip install aiosmtpd); .ci/run runs it"]
async fn mail_goes_out_through_a_real_smtp_server() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let maildir = tempfile::tempdir().unwrap();
    let mut smtp = tokio::process::Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(maildir.path().join("mail"))
        .kill_on_drop(true)
        .spawn()
        .expect("python3 with aiosmtpd (pip install aiosmtpd)");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.mail_from = "Organizer <organizer@example.com>".into();
        c.public_url = Some("https://files.example.com/".into());
    })
    .await;
    app.signup("ada").await;
    app.gql(
        None,
        "mutation { requestPasswordReset(email: \"ada@example.com\") }",
        json!({}),
    )
    .await;
    let new = maildir.path().join("mail").join("new");
    let mut received = None;
    for _ in 0..100 {
        if let Some(entry) = std::fs::read_dir(&new).ok().and_then(|mut d| d.next()) {
            received = Some(unquote(
                &std::fs::read_to_string(entry.unwrap().path()).unwrap(),
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    smtp.kill().await.ok();
    let mail = received.expect("the SMTP server received the message");
    assert!(mail.contains("To: ada@example.com"), "{mail}");
    assert!(
        mail.contains("From: Organizer <organizer@example.com>"),
        "{mail}"
    );
    assert!(
        mail.contains("https://files.example.com/reset-password?token="),
        "{mail}"
    );
    assert!(
        !app.data_dir.path().join("outbox").exists(),
        "SMTP, not the outbox folder"
    );
}

#[tokio::test]
async fn sessions_are_listed_and_ended_one_by_one() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    let other = app.login("ada", &ada.password).await;
    let other_access = other["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let other_refresh = other["data"]["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let list = "{ sessions { id signedInAt lastActiveAt expiresAt current } }";
    let seen = app.gql(Some(&ada.access_token), list, json!({})).await;
    let sessions = seen["data"]["sessions"].as_array().expect("a list").clone();
    assert_eq!(sessions.len(), 2, "{seen}");
    assert_eq!(
        sessions.iter().filter(|s| s["current"] == true).count(),
        1,
        "{seen}"
    );
    let theirs = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].clone();

    let revoke = "mutation($id: ID!) { revokeSession(id: $id) }";
    // Not bob's to end; nor an unknown one.
    assert_code(
        &app.gql(Some(&bob.access_token), revoke, json!({ "id": theirs }))
            .await,
        "NOT_FOUND",
    );
    assert_code(
        &app.gql(
            Some(&ada.access_token),
            revoke,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await,
        "NOT_FOUND",
    );
    let ended = app
        .gql(Some(&ada.access_token), revoke, json!({ "id": theirs }))
        .await;
    assert_eq!(ended["data"]["revokeSession"], true, "{ended}");
    assert_code(&me(&app, &other_access).await, "UNAUTHENTICATED");
    assert_code(&refresh(&app, &other_refresh).await, "UNAUTHENTICATED");
    assert!(me(&app, &ada.access_token).await["data"]["me"].is_object());
    let left = app.gql(Some(&ada.access_token), list, json!({})).await;
    assert_eq!(
        left["data"]["sessions"].as_array().map(Vec::len),
        Some(1),
        "{left}"
    );
    assert_code(
        &app.gql(Some(&ada.access_token), revoke, json!({ "id": theirs }))
            .await,
        "NOT_FOUND",
    );
}
