//! A Redis outage is logged as one (issue 13, defect 4): a line when it starts, a summary with counts while it
//! lasts, and a line when it ends, not one ERROR line per failed request.
//!
//! A test binary of its own: it installs the process-wide tracing subscriber (JSON lines into memory), which no
//! other test binary may do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation should fail the test loudly"
)]

use std::time::{Duration, Instant};

use qrlogin_e2e::{RedisProcess, Stack};
use qrlogin_shared::test_support::logs::Captured;
use secrecy::SecretString;
use serde_json::Value;
use tracing_subscriber::EnvFilter;

const CLIENTS: usize = 8;
const OUTAGE: Duration = Duration::from_millis(2500);
const SUMMARY_EVERY: Duration = Duration::from_secs(1);

fn field<'a>(line: &'a Value, name: &str) -> &'a Value {
    line.get("fields").and_then(|f| f.get(name)).or_else(|| line.get(name)).unwrap_or(&Value::Null)
}

/// Browsers creating logins until the outage is over; how many were answered 503.
async fn create_until(stack: &Stack, until: Instant) -> u64 {
    let mut failed = 0;
    while Instant::now() < until {
        let reply = stack.create_qr().await;
        assert_eq!(reply.status, 503, "{}", reply.text);
        failed += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    failed
}

#[tokio::test]
async fn an_outage_is_logged_when_it_starts_summarised_while_it_lasts_and_logged_when_it_ends() {
    let logs = Captured::default();
    tracing_subscriber::fmt().json().with_env_filter(EnvFilter::new("info")).with_writer(logs.clone()).init();
    let mut redis = RedisProcess::start().await;
    let stack = Stack::start_with(|s| {
        s.service.redis.url = SecretString::from(redis.url());
        s.service.redis.outage_summary = SUMMARY_EVERY;
    })
    .await;
    stack.create_qr().await.expect_status(201);

    redis.kill();
    let until = Instant::now() + OUTAGE;
    let clients = (0..CLIENTS).map(|_| create_until(&stack, until));
    let failed: u64 = futures_util::future::join_all(clients).await.into_iter().sum();
    redis.restart().await;
    stack.create_qr().await.expect_status(201);

    let lines = logs.lines();
    let outage = |phase: &str| lines.iter().filter(|l| field(l, "outage") == phase).collect::<Vec<_>>();
    let (started, ongoing, ended) = (outage("started"), outage("ongoing"), outage("ended"));
    assert!(failed > 50, "only {failed} requests failed: the outage was not exercised");
    assert_eq!(started.len(), 1, "{started:#?}");
    assert_eq!(started[0]["level"], "ERROR");
    // One summary per period the failures lasted (2.5 s, a summary a second), written by a failing request.
    assert!((1..=3).contains(&ongoing.len()), "{ongoing:#?}");
    assert_eq!(ended.len(), 1, "{ended:#?}");
    assert_eq!(field(ended[0], "failed_total"), failed, "every 503 counted: {:#?}", ended[0]);
    assert!(field(ended[0], "lasted_secs").as_f64().unwrap() >= OUTAGE.as_secs_f64());
    let errors = lines.iter().filter(|l| l["level"] == "ERROR").count();
    assert_eq!(errors, started.len() + ongoing.len(), "no ERROR line per request");
}
