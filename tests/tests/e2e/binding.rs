//! The binding cookie: only the browser that started a login gets its token, and gets it exactly once.

use std::sync::Arc;
use std::time::Duration;

use qrlogin_e2e::Stack;
use serde_json::json;

use crate::{assert_claim_repeats_then_expires, assert_claims_token_for, assert_poll};

/// 43 base64url characters, like a real binding secret, but not the one issued.
const FORGED_BINDING: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

#[tokio::test]
async fn poll_without_or_with_a_wrong_cookie_is_forbidden_and_the_right_browser_still_gets_the_token() {
    // Arrange: a confirmed login, and another browser with a genuine cookie of its own.
    let stack = Stack::start().await;
    let login = stack.login().await;
    let other_browser = stack.login().await;
    let alice = stack.user_token("alice");
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);

    // Act + Assert: none of them claims it.
    for binding in [None, Some(FORGED_BINDING), Some("short"), Some(other_browser.binding.as_str())] {
        let reply = stack.poll(&login.uuid, binding).await;
        let problem = reply.expect_problem(403, "binding-mismatch");
        assert!(problem.get("token").is_none(), "cookie {binding:?}: {problem}");
    }

    // The browser that started the login still gets alice's token; the others get nothing even now.
    let answer = assert_claims_token_for(&stack, &login, "alice").await;
    stack.poll(&login.uuid, Some(&other_browser.binding)).await.expect_problem(403, "binding-mismatch");
    assert_claim_repeats_then_expires(&stack, &login, &answer).await;
}

#[tokio::test]
async fn cancel_needs_the_right_cookie() {
    let stack = Stack::start().await;
    let login = stack.login().await;

    stack.cancel(&login.uuid, None).await.expect_problem(403, "binding-mismatch");
    stack.cancel(&login.uuid, Some(FORGED_BINDING)).await.expect_problem(403, "binding-mismatch");

    // Nothing changed: the phone can still go ahead.
    assert_poll(&stack, &login, "pending").await;
    stack.scan(&stack.user_token("alice"), &login.qr_text).await.expect_status(200);
    assert_poll(&stack, &login, "scanned").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_polls_after_confirm_hand_out_exactly_one_token() {
    // This test is about the atomic claim, not latency: generous Redis waits so a busy machine cannot turn a
    // slow pool checkout into a 503.
    let stack = Arc::new(
        Stack::start_with(|s| {
            s.service.redis.wait_timeout = Duration::from_secs(5);
            s.service.redis.command_timeout = Duration::from_secs(5);
        })
        .await,
    );
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);

    // All 50 are in flight together: spawning takes microseconds, each request far longer.
    let mut polls = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (stack, login) = (stack.clone(), login.clone());
        polls.spawn(async move {
            let reply = stack.poll(&login.uuid, Some(&login.binding)).await;
            reply.expect_status(200).clone()
        });
    }
    let bodies = polls.join_all().await;

    // One token per login: every poll carries the same answer (the winner's, repeated to the same browser
    // within the grace window) or finds the login over; never a second token.
    let answers: Vec<_> = bodies.iter().filter(|b| b["status"] == "confirmed").collect();
    assert!(!answers.is_empty(), "some poll claims the login: {bodies:?}");
    let answer = answers[0];
    for body in &bodies {
        assert!(body == answer || *body == json!({ "status": "expired" }), "a second answer: {body} vs {answer}");
    }
    let token = answer["token"].as_str().expect("the winner carries the token");
    assert_eq!(stack.verify_web_token(token).await.claims["sub"], "alice");
    assert_claim_repeats_then_expires(&stack, &login, answer).await;
}
