//! Tokens on both sides: hand-made user tokens for the phone (good and bad ones), and verification of the web
//! token the browser receives, the way the web team's backend would do it: by `kid` from the published JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use qrlogin_shared::test_support::web_token::verify_web_token;
use serde_json::{Value, json};

use crate::{USER_AUDIENCE, USER_ISSUER, WEB_AUDIENCE, WEB_ISSUER};

pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Claims mobile-api accepts for `user`, valid for five minutes; tests change one field to break them.
pub fn user_claims(user: &str) -> Value {
    let now = qrlogin_shared::unix_now();
    json!({ "sub": user, "iss": USER_ISSUER, "aud": USER_AUDIENCE, "iat": now, "exp": now + 300 })
}

/// An HS256 token over `claims` signed with `secret`.
pub fn hs256_token(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("HS256 signing works")
}

/// An unsecured JWT (`alg: none`, empty signature), made by hand: no library would sign it.
pub fn unsigned_token(claims: &Value) -> String {
    let header = json!({ "alg": "none", "typ": "JWT" });
    format!("{}.{}.", b64url(header.to_string()), b64url(claims.to_string()))
}

/// A web token the gateway issued, verified against its JWKS.
#[derive(Debug)]
pub struct WebToken {
    pub header: Header,
    pub claims: Value,
}

impl WebToken {
    /// Verifies `token` with the kit's verifier: the key of its `kid` in `jwks` (ES256 only), the expected
    /// issuer and audience.
    pub fn verify(token: &str, jwks: &JwkSet) -> Self {
        let data = verify_web_token::<Value>(token, jwks, WEB_ISSUER, WEB_AUDIENCE).unwrap_or_else(|e| panic!("{e}"));
        Self { header: data.header, claims: data.claims }
    }
}
