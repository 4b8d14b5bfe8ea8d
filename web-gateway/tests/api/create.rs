//! `POST /v1/qr`: the session, its QR, and the binding cookie.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use qrlogin_shared::qr_link::QrBaseUrl;
use qrlogin_shared::test_support::qr::read_qr_png;
use qrlogin_shared::test_support::{QR_BASE_URL, SIGNING_SECRET};
use qrlogin_shared::{BindingHash, Verifier, unix_now};
use reqwest::StatusCode;
use secrecy::SecretSlice;
use serde_json::Value;

use crate::helpers::{
    POLL_INTERVAL, SESSION_TTL, USER_AGENT, binding_cookie, header, settings, spawn_app, spawn_app_with,
};

/// Decodes a PNG the way a scanner would (the kit's reader), and checks it is the greyscale PNG we render.
fn decode_qr(png_bytes: &[u8]) -> String {
    let qr = read_qr_png(png_bytes);
    assert_eq!(qr.color_type, png::ColorType::Grayscale);
    qr.text
}

#[tokio::test]
async fn create_answers_201_with_exactly_the_documented_fields() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.create_qr().await;

    // Assert
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, "content-type"), Some("application/json"));
    let body: Value = res.json().await.unwrap();
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["expires_in", "poll_interval_ms", "qr_content", "qr_image", "uuid"]);
    assert_eq!(body["expires_in"], SESSION_TTL.as_secs());
    assert_eq!(body["poll_interval_ms"], POLL_INTERVAL.as_millis() as u64);
}

#[tokio::test]
async fn qr_content_is_a_link_with_a_genuine_verification_code_for_this_session() {
    // Arrange
    let app = spawn_app().await;
    let verifier = Verifier::new(SecretSlice::from(SIGNING_SECRET.as_bytes().to_vec()), Vec::new()).unwrap();
    let before = unix_now();

    // Act
    let body: Value = app.create_qr().await.json().await.unwrap();

    // Assert
    let uuid = body["uuid"].as_str().unwrap();
    let content = body["qr_content"].as_str().unwrap();
    let prefix = format!("{QR_BASE_URL}/q/{uuid}.");
    let code = content.strip_prefix(&prefix).unwrap_or_else(|| panic!("{content} does not start with {prefix}"));
    assert_eq!(code.len(), 48);
    assert!(code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "base64url: {code}");
    let (id, code) = QrBaseUrl::parse(QR_BASE_URL).unwrap().parse_link(content).unwrap();
    assert_eq!(id.to_string(), uuid);
    assert_eq!(verifier.verify(&id, &code, unix_now()), Ok(()));
    // The code lives as long as the session, no longer.
    let expires_at = u64::from(code.expires_at());
    assert!((before + SESSION_TTL.as_secs()..=unix_now() + SESSION_TTL.as_secs()).contains(&expires_at));
}

#[tokio::test]
async fn qr_image_is_a_png_that_scans_to_exactly_qr_content() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let body: Value = app.create_qr().await.json().await.unwrap();

    // Assert
    let image = body["qr_image"].as_str().unwrap();
    let b64 = image.strip_prefix("data:image/png;base64,").expect("a PNG data URL");
    let png_bytes = STANDARD.decode(b64).expect("standard base64");
    assert_eq!(decode_qr(&png_bytes), body["qr_content"].as_str().unwrap());
}

#[tokio::test]
async fn binding_cookie_is_httponly_strict_and_scoped_to_the_session_endpoints() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.create_qr().await;

    // Assert
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = binding_cookie(res.headers());
    assert_eq!(cookie.value.len(), 43, "256 bits, base64url without padding");
    assert!(cookie.value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let mut attributes = cookie.attributes.clone();
    attributes.sort_unstable();
    let uuid = res.json::<serde_json::Value>().await.unwrap()["uuid"].as_str().unwrap().to_owned();
    // cookie_secure = false (plain-http development): no Secure, and nothing else either (no Domain, no expiry).
    // Scoped to this session's own path (issue 10 §4): another tab's session gets a cookie of its own.
    assert_eq!(cookie.name, "qrl_bind");
    assert_eq!(attributes, ["HttpOnly", &format!("Path=/v1/qr/{uuid}"), "SameSite=Strict"]);
}

#[tokio::test]
async fn binding_cookie_is_secure_when_configured() {
    // Arrange
    let mut settings = settings();
    settings.cookie_secure = true;
    let app = spawn_app_with(settings).await;

    // Act
    let res = app.create_qr().await;

    // Assert
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = binding_cookie(res.headers());
    let mut attributes = cookie.attributes;
    attributes.sort_unstable();
    let uuid = res.json::<serde_json::Value>().await.unwrap()["uuid"].as_str().unwrap().to_owned();
    // Over https the name carries the __Secure- prefix: no plain-http answer can plant or replace it.
    assert_eq!(cookie.name, "__Secure-qrl_bind");
    assert_eq!(attributes, ["HttpOnly", &format!("Path=/v1/qr/{uuid}"), "SameSite=Strict", "Secure"]);
}

#[tokio::test]
async fn create_answer_is_not_cacheable() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.create_qr().await;

    // Assert
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, "cache-control"), Some("no-store"));
}

#[tokio::test]
async fn session_is_stored_with_its_ttl_and_only_the_hash_of_the_cookie() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let login = app.start_login().await;

    // Assert
    let ttl = app.session_ttl(&login.uuid).await;
    assert!(ttl > 0 && ttl <= SESSION_TTL.as_secs() as i64, "TTL {ttl}");
    let hash = app.session_hash(&login.uuid).await;
    assert_eq!(hash.get("st").map(String::as_str), Some("pending"));
    assert_eq!(hash.get("bind").map(String::as_str), Some(BindingHash::of_secret(&login.cookie).as_str()));
    assert_eq!(hash.get("ip").map(String::as_str), Some("127.0.0.1"));
    assert_eq!(hash.get("ua").map(String::as_str), Some(USER_AGENT));
    assert!(hash.contains_key("ct"), "creation time recorded: {:?}", hash.keys());
    for (field, value) in &hash {
        assert!(!value.contains(&login.cookie), "field {field} holds the raw binding secret");
    }
}

#[tokio::test]
async fn every_create_issues_a_fresh_session_and_cookie() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (first, second) = (app.start_login().await, app.start_login().await);

    // Assert
    assert_ne!(first.uuid, second.uuid);
    assert_ne!(first.cookie, second.cookie);
}

#[tokio::test]
async fn session_ttl_follows_the_configured_ttl() {
    // Arrange
    let mut settings = settings();
    settings.session_ttl = Duration::from_secs(30);
    let app = spawn_app_with(settings).await;

    // Act
    let res = app.create_qr().await;

    // Assert
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["expires_in"], 30);
    let ttl = app.session_ttl(body["uuid"].as_str().unwrap()).await;
    assert!(ttl > 0 && ttl <= 30, "TTL {ttl}");
}
