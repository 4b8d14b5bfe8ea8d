//! Long-polls are paced like polls: entering a wait is one poll against the session's interval, so a client that
//! re-enters at once (a `known` status that is already stale answers immediately) is slowed down like a fast
//! poller; waiting itself, and the re-reads a notification causes inside one wait, are never slowed.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, alice, assert_confirmed, settings, spawn_app_with};

const INTERVAL: Duration = Duration::from_millis(400);

async fn slow_down_app() -> TestApp {
    let mut settings = settings();
    settings.poll_slow_down = true;
    settings.poll_interval = INTERVAL;
    spawn_app_with(settings).await
}

#[tokio::test]
async fn a_long_poll_loop_with_a_stale_known_status_is_slowed_down() {
    // Arrange: the login is scanned; the client keeps claiming it only knows `pending`, so every wait answers
    // at once.
    let app = slow_down_app().await;
    let login = app.start_login().await;
    app.phone_scan(&login.uuid, "alice").await;

    // Act: five long-polls back to back, well inside two intervals.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(app.long_poll(&login.uuid, Some(&login.cookie), 20, "pending").await.status());
    }

    // Assert: one early entry is tolerated, as for polls; then slow-down.
    assert_eq!(statuses[..2], [StatusCode::OK; 2], "{statuses:?}");
    assert!(statuses[2..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let res = app.long_poll(&login.uuid, Some(&login.cookie), 20, "pending").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "urn:qrlogin:problem:slow-down", "{body}");
}

#[tokio::test]
async fn waiting_at_the_pace_is_never_slowed_and_a_change_inside_a_wait_is_answered() {
    // Arrange
    let app = slow_down_app().await;
    let login = app.start_login().await;
    app.phone_scan(&login.uuid, "alice").await;

    // Act: long-polls that each wait out their second (known = the current status), back to back.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.long_poll(&login.uuid, Some(&login.cookie), 1, "scanned").await.status());
    }
    // Then one whose wait is cut short by the phone confirming: the re-read it causes is not a poll.
    let (res, ()) = tokio::join!(app.long_poll(&login.uuid, Some(&login.cookie), 20, "scanned"), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        app.phone_decide(&login.uuid, "alice", qrlogin_shared::store::Decision::Confirm).await;
    });

    // Assert
    assert_eq!(statuses, [StatusCode::OK; 3]);
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_confirmed(&body, &alice());
}
