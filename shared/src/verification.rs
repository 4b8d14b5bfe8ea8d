//! Verification codes: the secret half of a QR link, proving the gateway issued the link for this session.
//!
//! A code is `base64url(expires_at_be_u32 || HMAC-SHA256(key, domain || uuid || expires_at))`: 48 characters.
//! Carrying the expiry makes the code self-contained, so mobile-api rejects a forged, foreign or stale code
//! with no Redis call at all, and the hot path keeps its single round trip.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

use crate::SessionId;

type HmacSha256 = Hmac<Sha256>;

/// Binds the tag to its purpose so the same key can never be confused with another use of it.
const DOMAIN: &[u8] = b"qrlogin/v1/verification";
const TAG_LEN: usize = 32;
const CODE_LEN: usize = 4 + TAG_LEN;
/// Shortest accepted signing secret: 256 bits, the HMAC-SHA256 block strength.
pub const MIN_SECRET_LEN: usize = 32;

/// A syntactically valid code; whether it is genuine is for [`Verifier::verify`] to say.
#[derive(Clone, PartialEq, Eq)]
pub struct VerificationCode {
    expires_at: u32,
    tag: [u8; TAG_LEN],
}

impl std::fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationCode").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerificationError {
    #[error("verification string is malformed")]
    Malformed,
    /// Wrong key, wrong session or tampered: indistinguishable on purpose.
    #[error("verification string is not valid for this session")]
    Invalid,
    #[error("verification string has expired")]
    Expired,
}

impl VerificationCode {
    pub fn parse(s: &str) -> Result<Self, VerificationError> {
        let mut raw = [0u8; CODE_LEN];
        // decode_slice rejects a string that is too long instead of writing past the buffer.
        let n = URL_SAFE_NO_PAD.decode_slice(s, &mut raw).map_err(|_| VerificationError::Malformed)?;
        if n != CODE_LEN || s.len() != 48 {
            return Err(VerificationError::Malformed);
        }
        let (exp, tag) = raw.split_at(4);
        let expires_at = u32::from_be_bytes(exp.try_into().map_err(|_| VerificationError::Malformed)?);
        let tag = tag.try_into().map_err(|_| VerificationError::Malformed)?;
        Ok(Self { expires_at, tag })
    }

    pub fn expires_at(&self) -> u32 {
        self.expires_at
    }

    pub fn encode(&self) -> String {
        let mut raw = [0u8; CODE_LEN];
        raw[..4].copy_from_slice(&self.expires_at.to_be_bytes());
        raw[4..].copy_from_slice(&self.tag);
        URL_SAFE_NO_PAD.encode(raw)
    }
}

/// Issues codes with the first key and accepts codes made with any configured key, so a new key can be rolled
/// out before the old one is retired.
pub struct Verifier {
    keys: Vec<SecretSlice<u8>>,
}

#[derive(Debug, thiserror::Error)]
#[error("signing secret must be at least {MIN_SECRET_LEN} bytes")]
pub struct WeakSecret;

impl Verifier {
    pub fn new(current: SecretSlice<u8>, older: Vec<SecretSlice<u8>>) -> Result<Self, WeakSecret> {
        let keys: Vec<_> = std::iter::once(current).chain(older).collect();
        if keys.iter().any(|k| k.expose_secret().len() < MIN_SECRET_LEN) {
            return Err(WeakSecret);
        }
        Ok(Self { keys })
    }

    /// Short public ids of the keys (the issuing one first), so operators can see a rotation's state in the
    /// logs: the first 8 hex digits of a SHA-256 over a domain tag and the key, which reveals nothing of it.
    pub fn key_ids(&self) -> Vec<String> {
        use sha2::Digest;
        self.keys
            .iter()
            .map(|k| {
                let digest =
                    Sha256::new().chain_update(b"qrlogin/v1/key-id").chain_update(k.expose_secret()).finalize();
                digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
            })
            .collect()
    }

    pub fn issue(&self, id: &SessionId, expires_at: u32) -> VerificationCode {
        let tag = self.mac(&self.keys[0], id, expires_at).finalize().into_bytes().into();
        VerificationCode { expires_at, tag }
    }

