//! The binding cookie ties a login session to the browser that asked for it: only that browser can claim the
//! token, so a QR photographed or relayed elsewhere yields nothing to whoever holds only the QR.
//!
//! Each session has a cookie of its own, scoped to that session's path (`Path=/v1/qr/<uuid>`): a second tab of
//! the login page gets a second cookie instead of overwriting the first tab's. Over https the name carries the
//! `__Secure-` prefix, so a plain-http response or a sibling subdomain cannot plant one.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qrlogin_shared::{BindingHash, SessionId};
use rand::RngCore;

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
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let secret = URL_SAFE_NO_PAD.encode(raw);
    let hash = BindingHash::of_secret(&secret);
    let cookie = Cookie::build(name(secure), secret)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(format!("/v1/qr/{id}"))
        .secure(secure)
        .finish();
    (cookie, hash)
}

/// The hash of the caller's binding secret, if the request carries a plausible one.
pub fn of_request(req: &HttpRequest, secure: bool) -> Option<BindingHash> {
    let cookie = req.cookie(name(secure))?;
    let value = cookie.value();
    (value.len() == 43).then(|| BindingHash::of_secret(value))
}
