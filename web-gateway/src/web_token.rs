//! The web session token handed to the browser once per login: an ES256 JWT whose `kid` is the RFC 7638
//! thumbprint of its public key, published in `/.well-known/jwks.json` so the web team's backend verifies it
//! with any JWT library and no shared secret.

use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use qrlogin_shared::UserId;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::WebTokenSettings;

const ALG: Algorithm = Algorithm::ES256;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// Never carries the key material.
    #[error("QRL_WEB_JWT_PRIVATE_KEY_PEM is not a PKCS#8 PEM P-256 private key")]
    BadKey(#[source] jsonwebtoken::errors::Error),
    #[error("signing the web token failed")]
    Sign(#[source] jsonwebtoken::errors::Error),
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
    iss: &'a str,
    aud: &'a str,
    /// RFC 8176 authentication method reference: this login used a QR code.
    amr: [&'static str; 1],
}

pub struct WebTokenSigner {
    key: EncodingKey,
    header: Header,
    jwks: JwkSet,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl WebTokenSigner {
    pub fn new(settings: &WebTokenSettings) -> Result<Self, SigningError> {
        let key = EncodingKey::from_ec_pem(settings.private_key_pem.expose_secret().as_bytes())
            .map_err(SigningError::BadKey)?;
        let mut jwk = Jwk::from_encoding_key(&key, ALG).map_err(SigningError::BadKey)?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).map_err(SigningError::BadKey)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let mut header = Header::new(ALG);
        header.kid = Some(kid);
        header.typ = Some("JWT".into());
        Ok(Self {
            key,
            header,
            jwks: JwkSet { keys: vec![jwk] },
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: settings.ttl,
        })
    }

    /// Signs a token for `user`, issued at `now` (unix seconds).
    pub fn mint(&self, user: &UserId, now: u64) -> Result<String, SigningError> {
        let claims = Claims {
            sub: user.as_str(),
            iat: now,
            exp: now + self.ttl.as_secs(),
            jti: uuid::Uuid::new_v4().to_string(),
            iss: &self.issuer,
            aud: &self.audience,
            amr: ["qr"],
        };
        jsonwebtoken::encode(&self.header, &claims, &self.key).map_err(SigningError::Sign)
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Public keys only: the JWK of an EC private key carries just `x`/`y` here, never `d`.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}
