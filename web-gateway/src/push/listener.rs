//! The instance's one pub/sub connection: subscribes to the events channel and hands each session id to the
//! [`Notifier`]. It reconnects on its own; after every (re)subscription all waiters re-read their state, since
//! anything published while the connection was down was missed.
//!
//! On a Redis Cluster a PUBLISH reaches the subscribers of every node, so a plain SUBSCRIBE on any one node
//! hears all sessions: the listener takes the first seed node that answers and moves on to the next when it
//! loses it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use qrlogin_shared::SessionId;
use qrlogin_shared::config::RedisSettings;
use secrecy::ExposeSecret;

use super::notifier::Notifier;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Runs until the process ends.
pub fn spawn(notifier: Arc<Notifier>, settings: &RedisSettings, channel: String) {
    let clients = match settings.node_urls().iter().map(|url| redis::Client::open(url.expose_secret())).collect() {
        Ok(clients) => clients,
        Err(e) => {
            tracing::error!(error = %e, "invalid Redis URL for pub/sub: browsers fall back to re-reading state");
            return;
        }
    };
    tokio::spawn(listen(notifier, clients, channel, settings.connect_timeout));
}

async fn listen(notifier: Arc<Notifier>, clients: Vec<redis::Client>, channel: String, connect_timeout: Duration) {
    let mut backoff = BACKOFF_MIN;
    // Round robin over the nodes: the next attempt after a failure goes to the next one.
    for (node, client) in clients.iter().enumerate().cycle() {
        match subscribe(client, &channel, connect_timeout).await {
            Ok(pubsub) => {
                backoff = BACKOFF_MIN;
                tracing::info!(node, "subscribed to session events");
                notifier.notify_all();
                let mut messages = pubsub.into_on_message();
                while let Some(msg) = messages.next().await {
                    if let Some(id) =
                        std::str::from_utf8(msg.get_payload_bytes()).ok().and_then(|s| SessionId::parse(s).ok())
                    {
                        notifier.notify(&id);
                    }
                }
                // Waiters are woken once subscribed again (above): waking them now, while Redis may be down,
                // would only fail their reads.
                tracing::warn!(node, "session events subscription lost; reconnecting");
            }
            Err(e) => tracing::warn!(node, error = %e, "cannot subscribe to session events; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

async fn subscribe(client: &redis::Client, channel: &str, timeout: Duration) -> redis::RedisResult<redis::aio::PubSub> {
    let connect = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok(pubsub)
    };
    tokio::time::timeout(timeout, connect)
        .await
        .unwrap_or_else(|_| Err(redis::RedisError::from((redis::ErrorKind::Io, "pub/sub connect timed out"))))
}
