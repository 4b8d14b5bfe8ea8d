//! `POST /v1/confirm` and `POST /v1/deny`: only from scanned, only by the scanner, only once.

use qrlogin_shared::UserId;
use qrlogin_shared::store::{ClaimOutcome, PollOutcome};
use serde_json::json;

use crate::helpers::{assert_ok_json, assert_problem, spawn_app, token_for};

#[tokio::test]
async fn deny_after_scan_is_reported_to_the_browser() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;

    let res = app.deny(&token_for("alice"), &session.id.to_string(), &session.verification).await;

    assert_eq!(assert_ok_json(res).await, json!({ "status": "denied" }));
    assert_eq!(app.poll(&session).await, PollOutcome::Denied);
}

#[tokio::test]
async fn confirm_after_deny_conflicts_and_the_session_stays_denied() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    assert_ok_json(app.deny(&token_for("alice"), &session.id.to_string(), &session.verification).await).await;

    let res = app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await;

    assert_problem(res, 409, "wrong-state").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Denied);
}

#[tokio::test]
async fn a_second_confirm_conflicts() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    assert_ok_json(app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await).await;

    let again = app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await;
    let deny = app.deny(&token_for("alice"), &session.id.to_string(), &session.verification).await;

    assert_problem(again, 409, "wrong-state").await;
    assert_problem(deny, 409, "wrong-state").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Confirmed { user: UserId::parse("alice").unwrap(), jkt: None });
}

#[tokio::test]
async fn confirm_after_the_browser_claimed_is_not_found() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    assert_ok_json(app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await).await;
    assert!(matches!(app.claim(&session).await, ClaimOutcome::Won { .. }));

    let res = app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await;

    assert_problem(res, 404, "session-not-found").await;
}

#[tokio::test]
async fn confirm_by_another_user_than_the_scanner_conflicts_and_the_scanner_can_still_confirm() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;

    let res = app.confirm(&token_for("mallory"), &session.id.to_string(), &session.verification).await;

    assert_problem(res, 409, "wrong-user").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
    let by_scanner = app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await;
    assert_eq!(assert_ok_json(by_scanner).await["status"], "confirmed");
    assert_eq!(app.poll(&session).await, PollOutcome::Confirmed { user: UserId::parse("alice").unwrap(), jkt: None });
}

#[tokio::test]
async fn deny_by_another_user_than_the_scanner_conflicts() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;

    let res = app.deny(&token_for("mallory"), &session.id.to_string(), &session.verification).await;

    assert_problem(res, 409, "wrong-user").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
}

#[tokio::test]
async fn confirm_without_scan_conflicts_and_the_session_stays_pending() {
    let app = spawn_app().await;
    let session = app.new_session().await;

    let res = app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await;

    assert_problem(res, 409, "wrong-state").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn deny_without_scan_conflicts_and_the_session_stays_pending() {
    let app = spawn_app().await;
    let session = app.new_session().await;

    let res = app.deny(&token_for("alice"), &session.id.to_string(), &session.verification).await;

    assert_problem(res, 409, "wrong-state").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}
