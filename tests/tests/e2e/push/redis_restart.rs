//! Redis restarts while browsers wait. The session survives (append-only file); the gateway's pub/sub listener
//! reconnects and wakes every waiter to re-read. A browser behaves as pages do: a 503 long-poll is retried
//! after `Retry-After`, an ended stream is reopened after `retry` with `Last-Event-ID`. Either way each
//! browser gets the scan and then, pushed at once, the token.

use std::time::Duration;

use qrlogin_e2e::{EventStream, Login, RedisProcess, Reply, Stack};
use secrecy::SecretString;
use serde_json::Value;

use super::{SETTLE, after_settling, assert_prompt, assert_token_for_alice, timed};

/// Bound on each phase: the restart, the listener's reconnect back-off (≤ 2 s) and the browsers' retries.
const PHASE: Duration = Duration::from_secs(30);
const LONG_POLL_SECS: u64 = 30;

/// A page's `EventSource`: keeps the last event id and reopens an ended stream after the advised delay.
struct StreamingBrowser<'a> {
    stack: &'a Stack,
    login: &'a Login,
    stream: Option<EventStream>,
    last_id: Option<String>,
}

impl StreamingBrowser<'_> {
    /// Reads events until one whose status is not `status`; returns its data.
    async fn until_not(&mut self, status: &str) -> Value {
        loop {
            let Some(stream) = &mut self.stream else {
                let binding = Some(self.login.binding.as_str());
                match self.stack.events(&self.login.uuid, binding, self.last_id.as_deref()).await {
                    Ok(stream) => self.stream = Some(stream),
                    Err(reply) => retry_later(&reply, "event stream").await,
                }
                continue;
            };
            match stream.next().await {
                Some(event) => {
                    self.last_id = event.id.clone();
                    let data = event.json();
                    if data["status"] != status {
                        return data;
                    }
                }
                None => {
                    let retry = stream.retry_ms.unwrap_or(3000);
                    self.stream = None;
                    tokio::time::sleep(Duration::from_millis(retry)).await;
                }
            }
        }
    }
}

/// A page's long-poll loop: waits until the status is not `known`, retrying 503s; returns that answer.
async fn long_poll_until_not(stack: &Stack, login: &Login, known: &str) -> Reply {
    loop {
        let reply = stack.long_poll(&login.uuid, Some(&login.binding), LONG_POLL_SECS, known).await;
        if reply.status == 200 && reply.body["status"] != known {
            return reply;
        }
        if reply.status != 200 {
            retry_later(&reply, "long-poll").await;
        }
    }
}

/// The phone's app: retries while Redis is unavailable.
async fn phone<F: Future<Output = Reply>>(act: impl Fn() -> F) {
    loop {
        let reply = act().await;
        if reply.status != 503 {
            reply.expect_status(200);
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Only "unavailable, come back" is expected while Redis restarts; sleeps for the advised time.
async fn retry_later(reply: &Reply, what: &str) {
    reply.expect_problem(503, "unavailable");
    let secs = reply.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{what}: {reply:?}"));
    tokio::time::sleep(Duration::from_secs(secs)).await;
}

#[tokio::test]
async fn browsers_waiting_across_a_redis_restart_get_the_scan_and_the_token() {
    // Arrange: a Redis of this test's own; one browser streams, another long-polls.
    let mut redis = RedisProcess::start().await;
    let stack = Stack::start_with(|s| s.service.redis.url = SecretString::from(redis.url())).await;
    let streamed = stack.login().await;
    let polled = stack.login().await;
    let mut stream = stack.events(&streamed.uuid, Some(&streamed.binding), None).await.expect("the stream opens");
    let first = stream.next_status(Duration::from_secs(10)).await;
    let mut browser = StreamingBrowser { stack: &stack, login: &streamed, stream: Some(stream), last_id: first.id };
    let alice = stack.user_token("alice");

    // Act: Redis is killed and started again while both wait; then the phone scans both.
    let restart_then_scan = async {
        tokio::time::sleep(SETTLE).await;
        redis.restart().await;
        phone(|| stack.scan(&alice, &streamed.qr_text)).await;
        phone(|| stack.scan(&alice, &polled.qr_text)).await;
    };
    let (seen, reply, ()) = tokio::time::timeout(PHASE, async {
        tokio::join!(browser.until_not("pending"), long_poll_until_not(&stack, &polled, "pending"), restart_then_scan)
    })
    .await
    .expect("both browsers learn of the scan after the restart");

    // Assert: the sessions survived and both browsers saw the scan.
    assert_eq!(seen["status"], "scanned", "stream: {seen}");
    assert_eq!(reply.body["status"], "scanned", "long-poll: {}", reply.text);

    // Both wait again; the confirmations reach them at once: the listener is subscribed again.
    let ((seen, streamed_at), (reply, polled_at), confirmed_at) = tokio::time::timeout(PHASE, async {
        tokio::join!(
            timed(browser.until_not("scanned")),
            timed(long_poll_until_not(&stack, &polled, "scanned")),
            after_settling(async {
                phone(|| stack.confirm(&alice, &streamed.uuid, &streamed.verification)).await;
                phone(|| stack.confirm(&alice, &polled.uuid, &polled.verification)).await;
            }),
        )
    })
    .await
    .expect("both browsers get their token");
    let ((), confirmed_at) = confirmed_at;
    assert_token_for_alice(&stack, &seen).await;
    assert_token_for_alice(&stack, &reply.body).await;
    assert_prompt(streamed_at, confirmed_at, "stream after the restart");
    assert_prompt(polled_at, confirmed_at, "long-poll after the restart");
}
