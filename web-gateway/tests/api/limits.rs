//! Limits that keep a flood from exhausting Redis or the gateway: QR issuance per IP and overall, shared by every
//! instance on one Redis, and the per-session poll pace.

use std::time::{Duration, Instant};

use qrlogin_shared::rate_limit::Rate;
use reqwest::header::{RETRY_AFTER, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, header, settings, spawn_app_with};

const FLOOD: usize = 20;
const PER_IP_BURST: u32 = 5;

/// `Retry-After` as whole seconds; it must be there and at least 1.
fn retry_after_secs(res: &Response) -> u64 {
    let raw = header(res, RETRY_AFTER.as_str()).expect("a Retry-After header");
    let secs: u64 = raw.parse().unwrap_or_else(|_| panic!("Retry-After is not integer seconds: {raw:?}"));
    assert!(secs >= 1, "Retry-After {secs}");
    secs
}

async fn assert_rate_limited(res: Response) {
    let secs = retry_after_secs(&res);
    assert!(secs <= 60, "Retry-After {secs} beyond the limit's period");
    assert!(res.headers().get(SET_COOKIE).is_none(), "a refused create sets no cookie");
    assert_problem(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        json!({ "type": "urn:qrlogin:problem:rate-limited", "title": "Too many requests", "status": 429 }),
    )
    .await;
}

/// Two gateways on one Redis key prefix, as two replicas behind a load balancer.
async fn two_instances_with_per_ip_limit(rate: Rate) -> (TestApp, TestApp) {
    let mut first = settings();
    first.limits.per_ip = rate;
    let mut second = settings();
    second.limits.per_ip = rate;
    second.service.redis = first.service.redis.clone();
    (spawn_app_with(first).await, spawn_app_with(second).await)
}

#[tokio::test]
async fn per_ip_limit_holds_across_instances_and_bounds_redis() {
    // Arrange
    let (a, b) = two_instances_with_per_ip_limit(Rate::new(PER_IP_BURST, 60)).await;
    assert_eq!(a.redis.key_prefix, b.redis.key_prefix);

    // Act: one client alternating between the replicas.
    let mut statuses = Vec::new();
    for i in 0..FLOOD {
        let app = if i % 2 == 0 { &a } else { &b };
        let res = app.create_qr().await;
        statuses.push(res.status());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_rate_limited(res).await;
        }
    }

    // Assert: exactly the first burst is admitted, whichever instance answers.
    let admitted = usize::try_from(PER_IP_BURST).unwrap();
    assert!(statuses[..admitted].iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    assert!(statuses[admitted..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let keys = a.keys_under_prefix().await;
    let sessions = keys.iter().filter(|k| k.starts_with(&format!("{}:{{", a.redis.key_prefix))).count();
    assert_eq!(sessions, admitted, "one session key per admitted create: {keys:?}");
    assert!(keys.len() <= admitted + 2, "sessions plus the rate-limit keys only: {keys:?}");
}

#[tokio::test]
async fn global_limit_caps_creates_from_everyone() {
    // Arrange
    let mut settings = settings();
    settings.limits.global = Rate::new(3, 60);
    let app = spawn_app_with(settings).await;

    // Act
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.create_qr().await.status());
    }
    let fourth = app.create_qr().await;

    // Assert
    assert_eq!(statuses, [StatusCode::CREATED; 3]);
    assert_rate_limited(fourth).await;
}

#[tokio::test]
async fn rate_limited_answer_carries_no_cookie() {
    // Arrange
    let mut settings = settings();
    settings.limits.per_ip = Rate::new(1, 60);
    let app = spawn_app_with(settings).await;
    let admitted = app.start_login().await;

    // Act
    let res = app.create_qr().await;

    // Assert
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get(SET_COOKIE).is_none(), "no Set-Cookie on a 429");
    let body = res.text().await.unwrap();
    assert!(!body.contains("qrl_bind"), "no cookie in the body: {body}");
    assert!(!body.contains(&admitted.cookie), "no earlier binding secret in the body: {body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["status", "title", "type"], "{body}");
}

/// A gateway that enforces the advised poll interval.
async fn slow_down_app(interval: Duration) -> TestApp {
    let mut settings = settings();
    settings.poll_slow_down = true;
    settings.poll_interval = interval;
    spawn_app_with(settings).await
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_slowed_down() {
    // Arrange
    let interval = Duration::from_millis(300);
    let app = slow_down_app(interval).await;
    let login = app.start_login().await;

    // Act: three polls back to back, well inside one interval.
    let started = Instant::now();
    let first = app.poll(&login.uuid, Some(&login.cookie)).await;
    let second = app.poll(&login.uuid, Some(&login.cookie)).await;
    let third = app.poll(&login.uuid, Some(&login.cookie)).await;
    let elapsed = started.elapsed();

    // Assert: one early poll is tolerated, the next is not.
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS, "three polls within {elapsed:?}");
    assert!(third.headers().get(SET_COOKIE).is_none());
    retry_after_secs(&third);
    assert_problem(
        third,
        StatusCode::TOO_MANY_REQUESTS,
        json!({
            "type": "urn:qrlogin:problem:slow-down",
            "title": "Polling too fast",
            "status": 429,
            "detail": "poll no more often than poll_interval_ms",
        }),
    )
    .await;
}

#[tokio::test]
async fn polling_at_the_interval_is_never_slowed_down() {
    // Arrange
    let interval = Duration::from_millis(300);
    let app = slow_down_app(interval).await;
    let login = app.start_login().await;

    // Act
    let mut statuses = Vec::new();
    for i in 0..6 {
        if i > 0 {
            tokio::time::sleep(interval).await;
        }
        statuses.push(app.poll(&login.uuid, Some(&login.cookie)).await.status());
    }

    // Assert
    assert_eq!(statuses, [StatusCode::OK; 6]);
}
