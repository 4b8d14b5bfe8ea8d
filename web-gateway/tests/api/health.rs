//! Liveness, readiness, and what a dead or stuck Redis costs a caller: a fast 503, never a hang.

use std::time::{Duration, Instant};

use qrlogin_shared::test_support::{dead_redis_url, redis_settings, silent_redis};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{FOREIGN_COOKIE, assert_unavailable, header, settings, spawn_app, spawn_app_with};

/// Far above the 500 ms Redis deadlines of `test_support`, far below a hang.
const NO_HANG: Duration = Duration::from_secs(3);

#[tokio::test]
async fn healthz_is_ok() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.healthz().await;

    // Assert
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "x-request-id").map(str::len), Some(32), "a request id is echoed");
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "status": "ok" }));
}

#[tokio::test]
async fn readyz_is_ok_while_redis_answers() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.readyz().await;

    // Assert
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "status": "ready" }));
}

/// A gateway whose Redis is `url`, with `test_support`'s 500 ms deadlines.
async fn app_on_redis(url: &str) -> crate::helpers::TestApp {
    let mut settings = settings();
    settings.service.redis = redis_settings(url);
    spawn_app_with(settings).await
}

#[tokio::test]
async fn dead_redis_makes_readyz_a_fast_503_but_healthz_stays_ok() {
    // Arrange
    let app = app_on_redis(&dead_redis_url()).await;

    // Act
    let started = Instant::now();
    let res = app.readyz().await;
    let elapsed = started.elapsed();

    // Assert
    assert_unavailable(res).await;
    assert!(elapsed < NO_HANG, "took {elapsed:?}");
    assert_eq!(app.healthz().await.status(), StatusCode::OK);
}

#[tokio::test]
async fn dead_redis_makes_create_and_poll_a_fast_503() {
    // Arrange
    let app = app_on_redis(&dead_redis_url()).await;
    let some_session = uuid::Uuid::new_v4().to_string();

    // Act
    let started = Instant::now();
    let created = app.create_qr().await;
    let polled = app.poll(&some_session, Some(FOREIGN_COOKIE)).await;
    let elapsed = started.elapsed();

    // Assert
    assert!(created.headers().get("set-cookie").is_none(), "no cookie for a session that was never stored");
    assert_unavailable(created).await;
    assert_unavailable(polled).await;
    assert!(elapsed < NO_HANG * 2, "took {elapsed:?}");
}

#[tokio::test]
async fn silent_redis_makes_readyz_and_create_a_503_within_the_deadline() {
    // Arrange: Redis accepts connections and never answers; the listener must outlive the test.
    let (_listener, url) = silent_redis();
    let app = app_on_redis(&url).await;

    // Act
    let started = Instant::now();
    let ready = app.readyz().await;
    let ready_elapsed = started.elapsed();
    let started = Instant::now();
    let created = app.create_qr().await;
    let create_elapsed = started.elapsed();

    // Assert
    assert_unavailable(ready).await;
    assert_unavailable(created).await;
    assert!(ready_elapsed < NO_HANG, "readyz took {ready_elapsed:?}");
    assert!(create_elapsed < NO_HANG, "create took {create_elapsed:?}");
}
