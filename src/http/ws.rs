//! The WebSocket for subscriptions (`/graphql/ws`), around async-graphql's protocol
//! handling (`graphql-transport-ws` and the legacy `graphql-ws`), with what it leaves out:
//!
//! * the credential comes in the `connection_init` payload; a bad one closes the socket
//!   with `4403 Forbidden` (legacy protocol: `connection_error`). It is checked again for
//!   every subscription started, and the socket closes with `4403` when it stops being
//!   good: at its expiry, when the key is revoked or the session ends (a notice from any
//!   process, `credentials_changed`), or at the latest at the next `RECHECK_EVERY`;
//! * no signed-in `connection_init` within `INIT_TIMEOUT` closes it with `4408` (one
//!   without a credential does not count: nothing can be subscribed to anonymously);
//! * at most `MAX_SUBSCRIPTIONS` live at once per connection (a subscription stops
//!   counting when the client stops it *or* the server completes it); more are refused;
//! * text and binary frames are read alike, so neither slips past the count;
//! * at most so many connections per client address (`http::graphql_ws`, before the
//!   upgrade) and per user (at `connection_init`, closing with `4429`);
//! * messages over `MAX_MESSAGE_BYTES` close the socket (axum's frame limit);
//! * a ping every `PING_EVERY` keeps proxies from dropping idle connections (a WebSocket
//!   ping frame, and `ka` on the legacy protocol).
//!
//! Outgoing messages pass through one writer task, so a slow client only ever slows its
//! own connection.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::{Data, http::WebSocketProtocols};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use uuid::Uuid;

use tokio::sync::broadcast::error::RecvError;

use crate::{
    auth::{self, Caller, ClientInfo},
    error::AppError,
    gate::{Gate, Slot},
    graphql::{AppSchema, context::Auth, errors::RequestId},
    jobs::hub::UserEvent,
    state::AppState,
};

pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
pub const MAX_SUBSCRIPTIONS: usize = 100;
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// How often a signed-in socket checks its credential when no notice came.
pub const RECHECK_EVERY: Duration = Duration::from_secs(60);
const FORBIDDEN_MARK: &str = "forbidden: ";
const TOO_MANY_MARK: &str = "too many connections: ";

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
    /// This connection's place among its address's connections.
    pub address_slot: Slot<String>,
    pub user_gate: Gate<Uuid>,
}

/// Subscription ids live on one connection, shared by the reader (which adds them) and
/// the writer (which sees the server complete them).
type Live = Arc<Mutex<HashSet<String>>>;

/// A frame's text: binary frames are read as text too (the protocols are JSON either way).
fn frame_text(message: &Message) -> Option<&str> {
    match message {
        Message::Text(text) => Some(text.as_str()),
        Message::Binary(bytes) => std::str::from_utf8(bytes).ok(),
        _ => None,
    }
}

/// `(type, id)` of a protocol message, without parsing frames that cannot be one.
fn kind_and_id(text: &str) -> Option<(String, String)> {
    let parsed: Value = serde_json::from_str(text).ok()?;
    let kind = parsed.get("type")?.as_str()?.to_string();
    let id = parsed
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Some((kind, id))
}

