//! `POST /graphql`: the body read under our own bounds (JSON, or a multipart upload once
//! the credential is good), then run by the schema. Every failure before execution is a
//! GraphQL error response too (`request_error`).

use std::{net::SocketAddr, sync::Arc};

use async_graphql_axum::GraphQLResponse;
use axum::{
    body::Body,
    extract::{ConnectInfo, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};

use crate::{
    auth::{self, ClientInfo},
    error::AppError,
    files::{self, Reservation},
    graphql::{
        context::{Auth, credential_from_headers},
        session_cookie::CookieSession,
    },
    http::{
        Http, client, declared_length, multipart,
        request_error::{self, RequestError},
        request_id,
    },
};

pub async fn post(
    State(http): State<Http>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request_id = request_id(&headers);
    let client = client(&http, peer, &headers);
    // HTTPS as a trusted proxy says (the server itself speaks plain HTTP).
    let https = http.state.config.trusted_proxies.contains(&peer.ip())
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let cookie_session = CookieSession::from_headers(&headers, https);
    let credential = credential_from_headers(&headers);
    // The type is matched case-insensitively; the header itself is kept as sent, since a
    // multipart boundary is case-sensitive (browsers send `----WebKitFormBoundary…`).
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let kind = content_type.to_ascii_lowercase();
    let prepared = if kind.starts_with("multipart/") {
        upload(&http, &client, &content_type, &headers, credential, body).await
    } else if kind.starts_with("application/json")
        || kind.starts_with("application/graphql-response+json")
    {
        json(body)
            .await
            .map(|request| (request, Auth::from_credential(credential), None))
    } else {
        Err(RequestError::UnsupportedType)
    };
    match prepared {
        Ok((request, auth, held)) => {
            let request = request
                .data(request_id)
                .data(client)
                .data(auth)
                .data(cookie_session);
            let response = http.schema.execute(request).await;
            // The upload is over: its files are stored or refused; what it still holds of
            // the quota goes back before the answer (a timeout or a client gone drops it).
            if let Some((_admitted, reservation)) = held {
                reservation.lock().await.release().await;
            }
            let mut response = GraphQLResponse::from(response).into_response();
            no_store(&mut response);
            response
        }
        Err(err) => {
            let mut response = err.into_response_with(&request_id.0);
            no_store(&mut response);
            response
        }
    }
}

/// A GraphQL answer is the caller's own data: no cache (shared or the browser's) keeps it.
fn no_store(response: &mut Response) {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
}

/// A JSON body: one GraphQL request (a batch is refused).
async fn json(body: Body) -> Result<async_graphql::Request, RequestError> {
    // The body is already bounded (`limit_body`); this only collects it.
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| RequestError::TooLarge)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|_| RequestError::Malformed("the body is not JSON".into()))?;
    request_error::parse_request(value)
}

/// A multipart upload: the caller first, from the headers, then its places (per user,
/// per address), then the declared size against the quota, then the body.
async fn upload(
    http: &Http,
    client: &ClientInfo,
    content_type: &str,
    headers: &HeaderMap,
    credential: Option<String>,
    body: Body,
) -> Result<(async_graphql::Request, Auth, Option<Held>), RequestError> {
    let Some(credential) = credential else {
        return Err(AppError::Unauthenticated(
            "sign in first: uploads need Authorization: Bearer <access token or API key>".into(),
        )
        .into());
    };
    let caller = auth::authenticate(&http.state, &credential).await?;
    let admitted = http
        .uploads
        .admit(caller.user_id(), client.limit_key())
        .ok_or(RequestError::Busy)?;
    let user = &caller.user;
    let left = i64::from(user.storage_quota_gb) * files::BYTES_PER_GB - user.storage_used_bytes;
    if declared_length(headers).is_some_and(|declared| {
        i64::try_from(declared).unwrap_or(i64::MAX) > left + MULTIPART_OVERHEAD
    }) {
        return Err(AppError::QuotaExceeded(
            "this upload does not fit in your storage quota".into(),
        )
        .into());
    }
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| RequestError::Malformed("multipart without a boundary".into()))?;
    let reservation = Arc::new(tokio::sync::Mutex::new(Reservation::none(
        &http.state,
        caller.user_id(),
    )));
    let spooled = {
        let mut held = reservation.lock().await;
        // The declared length, held at once where the quota allows: one write to the
        // account for the whole body instead of one per doubling as its bytes arrive.
        if let Some(declared) = declared_length(headers)
            .and_then(|d| i64::try_from(d).ok())
            .filter(|d| *d <= left)
        {
            let _ = held.grow_to(declared).await;
        }
        let read = multipart::read(
            body,
            &boundary,
            http.state.config.max_upload_bytes,
            &http.uploads,
            &mut held,
        )
        .await;
        if read.is_err() {
            held.release().await;
        }
        read?
    };
    // The resolver takes what it stores from this reservation; the rest (and the
    // descriptors) go back when the request ends, however it ends.
    let request = spooled
        .request
        .data(reservation.clone())
        .data(spooled.descriptors);
    Ok((
        request,
        Auth::resolved(caller),
        Some((admitted, reservation)),
    ))
}

/// What an upload holds until its request has run: its places and its reservation.
type Held = (multipart::Admitted, Arc<tokio::sync::Mutex<Reservation>>);

/// What a multipart body may add to its files' bytes (boundaries, part headers, the
/// `operations` and `map` fields) before a declared length counts as over the quota.
const MULTIPART_OVERHEAD: i64 = 1024 * 1024;
