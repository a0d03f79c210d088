//! Live progress over a real WebSocket: both protocols, auth, isolation, many listeners,
//! stalled listeners, and the per-connection bounds.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

use crate::helpers::{Account, Space, TestApp, spawn_app, user_dir, write_tree};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const PROGRESS: &str = "subscription($id: ID!) { operationProgress(id: $id) { operationId status phase filesTotal filesScanned filesProcessed filesSkipped duplicatesFound spaceSavedBytes percent message updatedAt } }";

enum Event {
    Message(Value),
    Closed(Option<u16>),
}

struct Client {
    socket: Socket,
    legacy: bool,
}

impl Client {
    async fn connect(app: &TestApp, legacy: bool) -> Self {
        let mut request = format!("ws://{}/graphql/ws", app.address)
            .into_client_request()
            .unwrap();
        let protocol = if legacy {
            "graphql-ws"
        } else {
            "graphql-transport-ws"
        };
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket connects");
        assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
        Self { socket, legacy }
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(tungstenite::Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// The next protocol message (pings and keep-alives skipped), or the close.
    async fn next(&mut self) -> Event {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(60), self.socket.next())
                .await
                .expect("a message within 60 s");
            match frame {
                Some(Ok(tungstenite::Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if value["type"] == "ka" || value["type"] == "ping" || value["type"] == "pong" {
                        continue;
                    }
                    return Event::Message(value);
                }
                Some(Ok(tungstenite::Message::Close(frame))) => {
                    return Event::Closed(frame.map(|f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Event::Closed(None),
            }
        }
    }

    async fn message(&mut self) -> Value {
        match self.next().await {
            Event::Message(value) => value,
            Event::Closed(code) => panic!("socket closed ({code:?})"),
        }
    }

    async fn init(&mut self, payload: Value) -> Event {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        self.next().await
    }

    async fn init_with(&mut self, account: &Account) {
        match self
            .init(json!({ "Authorization": format!("Bearer {}", account.access_token) }))
            .await
        {
            Event::Message(ack) => assert_eq!(ack["type"], "connection_ack", "{ack}"),
            Event::Closed(code) => panic!("closed at init ({code:?})"),
        }
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.legacy { "start" } else { "subscribe" };
        self.send(json!({ "id": id, "type": kind, "payload": { "query": query, "variables": variables } })).await;
    }

    /// Payloads of one subscription until it completes; errors are returned as payloads.
    async fn collect(&mut self, id: &str) -> Vec<Value> {
        let data = if self.legacy { "data" } else { "next" };
        let mut out = Vec::new();
        loop {
            let message = self.message().await;
            if message["id"] != id {
                continue;
            }
            match message["type"].as_str().unwrap() {
                t if t == data => out.push(message["payload"].clone()),
                "error" => out.push(json!({ "errors": message["payload"] })),
                "complete" => return out,
                other => panic!("unexpected {other}: {message}"),
            }
        }
    }
}

fn many(s: &Space, count: usize) {
    for i in 0..count {
        s.write(&[(
            &format!("big/d{}/f{i}.txt", i % 20),
            format!("file {i}").as_bytes(),
        )]);
    }
}

/// Checks a whole progress stream: a snapshot first, percent never falling, the terminal
/// event last.
fn check_stream(payloads: &[Value], final_status: &str) -> Vec<Value> {
    let events: Vec<Value> = payloads
        .iter()
        .map(|p| p["data"]["operationProgress"].clone())
        .collect();
    assert!(events.iter().all(|e| e.is_object()), "{payloads:?}");
    let mut best = -1.0;
    for event in &events {
        if let Some(percent) = event["percent"].as_f64() {
            assert!(percent >= best, "percent went down: {events:#?}");
            best = percent;
        }
    }
    let last = events.last().unwrap();
    assert_eq!(last["status"], final_status, "{last}");
    assert_eq!(last["phase"], "DONE");
    assert!(
        events[..events.len() - 1]
            .iter()
            .all(|e| e["status"] != final_status),
        "terminal only at the end"
    );
    events
}

/// Starts an operation with no options; its id.
async fn start(s: &Space, kind: &str, root: &str) -> String {
    let op = s.start(kind, root, json!({})).await;
    op["id"].as_str().unwrap().to_string()
}

/// The id of the latest completed ORGANIZE.
async fn latest_organize(s: &Space) -> String {
    let body = s
        .gql(
            "{ operations(type: ORGANIZE, status: COMPLETED) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    body["data"]["operations"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string()
}

#[tokio::test]
async fn progress_goes_snapshot_then_live_then_terminal_then_complete() {
    // No worker yet: the subscription is surely open before the operation starts.
    let s = Space::with(|c| c.workers = 0).await;
    many(&s, 600);
    s.write(&[
        ("big/dup1.bin", &[7u8; 5000]),
        ("big/dup2.bin", &[7u8; 5000]),
    ]);

    for kind in ["ORGANIZE", "DUPLICATE_CLEANUP", "ROLLBACK"] {
        let id = if kind == "ROLLBACK" {
            let organized = latest_organize(&s).await;
            let rollback = s.rollback(&organized).await;
            rollback["id"].as_str().unwrap().to_string()
        } else {
            start(&s, kind, "big").await
        };
        let mut client = Client::connect(&s.app, false).await;
        client.init_with(&s.user).await;
        client.subscribe("1", PROGRESS, json!({ "id": id })).await;
        let first = client.message().await;
        assert_eq!(
            first["payload"]["data"]["operationProgress"]["status"], "PENDING",
            "snapshot first: {first}"
        );
        assert!(
            first["payload"]["data"]["operationProgress"]["percent"].is_null(),
            "no total yet"
        );
        let workers = organizer::engine::worker::spawn_workers(&s.app.state.engine(), 1);
        let mut payloads = vec![first["payload"].clone()];
        payloads.extend(client.collect("1").await);
        let events = check_stream(&payloads, "COMPLETED");
        assert!(
            events.len() >= 3,
            "{kind}: snapshot, live events and the end: {events:#?}"
        );
        let last = events.last().unwrap();
        assert_eq!(last["operationId"], id.as_str());
        assert_eq!(last["percent"], 100.0);
        match kind {
            "DUPLICATE_CLEANUP" => assert_eq!(last["duplicatesFound"], 1, "{last}"),
            _ => assert!(last["filesProcessed"].as_i64().unwrap() > 0, "{last}"),
        }
        for worker in workers {
            worker.abort();
        }
    }
}

#[tokio::test]
async fn a_finished_operation_yields_its_final_snapshot_and_completes() {
    let s = Space::new().await;
    s.write(&[("x/a.jpg", b"a")]);
    let op = s.run("ORGANIZE", "x", json!({})).await;
    for legacy in [false, true] {
        let mut client = Client::connect(&s.app, legacy).await;
        client.init_with(&s.user).await;
        client
            .subscribe("7", PROGRESS, json!({ "id": op["id"] }))
            .await;
        let payloads = client.collect("7").await;
        assert_eq!(payloads.len(), 1, "{payloads:?}");
        let events = check_stream(&payloads, "COMPLETED");
        assert_eq!(events[0]["filesProcessed"], 1);
        // Timed when the row was written, not when it was read: a client keeping the
        // newest event by `updatedAt` must not take a snapshot for news.
        let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
        assert_eq!(
            at(&events[0]["updatedAt"]),
            at(&op["completedAt"]),
            "{events:?} {op}"
        );
    }
}

#[tokio::test]
async fn the_legacy_protocol_streams_progress_too() {
    let s = Space::with(|c| c.workers = 0).await;
    many(&s, 300);
    let id = start(&s, "ORGANIZE", "big").await;
    let mut client = Client::connect(&s.app, true).await;
    client.init_with(&s.user).await;
    client.subscribe("a", PROGRESS, json!({ "id": id })).await;
    let first = client.message().await;
    assert_eq!(first["type"], "data", "{first}");
    let _workers = organizer::engine::worker::spawn_workers(&s.app.state.engine(), 1);
    let mut payloads = vec![first["payload"].clone()];
    payloads.extend(client.collect("a").await);
    check_stream(&payloads, "COMPLETED");
}

#[tokio::test]
async fn bad_tokens_close_the_socket_and_missing_ones_are_unauthenticated() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    for payload in [
        json!({ "Authorization": "Bearer not-a-token" }),
        json!({ "token": ada.refresh_token }),
        json!({ "headers": { "Authorization": "Bearer org_fake_key" } }),
    ] {
        let mut client = Client::connect(&app, false).await;
        match client.init(payload.clone()).await {
            Event::Closed(code) => assert_eq!(code, Some(4403), "{payload}"),
            Event::Message(m) => panic!("accepted a bad token: {m}"),
        }
        let mut legacy = Client::connect(&app, true).await;
        match legacy.init(payload).await {
            Event::Message(m) => assert_eq!(m["type"], "connection_error", "{m}"),
            Event::Closed(_) => {}
        }
    }
    // Every accepted form of a good credential.
    for payload in [
        json!({ "authorization": format!("Bearer {}", ada.access_token) }),
        json!({ "headers": { "Authorization": format!("Bearer {}", ada.access_token) } }),
        json!({ "token": ada.access_token }),
    ] {
        let mut client = Client::connect(&app, false).await;
        match client.init(payload.clone()).await {
            Event::Message(m) => assert_eq!(m["type"], "connection_ack", "{payload}"),
            Event::Closed(code) => panic!("refused {payload}: {code:?}"),
        }
    }
    let mut anonymous = Client::connect(&app, false).await;
    match anonymous.init(json!({})).await {
        Event::Message(m) => assert_eq!(m["type"], "connection_ack"),
        Event::Closed(code) => panic!("{code:?}"),
    }
    anonymous
        .subscribe(
            "1",
            "subscription { operationEvents { operationId } }",
            json!({}),
        )
        .await;
    let payloads = anonymous.collect("1").await;
    assert_eq!(
        payloads[0]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{payloads:?}"
    );
}

#[tokio::test]
async fn another_users_operation_is_not_found_like_a_made_up_one() {
    let s = Space::new().await;
    let bob = s.app.signup("bob").await;
    s.write(&[("x/a.jpg", b"a")]);
    let op = s.run("ORGANIZE", "x", json!({})).await;
    let mut client = Client::connect(&s.app, false).await;
    client.init_with(&bob).await;
    client
        .subscribe("theirs", PROGRESS, json!({ "id": op["id"] }))
        .await;
    let theirs = client.collect("theirs").await;
    client
        .subscribe(
            "nobody",
            PROGRESS,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    let nobody = client.collect("nobody").await;
    assert_eq!(
        theirs[0]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{theirs:?}"
    );
    assert_eq!(
        theirs[0]["errors"][0]["message"],
        nobody[0]["errors"][0]["message"]
    );
    assert!(!theirs[0].to_string().contains("COMPLETED"));
}

#[tokio::test]
async fn two_hundred_listeners_all_get_the_terminal_event() {
    let s = Space::with(|c| c.workers = 0).await;
    many(&s, 300);
    let id = start(&s, "ORGANIZE", "big").await;
    let mut clients = Vec::new();
    for n in 0..200 {
        let mut client = Client::connect(&s.app, n % 2 == 1).await;
        client.init_with(&s.user).await;
        client.subscribe("p", PROGRESS, json!({ "id": id })).await;
        let snapshot = client.message().await;
        assert_eq!(
            snapshot["payload"]["data"]["operationProgress"]["status"],
            "PENDING"
        );
        clients.push(client);
    }
    let _workers = organizer::engine::worker::spawn_workers(&s.app.state.engine(), 1);
    let finals = futures::future::join_all(clients.iter_mut().map(|c| async move {
        let payloads = c.collect("p").await;
        payloads.last().unwrap()["data"]["operationProgress"]["status"].clone()
    }))
    .await;
    assert_eq!(finals.len(), 200);
    assert!(finals.iter().all(|s| s == "COMPLETED"), "{finals:?}");
}

#[tokio::test]
async fn a_stalled_listener_neither_blocks_the_job_nor_loses_the_end() {
    let s = Space::with(|c| c.workers = 0).await;
    many(&s, 1500);
    let id = start(&s, "ORGANIZE", "big").await;
    let mut stalled = Client::connect(&s.app, false).await;
    stalled.init_with(&s.user).await;
    stalled.subscribe("s", PROGRESS, json!({ "id": id })).await;
    let _workers = organizer::engine::worker::spawn_workers(&s.app.state.engine(), 1);
    // The listener reads nothing while the job runs to its end.
    let op = s.wait(&id).await;
    assert_eq!(op["status"], "COMPLETED");
    let payloads = stalled.collect("s").await;
    let events = check_stream(&payloads, "COMPLETED");
    assert_eq!(events.last().unwrap()["filesProcessed"], 1500);
}

#[tokio::test]
async fn operation_events_sees_operations_started_after_subscribing() {
    let s = Space::new().await;
    let bob = s.app.signup("bob").await;
    s.write(&[("x/a.jpg", b"a")]);
    write_tree(&user_dir(&s.app, &bob), &[("y/b.jpg", b"b")]);
    let mut client = Client::connect(&s.app, false).await;
    client.init_with(&s.user).await;
    client
        .subscribe(
            "all",
            "subscription { operationEvents { operationId status } }",
            json!({}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.app
        .run_operation(&bob.access_token, "ORGANIZE", "y", false, json!({}))
        .await;
    let id = start(&s, "ORGANIZE", "x").await;
    loop {
        let message = client.message().await;
        assert_eq!(message["type"], "next", "{message}");
        let event = &message["payload"]["data"]["operationEvents"];
        assert_eq!(
            event["operationId"],
            id.as_str(),
            "only Ada's operations: {event}"
        );
        if event["status"] == "COMPLETED" {
            break;
        }
    }
}

#[tokio::test]
async fn connections_are_bounded() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    // Too many subscriptions on one connection.
    let mut client = Client::connect(&app, false).await;
    client.init_with(&ada).await;
    for n in 0..101 {
        client
            .subscribe(
                &n.to_string(),
                "subscription { operationEvents { operationId } }",
                json!({}),
            )
            .await;
    }
    let refused = client.message().await;
    assert_eq!(refused["id"], "100", "{refused}");
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");

    // A message over the size bound closes the socket.
    let mut big = Client::connect(&app, false).await;
    big.init_with(&ada).await;
    big.subscribe(
        "x",
        &format!(
            "subscription {{ operationEvents {{ operationId }} }} #{}",
            "x".repeat(100_000)
        ),
        json!({}),
    )
    .await;
    assert!(matches!(big.next().await, Event::Closed(_)));

    // No connection_init in time.
    let mut silent = Client::connect(&app, false).await;
    match silent.next().await {
        Event::Closed(code) => assert_eq!(code, Some(4408)),
        Event::Message(m) => panic!("{m}"),
    }
}

#[tokio::test]
async fn binary_frames_count_against_the_subscription_bound() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let mut client = Client::connect(&app, false).await;
    client.init_with(&ada).await;
    for n in 0..101 {
        let message = json!({ "id": n.to_string(), "type": "subscribe", "payload": { "query": "subscription { operationEvents { operationId } }" } });
        client
            .socket
            .send(tungstenite::Message::Binary(
                message.to_string().into_bytes().into(),
            ))
            .await
            .unwrap();
    }
    let refused = client.message().await;
    assert_eq!(refused["id"], "100", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // Binary that is not text closes the socket.
    client
        .socket
        .send(tungstenite::Message::Binary(vec![0xff, 0xfe, 0x00].into()))
        .await
        .unwrap();
    loop {
        match client.next().await {
            Event::Closed(code) => {
                assert_eq!(code, Some(1007));
                break;
            }
            Event::Message(_) => continue,
        }
    }
}

#[tokio::test]
async fn subscriptions_the_server_completed_stop_counting() {
    let s = Space::new().await;
    s.write(&[("in/a.txt", b"a")]);
    let done = s.run("ORGANIZE", "in", json!({})).await;
    let id = done["id"].as_str().unwrap().to_string();
    let mut client = Client::connect(&s.app, false).await;
    client.init_with(&s.user).await;
    // A finished operation's progress is one snapshot, then the server completes it:
    // far more of them than the bound, one after another, on one healthy connection.
    for n in 0..150 {
        let sub = format!("s{n}");
        client.subscribe(&sub, PROGRESS, json!({ "id": id })).await;
        let payloads = client.collect(&sub).await;
        assert_eq!(
            payloads.last().unwrap()["data"]["operationProgress"]["status"],
            "COMPLETED",
            "subscription {n}: {payloads:?}"
        );
    }
}

#[tokio::test]
async fn connections_are_capped_per_user_and_per_address() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.ws_max_connections_per_user = 2;
        c.ws_max_connections_per_address = 4;
    })
    .await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    let mut first = Client::connect(&app, false).await;
    first.init_with(&ada).await;
    let mut second = Client::connect(&app, false).await;
    second.init_with(&ada).await;
    let mut third = Client::connect(&app, false).await;
    match third
        .init(json!({ "Authorization": format!("Bearer {}", ada.access_token) }))
        .await
    {
        Event::Closed(code) => assert_eq!(code, Some(4429)),
        Event::Message(m) => panic!("a third connection for ada was accepted: {m}"),
    }
    drop(third);
    // Another user from the same address still gets in, up to the address cap.
    let mut bobs = Client::connect(&app, false).await;
    bobs.init_with(&bob).await;
    // Four open from this address (third was dropped): wait until the server noticed.
    let mut refused = None;
    for _ in 0..50 {
        let mut request = format!("ws://{}/graphql/ws", app.address)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        match tokio_tungstenite::connect_async(request).await {
            Err(tungstenite::Error::Http(response)) => {
                refused = Some(response.status().as_u16());
                break;
            }
            Ok((socket, _)) => {
                // The slot of `third` may not be given back yet; this one fills it.
                std::mem::forget(socket);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(refused, Some(429));
    // Closing a connection gives its user slot back.
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut request = format!("ws://{}/graphql/ws", app.address)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        if let Ok((socket, _)) = tokio_tungstenite::connect_async(request).await {
            again = Some(socket);
            break;
        }
    }
    let _ = again.expect("a slot frees up once a connection closes");
    drop(second);
}

#[tokio::test]
async fn an_events_listener_that_fell_behind_re_reads_what_changed_meanwhile() {
    use organizer::{graphql::subscriptions::user_events, jobs::bus::ProgressEvent};
    use sea_orm::EntityTrait;

    let s = Space::new().await;
    s.write(&[("x/a.jpg", b"a"), ("x/b.txt", b"b")]);
    let done = s.run("ORGANIZE", "x", json!({})).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let id: uuid::Uuid = done["id"].as_str().unwrap().parse().unwrap();
    let user: uuid::Uuid = s.user.id.parse().unwrap();
    let op = entity::operations::Entity::find_by_id(id)
        .one(&s.app.state.db)
        .await
        .unwrap()
        .unwrap();
    // A listener that dropped the events it did not read in time, the operation's end
    // among them (a user's channel holds 256).
    let hub = s.app.state.bus.hub();
    let listener = hub.listen(user);
    let mut running = ProgressEvent::from(&op);
    running.status = entity::states::OperationStatus::Running;
    for _ in 0..3 {
        hub.dispatch(running.clone());
    }
    hub.dispatch(ProgressEvent::from(&op));
    for _ in 0..300 {
        hub.dispatch(running.clone());
    }
    let mut events = Box::pin(user_events(s.app.state.clone(), user, listener));
    let first = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("the listener answers")
        .expect("an event");
    assert_eq!(first.operation_id, id);
    assert_eq!(
        first.status,
        entity::states::OperationStatus::Completed,
        "the end, re-read from the database"
    );
}

/// Waits up to `within` for the socket to close; its close code.
async fn closes_within(client: &mut Client, within: Duration) -> Option<u16> {
    tokio::time::timeout(within, async {
        loop {
            if let Event::Closed(code) = client.next().await {
                return code;
            }
        }
    })
    .await
    .expect("the socket closes in time")
}

/// A new API key of the account: its secret and id.
async fn create_key(app: &TestApp, account: &Account, name: &str) -> (String, String) {
    let created = app
        .gql(
            Some(&account.access_token),
            "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id } } }",
            json!({ "i": { "name": name } }),
        )
        .await;
    let key = &created["data"]["createApiKey"];
    let text = |v: &Value| {
        v.as_str()
            .unwrap_or_else(|| panic!("{created}"))
            .to_string()
    };
    (text(&key["secret"]), text(&key["apiKey"]["id"]))
}

#[tokio::test]
async fn a_socket_closes_when_its_key_is_revoked_and_new_subscriptions_check_the_key() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let (secret, key_id) = create_key(&app, &ada, "socket").await;
    let mut client = Client::connect(&app, false).await;
    match client
        .init(json!({ "Authorization": format!("Bearer {secret}") }))
        .await
    {
        Event::Message(m) => assert_eq!(m["type"], "connection_ack", "{m}"),
        Event::Closed(code) => panic!("{code:?}"),
    }
    client
        .subscribe(
            "1",
            "subscription { operationEvents { operationId } }",
            json!({}),
        )
        .await;
    let revoked = app
        .gql(
            Some(&ada.access_token),
            "mutation($id: ID!) { revokeApiKey(id: $id) }",
            json!({ "id": key_id }),
        )
        .await;
    assert_eq!(revoked["data"]["revokeApiKey"], true, "{revoked}");
    assert_eq!(
        closes_within(&mut client, Duration::from_secs(5)).await,
        Some(4403)
    );

    // A socket signed in with a key revoked before it subscribes cannot subscribe either
    // (the close arrives within the second; a new subscription is refused regardless).
    let (secret, key_id) = create_key(&app, &ada, "second").await;
    let mut second = Client::connect(&app, false).await;
    match second.init(json!({ "token": secret })).await {
        Event::Message(m) => assert_eq!(m["type"], "connection_ack", "{m}"),
        Event::Closed(code) => panic!("{code:?}"),
    }
    organizer::auth::api_keys::revoke(
        &app.state.db,
        ada.id.parse().unwrap(),
        key_id.parse().unwrap(),
    )
    .await
    .unwrap(); // revoked without the notice: only the per-subscription check can see it
    second
        .subscribe(
            "2",
            "subscription { operationEvents { operationId } }",
            json!({}),
        )
        .await;
    let payloads = second.collect("2").await;
    assert_eq!(
        payloads[0]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{payloads:?}"
    );
}

#[tokio::test]
async fn a_socket_closes_when_its_session_ends_or_its_token_expires() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let mut client = Client::connect(&app, false).await;
    client.init_with(&ada).await;
    let logout = app
        .gql(
            None,
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": ada.refresh_token }),
        )
        .await;
    assert_eq!(logout["data"]["logout"], true, "{logout}");
    assert_eq!(
        closes_within(&mut client, Duration::from_secs(5)).await,
        Some(4403)
    );

    // A token that expires in two seconds, signed as the server signs (HS256).
    let now = chrono::Utc::now().timestamp();
    let token = hs256_token(json!({
        "sub": ada.id, "iss": "organizer", "aud": "organizer-api", "iat": now, "exp": now + 2,
        "jti": uuid::Uuid::now_v7(), "typ": "access"
    }));
    let mut short = Client::connect(&app, false).await;
    match short.init(json!({ "token": token })).await {
        Event::Message(m) => assert_eq!(m["type"], "connection_ack", "{m}"),
        Event::Closed(code) => panic!("a fresh token was refused: {code:?}"),
    }
    assert_eq!(
        closes_within(&mut short, Duration::from_secs(8)).await,
        Some(4403)
    );
}

fn hs256_token(claims: Value) -> String {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let signing = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(crate::helpers::TEST_JWT_SECRET.as_bytes())
            .unwrap();
    mac.update(signing.as_bytes());
    format!("{signing}.{}", b64(&mac.finalize().into_bytes()))
}

#[tokio::test]
async fn a_socket_that_never_signs_in_is_closed_at_the_init_deadline() {
    let app = spawn_app().await;
    let mut anonymous = Client::connect(&app, false).await;
    match anonymous.init(json!({})).await {
        Event::Message(m) => assert_eq!(m["type"], "connection_ack"),
        Event::Closed(code) => panic!("{code:?}"),
    }
    assert_eq!(
        closes_within(&mut anonymous, Duration::from_secs(15)).await,
        Some(4408)
    );
}

#[tokio::test]
async fn subscriptions_are_bounded_per_account_across_its_sockets() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.max_subscriptions_per_user = 3;
        c.workers = 0; // the operation stays queued: each subscription answers a snapshot
    })
    .await;
    let ada = app.signup("ada").await;
    let bob = app.signup("bob").await;
    write_tree(&user_dir(&app, &ada), &[("in/a.txt", b"a")]);
    let started = app
        .start_operation(&ada.access_token, "ORGANIZE", "in", false, json!({}))
        .await;
    let op = started["data"]["startOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut first = Client::connect(&app, false).await;
    first.init_with(&ada).await;
    let mut second = Client::connect(&app, false).await;
    second.init_with(&ada).await;
    // A snapshot answers each subscription that was let in.
    async fn let_in(client: &mut Client, id: &str, op: &str) {
        client.subscribe(id, PROGRESS, json!({ "id": op })).await;
        let message = client.message().await;
        assert_eq!(message["id"], id, "{message}");
        assert_eq!(message["type"], "next", "{message}");
    }
    let_in(&mut first, "a", &op).await;
    let_in(&mut first, "b", &op).await;
    let_in(&mut second, "c", &op).await;
    second.subscribe("d", PROGRESS, json!({ "id": op })).await;
    let refused = second.collect("d").await;
    assert_eq!(
        refused[0]["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{refused:?}"
    );
    // Another account is not held back by ada's.
    let mut other = Client::connect(&app, false).await;
    other.init_with(&bob).await;
    other
        .subscribe(
            "x",
            "subscription { operationEvents { operationId } }",
            json!({}),
        )
        .await;
    let quiet = tokio::time::timeout(Duration::from_millis(500), other.message()).await;
    assert!(quiet.is_err(), "bob's subscription stays open: {quiet:?}");
    // Stopping one gives its place back.
    first.send(json!({ "id": "a", "type": "complete" })).await;
    let mut again = false;
    for attempt in 0..20 {
        let id = format!("e{attempt}");
        second.subscribe(&id, PROGRESS, json!({ "id": op })).await;
        let message = second.message().await;
        if message["type"] == "next" {
            again = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again, "a stopped subscription frees its place");
}

#[tokio::test]
async fn an_idle_listener_hears_a_change_that_no_event_announced() {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    // No workers: the operation stays queued; its row is then changed behind the bus's
    // back, as when an event is lost while Redis is away.
    let app = crate::helpers::spawn_app_with(|c| c.workers = 0).await;
    let ada = app.signup("ada").await;
    write_tree(&user_dir(&app, &ada), &[("in/a.txt", b"a")]);
    let started = app
        .start_operation(&ada.access_token, "ORGANIZE", "in", false, json!({}))
        .await;
    let id = started["data"]["startOperation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{started}"))
        .to_string();
    let mut client = Client::connect(&app, false).await;
    client.init_with(&ada).await;
    client.subscribe("p", PROGRESS, json!({ "id": id })).await;
    let first = client.message().await;
    assert_eq!(
        first["payload"]["data"]["operationProgress"]["status"], "PENDING",
        "{first}"
    );
    let op = entity::operations::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut op: entity::operations::ActiveModel = op.into();
    op.status = Set(entity::states::OperationStatus::Cancelled);
    op.phase = Set(entity::states::Phase::Done);
    op.update(&app.state.db).await.unwrap();
    let payloads = client.collect("p").await;
    let last = &payloads.last().unwrap()["data"]["operationProgress"];
    assert_eq!(last["status"], "CANCELLED", "{payloads:?}");
}

#[tokio::test]
async fn rate_and_time_left_are_the_engines_the_same_for_every_listener() {
    const PACED: &str = "subscription($id: ID!) { operationProgress(id: $id) { status phase dryRun updatedAt filesPerSecond secondsLeft } }";
    let s = Space::new().await;
    many(&s, 40_000);
    let id = start(&s, "ORGANIZE", "big").await;
    let mut early = Client::connect(&s.app, false).await;
    early.init_with(&s.user).await;
    early.subscribe("e", PACED, json!({ "id": id })).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut late = Client::connect(&s.app, false).await;
    late.init_with(&s.user).await;
    late.subscribe("l", PACED, json!({ "id": id })).await;
    let (early, late) = tokio::join!(early.collect("e"), late.collect("l"));
    let by_time = |payloads: &[Value]| -> std::collections::BTreeMap<String, Value> {
        payloads
            .iter()
            .skip(1) // the snapshot, read from the database
            .map(|p| p["data"]["operationProgress"].clone())
            .map(|e| (e["updatedAt"].as_str().unwrap().to_string(), e))
            .collect()
    };
    let (early, late) = (by_time(&early), by_time(&late));
    let shared: Vec<&String> = late.keys().filter(|at| early.contains_key(*at)).collect();
    assert!(!shared.is_empty(), "both heard some events: {late:?}");
    for at in &shared {
        for field in ["filesPerSecond", "secondsLeft", "dryRun"] {
            assert_eq!(early[*at][field], late[*at][field], "{field} at {at}");
        }
    }
    assert!(
        shared
            .iter()
            .any(|at| late[*at]["filesPerSecond"].is_number()),
        "the late listener got a rate at once, measured by the engine: {late:?}"
    );
}

#[tokio::test]
async fn a_listener_joining_mid_run_gets_the_engines_pace_in_its_snapshot() {
    use sea_orm::EntityTrait;
    const PACED: &str = "subscription($id: ID!) { operationProgress(id: $id) { status phase percent filesPerSecond secondsLeft } }";
    let s = Space::new().await;
    many(&s, 80_000);
    let id = start(&s, "ORGANIZE", "big").await;
    // Wait until the engine has measured a pace and written it with the counters.
    let mut measured = false;
    for _ in 0..300 {
        let row = entity::operations::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
            .one(&s.app.state.db)
            .await
            .unwrap()
            .unwrap();
        if row.status.is_terminal() {
            break;
        }
        if row.files_per_second.is_some() {
            measured = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(measured, "the run was measured and written while it ran");
    let mut late = Client::connect(&s.app, false).await;
    late.init_with(&s.user).await;
    late.subscribe("l", PACED, json!({ "id": id })).await;
    let first = late.message().await;
    let snapshot = &first["payload"]["data"]["operationProgress"];
    // 80,000 files leave seconds of moving after the first measurement.
    assert_eq!(snapshot["status"], "RUNNING", "{snapshot}");
    assert!(snapshot["filesPerSecond"].is_number(), "{snapshot}");
    assert!(snapshot["percent"].is_number(), "{snapshot}");
    let rest = late.collect("l").await;
    let last = &rest.last().unwrap_or(&first["payload"])["data"]["operationProgress"];
    assert_eq!(last["status"], "COMPLETED", "{last}");
    assert!(
        last["filesPerSecond"].is_null(),
        "no rate once it has ended: {last}"
    );
}

#[tokio::test]
async fn a_changed_password_closes_the_sockets_of_the_other_sessions() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    let login = app.login("ada", &ada.password).await;
    let other = Account {
        id: ada.id.clone(),
        password: ada.password.clone(),
        access_token: login["data"]["login"]["accessToken"]
            .as_str()
            .unwrap()
            .into(),
        refresh_token: login["data"]["login"]["refreshToken"]
            .as_str()
            .unwrap()
            .into(),
    };
    let mut mine = Client::connect(&app, false).await;
    mine.init_with(&ada).await;
    let mut theirs = Client::connect(&app, false).await;
    theirs.init_with(&other).await;
    let changed = app
        .gql(
            Some(&ada.access_token),
            "mutation($c: String!) { changePassword(currentPassword: $c, newPassword: \"another password\") }",
            json!({ "c": ada.password }),
        )
        .await;
    assert_eq!(changed["data"]["changePassword"], true, "{changed}");
    assert_eq!(
        closes_within(&mut theirs, Duration::from_secs(5)).await,
        Some(4403)
    );
    let closed = tokio::time::timeout(Duration::from_millis(1500), async {
        loop {
            if let Event::Closed(code) = mine.next().await {
                return code;
            }
        }
    })
    .await;
    assert!(
        closed.is_err(),
        "this session's socket stays open: {closed:?}"
    );
}
