//! The verification string: a QR the gateway did not issue, or one altered after it did, opens nothing and
//! harms nothing.

use qrlogin_e2e::Stack;
use qrlogin_shared::test_support::QR_BASE_URL;
use qrlogin_shared::{SessionId, VerificationCode, Verifier};
use secrecy::SecretSlice;

use crate::{assert_claims_token_for, assert_poll};

/// Replaces the character at `index` with another base64url character, so the string still parses.
fn flip_char(s: &str, index: usize) -> String {
    let flip = |c| if c == 'A' { 'B' } else { 'A' };
    s.char_indices().map(|(i, c)| if i == index { flip(c) } else { c }).collect()
}

#[tokio::test]
async fn verification_forged_with_another_key_is_not_found() {
    // Arrange: a code for the same session and expiry, made with a different 32-byte key.
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    let id = SessionId::parse(&login.uuid).expect("the QR carries a valid session id");
    let genuine = VerificationCode::parse(&login.verification).expect("the QR carries a valid code");
    let forger = Verifier::new(SecretSlice::from(vec![0x5a; 32]), Vec::new()).expect("a 32-byte key is accepted");
    let forged = forger.issue(&id, genuine.expires_at()).encode();
    assert_ne!(forged, login.verification);
    let forged_qr = format!("{QR_BASE_URL}/q/{}.{forged}", login.uuid);

    // Act + Assert: the forgery is answered like a session that does not exist.
    stack.scan(&alice, &forged_qr).await.expect_problem(404, "session-not-found");
    assert_poll(&stack, &login, "pending").await;

    // Nor can it decide a session that was genuinely scanned.
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.confirm(&alice, &login.uuid, &forged).await.expect_problem(404, "session-not-found");
    stack.deny(&alice, &login.uuid, &forged).await.expect_problem(404, "session-not-found");
    assert_poll(&stack, &login, "scanned").await;
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);
    assert_claims_token_for(&stack, &login, "alice").await;
}

#[tokio::test]
async fn tampered_qr_is_rejected_and_the_session_stays_pending() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    let prefix = format!("{QR_BASE_URL}/q/{}.", login.uuid);

    // The first character (inside the expiry) and the last one (the end of the tag): four wrong strings in all,
    // one fewer than the lockout that destroys a session after five.
    for index in [0, login.verification.len() - 1] {
        let tampered = flip_char(&login.verification, index);
        assert_ne!(tampered, login.verification);

        let reply = stack.scan(&alice, &format!("{prefix}{tampered}")).await;

        assert!(reply.status.is_client_error(), "tampered at {index}: {} {}", reply.status, reply.text);
        assert_eq!(reply.header("content-type"), Some("application/problem+json"));
        stack.confirm(&alice, &login.uuid, &tampered).await.expect_status(reply.status.as_u16());
    }

    // The real QR still works.
    assert_poll(&stack, &login, "pending").await;
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    assert_poll(&stack, &login, "scanned").await;
}

#[tokio::test]
async fn foreign_or_malformed_qr_is_a_bad_request() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");

    let foreign = login.qr_text.replacen(QR_BASE_URL, "https://evil.example", 1);
    stack.scan(&alice, &foreign).await.expect_problem(400, "invalid-qr");
    let truncated = &login.qr_text[..login.qr_text.len() - 1];
    stack.scan(&alice, truncated).await.expect_problem(400, "invalid-qr");
    let no_code = format!("{QR_BASE_URL}/q/{}", login.uuid);
    stack.scan(&alice, &no_code).await.expect_problem(400, "invalid-qr");

    assert_poll(&stack, &login, "pending").await;
}
