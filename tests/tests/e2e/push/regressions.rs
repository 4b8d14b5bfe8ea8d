//! Push behaviour that once went wrong: the stream's cache policy, resuming after expiry, waiters surviving a
//! Redis restart.

use std::time::Duration;

use qrlogin_e2e::{RedisProcess, Stack};
use secrecy::SecretString;
use serde_json::json;

use super::{EVENT_WAIT, SETTLE, assert_status_reply};

#[tokio::test]
async fn the_event_stream_may_not_be_stored() {
    let stack = Stack::start().await;
    let login = stack.login().await;

    let stream = stack.events(&login.uuid, Some(&login.binding), None).await.expect("the stream opens");

    assert_eq!(stream.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn a_stream_resumed_after_the_session_expired_says_expired() {
    let stack = Stack::start_with(|s| s.session_ttl = Duration::from_secs(2)).await;
    let login = stack.login().await;
    let binding = Some(login.binding.as_str());
    let mut stream = stack.events(&login.uuid, binding, None).await.expect("the stream opens");
    let pending = stream.next_status(EVENT_WAIT).await;
    drop(stream);
    tokio::time::sleep(Duration::from_millis(3100)).await;

    let resumed = stack.events(&login.uuid, binding, Some(pending.id())).await;

    let mut resumed = resumed.unwrap_or_else(|reply| panic!("got {} instead of an `expired` event", reply.status));
    assert_eq!(resumed.next_status(EVENT_WAIT).await.json(), json!({ "status": "expired" }));
}

#[tokio::test]
async fn a_long_poll_spanning_a_redis_restart_is_answered_without_a_retry() {
    let mut redis = RedisProcess::start().await;
    let stack = Stack::start_with(|s| s.service.redis.url = SecretString::from(redis.url())).await;
    let login = stack.login().await;

    let (reply, ()) = tokio::join!(stack.long_poll(&login.uuid, Some(&login.binding), 30, "pending"), async {
        tokio::time::sleep(SETTLE).await;
        redis.restart().await;
        // Redis answers again; the phone's first try may still meet a broken pooled connection.
        for _ in 0..10 {
            if stack.scan(&stack.user_token("alice"), &login.qr_text).await.status == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the phone could not scan after the restart");
    });

    assert_status_reply(&reply, "scanned");
}
