//! Verification strings and QR links that are not genuine: refused before anything changes in Redis, and a
//! forged code is answered exactly like a session that does not exist.

use std::time::Duration;

use qrlogin_shared::SessionId;
use qrlogin_shared::store::PollOutcome;

use crate::helpers::{assert_problem, expires_at, foreign_verifier, spawn_app, token_for};

/// The answer for a forged, foreign or stale code, and for an unknown session.
const NOT_FOUND: &str = "session-not-found";

#[tokio::test]
async fn forged_verification_is_not_found_and_the_session_stays_pending() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let forged = foreign_verifier().issue(&session.id, expires_at(Duration::from_secs(120)));

    let res = app.scan(&token_for("alice"), &app.base.link(&session.id, &forged)).await;

    assert_problem(res, 404, NOT_FOUND).await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn forged_verification_cannot_confirm_a_scanned_session() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    let forged = foreign_verifier().issue(&session.id, expires_at(Duration::from_secs(120)));

    let confirm = app.confirm(&token_for("alice"), &session.id.to_string(), &forged.encode()).await;
    let deny = app.deny(&token_for("alice"), &session.id.to_string(), &forged.encode()).await;

    assert_problem(confirm, 404, NOT_FOUND).await;
    assert_problem(deny, 404, NOT_FOUND).await;
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
}

#[tokio::test]
async fn verification_of_another_session_is_not_found() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let other = app.new_session().await;
    // The uuid of one session with the (genuine) verification string of another.
    let swapped = format!("{}/q/{}.{}", app.base.as_str(), session.id, other.verification);

    let scan = app.scan(&token_for("alice"), &swapped).await;
    let confirm = app.confirm(&token_for("alice"), &session.id.to_string(), &other.verification).await;

    assert_problem(scan, 404, NOT_FOUND).await;
    assert_problem(confirm, 404, NOT_FOUND).await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
    assert_eq!(app.poll(&other).await, PollOutcome::Pending);
}

#[tokio::test]
async fn expired_verification_is_not_found_even_while_the_session_lives() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let stale = app.verifier.issue(&session.id, u32::try_from(qrlogin_shared::unix_now() - 60).unwrap());

    let res = app.scan(&token_for("alice"), &app.base.link(&session.id, &stale)).await;

    assert_problem(res, 404, NOT_FOUND).await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn unknown_session_with_a_genuine_code_answers_exactly_like_a_forged_code() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let unknown = SessionId::random();
    let genuine = app.verifier.issue(&unknown, expires_at(Duration::from_secs(120)));
    let forged = foreign_verifier().issue(&session.id, expires_at(Duration::from_secs(120)));

    let for_unknown = app.scan(&token_for("alice"), &app.base.link(&unknown, &genuine)).await;
    let for_forged = app.scan(&token_for("alice"), &app.base.link(&session.id, &forged)).await;

    let unknown_body = assert_problem(for_unknown, 404, NOT_FOUND).await.body;
    let forged_body = assert_problem(for_forged, 404, NOT_FOUND).await.body;
    assert_eq!(unknown_body, forged_body, "a forged code must not be told apart from an unknown session");
}

#[tokio::test]
async fn tampered_qr_is_rejected_and_the_session_stays_pending() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    // One character of the verification part, inside the base64url alphabet: well-formed, wrong tag.
    let position = session.qr_content.len() - 10;
    let original = session.qr_content.as_bytes()[position];
    let replacement = if original == b'A' { "B" } else { "A" };
    let mut in_alphabet = session.qr_content.clone();
    in_alphabet.replace_range(position..=position, replacement);
    // ... and outside it: not even a code.
    let mut out_of_alphabet = session.qr_content.clone();
    out_of_alphabet.replace_range(position..=position, "!");

    let well_formed = app.scan(&token_for("alice"), &in_alphabet).await;
    let malformed = app.scan(&token_for("alice"), &out_of_alphabet).await;

    assert_problem(well_formed, 404, NOT_FOUND).await;
    assert_problem(malformed, 400, "invalid-qr").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn qr_of_another_site_is_a_bad_request() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let foreign = format!("https://evil.example/q/{}.{}", session.id, session.verification);

    let res = app.scan(&token_for("alice"), &foreign).await;

    assert_problem(res, 400, "invalid-qr").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn qr_without_a_verification_part_is_a_bad_request() {
    let app = spawn_app().await;
    let session = app.new_session().await;

    let res = app.scan(&token_for("alice"), &format!("{}/q/{}", app.base.as_str(), session.id)).await;

    assert_problem(res, 400, "invalid-qr").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}
