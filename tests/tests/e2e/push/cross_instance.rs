//! Two gateway instances on one Redis: whichever instance the browser waits on, the phone's acts (through
//! mobile-api, which knows nothing of gateways) reach it at once. The binding cookie works on any instance.

use qrlogin_e2e::Stack;
use serde_json::json;

use super::{
    EVENT_WAIT, after_settling, assert_pending_with_qr, assert_prompt, assert_status_reply, assert_token_for_alice,
    confirm, scan, timed, version,
};

const WAIT_SECS: u64 = 20;

#[tokio::test]
async fn a_long_poll_on_either_instance_is_answered_at_each_step() {
    let a = Stack::start().await;
    let b = a.another_gateway(|_| {}).await;

    for (name, waiter) in [("A", &a), ("B", &b)] {
        // Arrange: the session is always created on A.
        let login = a.login().await;
        let binding = Some(login.binding.as_str());

        // Act: wait for a change from pending while the phone scans.
        let ((reply, answered), ((), scanned)) = tokio::join!(
            timed(waiter.long_poll(&login.uuid, binding, WAIT_SECS, "pending")),
            after_settling(scan(&a, &login)),
        );

        // Assert: told at once, long before the wait would have ended.
        assert_status_reply(&reply, "scanned");
        assert_prompt(answered, scanned, &format!("long-poll on {name}, scan"));

        let ((reply, answered), ((), confirmed)) = tokio::join!(
            timed(waiter.long_poll(&login.uuid, binding, WAIT_SECS, "scanned")),
            after_settling(confirm(&a, &login)),
        );

        assert_eq!(reply.status, 200, "long-poll on {name}: {}", reply.text);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_token_for_alice(waiter, &reply.body).await;
        assert_prompt(answered, confirmed, &format!("long-poll on {name}, confirm"));
        assert!(reply.elapsed.as_secs() < WAIT_SECS, "long-poll on {name} took {:?}", reply.elapsed);
    }
}

#[tokio::test]
async fn an_event_stream_on_either_instance_carries_every_step_then_ends() {
    let a = Stack::start().await;
    let b = a.another_gateway(|_| {}).await;

    for (name, waiter) in [("A", &a), ("B", &b)] {
        let login = a.login().await;
        let mut stream = waiter.events(&login.uuid, Some(&login.binding), None).await.expect("the stream opens");
        assert_eq!(stream.header("content-type"), Some("text/event-stream"), "on {name}");
        assert_eq!(stream.header("x-accel-buffering"), Some("no"), "on {name}");

        // The first event is the current state, with the QR the page shows.
        let first = stream.next_status(EVENT_WAIT).await;
        assert_eq!(stream.retry_ms, Some(2000), "the retry advice comes first, on {name}");
        assert_eq!(assert_pending_with_qr(&first.json()), login.qr_text, "on {name}");

        let (scanned, ((), acted)) =
            tokio::join!(timed(stream.next_status(EVENT_WAIT)), after_settling(scan(&a, &login)));
        let (scanned, answered) = scanned;
        assert_eq!(scanned.json(), json!({ "status": "scanned" }), "on {name}");
        assert_prompt(answered, acted, &format!("stream on {name}, scan"));
        assert!(version(&scanned) > version(&first), "ids grow: {first:?} then {scanned:?}");

        let (confirmed, ((), acted)) =
            tokio::join!(timed(stream.next_status(EVENT_WAIT)), after_settling(confirm(&a, &login)));
        let (confirmed, answered) = confirmed;
        assert_token_for_alice(waiter, &confirmed.json()).await;
        assert_prompt(answered, acted, &format!("stream on {name}, confirm"));
        assert!(version(&confirmed) > version(&scanned), "ids grow: {scanned:?} then {confirmed:?}");

        // Final: the server ends the stream.
        stream.expect_end(EVENT_WAIT).await;
    }
}
