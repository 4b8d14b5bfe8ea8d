//! The fault suite (issue 13): what the services do when something breaks. The Redis faults run the real
//! services in-process against a Redis process each test owns and breaks (kills, freezes, flushes, disconnects,
//! fills); the service faults kill gateway processes, exhaust the pool, race claims and send malformed requests.
//! Every answer must be a success, a clear 4xx or a fast 503; logins, waiting browsers and confirmed logins come
//! through. Each fault is bounded to seconds. One test binary (one link step), one module per fault.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation should fail the test loudly"
)]

mod aof_crash;
mod claim_race;
mod client_kill;
mod gateway_kill;
mod malformed;
mod maxmemory;
mod pool;
mod redis_kill;
mod redis_stop;
mod script_flush;

use std::time::{Duration, Instant};

use qrlogin_e2e::{Login, RedisProcess, Reply, Stack};
use secrecy::SecretString;

/// The longest any answer may take while Redis fails: every Redis call is bounded by the command deadline
/// (500 ms in the test settings, pool wait and connect included); a long-poll may first wait as long for its
/// subscription, so the slowest answer is two deadlines (measured: 1.0 s), and a loaded 2-core box adds slack.
const ANSWER_BOUND: Duration = Duration::from_secs(2);
/// How long after Redis is back a whole login must succeed again.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);

/// Both services on `redis`.
async fn stack_on(redis: &RedisProcess) -> Stack {
    Stack::start_with(|s| s.service.redis.url = SecretString::from(redis.url())).await
}

/// Asserts that `reply` came within [`ANSWER_BOUND`] and is a success or the opaque 503 problem; returns
/// whether it was a success.
#[track_caller]
fn ok_or_fast_503(reply: &Reply, what: &str) -> bool {
    assert!(reply.elapsed < ANSWER_BOUND, "{what} took {:?} ({})", reply.elapsed, reply.status);
    if reply.status.is_success() {
        return true;
    }
    let problem = reply.expect_problem(503, "unavailable");
    assert!(problem.get("detail").is_none(), "{what}: a 5xx body says nothing about the cause: {problem}");
    assert_eq!(reply.header("retry-after"), Some("1"), "{what}");
    false
}

/// One whole login (create, scan, confirm, claim), each answer checked by [`ok_or_fast_503`]; the web token,
/// or `None` once a step was answered 503.
async fn try_login(stack: &Stack, user_token: &str) -> Option<String> {
    let login = match stack.try_login().await {
        Ok(login) => login,
        Err(reply) => {
            assert!(!ok_or_fast_503(&reply, "create"), "create answered {} without a login", reply.status);
            return None;
        }
    };
    if !ok_or_fast_503(&stack.scan(user_token, &login.qr_text).await, "scan") {
        return None;
    }
    if !ok_or_fast_503(&stack.confirm(user_token, &login.uuid, &login.verification).await, "confirm") {
        return None;
    }
    claim(stack, &login).await
}

/// The browser's poll of a confirmed login, checked by [`ok_or_fast_503`]: the token, or `None` on a 503.
async fn claim(stack: &Stack, login: &Login) -> Option<String> {
    let reply = stack.poll(&login.uuid, Some(&login.binding)).await;
    if !ok_or_fast_503(&reply, "claim") {
        return None;
    }
    assert_eq!(reply.body["status"], "confirmed", "claim: {}", reply.text);
    Some(reply.body["token"].as_str().expect("a confirmed poll carries the token").to_owned())
}

/// [`try_login`] again and again until one succeeds, at most until `deadline`; the token and when it came.
async fn login_until(stack: &Stack, user_token: &str, deadline: Instant) -> Option<(String, Instant)> {
    while Instant::now() < deadline {
        if let Some(token) = try_login(stack, user_token).await {
            return Some((token, Instant::now()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// The browser claims a confirmed login, polling again after each fast 503, at most until `deadline`.
async fn claim_until(stack: &Stack, login: &Login, deadline: Instant) -> String {
    loop {
        if let Some(token) = claim(stack, login).await {
            return token;
        }
        assert!(Instant::now() < deadline, "the browser could not claim its confirmed login in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A login the browser started and the phone confirmed (each step must succeed), not claimed yet.
async fn confirmed_login(stack: &Stack, user_token: &str) -> Login {
    let login = stack.login().await;
    stack.scan(user_token, &login.qr_text).await.expect_status(200);
    stack.confirm(user_token, &login.uuid, &login.verification).await.expect_status(200);
    login
}

/// `host:port` of a service URL, for raw TCP.
fn addr(url: &str) -> &str {
    url.trim_start_matches("http://")
}

/// The claims of a JWT, decoded without verifying it (the tests that need verification do it against the JWKS).
fn jwt_claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
