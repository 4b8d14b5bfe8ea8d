//! Fans session notifications out to the browsers waiting on this instance. One registry entry per watched
//! session, however many waiters; waking is a `Notify`, so a waiter costs no Redis connection. The first waiter
//! for a session asks the listener to subscribe to the session's channel and the last one leaving to unsubscribe
//! ([`Change`]), so the instance hears only the sessions it has waiters for.
//! Waiters are capped per instance, per session and per client, so that neither one session nor one address can
//! hold the instance's waiting slots.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use qrlogin_shared::SessionId;
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

pub use crate::config::WaiterLimits;

#[derive(Debug, PartialEq, Eq)]
pub enum Full {
    Instance,
    Session,
    Client,
}

/// What the listener must do to its subscriptions; queued in the order the registry changed, under its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Subscribe(SessionId),
    Unsubscribe(SessionId),
}

struct Entry {
    notify: Arc<Notify>,
    /// Whether the listener confirmed the session's subscription on its current connection.
    subscribed: Arc<AtomicBool>,
    waiters: usize,
}

/// Both maps under one lock: a waiter is counted in both or in neither.
#[derive(Default)]
struct Registry {
    sessions: HashMap<SessionId, Entry>,
    /// Waiters per client (its rate-limit subject: an IP, or an IPv6 client's /64); entries at zero are removed.
    clients: HashMap<String, usize>,
}

pub struct Notifier {
    registry: Mutex<Registry>,
    total: AtomicUsize,
    limits: WaiterLimits,
    changes: UnboundedSender<Change>,
    /// The other end of `changes`, until the listener takes it.
    pending: Mutex<Option<UnboundedReceiver<Change>>>,
    /// Whether the listener has a working connection (a new waiter then waits for its subscription).
    listening: AtomicBool,
    /// Session events the listener received: with per-session channels, only those of sessions waited on here.
    received: AtomicU64,
}

impl Notifier {
    pub fn new(limits: WaiterLimits) -> Arc<Self> {
        let (changes, pending) = unbounded_channel();
        Arc::new(Self {
            registry: Mutex::default(),
            total: AtomicUsize::new(0),
            limits,
            changes,
            pending: Mutex::new(Some(pending)),
            listening: AtomicBool::new(false),
            received: AtomicU64::new(0),
        })
    }

    /// Registers a waiter for `id` from `client` (its rate-limit subject). Create the `notified()` future (and
    /// enable it) before reading the state, then await it: a notification arriving in between is not lost.
    pub fn watch(self: &Arc<Self>, id: SessionId, client: String) -> Result<Watch, Full> {
        let mut registry = self.lock();
        if self.total.load(Ordering::Relaxed) >= self.limits.per_instance {
            return Err(Full::Instance);
        }
        if registry.clients.get(&client).is_some_and(|n| *n >= self.limits.per_client) {
            return Err(Full::Client);
        }
        if registry.sessions.get(&id).map_or(0, |e| e.waiters) >= self.limits.per_session {
            return Err(Full::Session);
        }
        let entry = registry.sessions.entry(id).or_insert_with(|| {
            // Sent under the lock, so the listener applies changes in the order the registry made them.
            let _ = self.changes.send(Change::Subscribe(id));
            Entry { notify: Arc::new(Notify::new()), subscribed: Arc::default(), waiters: 0 }
        });
        entry.waiters += 1;
        let notify = Arc::clone(&entry.notify);
        let subscribed = Arc::clone(&entry.subscribed);
        *registry.clients.entry(client.clone()).or_default() += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(Watch { notifier: Arc::clone(self), id, client, notify, subscribed })
    }

    /// A transition of `id` was published: wake its waiters to re-read it.
    pub fn notify(&self, id: &SessionId) {
        self.received.fetch_add(1, Ordering::Relaxed);
        if let Some(entry) = self.lock().sessions.get(id) {
            entry.notify.notify_waiters();
        }
    }

    /// The listener's queue of [`Change`]s; `None` once taken (one listener per notifier).
    pub fn take_changes(&self) -> Option<UnboundedReceiver<Change>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// A (new) connection is up: drops the queued changes and returns every session waited on, to subscribe
    /// afresh. Both under the lock, so later changes are exactly those queued after this snapshot.
    pub fn resubscribe(&self, changes: &mut UnboundedReceiver<Change>) -> Vec<SessionId> {
        let registry = self.lock();
        while changes.try_recv().is_ok() {}
        self.listening.store(true, Ordering::Relaxed);
        registry.sessions.keys().copied().collect()
    }

    /// The subscriptions of `ids` are confirmed: wake their waiters to re-read, since anything published before
    /// was missed. Every confirmation wakes them, so a waiter always reads after its session's latest one.
    pub fn subscribed(&self, ids: &[SessionId]) {
        let registry = self.lock();
        for entry in ids.iter().filter_map(|id| registry.sessions.get(id)) {
            entry.subscribed.store(true, Ordering::Relaxed);
            entry.notify.notify_waiters();
        }
    }

    /// The connection is lost: no subscription holds any more until [`Notifier::resubscribe`].
    pub fn lost(&self) {
        let registry = self.lock();
        self.listening.store(false, Ordering::Relaxed);
        for entry in registry.sessions.values() {
            entry.subscribed.store(false, Ordering::Relaxed);
        }
    }

