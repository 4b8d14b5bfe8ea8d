//! Validates the app user's bearer token: signature, `exp`, `iss`, `aud` and `sub` all required, `nbf` and `iat`
//! not in the future (a small leeway for clock skew). The key is either configured statically, with its algorithm
//! pinned by `QRL_USER_JWT_ALG`, or taken by `kid` from the identity provider's JWKS, pinned to the algorithm of
//! that key. Either way the token header cannot choose: `alg: none`, or another algorithm than the key's (e.g.
//! HS256 signed with an RSA public key), is refused.

mod jwk_alg;
mod jwks;

use std::sync::Arc;

use jsonwebtoken::errors::{ErrorKind, new_error};
use jsonwebtoken::{AlgorithmFamily, DecodingKey, Validation};
use qrlogin_shared::{UserId, unix_now};
use secrecy::ExposeSecret;
use serde::Deserialize;

pub use jwks::KeyError;

use crate::config::{UserJwtKey, UserJwtSettings};
use jwks::{JwksKeys, Lookup, VerifyKey};

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no bearer token")]
    Missing,
    /// The library's reason is kept for the log only; the client learns just that the token is not valid.
    #[error("user token rejected: {0}")]
    Invalid(#[source] jsonwebtoken::errors::Error),
    #[error("user token subject is not a valid user id")]
    BadSubject,
    /// The identity provider has not answered since start-up: our fault, not the token's (503, so the app
    /// retries instead of logging its user out).
    #[error("user token keys unavailable")]
    KeysUnavailable,
}

impl From<KeyError> for TokenError {
    /// No key for the token: an invalid token as far as the client is told, unless no keys could be had at all.
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Unavailable => Self::KeysUnavailable,
            e => Self::Invalid(new_error(ErrorKind::Provider(e.to_string()))),
        }
    }
}

/// The configured user token key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BadKey {
    #[error("QRL_USER_JWT_PUBLIC_KEY_PEM does not hold a key for QRL_USER_JWT_ALG")]
    Key(#[source] jsonwebtoken::errors::Error),
    #[error("cannot set up the HTTP client for QRL_USER_JWKS_URL")]
    JwksClient(#[source] reqwest::Error),
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    /// NumericDate: may be fractional. Anything else (a string…) fails the decoding, hence the token.
    iat: Option<f64>,
}

pub struct UserTokenValidator {
    keys: Keys,
    /// Everything but the algorithm, which a JWKS key brings along.
    validation: Validation,
}

enum Keys {
    Static(DecodingKey),
    Jwks(Arc<JwksKeys>),
}

/// How far a token could be checked without waiting.
enum Checked {
    Done(Result<UserId, TokenError>),
    /// Its key is not cached but a fetch may bring it: finish with [`UserTokenValidator::finish`].
    NeedsKeys(PendingCheck),
}

struct PendingCheck {
    jwks: Arc<JwksKeys>,
    token: String,
    kid: String,
}

impl UserTokenValidator {
    pub fn new(settings: &UserJwtSettings) -> Result<Self, BadKey> {
        let keys = match &settings.key {
            UserJwtKey::Secret(s) => Keys::Static(DecodingKey::from_secret(s.expose_secret().as_bytes())),
            UserJwtKey::PublicPem(pem) => Keys::Static(
                match settings.algorithm.family() {
                    AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem.as_bytes()),
                    AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem.as_bytes()),
                    AlgorithmFamily::Ed => DecodingKey::from_ed_pem(pem.as_bytes()),
                    AlgorithmFamily::Hmac => Err(new_error(ErrorKind::InvalidKeyFormat)),
                }
                .map_err(BadKey::Key)?,
            ),
            UserJwtKey::Jwks(jwks) => Keys::Jwks(Arc::new(JwksKeys::new(jwks.clone()).map_err(BadKey::JwksClient)?)),
        };
        let mut validation = Validation::new(settings.algorithm);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = settings.leeway.as_secs();
        validation.validate_nbf = true;
        Ok(Self { keys, validation })
    }

    /// Checks `token` with the keys at hand; says so when it needs keys that a fetch may bring.
    fn check_now(&self, token: &str) -> Checked {
        let jwks = match &self.keys {
            Keys::Static(key) => return Checked::Done(verify(token, key, &self.validation)),
            Keys::Jwks(jwks) => jwks,
        };
        let kid = match jsonwebtoken::decode_header(token) {
            Ok(header) => header.kid,
            Err(e) => return Checked::Done(Err(TokenError::Invalid(e))),
        };
        let Some(kid) = kid else {
            return Checked::Done(Err(KeyError::NoKid.into()));
        };
        match jwks.lookup(&kid) {
            Lookup::Hit(key) => Checked::Done(self.verify_with(token, &key)),
            Lookup::Miss(e) => Checked::Done(Err(e.into())),
            Lookup::Wait => Checked::NeedsKeys(PendingCheck { jwks: Arc::clone(jwks), token: token.to_owned(), kid }),
        }
    }

    /// The user behind `token`, fetching the provider's keys first when that is needed and allowed.
    pub async fn validate(&self, token: &str) -> Result<UserId, TokenError> {
        match self.check_now(token) {
            Checked::Done(user) => user,
            Checked::NeedsKeys(pending) => {
                let key = pending.jwks.fetch_for(&pending.kid).await?;
                self.verify_with(&pending.token, &key)
            }
        }
    }

    fn verify_with(&self, token: &str, key: &VerifyKey) -> Result<UserId, TokenError> {
        let mut validation = self.validation.clone();
        // The key's algorithm, and only it: a header naming another one fails as InvalidAlgorithm.
        validation.algorithms = vec![key.alg];
        verify(token, &key.key, &validation)
    }
}

fn verify(token: &str, key: &DecodingKey, validation: &Validation) -> Result<UserId, TokenError> {
    let data = jsonwebtoken::decode::<Claims>(token, key, validation).map_err(TokenError::Invalid)?;
    // jsonwebtoken leaves `iat` alone; a token issued in the future comes from a broken clock or a forger.
    let latest = (unix_now() + validation.leeway) as f64;
    if data.claims.iat.is_some_and(|iat| iat > latest) {
        return Err(TokenError::Invalid(new_error(ErrorKind::ImmatureSignature)));
    }
    UserId::parse(&data.claims.sub).map_err(|_| TokenError::BadSubject)
}
