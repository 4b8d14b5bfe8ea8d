//! Tokens on both sides: hand-made user tokens for the phone (good and bad ones), and verification of the web
//! token the browser receives, the way the web team's backend would do it: by `kid` from the published JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
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
    /// Verifies `token` with the key of its `kid` in `jwks` (ES256 only) and the expected issuer and audience.
    pub fn verify(token: &str, jwks: &JwkSet) -> Self {
        let header = jsonwebtoken::decode_header(token).expect("web token has a JWS header");
        assert_eq!(header.alg, Algorithm::ES256, "web tokens are ES256");
        let kid = header.kid.as_deref().expect("web token names its key");
        let jwk = jwks.find(kid).unwrap_or_else(|| panic!("kid {kid} is not in the published JWKS"));
        let key = DecodingKey::from_jwk(jwk).expect("published JWK is a usable public key");
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[WEB_ISSUER]);
        validation.set_audience(&[WEB_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("web token verifies with the JWKS");
        Self { header: data.header, claims: data.claims }
    }
}
