//! OpenID Connect Back-Channel Logout 1.0: when a web session ends (from the phone, or pushed out by the
//! per-user cap), the web backend is sent a logout token for its `sid`, as `logout_token=<jwt>` in a form POST
//! (§2.5). The token is signed with the web token key (`typ: logout+jwt`), so the backend verifies it against
//! the same JWKS as the web tokens.

use qrlogin_shared::store::OutboxEvent;
use qrlogin_shared::unix_now;
use serde::Serialize;

use super::{Failure, send};
use crate::web_token::WebTokenSigner;

/// A logout token is meant to be used at once: it expires two minutes after it is signed.
const LIFETIME_SECS: u64 = 120;

#[derive(Serialize)]
struct LogoutClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    /// The queued event's id: the same on every attempt, so a backend that dedupes by `jti` may (it must still
    /// answer 200 to a repeat, or the gateway keeps trying).
    jti: &'a str,
    sub: &'a str,
    sid: &'a str,
    events: Events,
}

/// `events` holds the one event that makes a JWT a logout token (§2.4).
#[derive(Serialize)]
struct Events {
    #[serde(rename = "http://schemas.openid.net/event/backchannel-logout")]
    logout: Empty,
}

#[derive(Serialize)]
struct Empty {}

pub(super) async fn deliver(
    http: &reqwest::Client,
    url: &reqwest::Url,
    signer: &WebTokenSigner,
    event: &OutboxEvent,
) -> Result<(), Failure> {
    let token = logout_token(signer, event, unix_now())?;
    // A JWS is base64url and dots only: nothing in it needs form encoding.
    let request = http.post(url.clone()).header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    send(request.body(format!("logout_token={token}"))).await
}

/// The logout token for `event` (fields `user`, `sid`), signed `now`.
fn logout_token(signer: &WebTokenSigner, event: &OutboxEvent, now: u64) -> Result<String, Failure> {
    let (Some(sub), Some(sid)) = (event.field("user"), event.field("sid")) else {
        return Err(Failure::Malformed("a logout without user or sid"));
    };
    let claims = LogoutClaims {
        iss: signer.issuer(),
        aud: signer.audience(),
        iat: now,
        exp: now + LIFETIME_SECS,
        jti: &event.id,
        sub,
        sid,
        events: Events { logout: Empty {} },
    };
    signer.sign_logout(&claims).map_err(|_| Failure::Malformed("the logout token could not be signed"))
}
