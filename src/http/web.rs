//! The web app and GraphiQL, from `web/dist` embedded at build time (`build.rs`):
//! * `/assets/*`: content-hashed files, cached for a year (`immutable`);
//! * `GET /graphql` (a browser): the GraphiQL page;
//! * every other GET: the app's `index.html` (client-side routes), never cached;
//! * HTML carries a Content-Security-Policy that both pages work under.
//!
//! A binary built without npm serves a page at `/` that says how to build the app, and
//! async-graphql's own GraphiQL page (which loads its scripts from a CDN) at `/graphql`.

use axum::{
    extract::Path,
    http::{HeaderValue, Method, StatusCode, Uri, header},
    response::{Html, IntoResponse, Response},
};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

const FAVICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f5d8a"/><path d="M7 11h7l2 2h9v10a2 2 0 0 1-2 2H9a2 2 0 0 1-2-2z" fill="#fff"/></svg>"##;

fn file(path: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

/// Whether the web app was built into this binary.
pub fn embedded() -> bool {
    file("index.html").is_some()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "map") => "application/json",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn html(body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// `/assets/<name>`: a built file, or 404 (never the app's page).
pub async fn asset(Path(name): Path<String>) -> Response {
    let path = format!("assets/{name}");
    match file(&path) {
        Some(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(&path)),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /graphql`: the playground.
pub async fn graphiql() -> Response {
    match file("graphiql.html") {
        Some(page) => html(page),
        None => Html(
            async_graphql::http::GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql/ws")
                .title("Organizer GraphiQL")
                .finish(),
        )
        .into_response(),
    }
}

pub async fn favicon() -> Response {
    match file("favicon.ico") {
        Some(icon) => ([(header::CONTENT_TYPE, "image/x-icon")], icon).into_response(),
        None => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            FAVICON,
        )
            .into_response(),
    }
}

const NOT_BUILT: &[u8] = br#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Organizer</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>Organizer</h1>
<p>The API is running. This binary was built without the web app (npm was not found, or
its build failed: see the warnings of <code>cargo build</code>).</p>
<p>To get the app: install Node.js 20+ and npm, then run <code>cargo run --release -- serve</code>
again (the build runs <code>npm ci</code> and <code>npm run build</code> in <code>web/</code>).</p>
<p>Meanwhile, the GraphQL playground is at <a href="/graphql">/graphql</a>.</p>
</body></html>"#;

/// Every other path: the app's page for GETs (its router shows the right screen), 404
/// for anything else.
pub async fn app(method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::NOT_FOUND.into_response();
    }
    // A file-like path that is not ours is a 404, not the app (a stale asset, a probe).
    if uri.path().starts_with("/assets/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match file("index.html") {
        Some(page) => html(page),
        None => html(NOT_BUILT),
    }
}
