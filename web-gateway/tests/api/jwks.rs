//! `GET /.well-known/jwks.json`: the public key that verifies web tokens, and nothing private.

use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{header, spawn_app};

#[tokio::test]
async fn jwks_publishes_one_p256_signing_key_without_its_private_part() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.jwks().await;

    // Assert
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), Some("application/json"));
    assert_eq!(header(&res, "cache-control"), Some("public, max-age=300"));
    let body: Value = res.json().await.unwrap();
    let keys = body["keys"].as_array().expect("keys array");
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "ES256");
    assert!(key["x"].is_string() && key["y"].is_string(), "public point: {key}");
    assert!(key.get("d").is_none(), "the private scalar must never be published: {key}");
    let kid = key["kid"].as_str().expect("kid");
    assert!(!kid.is_empty());
}

#[tokio::test]
async fn kid_is_the_rfc7638_thumbprint_of_the_key() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let body: Value = app.jwks().await.json().await.unwrap();

    // Assert
    let jwk: Jwk = serde_json::from_value(body["keys"][0].clone()).expect("a JWK");
    assert_eq!(jwk.common.key_id.as_deref(), Some(jwk.thumbprint(ThumbprintHash::SHA256).unwrap().as_str()));
}