    /// Checks the tag in constant time against every key, then the expiry against `now` (unix seconds).
    pub fn verify(&self, id: &SessionId, code: &VerificationCode, now: u64) -> Result<(), VerificationError> {
        let genuine = self.keys.iter().any(|key| self.mac(key, id, code.expires_at).verify_slice(&code.tag).is_ok());
        if !genuine {
            return Err(VerificationError::Invalid);
        }
        if u64::from(code.expires_at) <= now {
            return Err(VerificationError::Expired);
        }
        Ok(())
    }

    /// Checks only that we issued `code` for `id`, whatever its age: a scanned code stays good for the decision
    /// that follows (the session's own state and TTL bound that), while scanning needs [`Verifier::verify`].
    pub fn verify_tag(&self, id: &SessionId, code: &VerificationCode) -> Result<(), VerificationError> {
        let genuine = self.keys.iter().any(|key| self.mac(key, id, code.expires_at).verify_slice(&code.tag).is_ok());
        if genuine { Ok(()) } else { Err(VerificationError::Invalid) }
    }

    fn mac(&self, key: &SecretSlice<u8>, id: &SessionId, expires_at: u32) -> HmacSha256 {
        // HMAC accepts keys of any length; new_from_slice cannot fail for it, but we avoid a panic path anyway.
        let mut mac = match HmacSha256::new_from_slice(key.expose_secret()) {
            Ok(mac) => mac,
            Err(_) => HmacSha256::new(&Default::default()),
        };
        mac.update(DOMAIN);
        mac.update(id.as_bytes());
        mac.update(&expires_at.to_be_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(b: u8) -> SecretSlice<u8> {
        vec![b; 32].into()
    }

    #[test]
    fn issued_code_verifies_until_it_expires() {
        let v = Verifier::new(key(1), vec![]).unwrap();
        let id = SessionId::random();
        let code = v.issue(&id, 1_000);
        let parsed = VerificationCode::parse(&code.encode()).unwrap();
        assert_eq!(parsed, code);
        assert_eq!(v.verify(&id, &parsed, 999), Ok(()));
        assert_eq!(v.verify(&id, &parsed, 1_000), Err(VerificationError::Expired));
    }

    #[test]
    fn code_is_bound_to_session_key_and_expiry() {
        let v = Verifier::new(key(1), vec![]).unwrap();
        let id = SessionId::random();
        let code = v.issue(&id, 1_000);
        assert_eq!(v.verify(&SessionId::random(), &code, 0), Err(VerificationError::Invalid));
        let other = Verifier::new(key(2), vec![]).unwrap();
        assert_eq!(other.verify(&id, &code, 0), Err(VerificationError::Invalid));
        let stretched = VerificationCode { expires_at: 2_000, ..code };
        assert_eq!(v.verify(&id, &stretched, 0), Err(VerificationError::Invalid));
    }

    #[test]
    fn older_keys_still_verify_but_never_sign() {
        let id = SessionId::random();
        let old = Verifier::new(key(1), vec![]).unwrap().issue(&id, 1_000);
        let rotated = Verifier::new(key(2), vec![key(1)]).unwrap();
        assert_eq!(rotated.verify(&id, &old, 0), Ok(()));
        assert_ne!(rotated.issue(&id, 1_000), old);
    }

    #[test]
    fn key_ids_are_stable_distinct_and_short() {
        let v = Verifier::new(key(1), vec![key(2)]).unwrap();
        let ids = v.key_ids();
        assert_eq!(ids.len(), 2);
        assert_ne!(ids[0], ids[1]);
        assert_eq!(ids[0].len(), 8);
        assert_eq!(Verifier::new(key(1), vec![]).unwrap().key_ids()[0], ids[0]);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Verifier::new(vec![0u8; 31].into(), vec![]).is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in "[A-Za-z0-9_-]{0,60}") {
            if let Ok(code) = VerificationCode::parse(&s) {
                prop_assert_eq!(code.encode(), s);
            }
        }

        #[test]
        fn any_flipped_bit_is_rejected(byte in 0usize..CODE_LEN, bit in 0u8..8) {
            let v = Verifier::new(key(7), vec![]).unwrap();
            let id = SessionId::random();
            let code = v.issue(&id, u32::MAX);
            let mut raw = [0u8; CODE_LEN];
            URL_SAFE_NO_PAD.decode_slice(code.encode(), &mut raw).unwrap();
            raw[byte] ^= 1 << bit;
            let tampered = VerificationCode::parse(&URL_SAFE_NO_PAD.encode(raw)).unwrap();
            prop_assert!(v.verify(&id, &tampered, 0).is_err());
        }
    }
}
