//! A session lives exactly as long as its Redis TTL.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{settings, spawn_app_with};

#[tokio::test]
async fn session_is_expired_once_its_ttl_has_passed() {
    // Arrange: a 1 s session. Redis expires keys with millisecond precision, but `EXPIRE 1` may still be
    // counted from just before the write, so wait comfortably more than one second.
    let mut settings = settings();
    settings.session_ttl = Duration::from_secs(1);
    let app = spawn_app_with(settings).await;
    let login = app.start_login().await;

    // Act
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let answer = app.poll_json(&login).await;

    // Assert
    assert_eq!(answer, (StatusCode::OK, json!({ "status": "expired" })));
    assert_eq!(app.session_ttl(&login.uuid).await, -2, "the key itself is gone");
}
