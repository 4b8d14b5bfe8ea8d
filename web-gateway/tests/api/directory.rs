//! Profiles from an HTTP user directory, and a confirmed login that survives the directory failing at claim time.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use qrlogin_shared::test_support::dead_redis_url;
use reqwest::StatusCode;
use serde_json::{Value, json};
use web_gateway::config::DirectorySettings;

use crate::helpers::{TestApp, assert_confirmed, assert_unavailable, settings, spawn_app_with};

/// The web team's user service, as small as it gets: `GET /users/alice` is a profile, anything else 404; while
/// `failing` is set every request is a 500.
#[derive(Default)]
struct DirectoryState {
    failing: AtomicBool,
    requests: AtomicUsize,
}

struct DirectoryServer {
    base_url: String,
    state: web::Data<DirectoryState>,
    handle: ServerHandle,
}

impl Drop for DirectoryServer {
    fn drop(&mut self) {
        std::mem::drop(self.handle.stop(false));
    }
}

fn alice_over_http() -> Value {
    json!({ "name": "Alice from HTTP", "email": "alice@http.example", "team": "QA" })
}

async fn user(id: web::Path<String>, state: web::Data<DirectoryState>) -> HttpResponse {
    state.requests.fetch_add(1, Ordering::SeqCst);
    if state.failing.load(Ordering::SeqCst) {
        return HttpResponse::InternalServerError().finish();
    }
    match id.as_str() {
        "alice" => HttpResponse::Ok().json(alice_over_http()),
        _ => HttpResponse::NotFound().finish(),
    }
}

fn start_directory() -> DirectoryServer {
    let state = web::Data::new(DirectoryState::default());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let shared = state.clone();
    let server = HttpServer::new(move || App::new().app_data(shared.clone()).route("/users/{id}", web::get().to(user)))
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    tokio::spawn(server);
    DirectoryServer { base_url: format!("http://127.0.0.1:{port}/users"), state, handle }
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
    let directory = start_directory();
    let app = gateway_with_directory(&directory.base_url).await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;

    // Act
    let (code, body) = app.poll_json(&login).await;

    // Assert
    assert_eq!(code, StatusCode::OK);
    let token = assert_confirmed(&body, &with_id(alice_over_http(), "alice"));
    assert_eq!(app.verify_token(&token).await.claims.sub, "alice");
    assert_eq!(directory.state.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn user_unknown_to_the_http_directory_gets_a_token_with_just_the_id() {
    // Arrange
    let directory = start_directory();
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
    let directory = start_directory();
    let app = gateway_with_directory(&directory.base_url).await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;
    directory.state.failing.store(true, Ordering::SeqCst);

    // Act
    let failed = app.poll(&login.uuid, Some(&login.cookie)).await;

    // Assert: a retryable 503, and the login is still confirmed, waiting to be claimed.
    assert_unavailable(failed).await;
    assert_eq!(app.session_hash(&login.uuid).await.get("st").map(String::as_str), Some("confirmed"));

    // Act: the directory recovers; the browser polls again.
    directory.state.failing.store(false, Ordering::SeqCst);
    let (code, body) = app.poll_json(&login).await;

    // Assert: the token; polling again within the grace window repeats that same answer.
    assert_eq!(code, StatusCode::OK);
    assert_confirmed(&body, &with_id(alice_over_http(), "alice"));
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, body));
    assert_eq!(directory.state.requests.load(Ordering::SeqCst), 2);
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
