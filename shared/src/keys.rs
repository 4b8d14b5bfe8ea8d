//! The Redis key schema. Every key of one session carries the session id as a hash tag (`{...}`) so that all of
//! them land in one Redis Cluster slot and a script may touch them together.

use crate::{SessionId, UserId};

#[derive(Clone, Debug)]
pub struct KeySchema {
    prefix: String,
}

impl KeySchema {
    pub const DEFAULT_PREFIX: &'static str = "qrl";

    /// `prefix` lets tests (or two tenants on one Redis) keep their keys apart.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self { prefix: prefix.into() }
    }

    /// The session hash: `qrl:{<uuid>}`.
    pub fn session(&self, id: &SessionId) -> String {
        format!("{}:{{{id}}}", self.prefix)
    }

    /// The pub/sub channel a session's transitions are announced on (payload: the session id): `qrl:{<uuid>}:events`.
    /// One channel per session, so only the gateway instances with a browser waiting for it subscribe and hear it;
    /// under the session's hash tag, so it maps to the session's cluster slot (ready for sharded pub/sub).
    pub fn session_events(&self, id: &SessionId) -> String {
        format!("{}:{{{id}}}:events", self.prefix)
    }

    /// How a confirmed login ended, kept for its scanner a while after the session is gone (a small hash: `uid`,
    /// then `st` = `claimed` or `cancelled`): `qrl:{<uuid>}:outcome`. Under the session's hash tag, so the session's
    /// steps change it in the same atomic step.
    pub fn session_outcome(&self, id: &SessionId) -> String {
        format!("{}:{{{id}}}:outcome", self.prefix)
    }

    /// A rate limit's state: `qrl:rl:{<group>}:<name>:<subject>`. Limits checked together share a group, so
    /// one script can touch them all in one cluster slot.
    pub fn rate_limit(&self, group: &str, name: &str, subject: &str) -> String {
        format!("{}:rl:{{{group}}}:{name}:{subject}", self.prefix)
    }
}

impl KeySchema {
    /// A user's device history (the browsers that logged in as them), under the user's own hash tag:
    /// `qrl:{user:<id>}:devices`. It lives in another slot than any session, so it is changed in a step of its own.
    pub fn user_devices(&self, user: &UserId) -> String {
        format!("{}:{{user:{user}}}:devices", self.prefix)
    }
}

impl KeySchema {
    /// A user's web sessions (what their claimed logins became, by `sid`), under the user's hash tag:
    /// `qrl:{user:<id>}:web`.
    pub fn user_web_sessions(&self, user: &UserId) -> String {
        format!("{}:{{user:{user}}}:web", self.prefix)
    }
}

impl KeySchema {
    /// The gateways' delivery queue of one kind of event (a stream): `qrl:{outbox}:<kind>`. Every queue in one slot.
    pub fn outbox(&self, kind: &str) -> String {
        format!("{}:{{outbox}}:{kind}", self.prefix)
    }

    /// A DPoP proof already presented (RFC 9449 §11.1), by the key's thumbprint and the SHA-256 (hex) of its
    /// `jti`: `qrl:dpop:{<jkt>}:<digest>`. Kept as long as the proof's `iat` is accepted, so a replay within
    /// that window is refused by every instance.
    pub fn dpop_proof(&self, jkt: &str, jti_digest: &str) -> String {
        format!("{}:dpop:{{{jkt}}}:{jti_digest}", self.prefix)
    }
}

impl Default for KeySchema {
    fn default() -> Self {
        Self::new(Self::DEFAULT_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_key_is_hash_tagged() {
        let id = SessionId::parse("0b8e4a0c-6f0f-4e45-9d2a-6f7f0c1b2a3d").unwrap();
        assert_eq!(KeySchema::default().session(&id), "qrl:{0b8e4a0c-6f0f-4e45-9d2a-6f7f0c1b2a3d}");
        assert_eq!(KeySchema::default().session_events(&id), "qrl:{0b8e4a0c-6f0f-4e45-9d2a-6f7f0c1b2a3d}:events");
        assert_eq!(KeySchema::default().session_outcome(&id), "qrl:{0b8e4a0c-6f0f-4e45-9d2a-6f7f0c1b2a3d}:outcome");
        let alice = UserId::parse("alice").unwrap();
        assert_eq!(KeySchema::default().user_devices(&alice), "qrl:{user:alice}:devices");
        assert_eq!(KeySchema::default().user_web_sessions(&alice), "qrl:{user:alice}:web");
        assert_eq!(KeySchema::default().dpop_proof("jkt", "ab"), "qrl:dpop:{jkt}:ab");
    }
}
