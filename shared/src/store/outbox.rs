//! The gateways' delivery queues: events the web team's backend and the app's backend are owed (back-channel
//! logouts, login webhooks), one Redis Stream per kind (`qrl:{outbox}:<kind>`, see outbox.lua). The step that
//! causes an event queues it in the same atomic step on a single Redis; the gateways that deliver that kind read
//! the stream as one consumer group, so each event goes to one gateway, and one that dies mid-delivery leaves
//! its events (pending in the group) to the others. An event leaves the queue only once delivered.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use super::{SessionStore, StoreError};

/// The consumer group every delivering gateway joins.
const GROUP: &str = "gateways";

/// What an event tells its receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum OutboxKind {
    /// A web session ended: the web backend's OpenID Connect back-channel logout.
    Logout,
    /// A login was claimed: the app backend's "new login" webhook.
    Login,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An event taken for delivery: its stream id, the attempts made before this one, its fields.
#[derive(Clone, Debug)]
pub struct OutboxEvent {
    pub id: String,
    pub attempts: u32,
    pub fields: HashMap<String, String>,
}

impl OutboxEvent {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// When it was queued: a stream id starts with its unix time in milliseconds.
    pub fn queued_at(&self) -> Option<SystemTime> {
        let ms = self.id.split_once('-')?.0.parse().ok()?;
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(ms))
    }
}

/// An event as outbox_take.lua answers it: `{id, attempts, {field, value, ...}}`.
type Taken = (String, u32, Vec<(String, String)>);

/// When a failed event is tried again: after `base`, doubling with each failure up to `cap`. An attempt in
/// flight longer than `in_flight` is deemed cut off (its gateway died) and taken over by another gateway, so
/// `in_flight` must exceed the longest an attempt may take.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    pub base: Duration,
    pub cap: Duration,
    pub in_flight: Duration,
}

impl Retry {
    /// The pause after `failures` failed attempts (at least one).
    pub fn pause(&self, failures: u32) -> Duration {
        let doubled = self.base.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(30)));
        doubled.min(self.cap)
    }
}

impl SessionStore {
    /// Up to `count` events of `kind` for gateway `consumer` to deliver: retries that are due, then new ones.
    /// Creates the queue if missing: from then on, the steps that cause such events queue them.
    #[tracing::instrument(skip_all, fields(kind = kind.as_str()))]
    pub async fn outbox_take(
        &self,
        kind: OutboxKind,
        consumer: &str,
        count: usize,
        retry: &Retry,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let mut inv = self.scripts.outbox_take.key(self.keys.outbox(kind.as_str()));
        inv.arg(GROUP).arg(consumer).arg(count.max(1)).arg(millis(retry.base).max(1));
        inv.arg(millis(retry.cap)).arg(millis(retry.in_flight));
        let taken: Vec<Taken> = self.run(&mut inv).await?;
        let event = |(id, attempts, fields): Taken| OutboxEvent { id, attempts, fields: fields.into_iter().collect() };
        Ok(taken.into_iter().map(event).collect())
    }

    /// `event` was delivered: it leaves the queue.
    pub async fn outbox_delivered(
        &self,
        kind: OutboxKind,
        consumer: &str,
        event: &OutboxEvent,
    ) -> Result<(), StoreError> {
        self.outbox_settle(kind, consumer, event, String::new()).await
    }

    /// Delivering `event` failed: it is due again after the pause its failures have earned.
    pub async fn outbox_failed(
        &self,
        kind: OutboxKind,
        consumer: &str,
        event: &OutboxEvent,
        retry: &Retry,
    ) -> Result<(), StoreError> {
        // outbox_take.lua retries an event once it has been idle for the longer of `in_flight` and its pause.
        let idle = retry.in_flight.saturating_sub(retry.pause(event.attempts + 1));
        self.outbox_settle(kind, consumer, event, millis(idle).to_string()).await
    }

    async fn outbox_settle(
        &self,
        kind: OutboxKind,
        consumer: &str,
        event: &OutboxEvent,
        idle: String,
    ) -> Result<(), StoreError> {
        let mut inv = self.scripts.outbox_settle.key(self.keys.outbox(kind.as_str()));
        inv.arg(GROUP).arg(consumer).arg(&event.id).arg(idle);
        let _settled: i64 = self.run(&mut inv).await?;
        Ok(())
    }

    /// Forgets the group's consumers other than `consumer` that hold no event and have not read for `idle`:
    /// gateways gone for good (each start joins under a new name). Returns how many.
    pub async fn outbox_forget(&self, kind: OutboxKind, consumer: &str, idle: Duration) -> Result<u64, StoreError> {
        let mut inv = self.scripts.outbox_forget.key(self.keys.outbox(kind.as_str()));
        inv.arg(GROUP).arg(consumer).arg(millis(idle));
        self.run(&mut inv).await
    }

    /// Queues an event in a step of its own: on a cluster, after the step that caused it (whose keys are in
    /// another slot). On a single Redis that step queued it already. That step is done: a failure here loses
    /// only the event, and is logged rather than failing the request.
    pub(super) async fn enqueue_alone(&self, kind: OutboxKind, fields: &[(&str, &str)]) {
        let mut inv = self.scripts.outbox_add.key(self.keys.outbox(kind.as_str()));
        for (name, value) in fields {
            inv.arg(*name).arg(*value);
        }
        if let Err(e) = self.run::<i64>(&mut inv).await {
            tracing::warn!(kind = kind.as_str(), error = %crate::ErrorChain(&e), "could not queue an event: it is lost");
        }
    }

    /// The queue keys a step on a single Redis queues its events on (none on a cluster).
    pub(super) fn outbox_keys(&self, inv: &mut redis::ScriptInvocation<'_>, kinds: &[OutboxKind]) {
        if !self.redis.is_cluster() {
            for kind in kinds {
                inv.key(self.keys.outbox(kind.as_str()));
            }
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
