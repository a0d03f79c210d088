//! API load: 64 keep-alive HTTP/1.1 connections hammering one request each for a fixed
//! time: the bare `/health` route (the HTTP stack alone), `me` (plus authentication and
//! GraphQL), a page of operations (plus the database); then `me` while sign-ins
//! (argon2id) run beside it, to see what password hashing does to everyone else.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::{
    client::{LOGIN, Session},
    report::{ApiLoad, Load},
    server::Deployment,
};

pub const CONNECTIONS: usize = 64;
const LOGIN_TASKS: usize = 8;

#[derive(Clone)]
enum Request {
    Health,
    Query(String),
}

struct Outcome {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

pub async fn run(deployment: &Deployment, session: &Session, seconds: f64) -> Result<ApiLoad> {
    let duration = Duration::from_secs_f64(seconds);
    let me = Request::Query(json!({ "query": "{ me { id } }" }).to_string());
    let operations = Request::Query(
        json!({ "query": "{ operations(first: 20) { edges { node { id status } } } }" })
            .to_string(),
    );
    eprintln!("api: GET /health");
    let health = load(
        deployment,
        "GET /health",
        Request::Health,
        &session.token,
        duration,
    )
    .await;
    eprintln!("api: me");
    let me_alone = load(deployment, "me", me.clone(), &session.token, duration).await;
    eprintln!("api: operations(first: 20)");
    let ops = load(
        deployment,
        "operations(first: 20)",
        operations,
        &session.token,
        duration,
    )
    .await;
    eprintln!("api: me while {LOGIN_TASKS} tasks sign in");
    let logins = tokio::spawn(sign_ins(
        deployment.api_ports(),
        session.login.clone(),
        session.password.clone(),
        duration,
    ));
    let me_busy = load(
        deployment,
        "me, with sign-ins beside",
        me,
        &session.token,
        duration,
    )
    .await;
    let logins = logins.await?;
    let login_seconds = duration.as_secs_f64();
    Ok(ApiLoad {
        me_vs_bare: me_alone.requests_per_second / health.requests_per_second,
        logins_per_second: logins.latencies_us.len() as f64 / login_seconds,
        login_p50_ms: percentile(&logins.latencies_us, 0.5),
        login_errors: logins.errors,
        login_first_error: logins.first_error,
        loads: vec![health, me_alone, ops, me_busy],
    })
}

async fn load(
    deployment: &Deployment,
    name: &str,
    request: Request,
    token: &str,
    duration: Duration,
) -> Load {
    let ports = &deployment.api_ports();
    deployment.reset_peaks();
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let port = ports[i % ports.len()];
            tokio::spawn(connection(
                port,
                request.clone(),
                token.to_string(),
                deadline,
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    for task in tasks {
        match task.await {
            Ok(outcome) => {
                latencies.extend(outcome.latencies_us);
                errors += outcome.errors;
                first_error = first_error.or(outcome.first_error);
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Load {
        peak_rss_mib: deployment.peaks(),
        name: name.into(),
        connections: CONNECTIONS,
        seconds,
        requests: latencies.len() as u64,
        requests_per_second: latencies.len() as f64 / seconds,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
        errors,
        first_error,
    }
}

/// One keep-alive connection (a client with a pool of one), requests back to back.
async fn connection(port: u16, request: Request, token: String, deadline: Instant) -> Outcome {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a plain HTTP client");
    let mut outcome = Outcome {
        latencies_us: Vec::with_capacity(4096),
        errors: 0,
        first_error: None,
    };
    while Instant::now() < deadline {
        let sent = Instant::now();
        let result = match &request {
            Request::Health => client
                .get(format!("http://127.0.0.1:{port}/health"))
                .send()
                .await
                .map(|r| (r.status(), None)),
            Request::Query(body) => {
                let mut post = client
                    .post(format!("http://127.0.0.1:{port}/graphql"))
                    .header("content-type", "application/json")
                    .body(body.clone());
                if !token.is_empty() {
                    post = post.bearer_auth(&token);
                }
                match post.send().await {
                    Ok(response) => {
                        let status = response.status();
                        response.bytes().await.map(|b| (status, Some(b)))
                    }
                    Err(e) => Err(e),
                }
            }
        };
        let took = sent.elapsed().as_micros().min(u32::MAX as u128) as u32;
        match result {
            Ok((status, body))
                if status.is_success()
                    && !body.as_ref().is_some_and(|b| contains(b, b"\"errors\"")) =>
            {
                outcome.latencies_us.push(took);
            }
            Ok((status, body)) => {
                outcome.errors += 1;
                outcome.first_error.get_or_insert_with(|| {
                    format!(
                        "{status}: {}",
                        body.map(|b| String::from_utf8_lossy(&b[..b.len().min(300)]).to_string())
                            .unwrap_or_default()
                    )
                });
            }
            Err(e) => {
                outcome.errors += 1;
                outcome.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    outcome
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `LOGIN_TASKS` tasks signing in back to back until the deadline.
async fn sign_ins(ports: Vec<u16>, login: String, password: String, duration: Duration) -> Outcome {
    let deadline = Instant::now() + duration;
    let body =
        json!({ "query": LOGIN, "variables": { "i": { "login": login, "password": password } } })
            .to_string();
    let tasks: Vec<_> = (0..LOGIN_TASKS)
        .map(|i| {
            let port = ports[i % ports.len()];
            let request = Request::Query(body.clone());
            tokio::spawn(connection(port, request, String::new(), deadline))
        })
        .collect();
    let mut all = Outcome {
        latencies_us: Vec::new(),
        errors: 0,
        first_error: None,
    };
    for task in tasks {
        if let Ok(outcome) = task.await {
            all.latencies_us.extend(outcome.latencies_us);
            all.errors += outcome.errors;
            all.first_error = all.first_error.or(outcome.first_error);
        }
    }
    all.latencies_us.sort_unstable();
    all
}

/// The `q` quantile of sorted microseconds, in milliseconds.
pub fn percentile(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len()) - 1;
    sorted_us[i] as f64 / 1000.0
}
