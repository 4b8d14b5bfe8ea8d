//! The binding cookie ties a login session to the browser that asked for it: only that browser can claim the
//! token, so a QR photographed or relayed elsewhere yields nothing to whoever holds only the QR.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qrlogin_shared::BindingHash;
use rand::RngCore;

pub const COOKIE: &str = "qrl_bind";
/// Scoped to the session endpoints, so the cookie never travels with the site's other requests.
pub const COOKIE_PATH: &str = "/v1/qr";

/// A fresh 256-bit secret for the browser, and the hash of it that goes to Redis.
pub fn issue(secure: bool) -> (Cookie<'static>, BindingHash) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let secret = URL_SAFE_NO_PAD.encode(raw);
    let hash = BindingHash::of_secret(&secret);
    let cookie = Cookie::build(COOKIE, secret)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(COOKIE_PATH)
        .secure(secure)
        .finish();
    (cookie, hash)
}

/// The hash of the caller's binding secret, if the request carries a plausible one.
pub fn of_request(req: &HttpRequest) -> Option<BindingHash> {
    let cookie = req.cookie(COOKIE)?;
    let value = cookie.value();
    (value.len() == 43).then(|| BindingHash::of_secret(value))
}
