//! Stopping an instance (SIGTERM in production, the `Stopper` here): it stops accepting, lets a request already
//! being answered finish, and cuts off one that outlasts `QRL_SHUTDOWN_TIMEOUT_SECS`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Notify;
use web_gateway::config::DirectorySettings;

use crate::helpers::{TestApp, assert_confirmed, settings, spawn_app_with};

/// A user directory that takes `delay` to answer, so a claiming poll is in flight that long.
struct SlowDirectory {
    base_url: String,
    handle: ServerHandle,
    /// Notified when a request arrives: the claim is then in flight.
    asked: Arc<Notify>,
}

impl Drop for SlowDirectory {
    fn drop(&mut self) {
        std::mem::drop(self.handle.stop(false));
    }
}

fn slow_directory(delay: Duration) -> SlowDirectory {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked = Arc::new(Notify::new());
    let notify = Arc::clone(&asked);
    let server = HttpServer::new(move || {
        let notify = Arc::clone(&notify);
        App::new().route(
            "/users/{id}",
            web::get().to(move || {
                notify.notify_one();
                async move {
                    tokio::time::sleep(delay).await;
                    HttpResponse::Ok().json(json!({ "name": "Alice, slowly" }))
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    SlowDirectory { base_url: format!("http://127.0.0.1:{port}/users"), handle, asked }
}

async fn gateway(directory: &SlowDirectory, shutdown_timeout: Duration) -> TestApp {
    let mut settings = settings();
    settings.directory =
        DirectorySettings::Http { base_url: directory.base_url.clone(), timeout: Duration::from_secs(10) };
    settings.service.shutdown_timeout = shutdown_timeout;
    spawn_app_with(settings).await
}

#[tokio::test]
async fn stopping_lets_an_in_flight_request_finish_and_refuses_new_ones() {
    // Arrange: a confirmed login whose claim waits a second on the user directory.
    let directory = slow_directory(Duration::from_secs(1));
    let app = gateway(&directory, Duration::from_secs(10)).await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;

    // Act: the instance is told to stop while the claiming poll is in flight.
    let stopping = async {
        directory.asked.notified().await;
        app.stopper.stop().await;
        Instant::now()
    };
    let polling = async {
        let answer = app.poll_json(&login).await;
        (answer, Instant::now())
    };
    let (((status, body), answered), stopped) = tokio::join!(polling, stopping);

    // Assert: the poll got its token; only then did the server finish stopping; it takes nothing new.
    assert_eq!(status, StatusCode::OK);
    assert_confirmed(&body, &json!({ "id": "alice", "name": "Alice, slowly" }));
    assert!(stopped >= answered, "the server stopped before its in-flight request was answered");
    assert!(app.client.get(format!("{}/healthz", app.address)).send().await.is_err(), "a stopped instance is closed");
}

#[tokio::test]
async fn a_request_outlasting_the_shutdown_timeout_is_cut_off_at_the_deadline() {
    // Arrange: the claim would wait 5 s on the directory, the shutdown deadline is 1 s.
    let directory = slow_directory(Duration::from_secs(5));
    let app = gateway(&directory, Duration::from_secs(1)).await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;

    // Act
    let polling = app
        .client
        .get(format!("{}/v1/qr/{}", app.address, login.uuid))
        .header(reqwest::header::COOKIE, format!("qrl_bind={}", login.cookie))
        .send();
    let stopping = async {
        directory.asked.notified().await;
        let began = Instant::now();
        app.stopper.stop().await;
        began.elapsed()
    };
    let (polled, took) = tokio::join!(polling, stopping);

    // Assert: the stop took about the deadline, not the directory's 5 s, and the poll got no answer; the login
    // was not claimed, so it is still there to be claimed through another instance.
    assert!(took >= Duration::from_millis(900), "stopped after {took:?}, before the deadline");
    assert!(took < Duration::from_secs(4), "stopped after {took:?}: the deadline was not enforced");
    assert!(polled.is_err(), "a request past the deadline is cut off: {polled:?}");
    assert_eq!(app.session_hash(&login.uuid).await.get("st").map(String::as_str), Some("confirmed"));
}
