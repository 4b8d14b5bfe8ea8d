//! QR rotation while the browser waits: the new QR is pushed (as a `pending` answer carrying it), its PNG says
//! what its `qr_content` says, the superseded code no longer scans, and the new one completes the login.

use std::time::Duration;

use qrlogin_e2e::{Login, Stack, split_qr_link};
use serde_json::json;

use super::{EVENT_WAIT, assert_pending_with_qr, assert_status_reply, assert_token_for_alice, confirm, version};

/// Codes are re-issued every 2 s (each living 2 s + the 5 s overlap).
const ROTATE: Duration = Duration::from_secs(2);

async fn rotating_stack() -> Stack {
    Stack::start_with(|s| s.qr_rotate = ROTATE).await
}

/// Asserts the superseded code is refused and the new one scans; returns the login as the phone now sees it.
/// Call it with no browser waiting, so that nothing rotates the new code meanwhile.
async fn phone_uses_the_new_code(stack: &Stack, login: &Login, new_qr: &str) -> Login {
    let alice = stack.user_token("alice");
    stack.scan(&alice, &login.qr_text).await.expect_problem(404, "session-not-found");
    stack.scan(&alice, new_qr).await.expect_status(200);
    let (uuid, verification) = split_qr_link(new_qr);
    assert_eq!(uuid, login.uuid, "a rotated QR names the same session");
    Login { qr_text: new_qr.to_owned(), verification, ..login.clone() }
}

#[tokio::test]
async fn a_stream_pushes_the_rotated_qr_and_only_the_new_code_logs_in() {
    // Arrange
    let stack = rotating_stack().await;
    let login = stack.login().await;
    let binding = Some(login.binding.as_str());
    let mut stream = stack.events(&login.uuid, binding, None).await.expect("the stream opens");
    let first = stream.next_status(EVENT_WAIT).await;
    assert_eq!(assert_pending_with_qr(&first.json()), login.qr_text);

    // Act: the stream re-reads when the code is due (every ROTATE) and pushes the new QR.
    let rotated = stream.next_status(EVENT_WAIT).await;
    // No browser reading from here on: nothing rotates again while the phone scans.
    drop(stream);

    // Assert
    let new_qr = assert_pending_with_qr(&rotated.json());
    assert_ne!(new_qr, login.qr_text, "a rotation issues a different code");
    assert!(version(&rotated) > version(&first), "{first:?} then {rotated:?}");
    let login = phone_uses_the_new_code(&stack, &login, &new_qr).await;

    // The browser comes back and finishes the login on its stream.
    let mut stream = stack.events(&login.uuid, binding, Some(rotated.id())).await.expect("the stream opens");
    assert_eq!(stream.next_status(EVENT_WAIT).await.json(), json!({ "status": "scanned" }));
    confirm(&stack, &login).await;
    assert_token_for_alice(&stack, &stream.next_status(EVENT_WAIT).await.json()).await;
    stream.expect_end(EVENT_WAIT).await;
}

#[tokio::test]
async fn a_long_poll_is_answered_with_the_rotated_qr() {
    let stack = rotating_stack().await;
    let login = stack.login().await;
    let binding = Some(login.binding.as_str());

    // The status stays pending, but the QR changes: that is news for the page.
    let reply = stack.long_poll(&login.uuid, binding, 10, "pending").await;

    let new_qr = assert_pending_with_qr(reply.expect_status(200));
    assert_ne!(new_qr, login.qr_text, "a rotation issues a different code");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let login = phone_uses_the_new_code(&stack, &login, &new_qr).await;
    assert_status_reply(&stack.long_poll(&login.uuid, binding, 10, "pending").await, "scanned");
    confirm(&stack, &login).await;
    assert_token_for_alice(&stack, &stack.long_poll(&login.uuid, binding, 10, "scanned").await.body).await;
}
