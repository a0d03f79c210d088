//! Uploads that cannot be multiplied, starved or leaked: the `map` bound counts stored
//! files (not parts) and every mapped copy is stored whole; quota reserved for an upload
//! comes back however it ends (a stall, the request timeout, a client gone); stalled
//! uploads are cut off and hold no slot; a declared size over the quota is refused before
//! the body; free names past thousands of copies, and within 255 bytes.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{Account, TestApp, assert_code, spawn_app, spawn_app_with, user_dir};

const UPLOAD: &str =
    "mutation($files: [Upload!]!) { uploadFiles(path: \"in\", files: $files) { path sizeBytes } }";

/// A form with one file part (`0`) mapped to each of `paths`.
fn mapped_form(paths: &[String], content: &[u8]) -> reqwest::multipart::Form {
    let operations =
        json!({ "query": UPLOAD, "variables": { "files": vec![Value::Null; paths.len()] } });
    reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": paths }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(content.to_vec()).file_name("photo.jpg"),
        )
}

async fn send_form(app: &TestApp, token: &str, form: reqwest::multipart::Form) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn used_bytes(app: &TestApp, account: &Account) -> i64 {
    let me = app
        .gql(
            Some(&account.access_token),
            "{ me { storageUsedBytes } }",
            json!({}),
        )
        .await;
    me["data"]["me"]["storageUsedBytes"]
        .as_str()
        .map(|s| s.parse().unwrap())
        .or_else(|| me["data"]["me"]["storageUsedBytes"].as_i64())
        .unwrap_or_else(|| panic!("{me}"))
}

/// Waits up to 10 s for the account's usage to become `want`.
async fn usage_becomes(app: &TestApp, account: &Account, want: i64) {
    for _ in 0..100 {
        if used_bytes(app, account).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(used_bytes(app, account).await, want);
}

/// The head of a multipart upload of one file of `declared` bytes: everything up to the
/// file's content, and the Content-Length of the whole body.
fn raw_upload_head(app: &TestApp, token: &str, declared: usize) -> (String, Vec<u8>) {
    let boundary = "XBOUNDARYX";
    let operations = json!({ "query": UPLOAD, "variables": { "files": [null] } }).to_string();
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\":[\"variables.files.0\"]}}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = head.len() + declared + tail.len();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n",
        app.address
    );
    (request, head.into_bytes())
}

/// Opens a connection and sends the head of an upload and `sent` bytes of its file.
async fn stalled_upload(app: &TestApp, token: &str, declared: usize, sent: usize) -> TcpStream {
    let (request, head) = raw_upload_head(app, token, declared);
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&head).await.unwrap();
    stream.write_all(&vec![b'x'; sent]).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

/// The status line and body of the answer on a raw connection (within `wait`).
async fn answer(stream: &mut TcpStream, wait: Duration) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&out).contains("}]}") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&out).to_string()
}

#[tokio::test]
async fn one_part_mapped_many_times_counts_as_many_files_and_each_copy_is_whole() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    // 150 paths to one part: refused as 150 files, nothing stored.
    let paths: Vec<String> = (0..150).map(|i| format!("variables.files.{i}")).collect();
    let (status, body) = send_form(&app, &ada.access_token, mapped_form(&paths, b"abc")).await;
    assert_eq!(status, 413, "{body}");
    assert_code(&body, "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "files", "{body}");
    assert!(!user_dir(&app, &ada).join("in").exists(), "nothing stored");
    assert_eq!(used_bytes(&app, &ada).await, 0);

    // The case the spec allows: one file under two paths, both stored whole.
    let content = vec![7u8; 300 * 1024];
    let paths = vec![
        "variables.files.0".to_string(),
        "variables.files.1".to_string(),
    ];
    let (status, body) = send_form(&app, &ada.access_token, mapped_form(&paths, &content)).await;
    assert_eq!(status, 200, "{body}");
    let stored = body["data"]["uploadFiles"].as_array().expect("stored");
    assert_eq!(stored.len(), 2, "{body}");
    let dir = user_dir(&app, &ada).join("in");
    for name in ["photo.jpg", "photo (1).jpg"] {
        assert_eq!(
            std::fs::read(dir.join(name)).unwrap(),
            content,
            "{name} is whole"
        );
    }
    assert_eq!(used_bytes(&app, &ada).await, 2 * content.len() as i64);
    // Two files, not two names of one spooled file: changing one leaves the other as it
    // was.
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (dir.join("photo.jpg"), dir.join("photo (1).jpg"));
    assert_ne!(
        std::fs::metadata(&a).unwrap().ino(),
        std::fs::metadata(&b).unwrap().ino()
    );
    assert_eq!(std::fs::metadata(&a).unwrap().nlink(), 1);
    std::fs::write(&a, b"changed").unwrap();
    assert_eq!(std::fs::read(&b).unwrap(), content);
}

