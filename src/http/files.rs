//! `GET /files/{path}`: a file's bytes (or a folder as a zip stream) for a request signed
//! in with `Authorization`/`X-API-Key`, or for a signed link (`fileLink`). What is served
//! and how is decided in `downloads`; here are the HTTP parts: `Range`, validators, and
//! the headers that keep user content from running as the app.

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{Http, request_error::RequestError, request_id};
use crate::{
    auth::links::Link, downloads, error::AppError, graphql::context::credential_from_headers,
    storage::paths,
};

/// A sandbox for whatever a file holds: no script, no plugin, no form, no frame; images
/// and media only from here (a PDF or a picture shown inline).
const SANDBOX: &str =
    "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'";

/// Set on a download's response: the compression layer leaves it alone (its length,
/// ranges and validators are the file's own).
#[derive(Clone, Copy)]
pub struct Uncompressed;

#[derive(Deserialize)]
pub struct Signed {
    u: Option<Uuid>,
    exp: Option<i64>,
    inline: Option<String>,
    sig: Option<String>,
}

pub async fn root(http: State<Http>, headers: HeaderMap, query: Query<Signed>) -> Response {
    get(http, Path(String::new()), headers, query).await
}

pub async fn get(
    State(http): State<Http>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Query(signed): Query<Signed>,
) -> Response {
    let request_id = request_id(&headers);
    match serve(&http, &raw, &headers, signed).await {
        Ok(response) => response,
        Err(err) => RequestError::App(err).into_response_with(&request_id.0),
    }
}

/// `GET /export`: the whole account as a zip, for a link from `exportAccount`.
pub async fn export(
    State(http): State<Http>,
    headers: HeaderMap,
    Query(signed): Query<Signed>,
) -> Response {
    let request_id = request_id(&headers);
    let served = async {
        let link = Link {
            user_id: signed.u.unwrap_or_default(),
            path: downloads::EXPORT_MARK.to_string(),
            expires: signed.exp.unwrap_or_default(),
            inline: false,
        };
        let good = signed.sig.as_deref().is_some_and(|sig| {
            http.state
                .links
                .verify(&link, sig, chrono::Utc::now().timestamp())
        });
        if !good {
            return Err(AppError::Unauthenticated(
                "this link is not valid or has expired; ask for a new one".into(),
            ));
        }
        crate::auth::caller::active_user(&http.state, link.user_id).await?;
        let (name, stream) = downloads::export(&http.state, link.user_id).await?;
        let mut response = (StatusCode::OK, Body::from_stream(stream)).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/zip"),
        );
        h.insert(
            header::CONTENT_DISPOSITION,
            value(&downloads::disposition(&name, false)),
        );
        Ok(protect(response))
    }
    .await;
    served.unwrap_or_else(|err| RequestError::App(err).into_response_with(&request_id.0))
}

/// Who asks, and whether inline was asked: a signed link, or the request's credential.
async fn caller(
    http: &Http,
    path: &str,
    headers: &HeaderMap,
    signed: Signed,
) -> Result<(Uuid, bool), AppError> {
    if let Some(sig) = &signed.sig {
        let link = Link {
            user_id: signed.u.unwrap_or_default(),
            path: path.to_string(),
            expires: signed.exp.unwrap_or_default(),
            inline: signed.inline.as_deref() == Some("1"),
        };
        if !http
            .state
            .links
            .verify(&link, sig, chrono::Utc::now().timestamp())
        {
            return Err(AppError::Unauthenticated(
                "this link is not valid or has expired; ask for a new one".into(),
            ));
        }
        // A link stops working with its account.
        crate::auth::caller::active_user(&http.state, link.user_id).await?;
        return Ok((link.user_id, link.inline));
    }
    let Some(credential) = credential_from_headers(headers) else {
        return Err(AppError::Unauthenticated(
            "sign in, or use a link from fileLink".into(),
        ));
    };
    let caller = crate::auth::authenticate(&http.state, &credential).await?;
    Ok((caller.user_id(), false))
}

