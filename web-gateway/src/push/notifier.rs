//! Fans session notifications out to the browsers waiting on this instance. One registry entry per watched
//! session, however many waiters; waking is a `Notify`, so a waiter costs no Redis connection or subscription.
//! Waiters are capped per instance, per session and per client, so that neither one session nor one address can
//! hold the instance's waiting slots.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use qrlogin_shared::SessionId;
use tokio::sync::Notify;

pub use crate::config::WaiterLimits;

#[derive(Debug, PartialEq, Eq)]
pub enum Full {
    Instance,
    Session,
    Client,
}

struct Entry {
    notify: Arc<Notify>,
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
}

impl Notifier {
    pub fn new(limits: WaiterLimits) -> Arc<Self> {
        Arc::new(Self { registry: Mutex::default(), total: AtomicUsize::new(0), limits })
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
        let entry =
            registry.sessions.entry(id).or_insert_with(|| Entry { notify: Arc::new(Notify::new()), waiters: 0 });
        if entry.waiters >= self.limits.per_session {
            return Err(Full::Session);
        }
        entry.waiters += 1;
        let notify = Arc::clone(&entry.notify);
        *registry.clients.entry(client.clone()).or_default() += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(Watch { notifier: Arc::clone(self), id, client, notify })
    }

    /// A transition of `id` was published: wake its waiters to re-read it.
    pub fn notify(&self, id: &SessionId) {
        if let Some(entry) = self.lock().sessions.get(id) {
            entry.notify.notify_waiters();
        }
    }

    /// Wakes every waiter: after the subscription was (re)established, notifications may have been missed.
    pub fn notify_all(&self) {
        for entry in self.lock().sessions.values() {
            entry.notify.notify_waiters();
        }
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
}

impl Watch {
    /// The session's wake-up; a handle of its own, so it can outlive a borrow of the watch.
    pub fn notify(&self) -> Arc<Notify> {
        Arc::clone(&self.notify)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut registry = self.notifier.lock();
        if let Some(entry) = registry.sessions.get_mut(&self.id) {
            entry.waiters -= 1;
            if entry.waiters == 0 {
                registry.sessions.remove(&self.id);
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