#[tokio::test]
async fn quota_reserved_for_an_upload_comes_back_after_a_timeout_or_a_disconnect() {
    let app = spawn_app_with(|c| {
        c.request_timeout_secs = 2;
        c.upload_idle_secs = 30;
    })
    .await;
    let ada = app.signup("ada").await;
    let stored = app
        .upload(&ada.access_token, "in", &[("kept.txt", b"12345")])
        .await;
    assert!(stored["data"]["uploadFiles"].is_array(), "{stored}");
    assert_eq!(used_bytes(&app, &ada).await, 5);

    // Cut off by the request timeout while the body trickles in: reserved meanwhile,
    // given back after.
    let mut slow = stalled_upload(&app, &ada.access_token, 5_000_000, 400_000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        used_bytes(&app, &ada).await >= 400_000,
        "the bytes that arrived are reserved"
    );
    let reply = answer(&mut slow, Duration::from_secs(10)).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    usage_becomes(&app, &ada, 5).await;

    // A client that goes away mid-body.
    let gone = stalled_upload(&app, &ada.access_token, 5_000_000, 400_000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(used_bytes(&app, &ada).await >= 400_000);
    drop(gone);
    usage_becomes(&app, &ada, 5).await;
    assert_eq!(
        std::fs::read_dir(user_dir(&app, &ada).join("in"))
            .unwrap()
            .count(),
        1,
        "only the finished upload is stored"
    );
}

#[tokio::test]
async fn stalled_uploads_are_cut_off_and_hold_no_slot() {
    let app = spawn_app_with(|c| c.upload_idle_secs = 1).await;
    let accounts = [
        app.signup("ada").await,
        app.signup("bob").await,
        app.signup("cyd").await,
    ];
    // Four stalled uploads fill ada's slots; four of bob's fill the address's eight.
    let mut stalled = Vec::new();
    for account in &accounts[..2] {
        for _ in 0..4 {
            stalled.push(stalled_upload(&app, &account.access_token, 100_000, 10).await);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let busy = app
        .upload(&accounts[2].access_token, "in", &[("a.txt", b"a")])
        .await;
    assert_code(&busy, "RATE_LIMITED");
    // Each is cut off once it has sent nothing for a second, and says so.
    for stream in &mut stalled {
        let reply = answer(stream, Duration::from_secs(10)).await;
        assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
        assert!(reply.contains("stalled"), "{reply}");
    }
    for account in &accounts {
        let ok = app
            .upload(&account.access_token, "in", &[("a.txt", b"a")])
            .await;
        assert!(ok["data"]["uploadFiles"].is_array(), "{ok}");
        usage_becomes(&app, account, 1).await;
    }
}

#[tokio::test]
async fn a_declared_size_over_the_quota_is_refused_before_the_body() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    // A thousand bytes left of the quota; a body declaring 50 MB (well within the upload
    // limit) gets its answer without sending any of it.
    app.update_user(&ada, |user| {
        use sea_orm::Set;
        user.storage_quota_gb = Set(1);
        user.storage_used_bytes = Set(1_000_000_000 - 1000);
    })
    .await;
    app.state.users.forget(ada.id.parse().unwrap());
    let mut stream = stalled_upload(&app, &ada.access_token, 50_000_000, 0).await;
    let reply = answer(&mut stream, Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("QUOTA_EXCEEDED"), "{reply}");
    assert_eq!(used_bytes(&app, &ada).await, 1_000_000_000 - 1000);
}

#[tokio::test]
async fn free_names_go_past_ten_thousand_copies_and_stay_within_255_bytes() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let dir = user_dir(&app, &ada).join("in");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x.bin"), b"0").unwrap();
    for n in 1..=10_000 {
        std::fs::write(dir.join(format!("x ({n}).bin")), b"0").unwrap();
    }
    let body = app
        .upload(
            &ada.access_token,
            "in",
            &[("x.bin", b"new"), ("x.bin", b"newer")],
        )
        .await;
    let paths: Vec<&str> = body["data"]["uploadFiles"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["in/x (10001).bin", "in/x (10002).bin"]);
    assert_eq!(std::fs::read(dir.join("x (10001).bin")).unwrap(), b"new");

    // A name of 255 bytes, twice: the second is shortened to make room for ` (1)`.
    let long = format!("{}.txt", "n".repeat(251));
    let first = app
        .upload(&ada.access_token, "long", &[(&long, b"1")])
        .await;
    assert!(first["data"]["uploadFiles"].is_array(), "{first}");
    let second = app
        .upload(&ada.access_token, "long", &[(&long, b"2")])
        .await;
    let name = second["data"]["uploadFiles"][0]["path"]
        .as_str()
        .unwrap_or_else(|| panic!("{second}"))
        .trim_start_matches("long/")
        .to_string();
    assert_eq!(name.len(), 255, "{name}");
    assert!(name.ends_with("n (1).txt"), "{name}");
    let dir = user_dir(&app, &ada).join("long");
    assert_eq!(
        std::fs::read(dir.join(&long)).unwrap(),
        b"1",
        "not overwritten"
    );
    assert_eq!(std::fs::read(dir.join(&name)).unwrap(), b"2");
}
