//! Talking to Organizer as any client would: GraphQL over HTTP, subscriptions over a
//! WebSocket (`graphql-transport-ws`, the credential in `connection_init`).

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest},
};

/// The fields every progress subscription asks for.
pub const PROGRESS_FIELDS: &str = "operationId status phase filesTotal filesScanned filesProcessed filesSkipped duplicatesFound spaceSavedBytes percent updatedAt";

#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub port: u16,
}

impl Api {
    pub fn new(port: u16) -> Self {
        Self {
            http: reqwest::Client::new(),
            port,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The `data` of a query or mutation; GraphQL errors become an `Err`.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Result<Value> {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .timeout(Duration::from_secs(600))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.context("POST /graphql")?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("POST /graphql answered {status} without JSON"))?;
        if let Some(errors) = body.get("errors").filter(|e| !e.is_null()) {
            bail!("GraphQL errors ({status}): {errors}");
        }
        Ok(body["data"].clone())
    }
}

pub struct Session {
    pub user_id: String,
    pub token: String,
    pub login: String,
    pub password: String,
}

pub async fn signup(api: &Api, name: &str) -> Result<Session> {
    let password = format!("bench password of {name}");
    let data = api
        .gql(
            None,
            "mutation($i: SignupInput!) { signup(input: $i) { accessToken user { id } } }",
            json!({ "i": { "email": format!("{name}@example.com"), "username": name, "password": password } }),
        )
        .await
        .context("signup")?;
    Ok(Session {
        user_id: str_at(&data, &["signup", "user", "id"])?,
        token: str_at(&data, &["signup", "accessToken"])?,
        login: name.to_string(),
        password,
    })
}

pub const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";

impl Session {
    /// A fresh access token (they last 30 minutes; a run at a million files takes longer).
    pub async fn refresh(&mut self, api: &Api) -> Result<()> {
        let data = api
            .gql(
                None,
                LOGIN,
                json!({ "i": { "login": self.login, "password": self.password } }),
            )
            .await
            .context("login")?;
        self.token = str_at(&data, &["login", "accessToken"])?;
        Ok(())
    }
}

pub fn str_at(value: &Value, path: &[&str]) -> Result<String> {
    let mut at = value;
    for key in path {
        at = &at[*key];
    }
    at.as_str()
        .map(String::from)
        .ok_or_else(|| anyhow!("no {} in {value}", path.join(".")))
}

pub fn int_at(value: &Value, path: &[&str]) -> i64 {
    let mut at = value;
    for key in path {
        at = &at[*key];
    }
    at.as_i64()
        .or_else(|| at.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

pub fn is_terminal(status: &str) -> bool {
    matches!(status, "COMPLETED" | "FAILED" | "CANCELLED")
}

/// What a subscription sends (one subscription per connection here, so no ids).
pub enum Frame {
    /// A result, stamped when its frame arrived.
    Next {
        payload: Value,
        at: DateTime<Utc>,
    },
    Complete,
}

pub struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    /// Connects and authenticates; returns once the server acknowledged.
    pub async fn connect(port: u16, token: &str) -> Result<Self> {
        let mut request = format!("ws://127.0.0.1:{port}/graphql/ws").into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("a valid header"),
        );
        let (socket, _) = tokio::time::timeout(
            Duration::from_secs(30),
            tokio_tungstenite::connect_async(request),
        )
        .await
        .context("WebSocket connect timed out")?
        .context("WebSocket connect")?;
        let mut ws = Self { socket };
        ws.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
            .await?;
        loop {
            let message = ws.read(Duration::from_secs(30)).await?;
            match message["type"].as_str() {
                Some("connection_ack") => return Ok(ws),
                Some("ping") => ws.send(json!({ "type": "pong" })).await?,
                _ => bail!("expected connection_ack, got {message}"),
            }
        }
    }

    async fn send(&mut self, message: Value) -> Result<()> {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .context("WebSocket send")
    }

    /// The next protocol message (answering WebSocket pings on the way).
    async fn read(&mut self, limit: Duration) -> Result<Value> {
        Ok(self.read_stamped(limit).await?.0)
    }

    async fn read_stamped(&mut self, limit: Duration) -> Result<(Value, DateTime<Utc>)> {
        loop {
            let frame = tokio::time::timeout(limit, self.socket.next())
                .await
                .map_err(|_| anyhow!("nothing from the server for {limit:?}"))?;
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let at = Utc::now();
                    return Ok((serde_json::from_str(&text)?, at));
                }
                Some(Ok(Message::Close(frame))) => bail!("the server closed the socket: {frame:?}"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).context("WebSocket read"),
                None => bail!("the server closed the socket"),
            }
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) -> Result<()> {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await
    }

    /// The next result or completion; pings are answered, errors become an `Err`.
    /// `limit` bounds the wait for any message (the server pings every 20 s).
    pub async fn next(&mut self, limit: Duration) -> Result<Frame> {
        loop {
            let (message, at) = self.read_stamped(limit).await?;
            match message["type"].as_str() {
                Some("next") => {
                    if let Some(errors) = message["payload"].get("errors") {
                        bail!("subscription error: {errors}");
                    }
                    return Ok(Frame::Next {
                        payload: message["payload"]["data"].clone(),
                        at,
                    });
                }
                Some("complete") => return Ok(Frame::Complete),
                Some("error") => bail!("subscription error: {}", message["payload"]),
                Some("ping") => self.send(json!({ "type": "pong" })).await?,
                _ => {}
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// The event's own time (`updatedAt`, RFC 3339).
pub fn updated_at(progress: &Value) -> Option<DateTime<Utc>> {
    progress["updatedAt"]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}