async fn serve(
    http: &Http,
    raw: &str,
    headers: &HeaderMap,
    signed: Signed,
) -> Result<Response, AppError> {
    let path = if raw.trim_matches('/').is_empty() {
        String::new()
    } else {
        paths::normalize("path", raw)?
    };
    let (user_id, inline_asked) = caller(http, &path, headers, signed).await?;
    let target = downloads::find(&http.state, user_id, &path).await?;
    let space = http.state.storage.space(user_id);
    if target.is_dir {
        let body = Body::from_stream(downloads::zip(space, path.clone()));
        let name = downloads::file_name(&path, true);
        let mut response = (StatusCode::OK, body).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/zip"),
        );
        h.insert(
            header::CONTENT_DISPOSITION,
            value(&downloads::disposition(&name, false)),
        );
        return Ok(protect(response));
    }

    let shown = downloads::present(&path, inline_asked);
    let etag = downloads::etag(&target);
    let modified = target.modified.map(|m| httpdate::fmt_http_date(m.into()));
    if not_modified(headers, &etag, target.modified) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(header::ETAG, value(&etag));
        return Ok(protect(response));
    }

    let size = target.size;
    let wanted = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        // A range of an older version would splice two files: serve it whole instead.
        .filter(|_| if_range_holds(headers, &etag, modified.as_deref()));
    let (status, range) = match wanted
        .map(|r| http_range_header::parse_range_header(r).and_then(|parsed| parsed.validate(size)))
    {
        None => (StatusCode::OK, 0..size),
        Some(Ok(ranges)) if ranges.len() == 1 => {
            let r = &ranges[0];
            (StatusCode::PARTIAL_CONTENT, *r.start()..*r.end() + 1)
        }
        // Several ranges: the whole file, which the standard allows.
        Some(Ok(_)) => (StatusCode::OK, 0..size),
        Some(Err(_)) => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_RANGE, value(&format!("bytes */{size}")));
            return Ok(protect(response));
        }
    };
    let stream = space.read_range(&path, range.clone()).await?;
    let body = Body::from_stream(futures::TryStreamExt::map_err(
        stream,
        std::io::Error::other,
    ));
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, value(&shown.content_type));
    h.insert(
        header::CONTENT_LENGTH,
        value(&(range.end - range.start).to_string()),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, value(&etag));
    if let Some(modified) = &modified {
        h.insert(header::LAST_MODIFIED, value(modified));
    }
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(
            header::CONTENT_RANGE,
            value(&format!("bytes {}-{}/{size}", range.start, range.end - 1)),
        );
    }
    h.insert(
        header::CONTENT_DISPOSITION,
        value(&downloads::disposition(
            &downloads::file_name(&path, false),
            shown.inline,
        )),
    );
    Ok(protect(response))
}

/// The headers every answer of `/files` carries, whatever it holds.
fn protect(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SANDBOX),
    );
    h.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Private: a shared cache never keeps one user's file; revalidated by its ETag.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response.extensions_mut().insert(Uncompressed);
    response
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// `If-None-Match` (or, without it, `If-Modified-Since`) says the client has this version.
fn not_modified(
    headers: &HeaderMap,
    etag: &str,
    modified: Option<chrono::DateTime<chrono::Utc>>,
) -> bool {
    if let Some(tags) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return tags
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == "*");
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    match (since, modified) {
        (Some(since), Some(modified)) => {
            chrono::DateTime::<chrono::Utc>::from(since).timestamp() >= modified.timestamp()
        }
        _ => false,
    }
}

/// Without `If-Range`, a range holds; with it, only for this very version.
fn if_range_holds(headers: &HeaderMap, etag: &str, modified: Option<&str>) -> bool {
    match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(tag) if tag.starts_with('"') => tag == etag,
        Some(date) => modified == Some(date),
    }
}
