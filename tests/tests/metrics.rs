//! `/metrics` over one whole login, both services over HTTP: each step's counter moves by exactly one.
//!
//! A test binary of its own: the metrics registry is per process, so no other login may run alongside.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation should fail the test loudly"
)]

use qrlogin_e2e::Stack;
use qrlogin_shared::metrics::SESSION_EVENTS;
use qrlogin_shared::test_support::prometheus::{self, Exposition};

const SESSIONS: &str = "qrlogin_sessions_total";

async fn scrape(base: &str) -> Exposition {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    prometheus::scrape(&client, base).await.1
}

fn events(parsed: &Exposition) -> Vec<(&'static str, f64)> {
    SESSION_EVENTS.iter().map(|e| (*e, parsed.sum(SESSIONS, &[("event", e)]))).collect()
}

#[tokio::test]
async fn one_login_moves_issued_scanned_confirmed_and_claimed_by_one_each() {
    // Arrange
    let stack = Stack::start().await;
    let before = scrape(&stack.gateway_url).await;

    // Act: the browser starts, the phone scans and confirms, the browser claims its token.
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);
    let claimed = stack.poll(&login.uuid, Some(&login.binding)).await;
    assert_eq!(claimed.expect_status(200)["status"], "confirmed");
    let after = scrape(&stack.gateway_url).await;

    // Assert: exactly the four steps of a login, once each.
    for ((event, was), (_, is)) in events(&before).into_iter().zip(events(&after)) {
        let expected = if matches!(event, "issued" | "scanned" | "confirmed" | "claimed") { 1.0 } else { 0.0 };
        assert_eq!(is - was, expected, "{event}: {was} → {is}");
    }
    // One registry per process: mobile-api's /metrics shows the same counts.
    assert_eq!(events(&scrape(&stack.mobile_url).await), events(&after));
}
