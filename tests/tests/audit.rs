//! The audit trail, read back from what both services actually log: every step of a login is an event with
//! target `audit` naming its session, client IP and (when known) user, and no log line of any target carries a
//! secret of the run.
//!
//! A test binary of its own: it installs the process-wide tracing subscriber (JSON lines into memory), which no
//! other test binary may do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation should fail the test loudly"
)]

use std::sync::OnceLock;

use qrlogin_e2e::{Login, Stack, USER_JWT_SECRET, WEB_KEY_PEM_FILE};
use qrlogin_shared::rate_limit::Rate;
use qrlogin_shared::test_support::logs::Captured;
use qrlogin_shared::{SessionId, Verifier, test_support};
use secrecy::SecretSlice;
use serde_json::{Value, json};
use tracing_subscriber::EnvFilter;

const LOOPBACK: &str = "127.0.0.1";

/// The process-wide capture, installed on first use: JSON lines at `info`, as services run in production.
fn install() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(EnvFilter::new("info"))
            .with_writer(logs.clone())
            .try_init()
            .expect("this test binary is the only one to install a global subscriber");
        logs
    })
}

/// An event's field, wherever the layout puts it (`fields` object, or flattened to the top level).
fn field<'a>(line: &'a Value, name: &str) -> &'a Value {
    line.get("fields").and_then(|f| f.get(name)).or_else(|| line.get(name)).unwrap_or(&Value::Null)
}

/// The audit events named `event` for `session`.
fn audit<'a>(lines: &'a [Value], event: &str, session: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["target"] == "audit" && field(l, "event") == event && field(l, "session") == session)
        .collect()
}

/// Who an audit event should name.
#[derive(Clone, Copy)]
enum User<'a> {
    /// This user, who is known at this step.
    Is(&'a str),
    /// Nobody: no user is known at this step (the browser side).
    Unknown,
}

/// Asserts exactly one `event` for `session` from the loopback client, naming `user`, and returns it.
#[track_caller]
fn assert_one<'a>(lines: &'a [Value], event: &str, session: &str, user: User<'_>) -> &'a Value {
    let found = audit(lines, event, session);
    assert_eq!(found.len(), 1, "expected one audit event {event} for {session}, got {found:#?}");
    let line = found[0];
    assert_eq!(field(line, "ip"), LOOPBACK, "{line}");
    match user {
        User::Is(user) => assert_eq!(field(line, "user"), user, "{line}"),
        User::Unknown => assert_eq!(field(line, "user"), &Value::Null, "no user is known at {event}: {line}"),
    }
    line
}

/// The base64 lines of a PEM file, i.e. the key material itself.
fn pem_body_lines(path: &str) -> Vec<String> {
    let pem = std::fs::read_to_string(path).expect("the dev key is readable");
    let body: Vec<String> =
        pem.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("-----")).map(str::to_owned).collect();
    assert!(!body.is_empty(), "no key material in {path}");
    body
}

/// A JWT and its signature alone (a log leaking only the signature still leaks a usable part).
fn jwt_secrets(token: &str) -> [String; 2] {
    let signature = token.rsplit('.').next().expect("a JWT has parts");
    assert!(signature.len() >= 32, "not a signed JWT: {token}");
    [token.to_owned(), signature.to_owned()]
}

/// A JWT's header and claims as JSON, read straight from its base64url parts (the signature is not checked).
fn decode_jwt_unverified(token: &str) -> (Value, Value) {
    use base64::Engine;
    let part = |p: &str| -> Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).expect("a base64url JWT part");
        serde_json::from_slice(&bytes).expect("a JSON JWT part")
    };
    let mut parts = token.split('.');
    let (header, claims) = (parts.next().expect("a header"), parts.next().expect("claims"));
    (part(header), part(claims))
}

