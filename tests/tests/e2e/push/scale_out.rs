//! Scale-out: a session's events reach only the gateway instances with a browser waiting for it (one pub/sub
//! channel per session, subscribed while someone waits), and the subscription goes when the last waiter leaves.
//! Losing the pub/sub connection (`CLIENT KILL`) loses nothing: the listener subscribes again and the waiters
//! re-read.

use std::process::Command;
use std::time::{Duration, Instant};

use qrlogin_e2e::{RedisProcess, Stack};
use qrlogin_shared::test_support;
use secrecy::SecretString;
use serde_json::json;

use super::{
    EVENT_WAIT, after_settling, assert_prompt, assert_status_reply, assert_token_for_alice, confirm, scan, timed,
};

/// Bound on the listener unsubscribing or subscribing again.
const SUBSCRIPTION_CHANGE: Duration = Duration::from_secs(10);

/// `redis-cli` against the Redis at `url`; its reply, trimmed.
fn redis_cli(url: &str, args: &[&str]) -> String {
    let out = Command::new("redis-cli").arg("-u").arg(url).args(args).output().expect("redis-cli runs");
    assert!(out.status.success(), "redis-cli {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The session's channel, if it has a subscriber (the session id is in no other channel's name).
fn channels_of(url: &str, uuid: &str) -> Vec<String> {
    redis_cli(url, &["PUBSUB", "CHANNELS", &format!("*{{{uuid}}}:events")]).lines().map(str::to_owned).collect()
}

/// Subscribers of `channel` (`PUBSUB NUMSUB`).
fn subscribers(url: &str, channel: &str) -> u64 {
    let reply = redis_cli(url, &["PUBSUB", "NUMSUB", channel]);
    reply.lines().nth(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("NUMSUB reply {reply:?}"))
}

/// Waits until the session's channel has `n` subscribers, returning the channel's name if it has any.
async fn until_subscribers(url: &str, uuid: &str, n: u64) -> Option<String> {
    let until = Instant::now() + SUBSCRIPTION_CHANGE;
    loop {
        let channels = channels_of(url, uuid);
        let count = channels.first().map_or(0, |c| subscribers(url, c));
        if count == n {
            return channels.into_iter().next();
        }
        assert!(Instant::now() < until, "{uuid}: {count} subscribers, not {n}, on {channels:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The session events the instance's listener received since it started (its `/metrics`).
async fn events_received(stack: &Stack) -> u64 {
    let reply = stack.gateway_request(reqwest::Method::GET, "/metrics", None).await;
    reply.expect_status(200);
    let line = reply.text.lines().find(|l| l.starts_with("qrlogin_push_events_received "));
    let value = line.and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok());
    value.unwrap_or_else(|| panic!("no qrlogin_push_events_received in /metrics")) as u64
}

#[tokio::test]
async fn a_sessions_events_reach_only_the_instance_where_its_browser_waits() {
    // Arrange: two instances; the session is created on A, its browser waits on B.
    let a = Stack::start().await;
    let b = a.another_gateway(|_| {}).await;
    let url = test_support::redis_url();
    let login = a.login().await;
    let before = (events_received(&a).await, events_received(&b).await);
    let mut stream = b.events(&login.uuid, Some(&login.binding), None).await.expect("the stream opens");
    stream.next_status(EVENT_WAIT).await;
    let channel = until_subscribers(&url, &login.uuid, 1).await.expect("a channel");
    assert!(channel.ends_with(&format!(":{{{}}}:events", login.uuid)), "{channel}: on the session's hash tag");

    // Act: the phone scans and confirms (through mobile-api, which knows nothing of gateways).
    let (scanned, ((), acted)) = tokio::join!(timed(stream.next_status(EVENT_WAIT)), after_settling(scan(&a, &login)));
    assert_eq!(scanned.0.json(), json!({ "status": "scanned" }));
    assert_prompt(scanned.1, acted, "stream on B, scan");
    let (confirmed, ((), acted)) =
        tokio::join!(timed(stream.next_status(EVENT_WAIT)), after_settling(confirm(&a, &login)));
    assert_token_for_alice(&b, &confirmed.0.json()).await;
    assert_prompt(confirmed.1, acted, "stream on B, confirm");
    stream.expect_end(EVENT_WAIT).await;

    // Assert: B heard the scan and the confirm; A, with no waiter, heard nothing. The stream has ended, so the
    // last waiter left and B unsubscribed.
    let after = (events_received(&a).await, events_received(&b).await);
    assert_eq!(after.0, before.0, "A has no waiter for the session: none of its events reach A");
    assert!(after.1 >= before.1 + 2, "B heard the scan and the confirm: {before:?} then {after:?}");
    until_subscribers(&url, &login.uuid, 0).await;
    assert_eq!(subscribers(&url, &channel), 0, "nobody waits: nobody is subscribed");
}

#[tokio::test]
async fn a_long_poll_on_a_session_waited_on_elsewhere_subscribes_that_instance_too() {
    let a = Stack::start().await;
    let b = a.another_gateway(|_| {}).await;
    let url = test_support::redis_url();
    let login = a.login().await;
    let binding = Some(login.binding.as_str());
    let mut stream = a.events(&login.uuid, binding, None).await.expect("the stream opens");
    stream.next_status(EVENT_WAIT).await;

    // Both instances wait: each is subscribed once, whatever the number of its waiters.
    let ((reply, answered), ((), scanned)) =
        tokio::join!(timed(b.long_poll(&login.uuid, binding, 20, "pending")), async {
            until_subscribers(&url, &login.uuid, 2).await;
            after_settling(scan(&a, &login)).await
        });

    assert_status_reply(&reply, "scanned");
    assert_prompt(answered, scanned, "long-poll on B");
    assert_eq!(stream.next_status(EVENT_WAIT).await.json(), json!({ "status": "scanned" }));
    // B's long-poll has been answered: only A (the stream) is subscribed now.
    until_subscribers(&url, &login.uuid, 1).await;
}

#[tokio::test]
async fn a_killed_pubsub_connection_is_subscribed_again_and_nothing_is_missed() {
    // Arrange: a Redis of this test's own, so killing its pub/sub clients disturbs no other test.
    let redis = RedisProcess::start().await;
    let url = redis.url();
    let stack = Stack::start_with(|s| s.service.redis.url = SecretString::from(url.clone())).await;
    let login = stack.login().await;
    let binding = Some(login.binding.as_str());
    let mut stream = stack.events(&login.uuid, binding, None).await.expect("the stream opens");
    stream.next_status(EVENT_WAIT).await;
    until_subscribers(&url, &login.uuid, 1).await;

    // Act: the pub/sub connection is killed and the phone scans at once, likely before the listener is back.
    let killed = redis_cli(&url, &["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert_eq!(killed, "1", "the gateway's one pub/sub connection");
    let (scanned, ((), acted)) = tokio::join!(timed(stream.next_status(EVENT_WAIT)), timed(scan(&stack, &login)));

    // Assert: the scan is seen (the re-read after subscribing again), and the listener is subscribed again,
    // so the confirm is pushed at once.
    assert_eq!(scanned.0.json(), json!({ "status": "scanned" }));
    assert_prompt(scanned.1, acted, "stream, scan during the reconnect");
    until_subscribers(&url, &login.uuid, 1).await;
    let (confirmed, ((), acted)) =
        tokio::join!(timed(stream.next_status(EVENT_WAIT)), after_settling(confirm(&stack, &login)));
    assert_token_for_alice(&stack, &confirmed.0.json()).await;
    assert_prompt(confirmed.1, acted, "stream after the reconnect, confirm");
}
