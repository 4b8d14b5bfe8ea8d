//! Malformed requests, unknown routes, and what error bodies must never carry.

use qrlogin_shared::store::PollOutcome;
use serde_json::json;

use crate::helpers::{assert_problem, foreign_verifier, spawn_app, token_for};

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let app = spawn_app().await;
    let token = token_for("alice");

    let scan = app.post_raw("/v1/scan", Some(&token), "application/json", "{\"qr_content\": ".to_owned()).await;
    let confirm = app.post_raw("/v1/confirm", Some(&token), "application/json", "not json".to_owned()).await;

    assert_problem(scan, 400, "invalid-request").await;
    assert_problem(confirm, 400, "invalid-request").await;
}

#[tokio::test]
async fn json_without_the_expected_fields_is_a_bad_request() {
    let app = spawn_app().await;
    let token = token_for("alice");

    let scan = app.post_json("/v1/scan", Some(&token), &json!({ "qr": "x" })).await;
    let confirm = app.post_json("/v1/confirm", Some(&token), &json!({ "uuid": 42 })).await;

    assert_problem(scan, 400, "invalid-request").await;
    assert_problem(confirm, 400, "invalid-request").await;
}

#[tokio::test]
async fn another_content_type_than_json_is_unsupported() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let body = json!({ "qr_content": session.qr_content }).to_string();

    let res = app.post_raw("/v1/scan", Some(&token_for("alice")), "text/plain", body).await;

    assert_problem(res, 415, "unsupported-media-type").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn body_over_4_kib_is_too_large() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let padded = format!("{}{}", session.qr_content, " ".repeat(5 * 1024));
    let body = json!({ "qr_content": padded }).to_string();
    assert!(body.len() > 4 * 1024);

    let res = app.post_raw("/v1/scan", Some(&token_for("alice")), "application/json", body).await;

    assert_problem(res, 413, "body-too-large").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn body_just_under_4_kib_is_accepted() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    // The QR text is trimmed, so padding it with spaces keeps it valid.
    let overhead = json!({ "qr_content": session.qr_content }).to_string().len();
    let padded = format!("{}{}", session.qr_content, " ".repeat(4 * 1024 - overhead));
    let body = json!({ "qr_content": padded }).to_string();
    assert_eq!(body.len(), 4 * 1024);

    let res = app.post_raw("/v1/scan", Some(&token_for("alice")), "application/json", body).await;

    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn invalid_uuid_in_confirm_is_a_bad_request() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    let token = token_for("alice");
    let upper = session.id.to_string().to_uppercase();

    for uuid in ["not-a-uuid", "", upper.as_str(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8"] {
        let res = app.confirm(&token, uuid, &session.verification).await;
        assert_problem(res, 400, "invalid-request").await;
    }
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
}

#[tokio::test]
async fn malformed_verification_in_confirm_is_a_bad_request() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    let token = token_for("alice");
    let truncated = &session.verification[..40];
    let too_long = format!("{}AAAA", session.verification);

    for verification in ["", "short", truncated, too_long.as_str(), &"!".repeat(48)] {
        let res = app.confirm(&token, &session.id.to_string(), verification).await;
        assert_problem(res, 400, "invalid-request").await;
    }
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
}

#[tokio::test]
async fn unknown_route_is_a_not_found_problem() {
    let app = spawn_app().await;

    let get = app.get("/v1/nothing-here").await;
    let post = app.post_json("/v2/scan", Some(&token_for("alice")), &json!({})).await;

    assert_problem(get, 404, "not-found").await;
    assert_problem(post, 404, "not-found").await;
}

#[tokio::test]
async fn problem_bodies_never_carry_the_verification_or_the_token() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    let alice = token_for("alice");
    let mallory = token_for("mallory");
    let forged = foreign_verifier().issue(&session.id, u32::MAX).encode();
    let uuid = session.id.to_string();
    let foreign_qr = format!("https://evil.example/q/{uuid}.{}", session.verification);
    let tampered_qr = format!("{}/q/{uuid}.{}!", app.base.as_str(), &session.verification[1..]);

    let answers = [
        // A second scanner ends the login (issue 10 §3): its confirm then finds no session.
        (app.scan(&mallory, &session.qr_content).await, 409),
        (app.confirm(&mallory, &uuid, &session.verification).await, 404),
        (app.confirm(&alice, &uuid, &forged).await, 404),
        (app.confirm(&alice, "not-a-uuid", &session.verification).await, 400),
        (app.scan(&alice, &foreign_qr).await, 400),
        (app.scan(&alice, &tampered_qr).await, 400),
        (app.post_json("/v1/scan", Some(&alice), &json!({ "qr_content": [session.qr_content] })).await, 400),
        (app.confirm(&format!("{alice}x"), &uuid, &session.verification).await, 401),
    ];

    for (res, status) in answers {
        assert_eq!(res.status(), status);
        let text = res.text().await.unwrap();
        for secret in [session.verification.as_str(), forged.as_str(), alice.as_str(), mallory.as_str()] {
            assert!(!text.contains(secret), "a {status} body carries a secret: {text}");
        }
    }
    assert_eq!(app.poll(&session).await, PollOutcome::Cancelled);
}

/// A client that sends its headers and then trickles (here: stops sending) its body is cut off with 408 once the
/// request deadline passes, instead of holding a worker forever (slowloris).
#[tokio::test]
async fn a_body_that_never_finishes_is_cut_off_with_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_app().await;
    let session = app.new_session().await;
    let host = app.address.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /v1/scan HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: 200\r\n\r\n{{\"qr_content\":",
        token_for("alice")
    );
    socket.write_all(head.as_bytes()).await.unwrap();

    // The deadline is 10 s; allow generously for a loaded machine, but never forever.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), socket.read_to_end(&mut answer)).await;

    assert!(read.is_ok(), "the server never answered a stalled body");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}