/// Wrong verification strings for `login`'s session: right format and expiry, signed with a key nobody holds.
fn wrong_verifications(login: &Login, count: u32) -> Vec<String> {
    let foreign = Verifier::new(SecretSlice::from(vec![0x5a; 32]), vec![]).unwrap();
    let id = SessionId::parse(&login.uuid).unwrap();
    let expires_at = u32::try_from(qrlogin_shared::unix_now() + 120).unwrap();
    (0..count).map(|n| foreign.issue(&id, expires_at + n).encode()).collect()
}

#[tokio::test]
async fn every_step_of_a_login_is_audited_and_no_log_line_carries_a_secret() {
    let logs = install();
    let stack = Stack::start().await;
    let (alice, bob, mallory) = (stack.user_token("alice"), stack.user_token("bob"), stack.user_token("mallory"));
    let qr_base = test_support::QR_BASE_URL;

    // A full login: create, read the QR off the PNG, scan, confirm, and the poll claims the web token.
    let login = stack.login().await;
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);
    let claimed = stack.poll(&login.uuid, Some(&login.binding)).await;
    let web_token = claimed.expect_status(200)["token"].as_str().expect("the claim carries the token").to_owned();

    // A lockout: five wrong verification strings destroy another session; its browser's poll then finds it gone.
    let locked = stack.login().await;
    let wrong = wrong_verifications(&locked, 5);
    for verification in &wrong {
        let forged = format!("{qr_base}/q/{}.{verification}", locked.uuid);
        stack.scan(&mallory, &forged).await.expect_problem(404, "session-not-found");
    }
    stack.scan(&alice, &locked.qr_text).await.expect_problem(404, "session-not-found");
    stack.poll(&locked.uuid, Some(&locked.binding)).await.expect_json(200, &json!({ "status": "expired" }));

    // A login the browser abandons, and one the user refuses.
    let cancelled = stack.login().await;
    stack.cancel(&cancelled.uuid, Some(&cancelled.binding)).await.expect_status(204);
    let denied = stack.login().await;
    stack.scan(&bob, &denied.qr_text).await.expect_status(200);
    stack.deny(&bob, &denied.uuid, &denied.verification).await.expect_status(200);

    let lines = logs.lines();

    // The audit trail of the login, in order.
    let steps = [
        ("issued", User::Unknown),
        ("scanned", User::Is("alice")),
        ("confirmed", User::Is("alice")),
        ("claimed", User::Is("alice")),
    ];
    let mut at = Vec::new();
    for (event, user) in steps {
        let line = assert_one(&lines, event, &login.uuid, user);
        assert_eq!(line["level"], "INFO", "{line}");
        at.push(lines.iter().position(|l| std::ptr::eq(l, line)).unwrap());
    }
    assert!(at.is_sorted(), "audit events out of order: {at:?}");
    assert_eq!(field(assert_one(&lines, "issued", &login.uuid, User::Unknown), "outcome"), "ok");
    assert_eq!(field(assert_one(&lines, "scanned", &login.uuid, User::Is("alice")), "outcome"), "ok");
    assert_eq!(field(assert_one(&lines, "claimed", &login.uuid, User::Is("alice")), "outcome"), "ok");

    // The claim names the token it handed out by its `jti`, read here from the token itself, decoded by hand
    // (no JWT library): an RFC 9068 access token with a session id of its own.
    let (header, claims) = decode_jwt_unverified(&web_token);
    assert_eq!(header["typ"], "at+jwt", "{header}");
    let jti = claims["jti"].as_str().filter(|j| !j.is_empty()).unwrap_or_else(|| panic!("no jti: {claims}"));
    let sid = claims["sid"].as_str().filter(|s| !s.is_empty()).unwrap_or_else(|| panic!("no sid: {claims}"));
    assert_ne!(sid, jti, "the session id is an id of its own");
    assert_eq!(field(assert_one(&lines, "claimed", &login.uuid, User::Is("alice")), "jti"), jti);

    // The lockout is one event, from the client who guessed. (The guesser's user is known there but not
    // recorded today; if it ever is, it must be mallory.)
    let found = audit(&lines, "lockout", &locked.uuid);
    assert_eq!(found.len(), 1, "{found:#?}");
    let lockout = found[0];
    assert_eq!(field(lockout, "ip"), LOOPBACK, "{lockout}");
    assert!(matches!(field(lockout, "user"), Value::Null) || field(lockout, "user") == "mallory", "{lockout}");
    assert_eq!(lockout["level"], "WARN", "{lockout}");
    assert_eq!(field(lockout, "outcome"), "destroyed");
    assert!(audit(&lines, "scanned", &locked.uuid).is_empty(), "a destroyed session cannot be scanned");
    assert!(!audit(&lines, "expired", &locked.uuid).is_empty(), "the poll of the destroyed session is audited");

    assert_eq!(field(assert_one(&lines, "cancelled", &cancelled.uuid, User::Unknown), "outcome"), "ok");
    assert_one(&lines, "issued", &denied.uuid, User::Unknown);
    assert_one(&lines, "scanned", &denied.uuid, User::Is("bob"));
    assert_one(&lines, "denied", &denied.uuid, User::Is("bob"));
    assert!(audit(&lines, "confirmed", &denied.uuid).is_empty());

    // Access lines are captured too, so the secret check below covers them.
    assert!(lines.iter().any(|l| l["target"] == "access"), "no access log captured");

    // No line of any target carries a secret of this run.
    let mut secrets = vec![
        test_support::SIGNING_SECRET.to_owned(),
        USER_JWT_SECRET.to_owned(),
        login.verification.clone(),
        locked.verification.clone(),
        cancelled.verification.clone(),
        denied.verification.clone(),
    ];
    secrets.extend(wrong);
    for l in [&login, &locked, &cancelled, &denied] {
        secrets.push(l.binding.clone());
    }
    for token in [&web_token, &alice, &bob, &mallory] {
        secrets.extend(jwt_secrets(token));
    }
    secrets.extend(pem_body_lines(WEB_KEY_PEM_FILE));
    let text = logs.text();
    for secret in &secrets {
        assert!(secret.len() >= 16, "too short to search for safely: {secret}");
        if let Some(line) = text.lines().find(|line| line.contains(secret.as_str())) {
            panic!("a log line carries a secret ({}...): {line}", &secret[..8]);
        }
    }
}

