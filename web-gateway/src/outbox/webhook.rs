//! The "new login" webhook: after each claimed login the app's backend is sent what the phone was shown, so it
//! can push "new login on Firefox, Berlin: not you?". Signed as Stripe signs its webhooks: header
//! `Qrlogin-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the shared secret; the body is the
//! same on every attempt (`Qrlogin-Event-Id` names it), the time and signature are those of the attempt.

use hmac::{Hmac, Mac};
use qrlogin_shared::requester::Location;
use qrlogin_shared::store::{OutboxEvent, Shown};
use qrlogin_shared::{rfc3339, unix_now};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::Sha256;

use super::{Failure, send};

/// `QRL_LOGIN_WEBHOOK_URL` and the secret both ends share (`QRL_LOGIN_WEBHOOK_SECRET`).
#[derive(Clone, Debug)]
pub struct LoginWebhook {
    pub url: reqwest::Url,
    pub secret: SecretString,
}

/// The webhook's body (pinned: the app backend parses it).
#[derive(Serialize)]
struct Login<'a> {
    event: &'static str,
    user: &'a str,
    sid: &'a str,
    browser: String,
    os: String,
    location: Option<Location>,
    /// The scan's verdict (`low`, `medium`, `high`); null when the scan judged none.
    risk: Option<&'a str>,
    created_at: String,
}

pub(super) async fn deliver(http: &reqwest::Client, hook: &LoginWebhook, event: &OutboxEvent) -> Result<(), Failure> {
    let body = body(event)?;
    let request = http.post(hook.url.clone()).header(reqwest::header::CONTENT_TYPE, "application/json");
    let request = request.header("Qrlogin-Event-Id", &event.id);
    let signed = signature(&hook.secret, unix_now(), &body).ok_or(Failure::Malformed("no signature"))?;
    let request = request.header("Qrlogin-Signature", signed);
    send(request.body(body)).await
}

/// The JSON body of `event` (fields `user`, `sid`, `shown`, `risk`, `at`).
fn body(event: &OutboxEvent) -> Result<Vec<u8>, Failure> {
    let (Some(user), Some(sid)) = (event.field("user"), event.field("sid")) else {
        return Err(Failure::Malformed("a login without user or sid"));
    };
    let shown = event.field("shown").and_then(|s| serde_json::from_str::<Shown>(s).ok());
    let Some(shown) = shown else { return Err(Failure::Malformed("a login without what it showed")) };
    let at = event.field("at").and_then(|at| at.parse().ok()).unwrap_or_default();
    let login = Login {
        event: "login",
        user,
        sid,
        browser: shown.browser,
        os: shown.os,
        location: shown.location,
        risk: event.field("risk").filter(|r| !r.is_empty()),
        created_at: rfc3339(at),
    };
    serde_json::to_vec(&login).map_err(|_| Failure::Malformed("a login that cannot be written as JSON"))
}

/// `t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: what a receiver recomputes, compares in constant time, and
/// whose `t` it checks is recent (replays).
/// (HMAC takes keys of any length, so there is always one; `None` only keeps a panic path out.)
pub fn signature(secret: &SecretString, t: u64, body: &[u8]) -> Option<String> {
    let t = t.to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).ok()?;
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// README's example delivery, signed with the local stack's secret, verifies: the documented scheme is the
    /// one implemented.
    #[test]
    fn the_readme_example_is_signed_as_documented() {
        let readme = include_str!("../../../README.md");
        let example = readme.split_once("POST /login-webhook HTTP/1.1\n").map(|(_, rest)| rest).unwrap();
        let header = example.lines().find_map(|l| l.strip_prefix("Qrlogin-Signature: ")).unwrap();
        let body = example.split_once("\n\n").unwrap().1.lines().next().unwrap();
        let t = header.strip_prefix("t=").and_then(|h| h.split_once(',')).unwrap().0.parse().unwrap();
        let secret = SecretString::from("dev-only-webhook-secret-0123456789abcdef");
        assert_eq!(signature(&secret, t, body.as_bytes()).unwrap(), header);
        let login: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(rfc3339(t), login["created_at"], "t and created_at agree");
    }
}
