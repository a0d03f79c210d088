//! Redis connections (`REDIS_URL`): one shared by the job queue, the progress bus and
//! the rate limiter, one per worker task for its blocking reads of the queue, one
//! subscriber. fred reconnects by itself; a process starts even while Redis is down (its
//! commands fail, bounded by a timeout, until Redis is back).

use std::time::Duration;

use anyhow::Context;
use fred::{
    prelude::{ClientLike, Config, ReconnectPolicy},
    types::Builder,
};

/// How long one Redis command may take before it counts as failed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);

fn builder(url: &str) -> anyhow::Result<Builder> {
    let mut config = Config::from_url(url).context("REDIS_URL is not a Redis URL")?;
    // Keep trying to connect at start, as after any disconnect.
    config.fail_fast = false;
    let mut builder = Builder::from_config(config);
    builder
        .with_performance_config(|p| p.default_command_timeout = COMMAND_TIMEOUT)
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(2);
            c.internal_command_timeout = Duration::from_secs(2);
            c.max_command_attempts = 2;
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2));
    Ok(builder)
}

/// A client for commands, connecting in the background.
pub async fn client(url: &str) -> anyhow::Result<fred::prelude::Client> {
    let client = builder(url)?.build()?;
    // The connection task runs on by itself; its handle is not needed.
    drop(client.connect());
    if tokio::time::timeout(Duration::from_secs(5), client.wait_for_connect())
        .await
        .is_err()
    {
        tracing::warn!("Redis is not reachable yet; carrying on and retrying in the background");
    }
    Ok(client)
}

/// A new connection configured like `client`, connecting in the background.
pub async fn another(client: &fred::prelude::Client) -> fred::prelude::Client {
    let another = client.clone_new();
    // The connection task runs on by itself; its handle is not needed.
    drop(another.connect());
    let _ = tokio::time::timeout(Duration::from_secs(5), another.wait_for_connect()).await;
    another
}

/// A client for subscriptions: it subscribes again by itself after a reconnect.
pub async fn subscriber(url: &str) -> anyhow::Result<fred::clients::SubscriberClient> {
    let client = builder(url)?.build_subscriber_client()?;
    // The connection task runs on by itself; its handle is not needed.
    drop(client.connect());
    let _ = tokio::time::timeout(Duration::from_secs(5), client.wait_for_connect()).await;
    client.manage_subscriptions();
    Ok(client)
}
