//! A gateway instance stopping (SIGTERM in production) answers its waiting browsers at once instead of leaving
//! them to time out; they carry on with another instance and nothing the phone did in between is lost.

use std::time::Instant;

use qrlogin_e2e::Stack;
use serde_json::json;

use super::{
    EVENT_WAIT, PROMPTLY, SETTLE, after_settling, assert_prompt, assert_status_reply, assert_token_for_alice, confirm,
    scan, timed,
};

#[tokio::test]
async fn a_stopping_instance_answers_its_waiters_who_finish_on_the_other() {
    // Arrange: two browsers wait on A, one with a stream (already told of the scan), one with a long-poll.
    let a = Stack::start().await;
    let b = a.another_gateway(|_| {}).await;
    let streamed = a.login().await;
    let polled = a.login().await;
    let mut stream = a.events(&streamed.uuid, Some(&streamed.binding), None).await.expect("the stream opens");
    stream.next_status(EVENT_WAIT).await;
    scan(&a, &streamed).await;
    let scanned = stream.next_status(EVENT_WAIT).await;
    assert_eq!(scanned.json(), json!({ "status": "scanned" }));

    // Act: A is told to stop while both wait.
    let stopping = async {
        tokio::time::sleep(SETTLE).await;
        let began = Instant::now();
        a.stop_gateway().await;
        began
    };
    let ((reply, answered), ((), ended), began) = tokio::join!(
        timed(a.long_poll(&polled.uuid, Some(&polled.binding), 30, "pending")),
        timed(stream.expect_end(PROMPTLY + PROMPTLY)),
        stopping,
    );

    // Assert: the long-poll got the current state and the stream ended, both long before the 10 s shutdown
    // timeout or the 30 s wait; then A is gone.
    assert_status_reply(&reply, "pending");
    assert_prompt(answered, began, "long-poll on a stopping instance");
    assert_prompt(ended, began, "stream on a stopping instance");
    let gone = reqwest::Client::builder().no_proxy().build().unwrap().get(format!("{}/healthz", a.gateway_url));
    assert!(gone.send().await.is_err(), "a stopped instance accepts no more requests");

    // The phone confirms while the streaming browser reconnects; it resumes on B after the scanned event.
    confirm(&a, &streamed).await;
    let mut resumed = b.events(&streamed.uuid, Some(&streamed.binding), Some(scanned.id())).await.expect("opens on B");
    assert_token_for_alice(&b, &resumed.next_status(EVENT_WAIT).await.json()).await;
    resumed.expect_end(EVENT_WAIT).await;

    // The long-polling browser waits again, on B.
    let binding = Some(polled.binding.as_str());
    let ((reply, answered), ((), acted)) =
        tokio::join!(timed(b.long_poll(&polled.uuid, binding, 20, "pending")), after_settling(scan(&a, &polled)));
    assert_status_reply(&reply, "scanned");
    assert_prompt(answered, acted, "long-poll on B, scan");
    let ((reply, answered), ((), acted)) =
        tokio::join!(timed(b.long_poll(&polled.uuid, binding, 20, "scanned")), after_settling(confirm(&a, &polled)));
    assert_token_for_alice(&b, &reply.body).await;
    assert_prompt(answered, acted, "long-poll on B, confirm");
}
