//! The WebSocket for subscriptions (`/graphql/ws`), around async-graphql's protocol
//! handling (`graphql-transport-ws` and the legacy `graphql-ws`), with what it leaves out:
//!
//! * the credential comes in the `connection_init` payload and is checked once; a bad one
//!   closes the socket with `4403 Forbidden` (legacy protocol: `connection_error`);
//! * no `connection_init` within `INIT_TIMEOUT` closes it with `4408`;
//! * at most `MAX_SUBSCRIPTIONS` at once per connection; more are refused with an error;
//! * messages over `MAX_MESSAGE_BYTES` close the socket (axum's frame limit);
//! * a ping every `PING_EVERY` keeps proxies from dropping idle connections (a WebSocket
//!   ping frame, and `ka` on the legacy protocol).
//!
//! Outgoing messages pass through one writer task, so a slow client only ever slows its
//! own connection.

use std::{collections::HashSet, time::Duration};

use async_graphql::{Data, http::WebSocketProtocols};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::{
    auth::{self, ClientInfo},
    error::AppError,
    graphql::{AppSchema, context::Auth, errors::RequestId},
    state::AppState,
};

pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
pub const MAX_SUBSCRIPTIONS: usize = 100;
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
pub const PING_EVERY: Duration = Duration::from_secs(20);
const FORBIDDEN_MARK: &str = "forbidden: ";

/// The credential in a `connection_init` payload: `authorization`, `Authorization`,
/// `headers.Authorization` or `token`, with or without `Bearer `.
pub fn credential_from_init(payload: &Value) -> Option<String> {
    let candidates = [
        payload.get("authorization"),
        payload.get("Authorization"),
        payload
            .get("headers")
            .and_then(|h| h.get("Authorization").or_else(|| h.get("authorization"))),
        payload.get("token"),
    ];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .map(|v| {
            v.trim()
                .strip_prefix("Bearer ")
                .unwrap_or(v.trim())
                .trim()
                .to_string()
        })
        .find(|v| !v.is_empty())
}

/// Whether the client chose the legacy `graphql-ws` protocol (as async-graphql reads it:
/// the first protocol it knows in `Sec-WebSocket-Protocol`).
pub fn is_legacy(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        })
        .is_some_and(|p| matches!(p, WebSocketProtocols::SubscriptionsTransportWS))
}

pub struct Connection {
    pub schema: AppSchema,
    pub protocol: GraphQLProtocol,
    pub legacy: bool,
    pub state: AppState,
    pub client: ClientInfo,
    pub request_id: RequestId,
}

pub async fn serve(socket: WebSocket, connection: Connection) {
    let Connection {
        schema,
        protocol,
        legacy,
        state,
        client,
        request_id,
    } = connection;
    let (mut socket_tx, mut socket_rx) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(64);

    // The writer: everything to the client goes through here.
    let writer = tokio::spawn(async move {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            let message = tokio::select! {
                message = out_rx.recv() => match message {
                    Some(message) => rewrite_close(message),
                    None => break,
                },
                _ = ping.tick() => {
                    if legacy {
                        let _ = socket_tx.send(Message::Text(json!({ "type": "ka" }).to_string().into())).await;
                    }
                    Message::Ping(Vec::new().into())
                }
            };
            let closing = matches!(message, Message::Close(_));
            if socket_tx.send(message).await.is_err() || closing {
                break;
            }
        }
        let _ = socket_tx.close().await;
    });

    // The reader: enforces the init deadline and the subscription bound, then hands
    // messages to async-graphql.
    let (in_tx, in_rx) = mpsc::channel::<Result<Message, axum::Error>>(16);
    let guard_out = out_tx.clone();
    let reader = tokio::spawn(async move {
        let deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(deadline);
        let mut initialised = false;
        let mut active: HashSet<String> = HashSet::new();
        loop {
            let message = tokio::select! {
                message = socket_rx.next() => message,
                () = &mut deadline, if !initialised => {
                    let _ = guard_out.send(close(4408, "Connection initialisation timeout")).await;
                    break;
                }
            };
            let Some(Ok(message)) = message else { break };
            if let Message::Text(text) = &message
                && let Ok(parsed) = serde_json::from_str::<Value>(text)
            {
                let kind = parsed
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let id = parsed
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                match kind {
                    "connection_init" => initialised = true,
                    "subscribe" | "start" => {
                        if !active.contains(&id) && active.len() >= MAX_SUBSCRIPTIONS {
                            let _ = guard_out.send(too_many(&id, legacy)).await;
                            continue;
                        }
                        active.insert(id);
                    }
                    "complete" | "stop" => {
                        active.remove(&id);
                    }
                    _ => {}
                }
            }
            if in_tx.send(Ok(message)).await.is_err() {
                break;
            }
        }
    });

    let sink = futures::sink::unfold(out_tx, |out_tx, message: Message| async move {
        out_tx
            .send(message)
            .await
            .map_err(|_| axum::Error::new("connection closed"))?;
        Ok::<_, axum::Error>(out_tx)
    });
    let input = tokio_stream::wrappers::ReceiverStream::new(in_rx);
    GraphQLWebSocket::new_with_pair(Box::pin(sink), input, schema, protocol)
        .on_connection_init(move |payload| async move {
            let mut data = Data::default();
            let auth = match credential_from_init(&payload) {
                Some(credential) => match auth::authenticate(&state, &credential).await {
                    Ok(caller) => Auth::resolved(caller),
                    Err(AppError::Unauthenticated(message)) => {
                        return Err(async_graphql::Error::new(format!(
                            "{FORBIDDEN_MARK}{message}"
                        )));
                    }
                    Err(other) => {
                        tracing::error!(error = %other, "connection_init failed");
                        return Err(async_graphql::Error::new("internal server error"));
                    }
                },
                None => Auth::from_credential(None),
            };
            data.insert(auth);
            data.insert(client);
            data.insert(request_id);
            Ok(data)
        })
        .serve()
        .await;
    reader.abort();
    let _ = writer.await;
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_string().into(),
    }))
}

/// async-graphql closes a refused `connection_init` with 1002; the protocol says 4403.
fn rewrite_close(message: Message) -> Message {
    match &message {
        Message::Close(Some(frame)) if frame.reason.starts_with(FORBIDDEN_MARK) => {
            close(4403, "Forbidden")
        }
        _ => message,
    }
}

fn too_many(id: &str, legacy: bool) -> Message {
    let error = json!({
        "message": format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection"),
        "extensions": { "code": "RATE_LIMITED" }
    });
    let body = if legacy {
        json!({ "id": id, "type": "error", "payload": error })
    } else {
        json!({ "id": id, "type": "error", "payload": [error] })
    };
    Message::Text(body.to_string().into())
}
