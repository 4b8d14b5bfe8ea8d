//! End-to-end tests: web-gateway and mobile-api started in-process against one real Redis, driven over HTTP by a
//! browser and a phone that reads the QR off the PNG. One test binary (one link step), one module per concern.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation should fail the test loudly"
)]

mod binding;
mod check_code;
mod cluster;
mod deliveries;
mod documented_examples;
mod dpop;
mod flow;
mod http_errors;
mod outcome;
mod proxy;
mod push;
mod qr_integrity;
mod redis_down;
mod rotation;
mod sentinel;
mod user_tokens;
mod verifiers;
mod web_sessions;

use std::time::Duration;

use qrlogin_e2e::{CLAIM_GRACE_SECS, Login, Stack};
use serde_json::{Value, json};

/// Asserts that the browser's poll answers exactly `{"status": <status>}` (no user, no token).
async fn assert_poll(stack: &Stack, login: &Login, status: &str) {
    stack.poll(&login.uuid, Some(&login.binding)).await.expect_json(200, &json!({ "status": status }));
}

/// Asserts that the browser's poll hands over the token for `user`, verified against the gateway's JWKS, and
/// returns the response body.
async fn assert_claims_token_for(stack: &Stack, login: &Login, user: &str) -> Value {
    let reply = stack.poll(&login.uuid, Some(&login.binding)).await;
    let body = reply.expect_status(200).clone();
    assert_eq!(body["status"], "confirmed", "body: {body}");
    assert_eq!(body["user"]["id"], user);
    let token = body["token"].as_str().expect("a confirmed poll carries the token");
    assert_eq!(stack.verify_web_token(token).await.claims["sub"], user);
    body
}

/// After the browser claimed `answer` (the confirmed poll body): within the grace window the same browser gets
/// the very same answer again, never a second token; after it, the login is gone (`expired`).
async fn assert_claim_repeats_then_expires(stack: &Stack, login: &Login, answer: &Value) {
    let again = stack.poll(&login.uuid, Some(&login.binding)).await;
    assert_eq!(again.expect_status(200), answer, "a repeated poll within the grace window repeats the answer");

    tokio::time::sleep(Duration::from_millis(CLAIM_GRACE_SECS * 1000 + 500)).await;

    assert_poll(stack, login, "expired").await;
}

/// The profile the gateway should return for `user`: its entry in deploy/dev/users.json plus `id`.
fn directory_profile(user: &str) -> Value {
    let text = std::fs::read_to_string(qrlogin_e2e::USERS_FILE).expect("users.json is readable");
    let users: Value = serde_json::from_str(&text).expect("users.json is JSON");
    let mut profile = users[user].clone();
    assert!(profile.is_object(), "{user} is not in users.json");
    profile["id"] = json!(user);
    profile
}

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().expect("a JSON object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}