pub async fn serve(socket: WebSocket, connection: Connection) {
    let Connection {
        schema,
        protocol,
        legacy,
        state,
        client,
        request_id,
        address_slot,
        user_gate,
    } = connection;
    metrics::gauge!(crate::metrics::WEBSOCKETS).increment(1.0);
    let (mut socket_tx, mut socket_rx) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(64);
    let live: Live = Arc::default();
    let writer_live = live.clone();

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
            // The server ended a subscription: it no longer counts against the bound.
            if let Message::Text(text) = &message
                && (text.contains("\"complete\"") || text.contains("\"error\""))
                && let Some((kind, id)) = kind_and_id(text)
                && matches!(kind.as_str(), "complete" | "error")
            {
                writer_live
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id);
            }
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
    let watch_out = out_tx.clone();
    let reader = tokio::spawn(async move {
        let deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(deadline);
        let mut initialised = false;
        loop {
            let message = tokio::select! {
                message = socket_rx.next() => message,
                () = &mut deadline, if !initialised => {
                    let _ = guard_out.send(close(4408, "Connection initialisation timeout: sign in")).await;
                    break;
                }
            };
            let Some(Ok(message)) = message else { break };
            let message = match message {
                Message::Binary(_) => match frame_text(&message) {
                    Some(text) => Message::Text(text.to_string().into()),
                    None => {
                        let _ = guard_out
                            .send(close(1007, "frames must be UTF-8 JSON"))
                            .await;
                        break;
                    }
                },
                other => other,
            };
            if let Some((kind, id)) = frame_text(&message).and_then(kind_and_id) {
                match kind.as_str() {
                    "connection_init" => {
                        initialised = frame_text(&message)
                            .and_then(|text| serde_json::from_str::<Value>(text).ok())
                            .and_then(|init| init.get("payload").and_then(credential_from_init))
                            .is_some();
                    }
                    "subscribe" | "start" => {
                        let refused = {
                            let mut live = live.lock().unwrap_or_else(|p| p.into_inner());
                            let full = !live.contains(&id) && live.len() >= MAX_SUBSCRIPTIONS;
                            if !full {
                                live.insert(id.clone());
                            }
                            full
                        };
                        if refused {
                            let _ = guard_out.send(too_many(&id, legacy)).await;
                            continue;
                        }
                    }
                    "complete" | "stop" => {
                        live.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
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
    // The user's slot is taken at `connection_init` and held until the socket closes.
    let user_slot: Arc<Mutex<Option<Slot<Uuid>>>> = Arc::default();
    let held = user_slot.clone();
    // The credential, once good, goes to the watcher that closes the socket when it
    // stops being good.
    let (signed_tx, signed_rx) = tokio::sync::oneshot::channel::<(String, Caller)>();
    let signed_tx = Arc::new(Mutex::new(Some(signed_tx)));
    let watcher = tokio::spawn(watch_credential(
        state.clone(),
        signed_rx,
        watch_out,
        reader.abort_handle(),
    ));
    GraphQLWebSocket::new_with_pair(Box::pin(sink), input, schema, protocol)
        .on_connection_init(move |payload| async move {
            let mut data = Data::default();
            let auth = match credential_from_init(&payload) {
                Some(credential) => match auth::authenticate(&state, &credential).await {
                    Ok(caller) => {
                        let Some(slot) = user_gate.try_enter(caller.user_id()) else {
                            return Err(async_graphql::Error::new(format!(
                                "{TOO_MANY_MARK}this account has too many open connections"
                            )));
                        };
                        *held.lock().unwrap_or_else(|p| p.into_inner()) = Some(slot);
                        if let Some(tx) = signed_tx.lock().unwrap_or_else(|p| p.into_inner()).take()
                        {
                            let _ = tx.send((credential.clone(), caller));
                        }
                        Auth::every_use(credential)
                    }
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
    watcher.abort();
    let _ = writer.await;
    drop(user_slot);
    drop(address_slot);
    metrics::gauge!(crate::metrics::WEBSOCKETS).decrement(1.0);
}

/// Closes the socket (4403) when its credential stops being good: at its expiry, on a
/// notice that the user's credentials changed, and every `RECHECK_EVERY` in case a
/// notice was lost. A check that fails for another reason (the database away) keeps it.
async fn watch_credential(
    state: AppState,
    signed: tokio::sync::oneshot::Receiver<(String, Caller)>,
    out: mpsc::Sender<Message>,
    reader: tokio::task::AbortHandle,
) {
    let Ok((credential, caller)) = signed.await else {
        return;
    };
    let mut listener = state.bus.hub().listen(caller.user_id());
    let left = caller
        .expires_at
        .map(|at| (at - chrono::Utc::now()).to_std().unwrap_or_default());
    let expiry = tokio::time::sleep(left.unwrap_or(RECHECK_EVERY));
    tokio::pin!(expiry);
    let mut recheck = tokio::time::interval(RECHECK_EVERY);
    recheck.tick().await;
    let reason = loop {
        tokio::select! {
            () = &mut expiry, if left.is_some() => break "Forbidden: the credential expired",
            event = listener.rx.recv() => match event {
                Ok(UserEvent::CredentialsChanged) | Err(RecvError::Lagged(_)) => {}
                Ok(UserEvent::Progress(_)) => continue,
                Err(RecvError::Closed) => return,
            },
            _ = recheck.tick() => {}
        }
        match still_good(&state, &credential, &caller).await {
            Ok(true) => {}
            Ok(false) => break "Forbidden: the credential was revoked",
            Err(err) => tracing::warn!(error = %err, "could not check a connection's credential"),
        }
    };
    let _ = out.send(close(4403, reason)).await;
    reader.abort();
}

/// Whether a socket's credential still signs its user in, and its session still lives.
async fn still_good(state: &AppState, credential: &str, caller: &Caller) -> anyhow::Result<bool> {
    match auth::authenticate(state, credential).await {
        Ok(now) if now.user_id() == caller.user_id() => {}
        Ok(_) | Err(AppError::Unauthenticated(_)) => return Ok(false),
        Err(err) => return Err(err.into()),
    }
    match caller.session {
        Some(session) => Ok(auth::accounts::session_is_live(state, session).await?),
        None => Ok(true),
    }
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
        Message::Close(Some(frame)) if frame.reason.starts_with(TOO_MANY_MARK) => {
            close(4429, "Too many connections")
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
