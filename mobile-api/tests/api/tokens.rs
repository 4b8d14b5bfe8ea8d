//! The app user's bearer token: every way of getting it wrong is a 401 with a Bearer challenge, and nothing
//! changes in Redis.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use qrlogin_shared::store::PollOutcome;
use reqwest::header::WWW_AUTHENTICATE;
use serde_json::{Value, json};

use crate::helpers::{
    AUDIENCE, JWT_SECRET, TestApp, assert_problem, good_claims, signed_token, signed_token_with, spawn_app, token_for,
};

/// Scans with `token`, expects it refused, and checks the session is still pending.
async fn assert_scan_refused(app: &TestApp, token: Option<&str>) -> String {
    let session = app.new_session().await;
    let body = json!({ "qr_content": session.qr_content });

    let res = app.post_json("/v1/scan", token, &body).await;

    let problem = assert_problem(res, 401, "invalid-token").await;
    let challenge = problem.headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "WWW-Authenticate: {challenge:?}");
    if let Some(token) = token {
        assert!(!problem.text.contains(token), "the token is echoed: {}", problem.text);
    }
    assert!(!problem.text.contains(&session.verification), "the verification is echoed: {}", problem.text);
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
    challenge.to_owned()
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn now() -> u64 {
    qrlogin_shared::unix_now()
}

#[tokio::test]
async fn missing_authorization_is_unauthorized_with_a_bare_bearer_challenge() {
    let app = spawn_app().await;

    let challenge = assert_scan_refused(&app, None).await;

    assert_eq!(challenge, "Bearer");
}

#[tokio::test]
async fn another_scheme_than_bearer_is_unauthorized() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let res = app
        .client
        .post(format!("{}/v1/scan", app.address))
        .basic_auth("alice", Some("password"))
        .json(&json!({ "qr_content": session.qr_content }))
        .send()
        .await
        .unwrap();

    let problem = assert_problem(res, 401, "invalid-token").await;

    assert!(problem.headers.get(WWW_AUTHENTICATE).is_some_and(|v| v.to_str().unwrap().starts_with("Bearer")));
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn token_signed_with_another_secret_is_unauthorized() {
    let app = spawn_app().await;
    let token = signed_token(&good_claims("alice"), "another-secret-of-the-same-length-000000");

    let challenge = assert_scan_refused(&app, Some(&token)).await;

    assert!(challenge.contains("invalid_token"), "WWW-Authenticate: {challenge:?}");
}

#[tokio::test]
async fn token_of_another_issuer_is_unauthorized() {
    let app = spawn_app().await;
    let token = signed_token(&with(good_claims("alice"), "iss", json!("https://evil.example")), JWT_SECRET);

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn token_for_another_audience_is_unauthorized() {
    let app = spawn_app().await;
    let token = signed_token(&with(good_claims("alice"), "aud", json!("another-api")), JWT_SECRET);

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn token_expired_beyond_the_leeway_is_unauthorized() {
    let app = spawn_app().await;
    let claims = with(with(good_claims("alice"), "iat", json!(now() - 3600)), "exp", json!(now() - 600));
    let token = signed_token(&claims, JWT_SECRET);

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn token_expired_within_the_leeway_is_still_accepted() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let token = signed_token(&with(good_claims("alice"), "exp", json!(now() - 5)), JWT_SECRET);

    let res = app.scan(&token, &session.qr_content).await;

    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn token_not_yet_valid_is_unauthorized() {
    let app = spawn_app().await;
    let token = signed_token(&with(good_claims("alice"), "nbf", json!(now() + 600)), JWT_SECRET);

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn token_without_audience_is_unauthorized() {
    let app = spawn_app().await;
    let token = signed_token(&without(good_claims("alice"), "aud"), JWT_SECRET);

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn token_without_issuer_is_unauthorized() {
    let app = spawn_app().await;
    let token = signed_token(&without(good_claims("alice"), "iss"), JWT_SECRET);

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn token_without_expiry_is_unauthorized() {
    let app = spawn_app().await;
    let token = signed_token(&without(good_claims("alice"), "exp"), JWT_SECRET);

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn token_without_subject_is_unauthorized() {
    let app = spawn_app().await;
    let token = signed_token(&without(good_claims("alice"), "sub"), JWT_SECRET);

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn token_with_an_empty_subject_is_unauthorized() {
    let app = spawn_app().await;
    let token = signed_token(&with(good_claims("alice"), "sub", json!("")), JWT_SECRET);

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn unsigned_token_with_alg_none_is_unauthorized() {
    let app = spawn_app().await;
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT" }).to_string());
    let claims = URL_SAFE_NO_PAD.encode(good_claims("alice").to_string());
    let token = format!("{header}.{claims}.");

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn token_signed_with_another_algorithm_than_the_pinned_one_is_unauthorized() {
    let app = spawn_app().await;
    // Same secret, HS512 instead of the configured HS256: the algorithm is not the token's choice.
    let token = signed_token_with(Algorithm::HS512, &good_claims("alice"), JWT_SECRET);

    assert_scan_refused(&app, Some(&token)).await;
}

#[tokio::test]
async fn garbage_bearer_token_is_unauthorized() {
    let app = spawn_app().await;

    assert_scan_refused(&app, Some("not-a-jwt")).await;
}

#[tokio::test]
async fn confirm_and_deny_refuse_a_bad_token_and_leave_the_session_scanned() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    // Right user, wrong audience: a token meant for something else must not decide a login.
    let token = signed_token(&with(good_claims("alice"), "aud", json!(format!("{AUDIENCE}-other"))), JWT_SECRET);
    let body = json!({ "uuid": session.id.to_string(), "verification": session.verification });

    let confirm_missing = app.post_json("/v1/confirm", None, &body).await;
    let confirm = app.confirm(&token, &session.id.to_string(), &session.verification).await;
    let deny = app.deny(&token, &session.id.to_string(), &session.verification).await;

    for res in [confirm_missing, confirm, deny] {
        let problem = assert_problem(res, 401, "invalid-token").await;
        assert!(problem.headers.get(WWW_AUTHENTICATE).is_some_and(|v| v.to_str().unwrap().starts_with("Bearer")));
    }
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
    // The genuine token of the scanner still works.
    let res = app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await;
    assert_eq!(res.status(), 200);
}
