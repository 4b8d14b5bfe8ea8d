//! The binding cookie ties a login session to the browser that asked for it: only that browser can claim the
//! token, so a QR photographed or relayed elsewhere yields nothing to whoever holds only the QR.
//!
//! Each session has a cookie of its own, scoped to that session's path (`Path=/v1/qr/<uuid>`): a second tab of
//! the login page gets a second cookie instead of overwriting the first tab's. Over https the name carries the
//! `__Secure-` prefix, so a plain-http response or a sibling subdomain cannot plant one.
//!
//! The secret also keys the claim answer at rest: the answer that carries the web token is kept in Redis for the
//! grace window sealed (XChaCha20-Poly1305) under a key derived from the secret, which Redis never sees, so a
//! Redis dump or replica hands out no live token.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use qrlogin_shared::{BindingHash, SessionId};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::cookie_secret;

/// Domain separation of the answer key from every other use of the secret.
const ANSWER_KEY_LABEL: &[u8] = b"qrlogin/v1/claim-answer-key";
const NONCE_LEN: usize = 24;

/// The cookie's name over plain http (local development).
pub const COOKIE: &str = "qrl_bind";
/// The cookie's name when it is `Secure`.
pub const SECURE_COOKIE: &str = "__Secure-qrl_bind";

/// The name the cookie has with `secure` as configured (`QRL_COOKIE_SECURE`).
pub fn name(secure: bool) -> &'static str {
    if secure { SECURE_COOKIE } else { COOKIE }
}

/// A fresh 256-bit secret for the browser's session `id`, and the hash of it that goes to Redis.
pub fn issue(secure: bool, id: &SessionId) -> (Cookie<'static>, BindingHash) {
    let secret = cookie_secret::fresh();
    let hash = BindingHash::of_secret(&secret);
    let cookie = Cookie::build(name(secure), secret)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(format!("/v1/qr/{id}"))
        .secure(secure)
        .finish();
    (cookie, hash)
}

/// The caller's binding, if the request carries a plausible secret.
pub fn of_request(req: &HttpRequest, secure: bool) -> Option<Binding> {
    let cookie = req.cookie(name(secure))?;
    let secret = cookie.value();
    (secret.len() == cookie_secret::LEN).then(|| Binding::of_secret(secret))
}

/// What the gateway derives from a browser's binding secret for one request: the hash Redis compares, and the
/// key that seals the claim answer. The secret itself is not kept.
pub struct Binding {
    hash: BindingHash,
    cipher: XChaCha20Poly1305,
}

/// The claim answer could not be sealed or opened (a corrupt or foreign record).
#[derive(Debug, thiserror::Error)]
#[error("claim answer cannot be sealed or opened")]
pub struct SealError;

impl Binding {
    fn of_secret(secret: &str) -> Self {
        // The secret is 256 uniformly random bits: a labelled hash of it is a sound key derivation.
        let key: [u8; 32] = Sha256::new().chain_update(ANSWER_KEY_LABEL).chain_update(secret).finalize().into();
        Self { hash: BindingHash::of_secret(secret), cipher: XChaCha20Poly1305::new(&key.into()) }
    }

    pub fn hash(&self) -> &BindingHash {
        &self.hash
    }

    /// `answer` sealed for Redis: base64url of a random nonce and the ciphertext.
    pub fn seal(&self, answer: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self.cipher.encrypt(&XNonce::from(nonce), answer.as_bytes()).map_err(|_| SealError)?;
        Ok(URL_SAFE_NO_PAD.encode([nonce.as_slice(), &sealed].concat()))
    }

    /// The answer [`Binding::seal`] sealed under this browser's key.
    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| SealError)?;
        let (nonce, ciphertext) = bytes.split_at_checked(NONCE_LEN).ok_or(SealError)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError)?;
        let plain = self.cipher.decrypt(&XNonce::from(nonce), ciphertext).map_err(|_| SealError)?;
        String::from_utf8(plain).map_err(|_| SealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_secret_opens_a_sealed_answer() {
        let (alice, other) = (Binding::of_secret(&"a".repeat(43)), Binding::of_secret(&"b".repeat(43)));
        let sealed = alice.seal(r#"{"token":"t"}"#).unwrap();

        assert_eq!(alice.open(&sealed).unwrap(), r#"{"token":"t"}"#);
        assert!(other.open(&sealed).is_err());
        assert!(!sealed.contains("token"));
        assert_ne!(alice.seal("x").unwrap(), alice.seal("x").unwrap(), "a fresh nonce each time");
    }
}
