//! The instance's one pub/sub connection: subscribed to the channel of every session a browser waits for here
//! (reference-counted by the [`Notifier`], which queues a [`Change`] for the first waiter and the last), it hands
//! each announced session id to the notifier. So an event reaches only the instances waiting for its session. It
//! reconnects on its own; after every (re)subscription the session's waiters re-read their state, since
//! anything published before was missed.
//!
//! Plain SUBSCRIBE, not sharded pub/sub: redis-rs's `aio::PubSub` has no SSUBSCRIBE (only its RESP3 cluster
//! connection does). On a Redis Cluster a PUBLISH reaches the subscribers of every node, so the listener
//! subscribes on the first seed node that answers and moves on to the next when it loses it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use qrlogin_shared::{KeySchema, Redis, SessionId};
use redis::aio::PubSubSink;
use tokio::sync::mpsc::UnboundedReceiver;

use super::notifier::{Change, Notifier};

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Channels per (UN)SUBSCRIBE command: bounds one command after a reconnect with thousands of waiters.
const BATCH: usize = 1024;

/// Runs until the process ends, on the service's own Redis handle and its connect deadline.
pub fn spawn(notifier: Arc<Notifier>, redis: Redis, keys: KeySchema) {
    if let Some(changes) = notifier.take_changes() {
        tokio::spawn(listen(Listener { notifier, redis, keys }, changes));
    }
}

struct Listener {
    notifier: Arc<Notifier>,
    redis: Redis,
    keys: KeySchema,
}

/// Why a connection's loop ended.
enum Ended {
    /// Redis closed it, or a (un)subscription failed: connect again.
    Lost,
    /// The notifier is gone: the process is ending.
    Done,
}

async fn listen(listener: Listener, mut changes: UnboundedReceiver<Change>) {
    let mut backoff = BACKOFF_MIN;
    // Round robin over the nodes: the next attempt after a failure goes to the next one.
    for node in (0..listener.redis.pubsub_nodes()).cycle() {
        match listener.redis.pubsub(node).await {
            Ok(pubsub) => {
                backoff = BACKOFF_MIN;
                tracing::info!(node, "connected for session events");
                let ended = listener.serve(pubsub, &mut changes).await;
                listener.notifier.lost();
                if matches!(ended, Ended::Done) {
                    return;
                }
                // Waiters are woken once subscribed again: waking them now, while Redis may be down, would
                // only fail their reads.
                tracing::warn!(node, "session events subscription lost; reconnecting");
            }
            Err(e) => tracing::warn!(node, error = %e, "cannot subscribe to session events; retrying"),
        }
        // Unconnected, the changes need not be kept (the next connection subscribes to every watched session
        // afresh): dropping them bounds the queue through a long outage.
        while changes.try_recv().is_ok() {}
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

impl Listener {
    /// One connection: subscribes to every session waited on, then follows the changes and hands on the events
    /// until the connection is lost.
    async fn serve(&self, pubsub: redis::aio::PubSub, changes: &mut UnboundedReceiver<Change>) -> Ended {
        let (mut sink, mut events) = pubsub.split();
        let watched = self.notifier.resubscribe(changes);
        if self.subscribe(&mut sink, &watched).await.is_err() {
            return Ended::Lost;
        }
        let mut queued = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                event = events.next() => match event {
                    Some(msg) => self.deliver(&msg),
                    None => return Ended::Lost,
                },
                n = changes.recv_many(&mut queued, BATCH) => {
                    if n == 0 {
                        return Ended::Done;
                    }
                    // Events that come meanwhile wait in the connection's buffer for the next turn.
                    if self.apply(&mut sink, queued.drain(..)).await.is_err() {
                        return Ended::Lost;
                    }
                }
            }
        }
    }

    fn deliver(&self, msg: &redis::Msg) {
        if let Some(id) = std::str::from_utf8(msg.get_payload_bytes()).ok().and_then(|s| SessionId::parse(s).ok()) {
            self.notifier.notify(&id);
        }
    }

    /// Applies a batch of changes, the last one per session winning (it is the registry's latest state).
    async fn apply(&self, sink: &mut PubSubSink, batch: impl Iterator<Item = Change>) -> Result<(), ()> {
        let mut last = HashMap::new();
        for change in batch {
            let (Change::Subscribe(id) | Change::Unsubscribe(id)) = change;
            last.insert(id, change);
        }
        let (subscribe, unsubscribe): (Vec<_>, Vec<_>) =
            last.into_iter().partition(|(_, change)| matches!(change, Change::Subscribe(_)));
        let unsubscribe: Vec<_> = unsubscribe.into_iter().map(|(id, _)| self.keys.session_events(&id)).collect();
        if !unsubscribe.is_empty() {
            self.bounded(sink.unsubscribe(&unsubscribe)).await?;
        }
        let subscribe: Vec<_> = subscribe.into_iter().map(|(id, _)| id).collect();
        self.subscribe(sink, &subscribe).await
    }

    /// Subscribes to the channels of `ids`, then wakes their waiters to re-read.
    async fn subscribe(&self, sink: &mut PubSubSink, ids: &[SessionId]) -> Result<(), ()> {
        for chunk in ids.chunks(BATCH) {
            let channels: Vec<_> = chunk.iter().map(|id| self.keys.session_events(id)).collect();
            self.bounded(sink.subscribe(&channels)).await?;
            self.notifier.subscribed(chunk);
        }
        Ok(())
    }

    /// A (un)subscription within the deadline; failing or late, the connection is deemed lost.
    async fn bounded(&self, f: impl Future<Output = redis::RedisResult<()>>) -> Result<(), ()> {
        match tokio::time::timeout(self.redis.pubsub_deadline(), f).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "session events (un)subscription failed");
                Err(())
            }
            Err(_) => {
                tracing::warn!("session events (un)subscription timed out");
                Err(())
            }
        }
    }
}
