//! mobile-api's settings, from environment variables (see README "Configuration").

use std::time::Duration;

use jsonwebtoken::Algorithm;
use qrlogin_shared::config::{ConfigError, Env, ServiceSettings, invalid};
use secrecy::SecretString;

pub const DEFAULT_PORT: u16 = 8081;

#[derive(Debug)]
pub struct Settings {
    pub service: ServiceSettings,
    pub user_jwt: UserJwtSettings,
}

/// How the app user's token is checked. The algorithm is pinned here, never taken from the token alone.
#[derive(Debug)]
pub struct UserJwtSettings {
    pub algorithm: Algorithm,
    pub key: UserJwtKey,
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp`/`nbf`.
    pub leeway: Duration,
}

#[derive(Debug)]
pub enum UserJwtKey {
    /// HS256/384/512: the identity provider's shared secret.
    Secret(SecretString),
    /// RS*, PS*, ES*, EdDSA: the provider's public key as PEM.
    PublicPem(String),
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { service: ServiceSettings::from_env(env, DEFAULT_PORT)?, user_jwt: UserJwtSettings::from_env(env)? })
    }
}

impl UserJwtSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let algorithm: Algorithm = env.required("QRL_USER_JWT_ALG")?.parse().map_err(|_| {
            invalid("QRL_USER_JWT_ALG", "expected HS256, RS256, ES256, EdDSA (or another JWS algorithm)")
        })?;
        let key = match algorithm {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                let secret = env.secret("QRL_USER_JWT_SECRET")?;
                UserJwtKey::Secret(secret)
            }
            _ => UserJwtKey::PublicPem(env.required("QRL_USER_JWT_PUBLIC_KEY_PEM")?),
        };
        Ok(Self {
            algorithm,
            key,
            issuer: env.required("QRL_USER_JWT_ISSUER")?,
            audience: env.required("QRL_USER_JWT_AUDIENCE")?,
            leeway: env.secs_or("QRL_USER_JWT_LEEWAY_SECS", 30)?,
        })
    }
}