    /// Session events received since start (for the metrics).
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Browsers waiting on this instance now.
    pub fn waiting(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // The maps stay consistent whatever panicked while holding them: entries are only counted up or down.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One waiting browser; leaving (drop) unregisters it.
pub struct Watch {
    notifier: Arc<Notifier>,
    id: SessionId,
    client: String,
    notify: Arc<Notify>,
    subscribed: Arc<AtomicBool>,
}

impl Watch {
    /// The session's wake-up; a handle of its own, so it can outlive a borrow of the watch.
    pub fn notify(&self) -> Arc<Notify> {
        Arc::clone(&self.notify)
    }

    /// Whether the session's subscription is on its way: connected, and not confirmed yet. The confirmation
    /// wakes the waiter, so waiting for it first saves reading the session twice.
    pub fn subscribing(&self) -> bool {
        self.notifier.listening.load(Ordering::Relaxed) && !self.subscribed.load(Ordering::Relaxed)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut registry = self.notifier.lock();
        if let Some(entry) = registry.sessions.get_mut(&self.id) {
            entry.waiters -= 1;
            if entry.waiters == 0 {
                registry.sessions.remove(&self.id);
                let _ = self.notifier.changes.send(Change::Unsubscribe(self.id));
            }
        }
        if let Some(waiting) = registry.clients.get_mut(&self.client) {
            *waiting -= 1;
            if *waiting == 0 {
                registry.clients.remove(&self.client);
            }
        }
        self.notifier.total.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notifier(per_instance: usize, per_session: usize) -> Arc<Notifier> {
        Notifier::new(WaiterLimits { per_instance, per_session, per_client: 100 })
    }

    fn from(n: &Arc<Notifier>, id: SessionId, client: &str) -> Result<Watch, Full> {
        n.watch(id, client.to_owned())
    }

    #[test]
    fn caps_and_unregistering() {
        let n = notifier(3, 2);
        let (a, b) = (SessionId::random(), SessionId::random());
        let w1 = from(&n, a, "c").unwrap();
        let _w2 = from(&n, a, "c").unwrap();
        assert_eq!(from(&n, a, "c").err(), Some(Full::Session));
        let _w3 = from(&n, b, "c").unwrap();
        assert_eq!(from(&n, SessionId::random(), "c").err(), Some(Full::Instance));
        drop(w1);
        assert_eq!(n.waiting(), 2);
        assert!(from(&n, a, "c").is_ok());
    }

    #[test]
    fn one_client_is_capped_on_its_own_and_freed_on_leaving() {
        let n = Notifier::new(WaiterLimits { per_instance: 10, per_session: 10, per_client: 2 });
        let first = from(&n, SessionId::random(), "2001:db8::/64").unwrap();
        let _second = from(&n, SessionId::random(), "2001:db8::/64").unwrap();
        assert_eq!(from(&n, SessionId::random(), "2001:db8::/64").err(), Some(Full::Client));
        assert!(from(&n, SessionId::random(), "198.51.100.1").is_ok(), "other clients are not affected");
        drop(first);
        assert!(from(&n, SessionId::random(), "2001:db8::/64").is_ok());
    }

    #[test]
    fn the_first_waiter_subscribes_and_the_last_one_unsubscribes() {
        let n = notifier(10, 10);
        let mut changes = n.take_changes().unwrap();
        let id = SessionId::random();
        let (first, second) = (from(&n, id, "c").unwrap(), from(&n, id, "d").unwrap());
        drop(first);
        assert_eq!(changes.try_recv().ok(), Some(Change::Subscribe(id)));
        assert!(changes.try_recv().is_err(), "one subscription per session, whatever the waiters");
        drop(second);
        assert_eq!(changes.try_recv().ok(), Some(Change::Unsubscribe(id)));
    }

    #[tokio::test]
    async fn a_confirmed_subscription_wakes_the_waiters_to_re_read() {
        let n = notifier(10, 10);
        let mut changes = n.take_changes().unwrap();
        assert!(n.resubscribe(&mut changes).is_empty());
        let id = SessionId::random();
        let watch = from(&n, id, "c").unwrap();
        assert!(watch.subscribing(), "connected, not confirmed yet");
        let notify = watch.notify();
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();

        n.subscribed(&[id]);

        tokio::time::timeout(std::time::Duration::from_secs(1), notified).await.unwrap();
        assert!(!watch.subscribing());
        n.lost();
        assert!(!watch.subscribing(), "while disconnected a waiter reads at once");
        assert_eq!(n.resubscribe(&mut changes), [id], "queued changes dropped, every watched session again");
        assert!(watch.subscribing());
    }

    #[tokio::test]
    async fn an_enabled_waiter_does_not_miss_a_notification() {
        let n = notifier(10, 10);
        let id = SessionId::random();
        let watch = from(&n, id, "c").unwrap();
        let notify = watch.notify();
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // The notification lands between enabling and awaiting (while the waiter would read Redis).
        n.notify(&id);
        tokio::time::timeout(std::time::Duration::from_secs(1), notified).await.unwrap();
    }
}
