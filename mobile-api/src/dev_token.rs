//! Development user tokens, for acting as the phone with curl or the reference client on the local stack.
//! Works only when mobile-api is configured with an HS* shared secret (deploy/dev.env); a real deployment
//! checks tokens against its identity provider's public key, and then this refuses.

use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::config::{UserJwtKey, UserJwtSettings};

#[derive(Debug, thiserror::Error)]
pub enum DevTokenError {
    #[error("development tokens need QRL_USER_JWT_ALG=HS256 and QRL_USER_JWT_SECRET (see deploy/dev.env)")]
    NotDevelopment,
    #[error("signing failed")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// A token mobile-api accepts for `user`, valid for `ttl`.
pub fn mint(settings: &UserJwtSettings, user: &str, ttl: Duration) -> Result<String, DevTokenError> {
    let UserJwtKey::Secret(secret) = &settings.key else {
        return Err(DevTokenError::NotDevelopment);
    };
    let now = qrlogin_shared::unix_now();
    let claims = json!({
        "sub": user,
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + ttl.as_secs(),
    });
    let key = EncodingKey::from_secret(secret.expose_secret().as_bytes());
    Ok(jsonwebtoken::encode(&Header::new(settings.algorithm), &claims, &key)?)
}
