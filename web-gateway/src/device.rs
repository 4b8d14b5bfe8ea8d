//! The device cookie: a long-lived random secret that tells one browser from another across logins, so the phone
//! can be told whether this browser logged in as its user before. Redis and the logs see only its SHA-256.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use qrlogin_shared::DeviceHash;

use crate::cookie_secret;

pub const COOKIE: &str = "qrl_device";
/// Sent with `POST /v1/qr` (where it is read) and the session endpoints under it, never with the site's others.
const COOKIE_PATH: &str = "/v1/qr";

/// The caller's device hash, and the cookie to set when it had none (or an implausible one).
pub fn of_request_or_issue(
    req: &HttpRequest,
    secure: bool,
    lifetime: Duration,
) -> (DeviceHash, Option<Cookie<'static>>) {
    match of_request(req) {
        Some(hash) => (hash, None),
        None => {
            let (cookie, hash) = issue(secure, lifetime);
            (hash, Some(cookie))
        }
    }
}

/// A fresh 256-bit secret, living as long as the device history remembers logins.
fn issue(secure: bool, lifetime: Duration) -> (Cookie<'static>, DeviceHash) {
    let secret = cookie_secret::fresh();
    let hash = DeviceHash::of_secret(&secret);
    let max_age = actix_web::cookie::time::Duration::seconds(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
    let cookie = Cookie::build(COOKIE, secret)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(COOKIE_PATH)
        .secure(secure)
        .max_age(max_age)
        .finish();
    (cookie, hash)
}

fn of_request(req: &HttpRequest) -> Option<DeviceHash> {
    let cookie = req.cookie(COOKIE)?;
    let value = cookie.value();
    cookie_secret::plausible(value).then(|| DeviceHash::of_secret(value))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn a_known_cookie_is_kept_and_a_missing_or_forged_one_replaced() {
        let week = Duration::from_secs(7 * 86_400);
        let (first, cookie) = of_request_or_issue(&TestRequest::default().to_http_request(), true, week);
        let cookie = cookie.unwrap();
        assert!(cookie.http_only() == Some(true) && cookie.secure() == Some(true));
        assert_eq!((cookie.path(), cookie.same_site()), (Some("/v1/qr"), Some(SameSite::Strict)));
        assert_eq!(cookie.max_age(), Some(actix_web::cookie::time::Duration::seconds(7 * 86_400)));

        let again = TestRequest::default().cookie(Cookie::new(COOKIE, cookie.value().to_owned())).to_http_request();
        let (second, none) = of_request_or_issue(&again, true, week);
        assert_eq!((second, none), (first, None));

        let forged = TestRequest::default().cookie(Cookie::new(COOKIE, "x")).to_http_request();
        assert!(of_request_or_issue(&forged, true, week).1.is_some());
    }
}
