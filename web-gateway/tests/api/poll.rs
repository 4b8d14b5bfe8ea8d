//! `GET /v1/qr/{uuid}`: the browser's poll, and the one-time claim of the web token.

use qrlogin_shared::store::Decision;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    AUDIENCE, FOREIGN_COOKIE, ISSUER, TOKEN_TTL, alice, assert_confirmed, assert_forbidden, assert_problem, header,
    settings, spawn_app, spawn_app_with,
};

fn status(s: &str) -> Value {
    json!({ "status": s })
}

#[tokio::test]
async fn login_goes_pending_scanned_confirmed_and_the_token_is_handed_out_once() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;

    // Act + Assert, step by step: the browser sees each state the phone moves the session to.
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, status("pending")));

    app.phone_scan(&login.uuid, "alice").await;
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, status("scanned")));

    app.phone_decide(&login.uuid, "alice", Decision::Confirm).await;
    let (code, body) = app.poll_json(&login).await;
    assert_eq!(code, StatusCode::OK);
    assert_confirmed(&body, &alice());

    // A lost response is not a lost login: the same browser polling again within the grace window gets the
    // same answer, the same token.
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, body));
}

#[tokio::test]
async fn the_answer_kept_for_the_grace_window_is_sealed_at_rest() {
    // Arrange: a login claimed by its browser.
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_scan(&login.uuid, "alice").await;
    app.phone_decide(&login.uuid, "alice", Decision::Confirm).await;
    let (_, body) = app.poll_json(&login).await;
    let token = body["token"].as_str().expect("the claim carries the token").to_owned();

    // Act: what a Redis dump or replica holds.
    let stored = app.session_hash(&login.uuid).await;

    // Assert: neither the token, nor any part of it, nor the answer's JSON; the browser still gets it back.
    let resp = stored.get("resp").expect("the answer is kept for the grace window");
    for part in std::iter::once(token.as_str()).chain(token.split('.')) {
        assert!(!resp.contains(part), "the stored answer carries the token");
    }
    assert!(!stored.values().any(|v| v.contains("token") || v.contains(&token)), "{stored:?}");
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, body));
}

#[tokio::test]
async fn after_the_grace_window_the_claimed_login_is_expired() {
    // Arrange
    let mut settings = settings();
    settings.claim_grace = std::time::Duration::from_secs(1);
    let app = spawn_app_with(settings).await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;
    let (_, body) = app.poll_json(&login).await;
    assert_confirmed(&body, &alice());

    // Act
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;

    // Assert
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, status("expired")));
}

#[tokio::test]
async fn another_browser_polling_a_claimed_login_is_forbidden() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;
    let other = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;
    let (_, body) = app.poll_json(&login).await;
    assert_confirmed(&body, &alice());

    // Act
    let res = app.poll(&login.uuid, Some(&other.cookie)).await;

    // Assert
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn poll_answers_are_not_cacheable() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;

    // Act
    let res = app.poll(&login.uuid, Some(&login.cookie)).await;

    // Assert
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), Some("no-store"));
    assert_eq!(header(&res, "content-type"), Some("application/json"));
}

#[tokio::test]
async fn token_is_an_es256_jwt_verifiable_with_the_published_key() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;

    // Act
    let (_, body) = app.poll_json(&login).await;

    // Assert
    let token = assert_confirmed(&body, &alice());
    let data = app.verify_token(&token).await;
    assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
    let claims = data.claims;
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, AUDIENCE);
    assert!(claims.exp > claims.iat);
    assert_eq!(claims.exp - claims.iat, TOKEN_TTL.as_secs());
    assert_eq!(claims.amr, ["qr"]);
    assert!(uuid::Uuid::try_parse(&claims.jti).is_ok(), "jti is a uuid: {}", claims.jti);
    assert!(uuid::Uuid::try_parse(&claims.sid).is_ok() && claims.sid != claims.jti, "sid: {}", claims.sid);
}

