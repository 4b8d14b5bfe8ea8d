//! Typed settings read from environment variables. Both services build their `Settings` from an [`Env`], which
//! reads through a lookup function so tests can pass a map instead of touching the process environment.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{SecretSlice, SecretString};

use crate::http::TrustedProxies;
use crate::qr_link::QrBaseUrl;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is required (development values: deploy/dev.env)")]
    Missing(&'static str),
    /// Never carries the value: it may be a secret.
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

type Lookup = Box<dyn Fn(&str) -> Option<String>>;

/// A source of settings: the process environment, or a map in tests.
pub struct Env {
    lookup: Lookup,
}

impl Env {
    pub fn from_process() -> Self {
        Self { lookup: Box::new(|k| std::env::var(k).ok().filter(|v| !v.is_empty())) }
    }

    pub fn from_map(map: HashMap<String, String>) -> Self {
        Self { lookup: Box::new(move |k| map.get(k).cloned()) }
    }

    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }

    pub fn or(&self, name: &str, default: &str) -> String {
        self.optional(name).unwrap_or_else(|| default.to_owned())
    }

    pub fn parse_or<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|e: T::Err| invalid(name, e)),
        }
    }

    pub fn secs_or(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.parse_or(name, default).map(Duration::from_secs)
    }

    pub fn millis_or(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.parse_or(name, default).map(Duration::from_millis)
    }

    pub fn bool_or(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(_) => Err(invalid(name, "expected true or false")),
        }
    }

    pub fn secret(&self, name: &'static str) -> Result<SecretString, ConfigError> {
        self.required(name).map(SecretString::from)
    }

    pub fn secret_bytes(&self, name: &'static str) -> Result<SecretSlice<u8>, ConfigError> {
        self.required(name).map(|s| SecretSlice::from(s.into_bytes()))
    }
}

pub fn invalid(name: &'static str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid { name, reason: reason.to_string() }
}

/// How to reach Redis and how long anything may wait for it.
#[derive(Clone, Debug)]
pub struct RedisSettings {
    /// May carry a password, hence secret.
    pub url: SecretString,
    pub key_prefix: String,
    pub pool_size: usize,
    /// Longest wait for a free pooled connection.
    pub wait_timeout: Duration,
    /// Longest wait to open a new connection.
    pub connect_timeout: Duration,
    /// Longest wait for one script or command to answer.
    pub command_timeout: Duration,
}

impl RedisSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            url: SecretString::from(env.or("REDIS_URL", "redis://127.0.0.1:6379")),
            key_prefix: env.or("QRL_REDIS_KEY_PREFIX", crate::KeySchema::DEFAULT_PREFIX),
            pool_size: env.parse_or("QRL_REDIS_POOL_SIZE", 32)?,
            wait_timeout: env.millis_or("QRL_REDIS_WAIT_TIMEOUT_MS", 500)?,
            connect_timeout: env.millis_or("QRL_REDIS_CONNECT_TIMEOUT_MS", 1000)?,
            command_timeout: env.millis_or("QRL_REDIS_COMMAND_TIMEOUT_MS", 1000)?,
        })
    }
}

/// What both services are configured with, under the same variable names.
#[derive(Debug)]
pub struct ServiceSettings {
    pub listen_addr: SocketAddr,
    pub redis: RedisSettings,
    /// Key for verification strings; both services must hold the same one.
    pub signing_secret: SecretSlice<u8>,
    /// Further keys whose verification strings are still accepted (never used to issue): the rotation window.
    pub accepted_signing_secrets: Vec<SecretSlice<u8>>,
    pub qr_base_url: QrBaseUrl,
    /// Proxies whose `X-Forwarded-For` is believed; empty means the TCP peer is the client.
    pub trusted_proxies: TrustedProxies,
    pub log_json: bool,
    /// HTTP worker threads; defaults to the number of CPUs.
    pub workers: usize,
}

impl ServiceSettings {
    /// The verification-string keys: the current one issues, all of them verify.
    pub fn verifier(&self) -> Result<crate::Verifier, crate::verification::WeakSecret> {
        let verifier = crate::Verifier::new(self.signing_secret.clone(), self.accepted_signing_secrets.clone())?;
        let ids = verifier.key_ids();
        tracing::info!(issuing = ?ids.first(), accepted = ?ids.get(1..), "verification keys loaded");
        Ok(verifier)
    }

    pub fn from_env(env: &Env, default_port: u16) -> Result<Self, ConfigError> {
        let qr_base_url =
            QrBaseUrl::parse(&env.required("QRL_QR_BASE_URL")?).map_err(|e| invalid("QRL_QR_BASE_URL", e))?;
        let trusted = env.or("QRL_TRUSTED_PROXIES", "");
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Self {
            listen_addr: env.parse_or("QRL_LISTEN_ADDR", SocketAddr::from(([127, 0, 0, 1], default_port)))?,
            redis: RedisSettings::from_env(env)?,
            signing_secret: env.secret_bytes("QRL_SIGNING_SECRET")?,
            accepted_signing_secrets: env
                .or("QRL_SIGNING_SECRETS_ACCEPTED", "")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| SecretSlice::from(s.as_bytes().to_vec()))
                .collect(),
            qr_base_url,
            trusted_proxies: TrustedProxies::parse(&trusted).map_err(|e| invalid("QRL_TRUSTED_PROXIES", e))?,
            log_json: env.or("QRL_LOG_FORMAT", "text") == "json",
            workers: env.parse_or("QRL_WORKERS", cpus)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn defaults_and_overrides() {
        let s = RedisSettings::from_env(&env(&[("QRL_REDIS_POOL_SIZE", "4")])).unwrap();
        assert_eq!(s.pool_size, 4);
        assert_eq!(s.wait_timeout, Duration::from_millis(500));
        assert_eq!(s.key_prefix, "qrl");
    }

    #[test]
    fn invalid_values_name_the_variable_but_not_the_value() {
        let err = RedisSettings::from_env(&env(&[("QRL_REDIS_POOL_SIZE", "lots")])).unwrap_err();
        assert!(err.to_string().starts_with("QRL_REDIS_POOL_SIZE is invalid"));
        assert!(!err.to_string().contains("lots"));
        assert_eq!(env(&[]).required("X_Y"), Err(ConfigError::Missing("X_Y")));
        assert!(env(&[("B", "maybe")]).bool_or("B", true).is_err());
    }
}
