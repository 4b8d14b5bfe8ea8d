//! Newtypes whose constructors are the only way in: handlers receive already-valid values.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A login session id: a random (v4) uuid, always printed in its hyphenated lower-case form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionId(Uuid);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a valid session id")]
pub struct InvalidSessionId;

impl SessionId {
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    /// Accepts only the canonical hyphenated form, so one session has exactly one spelling (and one Redis key).
    pub fn parse(s: &str) -> Result<Self, InvalidSessionId> {
        if s.len() != 36 {
            return Err(InvalidSessionId);
        }
        let uuid = Uuid::try_parse(s).map_err(|_| InvalidSessionId)?;
        if uuid.get_version_num() != 4 || uuid.hyphenated().to_string() != s {
            return Err(InvalidSessionId);
        }
        Ok(Self(uuid))
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The app user's id (`sub` of their token). Printable, bounded, so it is safe to store and log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct UserId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("user id must be 1 to 255 printable characters")]
pub struct InvalidUserId;

impl UserId {
    pub const MAX_LEN: usize = 255;

    pub fn parse(s: &str) -> Result<Self, InvalidUserId> {
        let printable = s.chars().all(|c| !c.is_control());
        if s.is_empty() || s.len() > Self::MAX_LEN || !printable {
            return Err(InvalidUserId);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// SHA-256 of the browser's binding secret, base64url. Only this ever reaches Redis.
///
/// Redis compares it with `==` inside a script; that comparison is not constant-time, but it compares hashes of a
/// 256-bit random secret, so timing reveals at most a prefix of a hash, which does not help forge the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct BindingHash(String);

impl BindingHash {
    pub fn of_secret(secret: &str) -> Self {
        Self(digest(secret))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BindingHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BindingHash(..)")
    }
}

/// SHA-256 of a browser's long-lived device secret (the `qrl_device` cookie), base64url: what the session hash and the
/// user's device history hold. The secret itself never reaches Redis or a log.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceHash(String);

impl DeviceHash {
    pub fn of_secret(secret: &str) -> Self {
        Self(digest(secret))
    }

    /// A hash read back from Redis: a SHA-256 digest as [`digest`] writes it, or nothing.
    pub fn from_stored(stored: &str) -> Option<Self> {
        let decoded = URL_SAFE_NO_PAD.decode(stored).ok()?;
        (decoded.len() == 32).then(|| Self(stored.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceHash(..)")
    }
}

/// SHA-256 of a secret, base64url without padding: 43 characters, so a session's fields stay short enough for
/// Redis's compact hash encoding (values of at most 64 bytes, `hash-max-listpack-value`).
fn digest(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn session_id_round_trips_and_rejects_other_spellings() {
        let id = SessionId::random();
        let text = id.to_string();
        assert_eq!(SessionId::parse(&text), Ok(id));
        assert!(SessionId::parse(&text.to_uppercase()).is_err());
        assert!(SessionId::parse(&text.replace('-', "")).is_err());
        // A valid uuid of another version is not one of ours.
        assert!(SessionId::parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8").is_err());
    }

    #[test]
    fn user_id_bounds() {
        assert!(UserId::parse("alice").is_ok());
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a\nb").is_err());
        assert!(UserId::parse(&"x".repeat(256)).is_err());
    }

    #[test]
    fn binding_hash_is_base64url_sha256_and_hides_itself_in_debug() {
        let h = BindingHash::of_secret("abc");
        // SHA-256("abc") = ba7816bf...
        assert_eq!(h.as_str(), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        assert_eq!(format!("{h:?}"), "BindingHash(..)");
        let d = DeviceHash::of_secret("abc");
        assert_eq!(DeviceHash::from_stored(d.as_str()), Some(d.clone()));
        assert_eq!(format!("{d:?}"), "DeviceHash(..)");
        assert_eq!(DeviceHash::from_stored("abc"), None);
    }

    proptest! {
        #[test]
        fn session_id_parse_never_panics(s in ".{0,64}") {
            let _ = SessionId::parse(&s);
        }
    }
}
