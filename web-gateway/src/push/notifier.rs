//! Fans session notifications out to the browsers waiting on this instance. One registry entry per watched
//! session, however many waiters; waking is a `Notify`, so a waiter costs no Redis connection or subscription.

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
}

struct Entry {
    notify: Arc<Notify>,
    waiters: usize,
}

pub struct Notifier {
    sessions: Mutex<HashMap<SessionId, Entry>>,
    total: AtomicUsize,
    limits: WaiterLimits,
}

impl Notifier {
    pub fn new(limits: WaiterLimits) -> Arc<Self> {
        Arc::new(Self { sessions: Mutex::new(HashMap::new()), total: AtomicUsize::new(0), limits })
    }

    /// Registers a waiter for `id`. Create the `notified()` future (and enable it) before reading the state,
    /// then await it: a notification arriving in between is not lost.
    pub fn watch(self: &Arc<Self>, id: SessionId) -> Result<Watch, Full> {
        let mut sessions = self.lock();
        if self.total.load(Ordering::Relaxed) >= self.limits.per_instance {
            return Err(Full::Instance);
        }
        let entry = sessions.entry(id).or_insert_with(|| Entry { notify: Arc::new(Notify::new()), waiters: 0 });
        if entry.waiters >= self.limits.per_session {
            return Err(Full::Session);
        }
        entry.waiters += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(Watch { notifier: Arc::clone(self), id, notify: Arc::clone(&entry.notify) })
    }

    /// A transition of `id` was published: wake its waiters to re-read it.
    pub fn notify(&self, id: &SessionId) {
        if let Some(entry) = self.lock().get(id) {
            entry.notify.notify_waiters();
        }
    }

    /// Wakes every waiter: after the subscription was (re)established, notifications may have been missed.
    pub fn notify_all(&self) {
        for entry in self.lock().values() {
            entry.notify.notify_waiters();
        }
    }

    /// Browsers waiting on this instance now.
    pub fn waiting(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<SessionId, Entry>> {
        // The map stays consistent whatever panicked while holding it: entries are only counted up or down.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One waiting browser; leaving (drop) unregisters it.
pub struct Watch {
    notifier: Arc<Notifier>,
    id: SessionId,
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
        let mut sessions = self.notifier.lock();
        if let Some(entry) = sessions.get_mut(&self.id) {
            entry.waiters -= 1;
            if entry.waiters == 0 {
                sessions.remove(&self.id);
            }
        }
        self.notifier.total.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notifier(per_instance: usize, per_session: usize) -> Arc<Notifier> {
        Notifier::new(WaiterLimits { per_instance, per_session })
    }

    #[test]
    fn caps_and_unregistering() {
        let n = notifier(3, 2);
        let (a, b) = (SessionId::random(), SessionId::random());
        let w1 = n.watch(a).unwrap();
        let _w2 = n.watch(a).unwrap();
        assert_eq!(n.watch(a).err(), Some(Full::Session));
        let _w3 = n.watch(b).unwrap();
        assert_eq!(n.watch(SessionId::random()).err(), Some(Full::Instance));
        drop(w1);
        assert_eq!(n.waiting(), 2);
        assert!(n.watch(a).is_ok());
    }

    #[tokio::test]
    async fn an_enabled_waiter_does_not_miss_a_notification() {
        let n = notifier(10, 10);
        let id = SessionId::random();
        let watch = n.watch(id).unwrap();
        let notify = watch.notify();
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // The notification lands between enabling and awaiting (while the waiter would read Redis).
        n.notify(&id);
        tokio::time::timeout(std::time::Duration::from_secs(1), notified).await.unwrap();
    }
}
