//! Getting files back out: `GET /files/{path}` for a signed-in request or a `fileLink`,
//! byte for byte, with ranges and validators; user content never served as something
//! that runs (attachment unless inline is asked for a safe type, `nosniff`, a sandbox);
//! a folder as a zip; another user's file is `NOT_FOUND`.

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

async fn link(app: &TestApp, token: &str, path: &str, inline: bool) -> String {
    let body = app
        .gql(
            Some(token),
            "mutation($p: String!, $i: Boolean) { fileLink(path: $p, inline: $i) }",
            json!({ "p": path, "i": inline }),
        )
        .await;
    body["data"]["fileLink"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string()
}

fn code_of(body: &serde_json::Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn a_download_is_the_upload_byte_for_byte_with_ranges_and_validators() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let bytes = content(300_000);
    let up = app
        .upload(&ada.access_token, "docs", &[("report.bin", &bytes)])
        .await;
    assert!(up["data"]["uploadFiles"].is_array(), "{up}");
    let url = app.url("/files/docs/report.bin");

    let whole = app
        .http
        .get(&url)
        .bearer_auth(&ada.access_token)
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    let h = whole.headers().clone();
    assert_eq!(h[header::CONTENT_LENGTH], "300000");
    assert!(
        h.get(header::CONTENT_ENCODING).is_none(),
        "a file is sent as it is"
    );
    assert_eq!(h[header::ACCEPT_RANGES], "bytes");
    assert_eq!(h[header::CONTENT_TYPE], "application/octet-stream");
    assert!(
        h[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(
        h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    assert!(h.contains_key(header::LAST_MODIFIED));
    let etag = h[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(whole.bytes().await.unwrap().as_ref(), &bytes[..]);

    // One range, a suffix range, and one past the end.
    let part = app
        .http
        .get(&url)
        .bearer_auth(&ada.access_token)
        .header(header::RANGE, "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()[header::CONTENT_RANGE],
        "bytes 1000-1999/300000"
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);
    let tail = app
        .http
        .get(&url)
        .bearer_auth(&ada.access_token)
        .header(header::RANGE, "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        tail.bytes().await.unwrap().as_ref(),
        &bytes[bytes.len() - 10..]
    );
    let past = app
        .http
        .get(&url)
        .bearer_auth(&ada.access_token)
        .header(header::RANGE, "bytes=400000-")
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(past.headers()[header::CONTENT_RANGE], "bytes */300000");
    // A range of another version is not spliced: the whole file comes.
    let stale = app
        .http
        .get(&url)
        .bearer_auth(&ada.access_token)
        .header(header::RANGE, "bytes=0-9")
        .header(header::IF_RANGE, "\"another-version\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(stale.bytes().await.unwrap().len(), 300_000);

    let cached = app
        .http
        .get(&url)
        .bearer_auth(&ada.access_token)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert!(cached.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn links_work_without_a_token_for_five_minutes_and_only_as_signed() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let png = b"\x89PNG\r\n\x1a\n not really a picture";
    app.upload(
        &ada.access_token,
        "pics",
        &[
            ("cat.png", png),
            ("page.html", b"<script>alert(document.cookie)</script>"),
            (
                "draw.svg",
                b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            ),
        ],
    )
    .await;

    let shown = link(&app, &ada.access_token, "pics/cat.png", true).await;
    assert!(shown.starts_with("/files/pics/cat.png?"), "{shown}");
    assert!(!shown.contains(&ada.access_token));
    let response = app.http.get(app.url(&shown)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "image/png");
    assert!(
        response.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), png);

    // HTML and SVG never come as something a browser would run, even asked inline.
    for name in ["pics/page.html", "pics/draw.svg"] {
        let url = link(&app, &ada.access_token, name, true).await;
        let response = app.http.get(app.url(&url)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let h = response.headers();
        assert_eq!(
            h[header::CONTENT_TYPE],
            "application/octet-stream",
            "{name}"
        );
        assert!(
            h[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(
            h[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
    }

    // Any change to a link (path, owner, inline, expiry, signature) makes it worthless.
    let bob = app.signup("bob").await;
    let plain = link(&app, &ada.access_token, "pics/cat.png", false).await;
    let tampered = [
        plain.replace("cat.png", "page.html"),
        plain.replace(&ada.id, &bob.id),
        format!("{plain}&inline=1"),
        plain.replace("exp=", "exp=9"),
        plain.replace("sig=", "sig=A"),
    ];
    for url in tampered {
        let response = app.http.get(app.url(&url)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{url}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(code_of(&body), "UNAUTHENTICATED", "{body}");
    }

    // No credential at all; a bad path; something that is not there; another's file.
    let none = app
        .http
        .get(app.url("/files/pics/cat.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let missing = app
        .gql(
            Some(&ada.access_token),
            "mutation { fileLink(path: \"pics/none.png\") }",
            json!({}),
        )
        .await;
    assert_eq!(code_of(&missing), "NOT_FOUND", "{missing}");
    let escape = app
        .gql(
            Some(&ada.access_token),
            "mutation { fileLink(path: \"../x\") }",
            json!({}),
        )
        .await;
    assert_eq!(code_of(&escape), "BAD_USER_INPUT", "{escape}");
    let theirs = app
        .http
        .get(app.url("/files/pics/cat.png"))
        .bearer_auth(&bob.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = theirs.json().await.unwrap();
    assert_eq!(code_of(&body), "NOT_FOUND", "{body}");
    let dotdot = app
        .http
        .get(app.url("/files/pics/..%2F..%2Fetc/passwd"))
        .bearer_auth(&ada.access_token)
        .send()
        .await
        .unwrap();
    assert!(
        dotdot.status() == StatusCode::BAD_REQUEST || dotdot.status() == StatusCode::NOT_FOUND,
        "{}",
        dotdot.status()
    );
}

#[tokio::test]
async fn a_folder_downloads_as_a_zip_of_its_files() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let big = content(1_500_000);
    app.upload(
        &ada.access_token,
        "album",
        &[("one.jpg", b"first"), ("big.bin", &big)],
    )
    .await;
    app.upload(&ada.access_token, "album/inner", &[("two.txt", b"second")])
        .await;
    let response = app
        .http
        .get(app.url("/files/album"))
        .bearer_auth(&ada.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/zip");
    assert!(
        response.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("album.zip")
    );
    let zip = response.bytes().await.unwrap().to_vec();
    let found = crate::helpers::unzip(zip).await;
    let expected: std::collections::BTreeMap<String, Vec<u8>> = [
        ("big.bin".to_string(), big),
        ("inner/two.txt".to_string(), b"second".to_vec()),
        ("one.jpg".to_string(), b"first".to_vec()),
    ]
    .into();
    assert_eq!(found, expected);
}
