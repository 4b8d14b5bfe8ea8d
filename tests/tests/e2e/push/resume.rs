//! An event stream resumed with `Last-Event-ID`, as `EventSource` does after a dropped connection: only what
//! the browser has not seen comes, the token exactly once, and nothing at all once the login is over for it.

use qrlogin_e2e::Stack;
use serde_json::json;

use super::{EVENT_WAIT, assert_token_for_alice, confirm, scan, version};

#[tokio::test]
async fn a_resumed_stream_sends_only_the_unseen_confirmation_then_nothing_more() {
    // Arrange: the browser saw pending and scanned, then lost its connection; meanwhile the phone confirmed.
    let stack = Stack::start().await;
    let login = stack.login().await;
    let binding = Some(login.binding.as_str());
    let mut stream = stack.events(&login.uuid, binding, None).await.expect("the stream opens");
    stream.next_status(EVENT_WAIT).await;
    scan(&stack, &login).await;
    let scanned = stream.next_status(EVENT_WAIT).await;
    assert_eq!(scanned.json(), json!({ "status": "scanned" }));
    drop(stream);
    confirm(&stack, &login).await;

    // Act: reconnect after the scanned event.
    let mut resumed =
        stack.events(&login.uuid, binding, Some(scanned.id())).await.expect("a resumed stream opens while not final");

    // Assert: the confirmation, with the token, is the next and last event.
    let confirmed = resumed.next_status(EVENT_WAIT).await;
    assert_token_for_alice(&stack, &confirmed.json()).await;
    assert!(version(&confirmed) > version(&scanned), "{scanned:?} then {confirmed:?}");
    resumed.expect_end(EVENT_WAIT).await;

    // Resuming after the final event: nothing more will come.
    let done = stack.events(&login.uuid, binding, Some(confirmed.id())).await.expect_err("no stream after the end");
    assert_eq!(done.status, 204, "body: {}", done.text);
    assert_eq!(done.text, "");
}

#[tokio::test]
async fn a_stream_resumed_at_the_current_state_waits_for_the_next_change() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let binding = Some(login.binding.as_str());
    let mut stream = stack.events(&login.uuid, binding, None).await.expect("the stream opens");
    let pending = stream.next_status(EVENT_WAIT).await;
    drop(stream);

    // Reconnected with nothing new: no event is repeated; the scan is the first thing sent.
    let mut resumed = stack.events(&login.uuid, binding, Some(pending.id())).await.expect("the stream opens");
    scan(&stack, &login).await;

    let next = resumed.next_status(EVENT_WAIT).await;
    assert_eq!(next.json(), json!({ "status": "scanned" }), "pending must not be repeated: {next:?}");
}
