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
use qrlogin_shared::{Redis, SessionId};

use super::notifier::Notifier;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Runs until the process ends, on the service's own Redis handle and its connect deadline.
pub fn spawn(notifier: Arc<Notifier>, redis: Redis, channel: String) {
    tokio::spawn(listen(notifier, redis, channel));
}

async fn listen(notifier: Arc<Notifier>, redis: Redis, channel: String) {
    let mut backoff = BACKOFF_MIN;
    // Round robin over the nodes: the next attempt after a failure goes to the next one.
    for node in (0..redis.pubsub_nodes()).cycle() {
        match redis.subscribe(node, &channel).await {
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
