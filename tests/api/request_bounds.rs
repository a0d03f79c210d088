//! What a hostile or broken client can send to `POST /graphql` before GraphQL runs:
//! anonymous multipart floods, too many files, too many uploads at once, malformed
//! bodies. Each is refused early with a GraphQL error, and the server keeps answering.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{TestApp, spawn_app};

const BOUNDARY: &str = "----organizer-test-boundary";

/// Opens a raw connection and sends the head of a multipart POST that announces a big body.
async fn start_multipart(app: &TestApp, token: Option<&str>) -> TcpStream {
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 100000000\r\n\r\n",
        app.address
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

fn operations_and_map(files: usize) -> String {
    let operations = json!({
        "query": "mutation($files: [Upload!]!) { uploadFiles(path: \"in\", files: $files) { path } }",
        "variables": { "files": vec![Value::Null; files] }
    });
    let map: serde_json::Map<String, Value> = (0..files)
        .map(|i| (i.to_string(), json!([format!("variables.files.{i}")])))
        .collect();
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n",
        Value::Object(map)
    )
}

fn tiny_parts(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| {
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{i}\"; filename=\"f{i}.txt\"\r\nContent-Type: text/plain\r\n\r\nx\r\n"
            )
        })
        .collect()
}

/// Reads an HTTP response's status and JSON body from a raw connection.
async fn read_response(stream: &mut TcpStream) -> (u16, Value) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("the server answers without waiting for the rest of the body")
            .unwrap();
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buffer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            });
            if length.is_some_and(|len| body.len() >= len) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&buffer).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (
        status,
        serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
    )
}

fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

async fn me_answers(app: &TestApp, token: &str) {
    let me = tokio::time::timeout(
        Duration::from_secs(5),
        app.gql(Some(token), "{ me { id } }", json!({})),
    )
    .await
    .expect("`me` answers during the flood");
    assert!(me["data"]["me"]["id"].is_string(), "{me}");
    let health = tokio::time::timeout(
        Duration::from_secs(5),
        app.http.get(app.url("/health")).send(),
    )
    .await
    .expect("/health answers during the flood")
    .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn an_anonymous_multipart_flood_is_refused_before_its_body_is_read() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let before = open_files();
    let mut floods = Vec::new();
    for _ in 0..40 {
        let mut stream = start_multipart(&app, None).await;
        let mut body = operations_and_map(2000);
        body.push_str(&tiny_parts(0, 2000));
        // Sent, then stalled: the request never ends.
        let _ = stream.write_all(body.as_bytes()).await;
        floods.push(stream);
    }
    me_answers(&app, &ada.access_token).await;
    for stream in &mut floods {
        let (status, body) = read_response(stream).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    // Not a temporary file per part: at most a socket per connection, and some slack.
    let during = open_files();
    assert!(
        during < before + 40 + 32,
        "open files went from {before} to {during} during an anonymous flood"
    );
    me_answers(&app, &ada.access_token).await;
}

#[tokio::test]
async fn a_bad_credential_on_an_upload_is_refused_before_its_body() {
    let app = spawn_app().await;
    let mut stream = start_multipart(&app, Some("not-a-token")).await;
    let _ = stream.write_all(operations_and_map(1).as_bytes()).await;
    let (status, body) = read_response(&mut stream).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn a_signed_in_upload_stops_at_the_file_cap() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let mut stream = start_multipart(&app, Some(&ada.access_token)).await;
    let mut body = operations_and_map(150);
    body.push_str(&tiny_parts(0, 150));
    let _ = stream.write_all(body.as_bytes()).await;
    let (status, body) = read_response(&mut stream).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too many files")
    );
    // Nothing was stored or counted.
    let me = app
        .gql(
            Some(&ada.access_token),
            "{ me { storageUsedBytes } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["storageUsedBytes"], 0, "{me}");
}

#[tokio::test]
async fn uploads_in_flight_are_bounded_per_user() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut stream = start_multipart(&app, Some(&ada.access_token)).await;
        let mut body = operations_and_map(1);
        // A file part that never ends.
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"slow.bin\"\r\n\r\nsome bytes"
        ));
        stream.write_all(body.as_bytes()).await.unwrap();
        stalled.push(stream);
    }
    // Let the server take the four in.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = app
        .upload(&ada.access_token, "in", &[("a.txt", b"a")])
        .await;
    assert_eq!(code(&refused), "RATE_LIMITED", "{refused}");
    assert!(refused["errors"][0]["extensions"]["retryAfter"].is_number());
    // Another user is not held up by ada's uploads.
    let other = app
        .upload(&bob.access_token, "in", &[("b.txt", b"b")])
        .await;
    assert_eq!(
        other["data"]["uploadFiles"][0]["path"], "in/b.txt",
        "{other}"
    );
    drop(stalled);
    // Once they are gone, ada can upload again.
    let mut accepted = Value::Null;
    for _ in 0..50 {
        accepted = app
            .upload(&ada.access_token, "in", &[("a.txt", b"a")])
            .await;
        if accepted["data"]["uploadFiles"].is_array() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        accepted["data"]["uploadFiles"][0]["path"], "in/a.txt",
        "{accepted}"
    );
}

/// Every malformed body gets a GraphQL error with a code, and no parser internals.
#[tokio::test]
async fn malformed_requests_are_graphql_errors_without_internals() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("application/json", b"{\"query\": ".to_vec(), false),
        ("application/json", b"not json at all".to_vec(), false),
        ("application/json", b"{\"nope\": 1}".to_vec(), false),
        ("application/json", b"42".to_vec(), false),
        ("text/plain", b"{ me { id } }".to_vec(), false),
        ("multipart/form-data", b"--x\r\n".to_vec(), true),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\": \r\n--x--\r\n".to_vec(),
            true,
        ),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{ me { id } }\"}\r\n--x\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.f\"]}\r\n--x--\r\n".to_vec(),
            true,
        ),
        ("multipart/form-data; boundary=x", b"garbage without parts".to_vec(), true),
    ];
    for (content_type, body, signed_in) in cases {
        let mut request = app
            .http
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(body.clone());
        if signed_in {
            request = request.bearer_auth(&ada.access_token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{content_type}: not a JSON body: {text}"));
        assert!(
            (400..500).contains(&status),
            "{content_type}: {status} {text}"
        );
        assert_eq!(code(&json), "BAD_USER_INPUT", "{content_type}: {text}");
        for leak in ["InvalidRequest", "Error(", "Os {", "line ", "column "] {
            assert!(!text.contains(leak), "{content_type}: leaks {leak}: {text}");
        }
    }
    // A well-formed request still works after all that.
    let me = app
        .gql(Some(&ada.access_token), "{ me { id } }", json!({}))
        .await;
    assert!(me["data"]["me"]["id"].is_string());
}

/// Browsers use boundaries with capitals (`----WebKitFormBoundary…`); they are
/// case-sensitive and must reach the multipart reader as sent.
#[tokio::test]
async fn an_upload_with_a_browser_style_boundary_is_read() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let boundary = "----WebKitFormBoundaryAbC123xYz";
    let operations = json!({
        "query": "mutation($files: [Upload!]!) { uploadFiles(path: \"in\", files: $files) { path } }",
        "variables": { "files": [null] }
    });
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\":[\"variables.files.0\"]}}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"hello.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    );
    let answer: Value = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&ada.access_token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["data"]["uploadFiles"][0]["path"], "in/hello.txt",
        "{answer}"
    );
}