#[tokio::test]
async fn every_login_gets_a_token_with_its_own_jti() {
    // Arrange
    let app = spawn_app().await;
    let (first, second) = (app.start_login().await, app.start_login().await);
    app.phone_confirm(&first.uuid, "alice").await;
    app.phone_confirm(&second.uuid, "alice").await;

    // Act
    let first_token = assert_confirmed(&app.poll_json(&first).await.1, &alice());
    let second_token = assert_confirmed(&app.poll_json(&second).await.1, &alice());

    // Assert
    let (a, b) = (app.verify_token(&first_token).await, app.verify_token(&second_token).await);
    assert_ne!(a.claims.jti, b.claims.jti);
}

#[tokio::test]
async fn poll_without_cookie_is_forbidden_and_does_not_spend_the_token() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;

    // Act
    let res = app.poll(&login.uuid, None).await;

    // Assert
    assert_forbidden(res).await;
    let (code, body) = app.poll_json(&login).await;
    assert_eq!(code, StatusCode::OK);
    assert_confirmed(&body, &alice());
}

#[tokio::test]
async fn poll_with_wrong_cookie_is_forbidden_and_does_not_spend_the_token() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;

    // Act
    let res = app.poll(&login.uuid, Some(FOREIGN_COOKIE)).await;

    // Assert
    assert_forbidden(res).await;
    let (code, body) = app.poll_json(&login).await;
    assert_eq!(code, StatusCode::OK);
    assert_confirmed(&body, &alice());
}

#[tokio::test]
async fn cookie_of_another_login_is_forbidden() {
    // Arrange: two browsers; the second tries to claim the first one's login with its own, genuine cookie.
    let app = spawn_app().await;
    let victim = app.start_login().await;
    let attacker = app.start_login().await;
    app.phone_confirm(&victim.uuid, "alice").await;

    // Act
    let res = app.poll(&victim.uuid, Some(&attacker.cookie)).await;

    // Assert
    assert_forbidden(res).await;
    assert_confirmed(&app.poll_json(&victim).await.1, &alice());
}

#[tokio::test]
async fn malformed_cookie_is_forbidden() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;

    // Act
    let res = app.poll(&login.uuid, Some("short")).await;

    // Assert
    assert_forbidden(res).await;
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, status("pending")));
}

#[tokio::test]
async fn pending_login_is_forbidden_to_another_browser_too() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;

    // Act
    let res = app.poll(&login.uuid, Some(FOREIGN_COOKIE)).await;

    // Assert
    assert_forbidden(res).await;
}

#[tokio::test]
async fn unknown_session_is_expired() {
    // Arrange
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4().to_string();

    // Act
    let res = app.poll(&unknown, Some(FOREIGN_COOKIE)).await;

    // Assert
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), status("expired"));
}

#[tokio::test]
async fn invalid_session_id_is_a_400_problem() {
    // Arrange
    let app = spawn_app().await;
    let v4 = uuid::Uuid::new_v4();
    let invalid = [
        "not-a-uuid".to_owned(),
        v4.to_string().to_uppercase(),
        v4.simple().to_string(),
        // A valid uuid, but version 1: never one of ours.
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8".to_owned(),
    ];

    for id in invalid {
        // Act
        let res = app.poll(&id, Some(FOREIGN_COOKIE)).await;

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
}

#[tokio::test]
async fn denied_login_reports_denied_and_never_a_token() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_scan(&login.uuid, "alice").await;

    // Act
    app.phone_decide(&login.uuid, "alice", Decision::Deny).await;

    // Assert
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, status("denied")));
    assert_eq!(app.poll_json(&login).await, (StatusCode::OK, status("denied")));
}

#[tokio::test]
async fn user_missing_from_the_directory_still_gets_a_token_with_just_the_id() {
    // Arrange: "dave" is not in deploy/dev/users.json.
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "dave").await;

    // Act
    let (code, body) = app.poll_json(&login).await;

    // Assert
    assert_eq!(code, StatusCode::OK);
    let token = assert_confirmed(&body, &json!({ "id": "dave" }));
    assert_eq!(app.verify_token(&token).await.claims.sub, "dave");
}
