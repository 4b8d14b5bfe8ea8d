//! Redis unreachable: both services answer at once with an opaque 503, never hang.

use std::time::Duration;

use qrlogin_e2e::{Reply, Stack};
use qrlogin_shared::qr_link::QrBaseUrl;
use qrlogin_shared::test_support::{self, QR_BASE_URL, SIGNING_SECRET};
use qrlogin_shared::{SessionId, Verifier, unix_now};
use reqwest::Method;
use secrecy::{SecretSlice, SecretString};

/// Generous: a refused connection fails in milliseconds; this only catches a hang.
const QUICKLY: Duration = Duration::from_secs(3);

fn assert_unavailable(reply: &Reply, what: &str) {
    let problem = reply.expect_problem(503, "unavailable");
    assert!(problem.get("detail").is_none(), "{what}: a 5xx body says nothing about the cause: {problem}");
    assert_eq!(reply.header("retry-after"), Some("1"), "{what}");
    assert!(reply.elapsed < QUICKLY, "{what} took {:?}", reply.elapsed);
}

#[tokio::test]
async fn unreachable_redis_is_a_fast_503_on_both_services() {
    let stack = Stack::start_with(|s| s.service.redis.url = SecretString::from(test_support::dead_redis_url())).await;
    // A genuine QR for a session that could exist: it passes every check before the Redis call.
    let id = SessionId::random();
    let verifier = Verifier::new(SecretSlice::from(SIGNING_SECRET.as_bytes().to_vec()), Vec::new()).expect("dev key");
    let code = verifier.issue(&id, u32::try_from(unix_now() + 60).expect("before 2106"));
    let qr = QrBaseUrl::parse(QR_BASE_URL).expect("test base").link(&id, &code);
    let alice = stack.user_token("alice");
    let binding = "B".repeat(43);

    assert_unavailable(&stack.create_qr().await, "create");
    assert_unavailable(&stack.poll(&id.to_string(), Some(&binding)).await, "poll");
    assert_unavailable(&stack.scan(&alice, &qr).await, "scan");
    assert_unavailable(&stack.confirm(&alice, &id.to_string(), &code.encode()).await, "confirm");
    assert_unavailable(&stack.gateway_request(Method::GET, "/readyz", None).await, "gateway readyz");
}
