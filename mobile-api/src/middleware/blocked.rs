//! The addresses this instance saw go past the refused-token limit, and until when: their next requests are
//! answered 429 before their token is looked at, so a flood of forged tokens costs neither signature checks
//! nor fetches of the provider's keys, and no Redis round trip. Only a cache of what Redis said: an address
//! past the limit that this instance has not met yet is refused by Redis in the request's first step.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses remembered at most; past it, expired ones are dropped, and while full a new one is not remembered
/// (Redis still refuses it).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct BlockedClients(Mutex<HashMap<String, Instant>>);

impl BlockedClients {
    /// How long `client` is still refused, if this instance knows it is.
    pub fn remaining(&self, client: &str) -> Option<Duration> {
        let blocked = self.0.lock().ok()?;
        let until = *blocked.get(client)?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// Redis refused `client` for `retry_after`.
    pub fn block(&self, client: &str, retry_after: Duration) {
        let Ok(mut blocked) = self.0.lock() else { return };
        let now = Instant::now();
        if blocked.len() >= CAPACITY {
            blocked.retain(|_, until| *until > now);
        }
        if blocked.len() < CAPACITY {
            blocked.insert(client.to_owned(), now + retry_after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_client_is_refused_until_its_time_is_up_and_others_never() {
        let blocked = BlockedClients::default();
        blocked.block("192.0.2.1", Duration::from_secs(30));
        blocked.block("192.0.2.2", Duration::ZERO);

        assert!(blocked.remaining("192.0.2.1").is_some_and(|d| d > Duration::from_secs(29)));
        assert_eq!(blocked.remaining("192.0.2.2"), None, "its time is up");
        assert_eq!(blocked.remaining("192.0.2.3"), None);
    }

    #[test]
    fn a_full_cache_makes_room_from_the_expired_only() {
        let blocked = BlockedClients::default();
        for i in 0..CAPACITY {
            blocked.block(&format!("c{i}"), if i == 0 { Duration::ZERO } else { Duration::from_secs(30) });
        }

        blocked.block("new", Duration::from_secs(30));
        blocked.block("newer", Duration::from_secs(30));

        assert!(blocked.remaining("new").is_some(), "took the expired one's place");
        assert_eq!(blocked.remaining("newer"), None, "no room left: not remembered");
        assert!(blocked.remaining("c1").is_some());
    }
}
