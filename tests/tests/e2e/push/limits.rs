//! Waiter caps: too many waits on one session are a 429 for that browser; a full instance is a 503 for all,
//! both with `Retry-After`, and neither disturbs the waits already admitted.

use qrlogin_e2e::{Reply, Stack};
use web_gateway::push::WaiterLimits;

use super::{EVENT_WAIT, after_settling, assert_status_reply, scan};

#[track_caller]
fn assert_refused(reply: &Reply, status: u16, slug: &str, what: &str) {
    reply.expect_problem(status, slug);
    assert_eq!(reply.header("retry-after"), Some("1"), "{what}");
}

#[tokio::test]
async fn a_second_wait_on_one_session_is_a_429_when_one_is_allowed() {
    let stack =
        Stack::start_with(|s| s.waiters = WaiterLimits { per_instance: 100, per_session: 1, per_client: 100 }).await;
    let login = stack.login().await;
    let binding = Some(login.binding.as_str());
    let mut stream = stack.events(&login.uuid, binding, None).await.expect("the first wait is admitted");
    stream.next_status(EVENT_WAIT).await;

    let second_stream = stack.events(&login.uuid, binding, None).await.expect_err("a second stream is refused");
    let long_poll = stack.long_poll(&login.uuid, binding, 5, "pending").await;

    assert_refused(&second_stream, 429, "too-many-waiters", "second stream");
    assert_refused(&long_poll, 429, "too-many-waiters", "long-poll beside a stream");
    // A plain poll is not a wait: still answered.
    assert_status_reply(&stack.poll(&login.uuid, binding).await, "pending");
    // Another session is not affected.
    let other = stack.login().await;
    let (reply, _) = tokio::join!(
        stack.long_poll(&other.uuid, Some(&other.binding), 20, "pending"),
        after_settling(scan(&stack, &other)),
    );
    assert_status_reply(&reply, "scanned");
    // And the admitted stream still works.
    scan(&stack, &login).await;
    assert_eq!(stream.next_status(EVENT_WAIT).await.json()["status"], "scanned");
}

#[tokio::test]
async fn a_wait_on_a_full_instance_is_a_503() {
    let stack =
        Stack::start_with(|s| s.waiters = WaiterLimits { per_instance: 1, per_session: 8, per_client: 100 }).await;
    let first = stack.login().await;
    let mut stream = stack.events(&first.uuid, Some(&first.binding), None).await.expect("the first wait is admitted");
    stream.next_status(EVENT_WAIT).await;
    let second = stack.login().await;
    let binding = Some(second.binding.as_str());

    let long_poll = stack.long_poll(&second.uuid, binding, 5, "pending").await;
    let events = stack.events(&second.uuid, binding, None).await.expect_err("the instance is full");

    assert_refused(&long_poll, 503, "busy", "long-poll on a full instance");
    assert_refused(&events, 503, "busy", "stream on a full instance");
    // Plain polling, the fallback, still works.
    assert_status_reply(&stack.poll(&second.uuid, binding).await, "pending");
    scan(&stack, &first).await;
    assert_eq!(stream.next_status(EVENT_WAIT).await.json()["status"], "scanned");
}
