//! Pool exhaustion: two pooled Redis connections per service under 200 concurrent requests (creates, polls,
//! scans). A request that cannot get a connection within `QRL_REDIS_WAIT_TIMEOUT_MS` is a fast 503 problem with
//! `Retry-After`, never a 500 and never a hang; the rest get their normal answers, and the services work normally
//! afterwards.

use std::time::Duration;

use futures_util::future::join_all;
use qrlogin_e2e::{Login, Reply, Stack};
use qrlogin_shared::test_support;

const POOL_SIZE: usize = 2;
const CREATES: usize = 80;
const POLLS: usize = 60;
const SCANS: usize = 60;
/// On top of the pool's wait bound: the request's own Redis round trips and a loaded 2-core machine.
const MARGIN: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Create,
    Poll,
    Scan,
}

async fn request(stack: &Stack, kind: Kind, login: &Login, user_token: &str) -> (Kind, Reply) {
    let reply = match kind {
        Kind::Create => stack.create_qr().await,
        Kind::Poll => stack.poll(&login.uuid, Some(&login.binding)).await,
        Kind::Scan => stack.scan(user_token, &login.qr_text).await,
    };
    (kind, reply)
}

#[tokio::test]
async fn two_pooled_connections_answer_two_hundred_concurrent_requests_in_time_or_with_a_fast_503() {
    // Arrange: logins to poll, and others to scan (each scanned once, so its normal answer is a 200).
    let wait_bound = test_support::service_settings().redis.wait_timeout;
    let stack = Stack::start_with(|s| s.service.redis.pool_size = POOL_SIZE).await;
    let user_token = stack.user_token("alice");
    let mut logins = Vec::new();
    for _ in 0..POLLS + SCANS {
        logins.push(stack.login().await);
    }
    let (polled, scanned) = logins.split_at(POLLS);
    let kinds = (0..CREATES).map(|i| (Kind::Create, &logins[i % logins.len()]));
    let kinds = kinds.chain(polled.iter().map(|l| (Kind::Poll, l))).chain(scanned.iter().map(|l| (Kind::Scan, l)));

    // Act
    let answers = join_all(kinds.map(|(kind, login)| request(&stack, kind, login, &user_token))).await;

    // Assert
    let bound = wait_bound + MARGIN;
    let mut refused = 0;
    for (kind, reply) in &answers {
        assert!(reply.elapsed <= bound, "{kind:?} took {:?} (bound {bound:?}): {}", reply.elapsed, reply.text);
        if reply.status == 503 {
            assert_eq!(reply.header("content-type"), Some("application/problem+json"), "{}", reply.text);
            assert!(reply.header("retry-after").is_some(), "a 503 says when to retry: {:?}", reply.headers);
            refused += 1;
            continue;
        }
        let normal = if *kind == Kind::Create { 201 } else { 200 };
        assert_eq!(reply.status, normal, "{kind:?}: {}", reply.text);
    }
    let slowest = answers.iter().map(|(_, r)| r.elapsed).max().unwrap();
    println!("pool of {POOL_SIZE}: {} requests, {refused} answered 503, slowest {slowest:?}", answers.len());
    // Afterwards a whole login works.
    let login = stack.login().await;
    stack.scan(&user_token, &login.qr_text).await.expect_status(200);
    stack
        .confirm(&user_token, &login.uuid, &login.verification)
        .await
        .expect_json(200, &serde_json::json!({ "status": "confirmed" }));
    let claimed = stack.poll(&login.uuid, Some(&login.binding)).await;
    assert_eq!(claimed.expect_status(200)["status"], "confirmed", "{}", claimed.text);
}
