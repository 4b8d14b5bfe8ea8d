//! `DELETE /v1/qr/{uuid}`: the browser abandons its login.

use qrlogin_shared::store::ScanOutcome;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{FOREIGN_COOKIE, assert_forbidden, assert_problem, session_id, spawn_app, user_id};

#[tokio::test]
async fn cancel_with_the_binding_cookie_cancels_the_login() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;

    // Act
    let res = app.cancel(&login.uuid, Some(&login.cookie)).await;

    // Assert
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.bytes().await.unwrap().is_empty());
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, json!({ "status": "cancelled" })));
}

#[tokio::test]
async fn cancelled_login_can_no_longer_be_scanned() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;

    // Act
    assert_eq!(app.cancel(&login.uuid, Some(&login.cookie)).await.status(), StatusCode::NO_CONTENT);

    // Assert
    let code = app.code_expiry(&login.uuid).await;
    let outcome = app.store.scan(&session_id(&login.uuid), &user_id("alice"), code, None, None).await.unwrap();
    assert!(matches!(outcome, ScanOutcome::Conflict), "{outcome:?}");
}

#[tokio::test]
async fn cancel_after_confirm_withdraws_the_token() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;

    // Act
    let res = app.cancel(&login.uuid, Some(&login.cookie)).await;

    // Assert
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, json!({ "status": "cancelled" })));
}

#[tokio::test]
async fn cancel_with_a_wrong_cookie_is_forbidden_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_scan(&login.uuid, "alice").await;

    // Act
    let res = app.cancel(&login.uuid, Some(FOREIGN_COOKIE)).await;

    // Assert
    assert_forbidden(res).await;
    assert_eq!(app.session_hash(&login.uuid).await.get("st").map(String::as_str), Some("scanned"));
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, json!({ "status": "scanned" })));
}

#[tokio::test]
async fn cancel_without_a_cookie_is_forbidden_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;

    // Act
    let res = app.cancel(&login.uuid, None).await;

    // Assert
    assert_forbidden(res).await;
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, json!({ "status": "pending" })));
}

#[tokio::test]
async fn cancel_of_an_unknown_session_is_204() {
    // Arrange
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4().to_string();

    // Act
    let res = app.cancel(&unknown, Some(FOREIGN_COOKIE)).await;

    // Assert
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn cancel_is_idempotent() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;
    assert_eq!(app.cancel(&login.uuid, Some(&login.cookie)).await.status(), StatusCode::NO_CONTENT);

    // Act
    let res = app.cancel(&login.uuid, Some(&login.cookie)).await;

    // Assert
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, json!({ "status": "cancelled" })));
}

#[tokio::test]
async fn cancel_with_an_invalid_session_id_is_a_400_problem() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.cancel("not-a-uuid", Some(FOREIGN_COOKIE)).await;

    // Assert
    assert_problem(
        res,
        StatusCode::BAD_REQUEST,
        json!({
            "type": "urn:qrlogin:problem:invalid-request",
            "title": "Invalid request",
            "status": 400,
            "detail": "the session id must be a lower-case hyphenated v4 uuid",
        }),
    )
    .await;
}

#[tokio::test]
async fn cancel_after_the_token_was_claimed_is_204_and_keeps_it_expired() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;
    let (_, claimed) = app.poll_json(&login).await;
    assert_eq!(claimed["status"], "confirmed");

    // Act
    let res = app.cancel(&login.uuid, Some(&login.cookie)).await;

    // Assert
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (code, body): (StatusCode, Value) = app.poll_json(&login).await;
    assert_eq!((code, body), (StatusCode::OK, json!({ "status": "expired" })));
}