#[tokio::test]
async fn a_refused_qr_issuance_is_audited_with_the_client_ip() {
    let logs = install();
    let stack = Stack::start_with(|gateway| gateway.limits.per_ip = Rate::new(1, 60)).await;

    let admitted = stack.login().await;
    stack.create_qr().await.expect_problem(429, "rate-limited");

    let lines = logs.lines();
    assert_one(&lines, "issued", &admitted.uuid, User::Unknown);
    // Another test of this binary may run alongside, but only this one has an issuance limit.
    let refused: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "audit" && field(l, "event") == "rate_limited" && field(l, "limit") == "issue")
        .collect();
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(field(refused[0], "ip"), LOOPBACK);
    assert_eq!(field(refused[0], "outcome"), "refused");
    assert_eq!(refused[0]["level"], "WARN");
}

#[tokio::test]
async fn a_login_ended_by_a_second_scanner_says_who_and_why() {
    let logs = install();
    let stack = Stack::start().await;
    let (alice, mallory) = (stack.user_token("alice"), stack.user_token("mallory"));
    let login = stack.login().await;

    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.scan(&mallory, &login.qr_text).await.expect_problem(409, "wrong-state");

    let lines = logs.lines();
    let ended = assert_one(&lines, "cancelled", &login.uuid, User::Is("mallory"));
    assert_eq!(field(ended, "outcome"), "second_scanner", "{ended}");
    assert_eq!(field(ended, "first_scanner"), "alice", "{ended}");
    assert!(audit(&lines, "scanned", &login.uuid).iter().all(|l| field(l, "user") == "alice"));
}
