//! `GET /metrics`, in a test binary of its own: the registry is per process, so counts are exact only while
//! nothing else in the process logs in. The tests of this binary take turns (`SERIAL`) for the same reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation should fail loudly"
)]

#[path = "api/helpers.rs"]
#[allow(dead_code, reason = "the api binary's helpers; this binary needs only some of them")]
mod helpers;

use std::net::SocketAddr;
use std::time::Duration;

use helpers::{TestApp, settings, spawn_app, spawn_app_with};
use qrlogin_shared::rate_limit::Rate;
use qrlogin_shared::test_support;
use qrlogin_shared::test_support::prometheus::{Exposition, scrape as scrape_at};
use reqwest::StatusCode;
use tokio::sync::Mutex;
use web_gateway::Application;

static SERIAL: Mutex<()> = Mutex::const_new(());

const SESSIONS: &str = "qrlogin_sessions_total";
const DURATION_COUNT: &str = "qrlogin_http_request_duration_seconds_count";

async fn scrape(app: &TestApp) -> (String, Exposition) {
    scrape_at(&app.client, &app.address).await
}

fn event(parsed: &Exposition, event: &str) -> f64 {
    parsed.sum(SESSIONS, &[("event", event)])
}

#[tokio::test]
async fn a_login_moves_the_gateway_counters_by_one_each() {
    let _turn = SERIAL.lock().await;
    // Arrange
    let app = spawn_app().await;
    let (_, before) = scrape(&app).await;

    // Act: create, the phone scans and confirms (through the store, as mobile-api would), the browser claims.
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;
    let (status, body) = app.poll_json(&login).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "confirmed");
    let (text, after) = scrape(&app).await;

    // Assert: the gateway's own events moved by one; scan and confirm are counted by mobile-api, not here.
    let moved = |name: &str| event(&after, name) - event(&before, name);
    assert_eq!(moved("issued"), 1.0);
    assert_eq!(moved("claimed"), 1.0);
    for unmoved in ["scanned", "confirmed", "denied", "expired", "cancelled", "lockout"] {
        assert_eq!(moved(unmoved), 0.0, "{unmoved}");
    }
    assert_eq!(after.type_of(SESSIONS), Some("counter"));
    assert_eq!(after.type_of("qrlogin_http_request_duration_seconds"), Some("histogram"));
    assert_eq!(after.type_of("qrlogin_redis_pool_connections"), Some("gauge"));
    assert_eq!(after.type_of("qrlogin_waiting_browsers"), Some("gauge"));
    assert_eq!(after.type_of("qrlogin_push_events_received"), Some("gauge"));
    let requests = |parsed: &Exposition, route: &str, method: &str, status: &str| {
        parsed.sum(DURATION_COUNT, &[("route", route), ("method", method), ("status", status)])
    };
    assert_eq!(requests(&after, "/v1/qr", "POST", "201") - requests(&before, "/v1/qr", "POST", "201"), 1.0);
    let polls = requests(&after, "/v1/qr/{uuid}", "GET", "200") - requests(&before, "/v1/qr/{uuid}", "GET", "200");
    assert_eq!(polls, 1.0);
    let buckets = after.matching("qrlogin_http_request_duration_seconds_bucket", &[("route", "/v1/qr")]);
    assert!(buckets.into_iter().any(|s| s.labels["le"] == "+Inf"), "a histogram has a +Inf bucket");
    // Route patterns, never raw paths: the session id appears nowhere.
    assert!(!text.contains(&login.uuid), "a session id leaked into the metrics");
    // Every session event and Redis error kind is exported from the start, at zero until it happens.
    assert!(after.matching(SESSIONS, &[("event", "lockout")]).next().is_some());
    assert!(after.matching("qrlogin_redis_errors_total", &[("kind", "timeout")]).next().is_some());
}

#[tokio::test]
async fn waiting_browsers_and_the_redis_pool_are_read_at_scrape_time() {
    let _turn = SERIAL.lock().await;
    // Arrange: one browser long-polls.
    let app = spawn_app().await;
    let login = app.start_login().await;
    let url = format!("{}/v1/qr/{}?wait=20&known=pending", app.address, login.uuid);
    let waiting = app.client.get(url).header("cookie", format!("qrl_bind={}", login.cookie)).send();
    let waiting = tokio::spawn(waiting);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Act
    let (_, during) = scrape(&app).await;
    app.phone_scan(&login.uuid, "alice").await;
    let answered = waiting.await.unwrap().unwrap();
    let (_, after) = scrape(&app).await;

    // Assert
    assert_eq!(answered.status(), StatusCode::OK);
    assert_eq!(during.sum("qrlogin_waiting_browsers", &[]), 1.0);
    assert_eq!(after.sum("qrlogin_waiting_browsers", &[]), 0.0);
    let in_use = after.sum("qrlogin_redis_pool_connections", &[("state", "in_use")]);
    let idle = after.sum("qrlogin_redis_pool_connections", &[("state", "idle")]);
    assert!(idle >= 1.0, "the requests left a connection in the pool: in use {in_use}, idle {idle}");
    assert!(in_use + idle <= 16.0, "at most the pool size: in use {in_use}, idle {idle}");
}

#[tokio::test]
async fn refusals_and_redis_failures_are_counted() {
    let _turn = SERIAL.lock().await;
    // Arrange: an instance allowing one session per IP, and one whose Redis is down.
    let mut limited = settings();
    limited.limits.per_ip = Rate::new(1, 60);
    let limited = spawn_app_with(limited).await;
    let mut down = settings();
    down.service.redis = test_support::redis_settings(&test_support::dead_redis_url());
    down.service.redis.connect_timeout = Duration::from_millis(500);
    let down = spawn_app_with(down).await;
    let (_, before) = scrape(&limited).await;

    // Act
    assert_eq!(limited.create_qr().await.status(), StatusCode::CREATED);
    assert_eq!(limited.create_qr().await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(down.create_qr().await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (_, after) = scrape(&limited).await;

    // Assert
    let moved = |name: &str, labels: &[(&str, &str)]| after.sum(name, labels) - before.sum(name, labels);
    assert_eq!(moved("qrlogin_rate_limited_total", &[("limit", "issue")]), 1.0);
    assert_eq!(moved("qrlogin_redis_errors_total", &[]), 1.0);
    assert_eq!(moved(SESSIONS, &[("event", "issued")]), 1.0);
    assert_eq!(after.type_of("qrlogin_rate_limited_total"), Some("counter"));
    assert_eq!(after.type_of("qrlogin_redis_errors_total"), Some("counter"));
}

#[tokio::test]
async fn with_a_metrics_address_the_public_port_does_not_answer_metrics() {
    let _turn = SERIAL.lock().await;
    // Arrange
    let mut settings = settings();
    settings.service.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let app = Application::build(settings).await.unwrap();
    let public = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}", app.metrics_port().expect("a metrics port"));
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();

    // Act
    let on_public = client.get(format!("{public}/metrics")).send().await.unwrap();
    let (_, on_metrics) = scrape_at(&client, &metrics).await;

    // Assert
    assert_eq!(on_public.status(), StatusCode::NOT_FOUND);
    assert_eq!(on_public.headers()["content-type"], "application/problem+json");
    assert_eq!(on_metrics.type_of(SESSIONS), Some("counter"));
    handle.stop(false).await;
}
