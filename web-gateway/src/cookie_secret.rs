//! The secrets the gateway keeps in browser cookies (the binding cookie, the device cookie): 256 random bits,
//! base64url without padding, so 43 characters. Only their hashes reach Redis.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// Characters of a secret.
pub const LEN: usize = 43;

/// A fresh secret from the thread's CSPRNG.
pub fn fresh() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// Whether a cookie value decodes as one of ours. (The binding cookie is checked by length only: any other value
/// of that length is simply a secret no session was issued with.)
pub fn plausible(value: &str) -> bool {
    value.len() == LEN && URL_SAFE_NO_PAD.decode(value).is_ok_and(|raw| raw.len() == 32)
}
