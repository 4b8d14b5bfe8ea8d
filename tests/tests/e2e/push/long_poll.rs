//! The long-poll's query: `known` must name a status; `wait` is honoured (and capped) rather than refused.

use std::time::Duration;

use qrlogin_e2e::Stack;
use reqwest::Method;

use super::{after_settling, assert_prompt, assert_status_reply, scan, timed};

#[tokio::test]
async fn an_unknown_status_in_known_is_a_400() {
    let stack = Stack::start().await;
    let login = stack.login().await;

    let path = format!("/v1/qr/{}?wait=5&known=bogus", login.uuid);
    let reply = stack.gateway_request(Method::GET, &path, Some(&login.binding)).await;

    reply.expect_problem(400, "invalid-request");
    assert!(reply.elapsed < Duration::from_secs(3), "refused at once, not after the wait: {:?}", reply.elapsed);
}

#[tokio::test]
async fn a_wait_with_no_change_ends_with_the_unchanged_status() {
    let stack = Stack::start().await;
    let login = stack.login().await;

    let reply = stack.long_poll(&login.uuid, Some(&login.binding), 1, "pending").await;

    assert_status_reply(&reply, "pending");
    // It did wait (most of) the second, and not much longer.
    assert!(reply.elapsed >= Duration::from_millis(900), "returned after {:?}", reply.elapsed);
    assert!(reply.elapsed < Duration::from_secs(6), "returned after {:?}", reply.elapsed);
}

#[tokio::test]
async fn a_wait_beyond_the_cap_is_accepted_and_still_answered_at_once() {
    let stack = Stack::start().await;
    let login = stack.login().await;

    // wait=1000 is capped (at 30 s), not refused: the scan answers it.
    let ((reply, answered), ((), scanned)) = tokio::join!(
        timed(stack.long_poll(&login.uuid, Some(&login.binding), 1000, "pending")),
        after_settling(scan(&stack, &login)),
    );

    assert_status_reply(&reply, "scanned");
    assert_prompt(answered, scanned, "long-poll with wait=1000");
}

#[tokio::test]
async fn a_known_that_is_already_stale_is_answered_at_once() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    scan(&stack, &login).await;

    // The page still shows pending: the scan it missed is answered without waiting.
    let reply = stack.long_poll(&login.uuid, Some(&login.binding), 20, "pending").await;

    assert_status_reply(&reply, "scanned");
    assert!(reply.elapsed < Duration::from_secs(5), "took {:?}", reply.elapsed);
}
