//! Push: browsers wait with long-poll or Server-Sent Events on any gateway instance and are answered the moment
//! the phone acts, across instances, reconnects, a Redis restart, QR rotation, caps and a graceful stop.
//!
//! Timing is asserted only with generous bounds (the machine may be loaded): "answered within a few seconds of
//! the phone acting, although the wait was 20 s" separates push from a timed-out wait without being flaky.

mod cross_instance;
mod limits;
mod long_poll;
mod redis_restart;
mod regressions;
mod resume;
mod rotation;
mod scale_out;
mod shutdown;

use std::time::{Duration, Instant};

use qrlogin_e2e::{Login, Reply, SseEvent, Stack, decode_qr};
use serde_json::{Value, json};

use crate::directory_profile;

/// Time for a waiter to register before the phone acts. If it registers later, it reads the new state at once;
/// the tests still pass, they just prove less.
const SETTLE: Duration = Duration::from_millis(500);
/// A pushed answer arrives within this of the phone's act: far below any wait used, far above a push.
const PROMPTLY: Duration = Duration::from_secs(5);
/// Bound on reading one event (or the end) of a stream.
const EVENT_WAIT: Duration = Duration::from_secs(10);

/// Runs `fut` and notes when it finished.
async fn timed<T>(fut: impl Future<Output = T>) -> (T, Instant) {
    let out = fut.await;
    (out, Instant::now())
}

/// Runs `fut` (the phone) after [`SETTLE`] and notes when it finished.
async fn after_settling<T>(fut: impl Future<Output = T>) -> (T, Instant) {
    tokio::time::sleep(SETTLE).await;
    timed(fut).await
}

/// Asserts that the waiter's answer (done at `answered`) came within [`PROMPTLY`] of the phone's act (done at
/// `acted`). The answer may even come first: the push is published before the phone's response is sent.
#[track_caller]
fn assert_prompt(answered: Instant, acted: Instant, what: &str) {
    let after = answered.saturating_duration_since(acted);
    assert!(after < PROMPTLY, "{what}: answered {after:?} after the phone acted");
}

async fn scan(stack: &Stack, login: &Login) {
    stack.scan(&stack.user_token("alice"), &login.qr_text).await.expect_status(200);
}

async fn confirm(stack: &Stack, login: &Login) {
    stack.confirm(&stack.user_token("alice"), &login.uuid, &login.verification).await.expect_status(200);
}

/// Asserts a long-poll answered 200 with exactly `{"status": <status>}`.
#[track_caller]
fn assert_status_reply(reply: &Reply, status: &str) {
    reply.expect_json(200, &json!({ "status": status }));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

/// Asserts a confirmed answer (long-poll body or event data) for alice whose token verifies with the JWKS.
async fn assert_token_for_alice(stack: &Stack, body: &Value) {
    assert_eq!(body["status"], "confirmed", "body: {body}");
    assert_eq!(body["user"], directory_profile("alice"), "body: {body}");
    let token = body["token"].as_str().unwrap_or_else(|| panic!("a confirmed answer carries the token: {body}"));
    assert_eq!(stack.verify_web_token(token).await.claims["sub"], "alice");
}

/// Asserts a pending answer carrying a QR whose PNG decodes to its `qr_content`; returns that content.
#[track_caller]
fn assert_pending_with_qr(body: &Value) -> String {
    assert_eq!(body["status"], "pending", "body: {body}");
    let content = body["qr_content"].as_str().unwrap_or_else(|| panic!("no qr_content: {body}")).to_owned();
    let image = body["qr_image"].as_str().unwrap_or_else(|| panic!("no qr_image: {body}"));
    assert_eq!(decode_qr(image), content, "the pushed PNG must encode exactly the pushed qr_content");
    content
}

/// An event's id as the number it is (the session version).
#[track_caller]
fn version(event: &SseEvent) -> u64 {
    event.id().parse().unwrap_or_else(|_| panic!("event id is not a version: {event:?}"))
}
