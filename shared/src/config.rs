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
    /// A single Redis. May carry a password, hence secret. Unused when `cluster_nodes` is not empty.
    pub url: SecretString,
    /// Seed nodes of a Redis Cluster (`QRL_REDIS_CLUSTER_NODES`); not empty selects cluster mode. Any reachable
    /// one is enough to learn the cluster's layout; listing every master keeps pub/sub up while some are down.
    pub cluster_nodes: Vec<SecretString>,
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
        let cluster_nodes = cluster_nodes(env)?;
        // Both set is a half-done switch between the two: refuse it rather than guess which one was meant.
        if !cluster_nodes.is_empty() && env.optional("REDIS_URL").is_some() {
            return Err(invalid("QRL_REDIS_CLUSTER_NODES", "set together with REDIS_URL: unset one of them"));
        }
        let key_prefix = env.or("QRL_REDIS_KEY_PREFIX", crate::KeySchema::DEFAULT_PREFIX);
        // A brace in the prefix would become the keys' hash tag, and a session's keys could leave their slot.
        if key_prefix.contains(['{', '}']) {
            return Err(invalid("QRL_REDIS_KEY_PREFIX", "must not contain { or } (they make Redis Cluster hash tags)"));
        }
        Ok(Self {
            url: SecretString::from(env.or("REDIS_URL", "redis://127.0.0.1:6379")),
            cluster_nodes,
            key_prefix,
            pool_size: env.parse_or("QRL_REDIS_POOL_SIZE", 32)?,
            wait_timeout: env.millis_or("QRL_REDIS_WAIT_TIMEOUT_MS", 500)?,
            connect_timeout: env.millis_or("QRL_REDIS_CONNECT_TIMEOUT_MS", 1000)?,
            command_timeout: env.millis_or("QRL_REDIS_COMMAND_TIMEOUT_MS", 1000)?,
        })
    }

    pub fn is_cluster(&self) -> bool {
        !self.cluster_nodes.is_empty()
    }

    /// Where a plain connection (pub/sub) may go, in order of preference: the cluster's seed nodes, or the URL.
    pub fn node_urls(&self) -> Vec<SecretString> {
        if self.is_cluster() { self.cluster_nodes.clone() } else { vec![self.url.clone()] }
    }
}

/// `QRL_REDIS_CLUSTER_NODES`: comma-separated `redis://` (or `rediss://`) URLs; empty or unset: single node.
fn cluster_nodes(env: &Env) -> Result<Vec<SecretString>, ConfigError> {
    let list = env.or("QRL_REDIS_CLUSTER_NODES", "");
    let nodes: Vec<&str> = list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    for (i, node) in nodes.iter().enumerate() {
        // The reason names the entry, never its text: a URL may carry a password.
        if redis::IntoConnectionInfo::into_connection_info(*node).is_err() {
            return Err(invalid("QRL_REDIS_CLUSTER_NODES", format!("entry {} is not a redis:// URL", i + 1)));
        }
    }
    Ok(nodes.into_iter().map(|n| SecretString::from(n.to_owned())).collect())
}

/// How long a browser that logged in as a user counts as theirs (`QRL_DEVICE_MEMORY_DAYS`, default 180, at most
/// ten years). Both services read it: the gateway keeps each user's device history that long, mobile-api judges a
/// device known only within it.
pub fn device_memory(env: &Env) -> Result<Duration, ConfigError> {
    const NAME: &str = "QRL_DEVICE_MEMORY_DAYS";
    let days: u64 = env.parse_or(NAME, 180)?;
    if !(1..=3650).contains(&days) {
        return Err(invalid(NAME, "expected 1 to 3650 days"));
    }
    Ok(Duration::from_secs(days * 86_400))
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
    /// After SIGTERM, how long in-flight requests may finish before the rest are cut off.
    pub shutdown_timeout: Duration,
    /// Where `GET /metrics` is answered (`QRL_METRICS_ADDR`); `None`: on `listen_addr`, which the proxy must then
    /// not route.
    pub metrics_addr: Option<SocketAddr>,
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
            shutdown_timeout: env.secs_or("QRL_SHUTDOWN_TIMEOUT_SECS", 10)?,
            metrics_addr: env
                .optional("QRL_METRICS_ADDR")
                .map(|v| v.trim().parse().map_err(|e| invalid("QRL_METRICS_ADDR", e)))
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

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

    #[test]
    fn shutdown_deadline_and_metrics_address() {
        let required =
            [("QRL_SIGNING_SECRET", "0123456789abcdef0123456789abcdef"), ("QRL_QR_BASE_URL", "https://l.example")];
        let s = ServiceSettings::from_env(&env(&required), 8080).unwrap();
        assert_eq!((s.shutdown_timeout, s.metrics_addr), (Duration::from_secs(10), None));

        let set = [required[0], required[1], ("QRL_SHUTDOWN_TIMEOUT_SECS", "25"), ("QRL_METRICS_ADDR", "0.0.0.0:9090")];
        let s = ServiceSettings::from_env(&env(&set), 8080).unwrap();
        assert_eq!(s.shutdown_timeout, Duration::from_secs(25));
        assert_eq!(s.metrics_addr, Some(SocketAddr::from(([0, 0, 0, 0], 9090))));

        let bad = [required[0], required[1], ("QRL_METRICS_ADDR", "9090")];
        let err = ServiceSettings::from_env(&env(&bad), 8080).unwrap_err();
        assert!(err.to_string().starts_with("QRL_METRICS_ADDR is invalid"), "{err}");
    }

    #[test]
    fn cluster_nodes_select_cluster_mode_and_exclude_redis_url() {
        assert!(!RedisSettings::from_env(&env(&[])).unwrap().is_cluster());

        let nodes = "redis://10.0.0.1:7000, redis://:pw@10.0.0.2:7000,";
        let s = RedisSettings::from_env(&env(&[("QRL_REDIS_CLUSTER_NODES", nodes)])).unwrap();
        assert!(s.is_cluster());
        let urls: Vec<_> = s.node_urls().iter().map(|u| u.expose_secret().to_owned()).collect();
        assert_eq!(urls, ["redis://10.0.0.1:7000", "redis://:pw@10.0.0.2:7000"]);

        let both = [("QRL_REDIS_CLUSTER_NODES", "redis://10.0.0.1:7000"), ("REDIS_URL", "redis://10.0.0.9")];
        assert!(RedisSettings::from_env(&env(&both)).unwrap_err().to_string().contains("REDIS_URL"));

        let err = RedisSettings::from_env(&env(&[("QRL_REDIS_CLUSTER_NODES", "redis://h:1,http://:pw@h")]));
        let err = err.unwrap_err().to_string();
        assert!(err.contains("entry 2") && !err.contains("pw"), "{err}");
    }

    #[test]
    fn device_memory_is_days_and_bounded() {
        assert_eq!(device_memory(&env(&[])).unwrap(), Duration::from_secs(180 * 86_400));
        assert_eq!(device_memory(&env(&[("QRL_DEVICE_MEMORY_DAYS", "1")])).unwrap(), Duration::from_secs(86_400));
        assert!(device_memory(&env(&[("QRL_DEVICE_MEMORY_DAYS", "0")])).is_err());
    }

    #[test]
    fn a_key_prefix_with_braces_is_refused() {
        let err = RedisSettings::from_env(&env(&[("QRL_REDIS_KEY_PREFIX", "a{b}")])).unwrap_err();
        assert!(err.to_string().starts_with("QRL_REDIS_KEY_PREFIX is invalid"));
    }
}
