//! Profiles from an HTTP user directory, and a confirmed login that survives the directory failing at claim time.

use std::time::Duration;

use qrlogin_shared::test_support::dead_redis_url;
use qrlogin_shared::test_support::fake::{FakeService, ResponseTemplate};
use reqwest::StatusCode;
use serde_json::{Value, json};
use web_gateway::config::DirectorySettings;

use crate::helpers::{TestApp, assert_confirmed, assert_unavailable, settings, spawn_app_with};

/// The web team's user service, as small as it gets: `GET /users/alice` is a profile, any other user 404; while
/// failing every request is a 500.
struct DirectoryServer {
    base_url: String,
    fake: FakeService,
}

fn alice_over_http() -> Value {
    json!({ "name": "Alice from HTTP", "email": "alice@http.example", "team": "QA" })
}

async fn start_directory() -> DirectoryServer {
    let fake = FakeService::start("^/users/[^/]+$", Duration::ZERO, |request| match request.url.path() {
        "/users/alice" => ResponseTemplate::new(200).set_body_json(alice_over_http()),
        _ => ResponseTemplate::new(404),
    })
    .await;
    DirectoryServer { base_url: format!("{}/users", fake.uri()), fake }
}

async fn gateway_with_directory(base_url: &str) -> TestApp {
    let mut settings = settings();
    settings.directory = DirectorySettings::Http { base_url: base_url.to_owned(), timeout: Duration::from_secs(2) };
    spawn_app_with(settings).await
}

fn with_id(profile: Value, id: &str) -> Value {
    let mut profile = profile;
    profile["id"] = json!(id);
    profile
}

#[tokio::test]
async fn token_carries_the_profile_from_the_http_directory() {
    // Arrange
    let directory = start_directory().await;
    let app = gateway_with_directory(&directory.base_url).await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;

    // Act
    let (code, body) = app.poll_json(&login).await;

    // Assert
    assert_eq!(code, StatusCode::OK);
    let token = assert_confirmed(&body, &with_id(alice_over_http(), "alice"));
    assert_eq!(app.verify_token(&token).await.claims.sub, "alice");
    assert_eq!(directory.fake.requests(), 1);
}

#[tokio::test]
async fn user_unknown_to_the_http_directory_gets_a_token_with_just_the_id() {
    // Arrange
    let directory = start_directory().await;
    let app = gateway_with_directory(&directory.base_url).await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "bob").await;

    // Act
    let (code, body) = app.poll_json(&login).await;

    // Assert
    assert_eq!(code, StatusCode::OK);
    assert_confirmed(&body, &json!({ "id": "bob" }));
}

#[tokio::test]
async fn directory_failing_at_claim_time_is_a_503_and_the_login_is_not_lost() {
    // Arrange
    let directory = start_directory().await;
    let app = gateway_with_directory(&directory.base_url).await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;
    directory.fake.fail(true);

    // Act
    let failed = app.poll(&login.uuid, Some(&login.cookie)).await;

    // Assert: a retryable 503, and the login is still confirmed, waiting to be claimed.
    assert_unavailable(failed).await;
    assert_eq!(app.session_hash(&login.uuid).await.get("st").map(String::as_str), Some("confirmed"));

    // Act: the directory recovers; the browser polls again.
    directory.fake.fail(false);
    let (code, body) = app.poll_json(&login).await;

    // Assert: the token; polling again within the grace window repeats that same answer.
    assert_eq!(code, StatusCode::OK);
    assert_confirmed(&body, &with_id(alice_over_http(), "alice"));
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, body));
    assert_eq!(directory.fake.requests(), 2);
}

#[tokio::test]
async fn unreachable_directory_at_claim_time_is_a_503_and_the_login_is_not_lost() {
    // Arrange: nothing listens on the directory's port (the helper's free port, read as an http URL).
    let dead = dead_redis_url().replace("redis://", "http://") + "/users";
    let app = gateway_with_directory(&dead).await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;

    // Act
    let first = app.poll(&login.uuid, Some(&login.cookie)).await;
    let second = app.poll(&login.uuid, Some(&login.cookie)).await;

    // Assert: every poll fails the same retryable way; the confirmed login stays claimable.
    assert_unavailable(first).await;
    assert_unavailable(second).await;
    assert_eq!(app.session_hash(&login.uuid).await.get("st").map(String::as_str), Some("confirmed"));
}
