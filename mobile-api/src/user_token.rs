//! Validates the app user's bearer token: signature with the configured key and algorithm, `exp`, `iss`, `aud`
//! and `sub` all required. `alg: none`, another algorithm than the pinned one (e.g. HS256 signed with an RSA
//! public key) or any missing claim is refused.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use jsonwebtoken::{DecodingKey, Validation};
use qrlogin_shared::UserId;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::config::{UserJwtKey, UserJwtSettings};
use crate::error::MobileError;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no bearer token")]
    Missing,
    /// The library's reason is kept for the log only; the client learns just that the token is not valid.
    #[error("user token rejected: {0}")]
    Invalid(#[source] jsonwebtoken::errors::Error),
    #[error("user token subject is not a valid user id")]
    BadSubject,
}

#[derive(Debug, thiserror::Error)]
#[error("the user token key does not fit QRL_USER_JWT_ALG")]
pub struct BadKey(#[source] jsonwebtoken::errors::Error);

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

pub struct UserTokenValidator {
    key: DecodingKey,
    validation: Validation,
}

impl UserTokenValidator {
    pub fn new(settings: &UserJwtSettings) -> Result<Self, BadKey> {
        use jsonwebtoken::Algorithm::*;
        let key = match (&settings.key, settings.algorithm) {
            (UserJwtKey::Secret(s), _) => Ok(DecodingKey::from_secret(s.expose_secret().as_bytes())),
            (UserJwtKey::PublicPem(pem), RS256 | RS384 | RS512 | PS256 | PS384 | PS512) => {
                DecodingKey::from_rsa_pem(pem.as_bytes())
            }
            (UserJwtKey::PublicPem(pem), ES256 | ES384) => DecodingKey::from_ec_pem(pem.as_bytes()),
            (UserJwtKey::PublicPem(pem), _) => DecodingKey::from_ed_pem(pem.as_bytes()),
        }
        .map_err(BadKey)?;
        let mut validation = Validation::new(settings.algorithm);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = settings.leeway.as_secs();
        validation.validate_nbf = true;
        Ok(Self { key, validation })
    }

    /// The user behind the request's `Authorization: Bearer` token.
    pub fn user_of(&self, req: &HttpRequest) -> Result<UserId, TokenError> {
        let token = bearer(req).ok_or(TokenError::Missing)?;
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(TokenError::Invalid)?;
        UserId::parse(&data.claims.sub).map_err(|_| TokenError::BadSubject)
    }
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The app user behind the request. As the first handler argument it runs before the body is read, so an
/// unauthenticated caller learns nothing about how we parse bodies.
pub struct AuthenticatedUser(pub UserId);

impl FromRequest for AuthenticatedUser {
    type Error = MobileError;
    type Future = Ready<Result<Self, MobileError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = match req.app_data::<web::Data<UserTokenValidator>>() {
            Some(validator) => validator.user_of(req).map(AuthenticatedUser).map_err(MobileError::from),
            None => Err(MobileError::Internal("user token validator not configured")),
        };
        ready(user)
    }
}
