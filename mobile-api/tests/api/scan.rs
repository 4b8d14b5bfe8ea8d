//! `POST /v1/scan`: the happy path, idempotence for the scanner, and conflicts for everyone else.

use qrlogin_shared::UserId;
use qrlogin_shared::store::{ClaimOutcome, PollOutcome};
use serde_json::json;

use crate::helpers::{SESSION_TTL, assert_ok_json, assert_problem, spawn_app, token_for};

#[tokio::test]
async fn scan_answers_the_requester_recorded_at_creation_and_marks_the_session_scanned() {
    // Arrange
    let app = spawn_app().await;
    let session = app.new_session().await;

    // Act
    let body = assert_ok_json(app.scan(&token_for("alice"), &session.qr_content).await).await;

    // Assert
    assert_eq!(body["uuid"], session.id.to_string());
    assert_eq!(body["requester"]["ip"], session.requester.ip);
    assert_eq!(body["requester"]["user_agent"], session.requester.user_agent);
    assert_eq!(body["requester"]["created_at"], session.requester.created_at);
    let expires_in = body["expires_in"].as_u64().unwrap();
    assert!((SESSION_TTL.as_secs() - 10..=SESSION_TTL.as_secs()).contains(&expires_in), "expires_in {expires_in}");
    let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["check_code_required", "expires_in", "requester", "risk", "uuid"]);
    assert_eq!(body["check_code_required"], false);
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
}

#[tokio::test]
async fn scan_accepts_the_qr_text_with_surrounding_whitespace() {
    let app = spawn_app().await;
    let session = app.new_session().await;

    let res = app.scan(&token_for("alice"), &format!("  {}\n", session.qr_content)).await;

    assert_eq!(assert_ok_json(res).await["uuid"], session.id.to_string());
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
}

#[tokio::test]
async fn the_same_user_scanning_again_gets_the_same_answer() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let first = assert_ok_json(app.scan(&token_for("alice"), &session.qr_content).await).await;

    let again = assert_ok_json(app.scan(&token_for("alice"), &session.qr_content).await).await;

    assert_eq!(again["uuid"], first["uuid"]);
    assert_eq!(again["requester"], first["requester"]);
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
}

#[tokio::test]
async fn another_user_scanning_a_scanned_session_ends_it_for_both() {
    // A bystander photographed the QR alice is scanning (or alice's QR was shared): whoever confirmed would
    // log alice's browser in as themselves.
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;

    let res = app.scan(&token_for("mallory"), &session.qr_content).await;

    assert_problem(res, 409, "wrong-state").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Cancelled);
    for user in ["alice", "mallory"] {
        let res = app.confirm(&token_for(user), &session.id.to_string(), &session.verification).await;
        assert_problem(res, 404, "session-not-found").await;
    }
    assert_eq!(app.poll(&session).await, PollOutcome::Cancelled);
}

#[tokio::test]
async fn scan_then_confirm_lets_the_browser_claim_the_scanner() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let token = token_for("alice@example.com");
    assert_ok_json(app.scan(&token, &session.qr_content).await).await;

    let body = assert_ok_json(app.confirm(&token, &session.id.to_string(), &session.verification).await).await;

    assert_eq!(body, json!({ "status": "confirmed" }));
    let user = UserId::parse("alice@example.com").unwrap();
    assert_eq!(app.poll(&session).await, PollOutcome::Confirmed { user, jkt: None });
    // The claim happens once: a second claim finds it already made.
    assert!(matches!(app.claim(&session).await, ClaimOutcome::Won { .. }));
    assert!(matches!(app.claim(&session).await, ClaimOutcome::AlreadyClaimed { .. }));
}

#[tokio::test]
async fn scanning_a_denied_session_conflicts() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    let denied = app.deny(&token_for("alice"), &session.id.to_string(), &session.verification).await;
    assert_ok_json(denied).await;

    let res = app.scan(&token_for("alice"), &session.qr_content).await;

    assert_problem(res, 409, "wrong-state").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Denied);
}

#[tokio::test]
async fn scanning_a_claimed_session_is_not_found() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    assert_ok_json(app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await).await;
    assert!(matches!(app.claim(&session).await, ClaimOutcome::Won { .. }));

    let res = app.scan(&token_for("alice"), &session.qr_content).await;

    assert_problem(res, 404, "session-not-found").await;
}
