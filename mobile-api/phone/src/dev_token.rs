//! Development user tokens, for acting as the phone with curl or the reference client on the local stack.
//! Works only when mobile-api is configured with an HS* shared secret (deploy/dev.env); a real deployment
//! checks tokens against its identity provider's public key, and then this refuses.
//!
//! This is the one minter in the codebase: the `dev-token` command, push-bench and the tests' user tokens all
//! come from here. It reads mobile-api's own variables (`QRL_USER_JWT_*`) itself rather than through
//! mobile-api's settings, so that a client does not depend on the service.

use std::time::Duration;

use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum DevTokenError {
    #[error("development tokens need QRL_USER_JWT_ALG=HS256 and QRL_USER_JWT_SECRET (see deploy/dev.env)")]
    NotDevelopment,
    /// Worded as mobile-api words a missing setting, so both point at the same file.
    #[error("{0} is required (development values: deploy/dev.env)")]
    Missing(&'static str),
    #[error("QRL_USER_JWT_ALG is invalid: expected HS256, RS256, ES256, EdDSA (or another JWS algorithm)")]
    UnknownAlgorithm,
    #[error("signing failed")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// What a development token is signed with and says: the identity provider's shared secret, its issuer and
/// the audience mobile-api expects. Only HS* settings exist, so every value of this type can mint.
#[derive(Debug)]
pub struct DevTokenSettings {
    algorithm: Algorithm,
    secret: SecretString,
    issuer: String,
    audience: String,
}

impl DevTokenSettings {
    /// Settings for an HS* `algorithm`; any other algorithm has no shared secret to sign with.
    pub fn new(
        algorithm: Algorithm,
        secret: SecretString,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, DevTokenError> {
        if algorithm.family() != AlgorithmFamily::Hmac {
            return Err(DevTokenError::NotDevelopment);
        }
        Ok(Self { algorithm, secret, issuer: issuer.into(), audience: audience.into() })
    }

    /// From the process environment, as mobile-api reads it.
    pub fn from_env() -> Result<Self, DevTokenError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From `lookup` (a variable's value by name, e.g. out of `deploy/dev.env`). An empty value counts as
    /// unset, as it does for the services.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, DevTokenError> {
        let var = |name: &'static str| lookup(name).filter(|v| !v.is_empty()).ok_or(DevTokenError::Missing(name));
        // mobile-api then checks tokens against the provider's published public keys: nothing to sign with.
        if var("QRL_USER_JWKS_URL").is_ok() {
            return Err(DevTokenError::NotDevelopment);
        }
        let algorithm: Algorithm =
            var("QRL_USER_JWT_ALG")?.trim().parse().map_err(|_| DevTokenError::UnknownAlgorithm)?;
        // Before asking for a secret: with a public-key algorithm there is none to ask for.
        if algorithm.family() != AlgorithmFamily::Hmac {
            return Err(DevTokenError::NotDevelopment);
        }
        let secret = SecretString::from(var("QRL_USER_JWT_SECRET")?);
        Self::new(algorithm, secret, var("QRL_USER_JWT_ISSUER")?, var("QRL_USER_JWT_AUDIENCE")?)
    }

    /// A token mobile-api accepts for `user`, valid for `ttl`.
    pub fn mint(&self, user: &str, ttl: Duration) -> Result<String, DevTokenError> {
        let now = qrlogin_shared::unix_now();
        let claims = json!({
            "sub": user,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl.as_secs(),
        });
        let key = EncodingKey::from_secret(self.secret.expose_secret().as_bytes());
        Ok(jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &key)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use std::collections::HashMap;

    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    const DEV: [(&str, &str); 4] = [
        ("QRL_USER_JWT_ALG", "HS256"),
        ("QRL_USER_JWT_SECRET", "a-development-secret"),
        ("QRL_USER_JWT_ISSUER", "https://id.example"),
        ("QRL_USER_JWT_AUDIENCE", "qrlogin-mobile"),
    ];

    #[test]
    fn a_minted_token_carries_the_user_issuer_audience_and_lifetime() {
        let settings = DevTokenSettings::from_lookup(lookup(&DEV)).unwrap();

        let token = settings.mint("alice", Duration::from_secs(60)).unwrap();

        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&["https://id.example"]);
        validation.set_audience(&["qrlogin-mobile"]);
        let key = DecodingKey::from_secret(b"a-development-secret");
        let claims = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap().claims;
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 60);
    }

    #[test]
    fn public_key_settings_are_refused_and_missing_ones_named() {
        let rs = [("QRL_USER_JWT_ALG", "RS256"), ("QRL_USER_JWT_PUBLIC_KEY_PEM", "pem")];
        let jwks = [("QRL_USER_JWKS_URL", "https://id.example/jwks")];

        assert!(matches!(DevTokenSettings::from_lookup(lookup(&rs)), Err(DevTokenError::NotDevelopment)));
        assert!(matches!(DevTokenSettings::from_lookup(lookup(&jwks)), Err(DevTokenError::NotDevelopment)));
        let no_secret = [DEV[0], ("QRL_USER_JWT_SECRET", ""), DEV[2], DEV[3]];
        let err = DevTokenSettings::from_lookup(lookup(&no_secret)).unwrap_err();
        assert_eq!(err.to_string(), "QRL_USER_JWT_SECRET is required (development values: deploy/dev.env)");
        let bad = DevTokenSettings::from_lookup(lookup(&[("QRL_USER_JWT_ALG", "HS999")])).unwrap_err();
        assert!(matches!(bad, DevTokenError::UnknownAlgorithm));
    }
}
