//! What the gateway owes a browser on every answer: headers against framing, sniffing, referrer leaks and
//! caching of one-time material, and CORS that grants only the configured origins.

use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_METHOD, CACHE_CONTROL,
    CONTENT_TYPE, ORIGIN,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ALLOWED_ORIGIN, FOREIGN_COOKIE, PROBLEM_JSON, TestApp, assert_problem, header, spawn_app};

const UNLISTED_ORIGIN: &str = "https://evil.example";

/// The headers every gateway response carries, whatever its status.
fn assert_security_headers(res: &Response, what: &str) {
    let csp = header(res, "content-security-policy").unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp:?}");
    assert_eq!(header(res, "x-content-type-options"), Some("nosniff"), "{what}");
    assert_eq!(header(res, "referrer-policy"), Some("no-referrer"), "{what}");
    assert_eq!(header(res, "x-frame-options"), Some("DENY"), "{what}");
}

fn assert_no_store(res: &Response, what: &str) {
    assert_eq!(header(res, CACHE_CONTROL.as_str()), Some("no-store"), "{what}");
}

/// Without `Access-Control-Allow-Origin` a browser keeps the answer from the calling page, whatever else is set.
fn assert_no_cors_grant(res: &Response, what: &str) {
    assert_eq!(header(res, ACCESS_CONTROL_ALLOW_ORIGIN.as_str()), None, "{what}");
}

/// A CORS preflight for `POST /v1/qr` as a browser on `origin` sends it.
async fn preflight_create(app: &TestApp, origin: &str) -> Response {
    app.client
        .request(Method::OPTIONS, format!("{}/v1/qr", app.address))
        .header(ORIGIN, origin)
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let created = app.create_qr().await;
    let cookie = crate::helpers::binding_cookie(created.headers()).value;
    let uuid = created.json::<Value>().await.unwrap()["uuid"].as_str().unwrap().to_owned();
    let polled = app.poll(&uuid, Some(&cookie)).await;
    let forbidden = app.poll(&uuid, Some(FOREIGN_COOKIE)).await;
    let not_found = app.get("/v1/nope").await;
    let health = app.healthz().await;
    let jwks = app.jwks().await;
    let cancelled = app.cancel(&uuid, Some(&cookie)).await;

    // Assert
    assert_eq!(polled.status(), StatusCode::OK);
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(jwks.status(), StatusCode::OK);
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    for (res, what) in [
        (&polled, "poll 200"),
        (&forbidden, "poll 403"),
        (&not_found, "404"),
        (&health, "healthz"),
        (&jwks, "jwks"),
        (&cancelled, "cancel 204"),
    ] {
        assert_security_headers(res, what);
    }
    for (res, what) in [(&polled, "poll 200"), (&forbidden, "poll 403"), (&cancelled, "cancel 204")] {
        assert_no_store(res, what);
    }
}

#[tokio::test]
async fn create_carries_the_security_headers_and_no_store() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.create_qr().await;

    // Assert
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_security_headers(&res, "create 201");
    assert_no_store(&res, "create 201");
}

#[tokio::test]
async fn jwks_keeps_its_own_cache_control() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.jwks().await;

    // Assert
    assert_eq!(res.status(), StatusCode::OK);
    let all: Vec<_> = res.headers().get_all(CACHE_CONTROL).iter().collect();
    assert_eq!(all, ["public, max-age=300"], "exactly the JWKS's own Cache-Control");
}

#[tokio::test]
async fn preflight_from_an_allowed_origin_is_granted_with_credentials() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = preflight_create(&app, ALLOWED_ORIGIN).await;

    // Assert
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, ACCESS_CONTROL_ALLOW_ORIGIN.as_str()), Some(ALLOWED_ORIGIN));
    assert_eq!(header(&res, ACCESS_CONTROL_ALLOW_CREDENTIALS.as_str()), Some("true"));
    let methods = header(&res, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "allowed methods: {methods:?}");
}

#[tokio::test]
async fn create_from_an_allowed_origin_is_granted_with_credentials() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.client.post(format!("{}/v1/qr", app.address)).header(ORIGIN, ALLOWED_ORIGIN).send().await.unwrap();

    // Assert
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, ACCESS_CONTROL_ALLOW_ORIGIN.as_str()), Some(ALLOWED_ORIGIN));
    assert_eq!(header(&res, ACCESS_CONTROL_ALLOW_CREDENTIALS.as_str()), Some("true"));
}

#[tokio::test]
async fn preflight_from_an_unlisted_origin_is_refused_as_a_problem() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = preflight_create(&app, UNLISTED_ORIGIN).await;

    // Assert
    let status = res.status();
    assert!(status.is_client_error(), "refused with a 4xx, got {status}");
    assert_no_cors_grant(&res, "unlisted preflight");
    assert_security_headers(&res, "unlisted preflight");
    assert_eq!(header(&res, CONTENT_TYPE.as_str()), Some(PROBLEM_JSON));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(body["type"].as_str().is_some_and(|t| t.starts_with("urn:qrlogin:problem:")), "{body}");
}

#[tokio::test]
async fn poll_from_an_unlisted_origin_gets_no_cors_grant() {
    // Arrange
    let app = spawn_app().await;
    let login = app.start_login().await;

    // Act
    let res = app
        .client
        .get(format!("{}/v1/qr/{}", app.address, login.uuid))
        .header(ORIGIN, UNLISTED_ORIGIN)
        .header(reqwest::header::COOKIE, format!("qrl_bind={}", login.cookie))
        .send()
        .await
        .unwrap();

    // Assert
    assert_no_cors_grant(&res, "unlisted simple GET");
    assert_security_headers(&res, "unlisted simple GET");
}

#[tokio::test]
async fn head_healthz_is_ok() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.client.head(format!("{}/healthz", app.address)).send().await.unwrap();

    // Assert
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(&res, "HEAD /healthz");
}

#[tokio::test]
async fn put_on_create_is_a_405_problem() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.client.put(format!("{}/v1/qr", app.address)).send().await.unwrap();

    // Assert
    assert_security_headers(&res, "PUT /v1/qr");
    assert_problem(
        res,
        StatusCode::METHOD_NOT_ALLOWED,
        json!({ "type": "urn:qrlogin:problem:method-not-allowed", "title": "Method not allowed", "status": 405 }),
    )
    .await;
}
