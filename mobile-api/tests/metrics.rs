//! `GET /metrics`, in a test binary of its own: the registry is per process, so counts are exact only while
//! nothing else in the process scans or decides. The tests of this binary take turns (`SERIAL`) for the same
//! reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

#[path = "api/helpers.rs"]
#[allow(dead_code, reason = "the api binary's helpers; this binary needs only some of them")]
mod helpers;

use std::net::SocketAddr;

use helpers::{TestApp, assert_ok_json, spawn_app, spawn_app_with_dead_redis, spawn_app_with_limits, token_for};
use mobile_api::config::MobileLimits;
use mobile_api::{Application, Settings};
use qrlogin_shared::rate_limit::Rate;
use qrlogin_shared::test_support::prometheus::{self, Exposition};
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());

const SESSIONS: &str = "qrlogin_sessions_total";

async fn scrape_at(client: &reqwest::Client, base: &str) -> Exposition {
    prometheus::scrape(client, base).await.1
}

async fn scrape(app: &TestApp) -> Exposition {
    scrape_at(&app.client, &app.address).await
}

fn delta(before: &Exposition, after: &Exposition, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.sum(name, labels) - before.sum(name, labels)
}

#[tokio::test]
async fn a_scan_and_a_confirmation_move_their_counters_by_one_each() {
    let _turn = SERIAL.lock().await;
    // Arrange: a session as the gateway created it.
    let app = spawn_app().await;
    let session = app.new_session().await;
    let alice = token_for("alice");
    let before = scrape(&app).await;

    // Act
    app.scan_ok("alice", &session).await;
    assert_ok_json(app.confirm(&alice, &session.id.to_string(), &session.verification).await).await;
    let after = scrape(&app).await;

    // Assert: the phone's events moved by one; issue and claim are the gateway's.
    let moved = |event: &str| delta(&before, &after, SESSIONS, &[("event", event)]);
    assert_eq!(moved("scanned"), 1.0);
    assert_eq!(moved("confirmed"), 1.0);
    for unmoved in ["issued", "claimed", "denied", "expired", "cancelled", "lockout", "wrong_verification"] {
        assert_eq!(moved(unmoved), 0.0, "{unmoved}");
    }
    assert_eq!(after.type_of(SESSIONS), Some("counter"));
    assert_eq!(after.type_of("qrlogin_http_request_duration_seconds"), Some("histogram"));
    let count = "qrlogin_http_request_duration_seconds_count";
    for route in ["/v1/scan", "/v1/confirm"] {
        let labels = [("route", route), ("method", "POST"), ("status", "200")];
        assert_eq!(delta(&before, &after, count, &labels), 1.0, "{route}");
    }
    assert_eq!(after.type_of("qrlogin_redis_pool_connections"), Some("gauge"));
    assert!(after.sum("qrlogin_redis_pool_connections", &[]) >= 1.0, "the pool holds a connection");
}

#[tokio::test]
async fn denials_wrong_codes_refusals_and_redis_failures_are_counted() {
    let _turn = SERIAL.lock().await;
    // Arrange: one user may scan once a minute; another instance has no Redis.
    let limits = MobileLimits { scan_per_user: Rate::new(1, 60), ..MobileLimits::unlimited() };
    let app = spawn_app_with_limits(limits).await;
    let down = spawn_app_with_dead_redis().await;
    let (denied, other) = (app.new_session().await, app.new_session().await);
    let bob = token_for("bob");
    let before = scrape(&app).await;

    // Act
    app.scan_ok("bob", &denied).await;
    assert_ok_json(app.deny(&bob, &denied.id.to_string(), &denied.verification).await).await;
    assert_eq!(app.scan(&bob, &other.qr_content).await.status(), 429);
    // A string of the right shape that the services' key did not sign: a guess.
    let foreign = helpers::foreign_verifier().issue(&other.id, helpers::expires_at(helpers::SESSION_TTL)).encode();
    assert_eq!(app.confirm(&token_for("carol"), &other.id.to_string(), &foreign).await.status(), 404);
    assert_eq!(down.scan(&token_for("dave"), &other.qr_content).await.status(), 503);
    let after = scrape(&app).await;

    // Assert
    assert_eq!(delta(&before, &after, SESSIONS, &[("event", "denied")]), 1.0);
    assert_eq!(delta(&before, &after, SESSIONS, &[("event", "wrong_verification")]), 1.0);
    assert_eq!(delta(&before, &after, "qrlogin_rate_limited_total", &[("limit", "scan")]), 1.0);
    assert_eq!(delta(&before, &after, "qrlogin_redis_errors_total", &[]), 1.0);
}

#[tokio::test]
async fn with_a_metrics_address_the_public_port_does_not_answer_metrics() {
    let _turn = SERIAL.lock().await;
    // Arrange
    let mut settings = Settings::for_test();
    settings.service.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let app = Application::build(settings).await.unwrap();
    let public = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}", app.metrics_port().expect("a metrics port"));
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();

    // Act
    let on_public = client.get(format!("{public}/metrics")).send().await.unwrap();
    let on_metrics = scrape_at(&client, &metrics).await;

    // Assert
    assert_eq!(on_public.status(), 404);
    assert_eq!(on_public.headers()["content-type"], "application/problem+json");
    assert_eq!(on_metrics.type_of(SESSIONS), Some("counter"));
    handle.stop(false).await;
}
