//! `POST /graphql`: the body read under our own bounds (JSON, or a multipart upload once
//! the credential is good), then run by the schema. Every failure before execution is a
//! GraphQL error response too (`request_error`).

use std::net::SocketAddr;

use async_graphql_axum::GraphQLResponse;
use axum::{
    body::Body,
    extract::{ConnectInfo, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};

use crate::{
    auth,
    graphql::context::{Auth, credential_from_headers},
    http::{
        Http, client, gate, multipart,
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
        upload(&http, &content_type, credential, body).await
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
        Ok((request, auth, permit)) => {
            let request = request.data(request_id).data(client).data(auth);
            let response = http.schema.execute(request).await;
            drop(permit); // the upload is over: its files are stored or refused
            GraphQLResponse::from(response).into_response()
        }
        Err(err) => err.into_response_with(&request_id.0),
    }
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

/// A multipart upload: the caller first, from the headers, then a permit, then the body.
async fn upload(
    http: &Http,
    content_type: &str,
    credential: Option<String>,
    body: Body,
) -> Result<(async_graphql::Request, Auth, Option<gate::Slot<uuid::Uuid>>), RequestError> {
    let Some(credential) = credential else {
        return Err(crate::error::AppError::Unauthenticated(
            "sign in first: uploads need Authorization: Bearer <access token or API key>".into(),
        )
        .into());
    };
    let caller = auth::authenticate(&http.state, &credential).await?;
    let permit = http
        .uploads
        .try_enter(caller.user_id())
        .ok_or(RequestError::Busy)?;
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| RequestError::Malformed("multipart without a boundary".into()))?;
    let request = multipart::read(body, &boundary, http.state.config.max_upload_bytes).await?;
    Ok((request, Auth::resolved(caller), Some(permit)))
}
