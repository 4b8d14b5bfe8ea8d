//! Typed settings read from environment variables. Both services build their `Settings` from an [`Env`], which
//! reads through a lookup function so tests can pass a map instead of touching the process environment, and
//! collects every problem on the way ([`env`]); [`vars`] lists the variables for `--help`.

mod env;
pub mod vars;

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::{SecretSlice, SecretString};

pub use env::{ConfigError, ConfigErrors, Env};

use crate::http::TrustedProxies;
use crate::qr_link::QrBaseUrl;
use crate::verification::MIN_SECRET_LEN;

/// How to reach Redis and how long anything may wait for it.
#[derive(Clone, Debug)]
pub struct RedisSettings {
    /// A single Redis. May carry a password, hence secret. Unused when `cluster_nodes` is not empty.
    pub url: SecretString,
    /// Seed nodes of a Redis Cluster (`QRL_REDIS_CLUSTER_NODES`); not empty selects cluster mode. Any reachable
    /// one is enough to learn the cluster's layout; listing every master keeps pub/sub up while some are down.
    pub cluster_nodes: Vec<SecretString>,
    /// Sentinels watching the primary (`QRL_REDIS_SENTINELS`); not empty selects Sentinel mode: every connection
    /// goes to the primary they name for `sentinel_master`, whichever that is after a failover.
    pub sentinels: Vec<SecretString>,
    /// The name the sentinels monitor the primary under (`QRL_REDIS_SENTINEL_MASTER`).
    pub sentinel_master: String,
    pub key_prefix: String,
    pub pool_size: usize,
    /// Longest wait for a free pooled connection.
    pub wait_timeout: Duration,
    /// Longest wait to open a new connection.
    pub connect_timeout: Duration,
    /// Longest wait for one script or command to answer.
    pub command_timeout: Duration,
    /// While Redis is failing, how often the outage is summarised in the log (one line at its start and end).
    pub outage_summary: Duration,
}

impl RedisSettings {
    /// Problems are noted in `env` (see [`Env::finish`]).
    pub fn read(env: &Env) -> Self {
        let cluster_nodes = url_list(env, "QRL_REDIS_CLUSTER_NODES");
        let sentinels = url_list(env, "QRL_REDIS_SENTINELS");
        // Two set is a half-done switch between them: refuse it rather than guess which one was meant.
        let chosen = [env.optional("REDIS_URL").is_some(), !cluster_nodes.is_empty(), !sentinels.is_empty()];
        if chosen.iter().filter(|set| **set).count() > 1 {
            let why = "set one of REDIS_URL, QRL_REDIS_CLUSTER_NODES, QRL_REDIS_SENTINELS, not several";
            env.invalid(if sentinels.is_empty() { "QRL_REDIS_CLUSTER_NODES" } else { "QRL_REDIS_SENTINELS" }, why);
        }
        let sentinel_master = env.or("QRL_REDIS_SENTINEL_MASTER", "");
        if sentinels.is_empty() != sentinel_master.is_empty() {
            env.invalid("QRL_REDIS_SENTINEL_MASTER", "QRL_REDIS_SENTINELS and QRL_REDIS_SENTINEL_MASTER go together");
        }
        let url = env.or("REDIS_URL", "redis://127.0.0.1:6379");
        // The reason never quotes the URL: it may carry a password.
        if redis::IntoConnectionInfo::into_connection_info(url.as_str()).is_err() {
            env.invalid("REDIS_URL", "not a redis:// (or rediss://) URL");
        }
        let key_prefix = env.or("QRL_REDIS_KEY_PREFIX", crate::KeySchema::DEFAULT_PREFIX);
        // A brace in the prefix would become the keys' hash tag, and a session's keys could leave their slot.
        if key_prefix.contains(['{', '}']) {
            env.invalid("QRL_REDIS_KEY_PREFIX", "must not contain { or } (they make Redis Cluster hash tags)");
        }
        Self {
            url: SecretString::from(url),
            cluster_nodes,
            sentinels,
            sentinel_master,
            key_prefix,
            pool_size: at_least_one(env, "QRL_REDIS_POOL_SIZE", 32),
            wait_timeout: env.millis_or("QRL_REDIS_WAIT_TIMEOUT_MS", 500),
            connect_timeout: env.millis_or("QRL_REDIS_CONNECT_TIMEOUT_MS", 1000),
            command_timeout: env.millis_or("QRL_REDIS_COMMAND_TIMEOUT_MS", 1000),
            outage_summary: env.millis_or("QRL_REDIS_OUTAGE_SUMMARY_MS", 10_000),
        }
    }

    pub fn is_cluster(&self) -> bool {
        !self.cluster_nodes.is_empty()
    }

    pub fn is_sentinel(&self) -> bool {
        !self.sentinels.is_empty()
    }

    /// Where a plain connection (pub/sub) may go, in order of preference: the cluster's seed nodes, or the URL.
    pub fn node_urls(&self) -> Vec<SecretString> {
        if self.is_cluster() { self.cluster_nodes.clone() } else { vec![self.url.clone()] }
    }
}

/// `QRL_REDIS_CLUSTER_NODES` or `QRL_REDIS_SENTINELS`: comma-separated `redis://` (or `rediss://`) URLs; empty
/// or unset: not that mode.
fn url_list(env: &Env, name: &'static str) -> Vec<SecretString> {
    let list = env.or(name, "");
    let nodes: Vec<&str> = list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    for (i, node) in nodes.iter().enumerate() {
        // The reason names the entry, never its text: a URL may carry a password.
        if redis::IntoConnectionInfo::into_connection_info(*node).is_err() {
            env.invalid(name, format!("entry {} is not a redis:// URL", i + 1));
        }
    }
    nodes.into_iter().map(|n| SecretString::from(n.to_owned())).collect()
}

/// A count where zero would stop the service (no pooled connection, no worker).
fn at_least_one(env: &Env, name: &'static str, default: usize) -> usize {
    let n = env.parse_or(name, default);
    if n == 0 {
        env.invalid(name, "must be at least 1");
    }
    n
}

/// How long a browser that logged in as a user counts as theirs (`QRL_DEVICE_MEMORY_DAYS`, default 180, at most
/// ten years). Both services read it: the gateway keeps each user's device history that long, mobile-api judges a
/// device known only within it.
pub fn device_memory(env: &Env) -> Duration {
    const NAME: &str = "QRL_DEVICE_MEMORY_DAYS";
    let days: u64 = env.parse_or(NAME, 180);
    if !(1..=3650).contains(&days) {
        env.invalid(NAME, "expected 1 to 3650 days");
    }
    Duration::from_secs(days * 86_400)
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

    /// Problems are noted in `env` (see [`Env::finish`]).
    pub fn read(env: &Env, default_port: u16) -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            listen_addr: env.parse_or("QRL_LISTEN_ADDR", SocketAddr::from(([127, 0, 0, 1], default_port))),
            redis: RedisSettings::read(env),
            signing_secret: signing_secret(env, "QRL_SIGNING_SECRET", env.required("QRL_SIGNING_SECRET")),
            accepted_signing_secrets: env
                .or("QRL_SIGNING_SECRETS_ACCEPTED", "")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| signing_secret(env, "QRL_SIGNING_SECRETS_ACCEPTED", s.to_owned()))
                .collect(),
            // Missing or invalid, the problem is noted and `finish` never hands the placeholder out.
            qr_base_url: env.required_with("QRL_QR_BASE_URL", QrBaseUrl::parse).unwrap_or_else(QrBaseUrl::placeholder),
            trusted_proxies: env.parse_with("QRL_TRUSTED_PROXIES", TrustedProxies::parse).unwrap_or_default(),
            log_json: log_json(env),
            workers: at_least_one(env, "QRL_WORKERS", cpus),
            shutdown_timeout: env.secs_or("QRL_SHUTDOWN_TIMEOUT_SECS", 10),
            metrics_addr: env.parse_with("QRL_METRICS_ADDR", str::parse),
        }
    }
}

/// A verification-string key; a short one is noted here, so `check-config` finds it without starting anything.
fn signing_secret(env: &Env, name: &'static str, secret: String) -> SecretSlice<u8> {
    // An empty one is missing, noted already.
    if !secret.is_empty() && secret.len() < MIN_SECRET_LEN {
        env.invalid(name, format!("each key must be at least {MIN_SECRET_LEN} bytes"));
    }
    SecretSlice::from(secret.into_bytes())
}

/// `QRL_LOG_FORMAT`: `text` (the default) or `json`.
fn log_json(env: &Env) -> bool {
    let parse = |v: &str| match v {
        "text" => Ok(false),
        "json" => Ok(true),
        _ => Err("expected text or json"),
    };
    env.parse_with("QRL_LOG_FORMAT", parse).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    /// Reads with `reader` from `pairs`, as a service's `Settings::from_env` does.
    fn read<T>(pairs: &[(&str, &str)], reader: impl Fn(&Env) -> T) -> Result<T, ConfigErrors> {
        let env = env(pairs);
        let value = reader(&env);
        env.finish(value)
    }

    fn redis(pairs: &[(&str, &str)]) -> Result<RedisSettings, ConfigErrors> {
        read(pairs, RedisSettings::read)
    }

    const REQUIRED: [(&str, &str); 2] =
        [("QRL_SIGNING_SECRET", "0123456789abcdef0123456789abcdef"), ("QRL_QR_BASE_URL", "https://l.example")];

    fn service(extra: &[(&str, &str)]) -> Result<ServiceSettings, ConfigErrors> {
        read(&[&REQUIRED[..], extra].concat(), |env| ServiceSettings::read(env, 8080))
    }

    #[test]
    fn defaults_and_overrides() {
        let s = redis(&[("QRL_REDIS_POOL_SIZE", "4")]).unwrap();
        assert_eq!(s.pool_size, 4);
        assert_eq!(s.wait_timeout, Duration::from_millis(500));
        assert_eq!(s.key_prefix, "qrl");
    }

    #[test]
    fn invalid_values_name_the_variable_but_not_the_value() {
        let err = redis(&[("QRL_REDIS_POOL_SIZE", "lots")]).unwrap_err().to_string();
        assert!(err.starts_with("QRL_REDIS_POOL_SIZE is invalid"), "{err}");
        assert!(!err.contains("lots"));
        let e = env(&[("B", "maybe")]);
        assert!(e.bool_or("B", true));
        assert_eq!(e.finish(()).unwrap_err().to_string(), "B is invalid: expected true or false");
        let err = redis(&[("REDIS_URL", "http://:hunter2@h")]).unwrap_err().to_string();
        assert!(err.starts_with("REDIS_URL is invalid") && !err.contains("hunter2"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let bad = [("QRL_REDIS_POOL_SIZE", "0"), ("QRL_WORKERS", "many"), ("QRL_LOG_FORMAT", "xml")];
        let err = read(&bad, |env| ServiceSettings::read(env, 8080)).unwrap_err();

        let lines: Vec<String> = err.to_string().lines().map(str::to_owned).collect();
        assert_eq!(
            lines,
            [
                "QRL_REDIS_POOL_SIZE is invalid: must be at least 1",
                "QRL_SIGNING_SECRET is required (development values: deploy/dev.env)",
                "QRL_QR_BASE_URL is required (development values: deploy/dev.env)",
                "QRL_LOG_FORMAT is invalid: expected text or json",
                "QRL_WORKERS is invalid: invalid digit found in string",
            ]
        );
    }

    #[test]
    fn a_short_signing_secret_is_refused_without_being_printed() {
        let err = service(&[("QRL_SIGNING_SECRETS_ACCEPTED", "tooshort")]).unwrap_err().to_string();
        assert_eq!(err, "QRL_SIGNING_SECRETS_ACCEPTED is invalid: each key must be at least 32 bytes");
    }

    #[test]
    fn shutdown_deadline_and_metrics_address() {
        let s = service(&[]).unwrap();
        assert_eq!((s.shutdown_timeout, s.metrics_addr), (Duration::from_secs(10), None));

        let s = service(&[("QRL_SHUTDOWN_TIMEOUT_SECS", "25"), ("QRL_METRICS_ADDR", "0.0.0.0:9090")]).unwrap();
        assert_eq!(s.shutdown_timeout, Duration::from_secs(25));
        assert_eq!(s.metrics_addr, Some(SocketAddr::from(([0, 0, 0, 0], 9090))));

        let err = service(&[("QRL_METRICS_ADDR", "9090")]).unwrap_err();
        assert!(err.to_string().starts_with("QRL_METRICS_ADDR is invalid"), "{err}");
    }

    #[test]
    fn cluster_nodes_select_cluster_mode_and_exclude_redis_url() {
        assert!(!redis(&[]).unwrap().is_cluster());

        let nodes = "redis://10.0.0.1:7000, redis://:pw@10.0.0.2:7000,";
        let s = redis(&[("QRL_REDIS_CLUSTER_NODES", nodes)]).unwrap();
        assert!(s.is_cluster());
        let urls: Vec<_> = s.node_urls().iter().map(|u| u.expose_secret().to_owned()).collect();
        assert_eq!(urls, ["redis://10.0.0.1:7000", "redis://:pw@10.0.0.2:7000"]);

        let both = [("QRL_REDIS_CLUSTER_NODES", "redis://10.0.0.1:7000"), ("REDIS_URL", "redis://10.0.0.9")];
        assert!(redis(&both).unwrap_err().to_string().contains("REDIS_URL"));

        let err = redis(&[("QRL_REDIS_CLUSTER_NODES", "redis://h:1,http://:pw@h")]).unwrap_err().to_string();
        assert!(err.contains("entry 2") && !err.contains("pw"), "{err}");
    }

    #[test]
    fn sentinels_with_their_master_select_sentinel_mode_and_exclude_the_other_two() {
        let sentinels = ("QRL_REDIS_SENTINELS", "redis://10.0.0.1:26379,redis://10.0.0.2:26379");
        let s = redis(&[sentinels, ("QRL_REDIS_SENTINEL_MASTER", "qrlogin")]).unwrap();
        assert!(s.is_sentinel() && !s.is_cluster());
        assert_eq!((s.sentinels.len(), s.sentinel_master.as_str()), (2, "qrlogin"));

        assert!(redis(&[sentinels]).unwrap_err().to_string().contains("QRL_REDIS_SENTINEL_MASTER"));
        assert!(redis(&[("QRL_REDIS_SENTINEL_MASTER", "qrlogin")]).is_err(), "a master without sentinels");
        for other in [("REDIS_URL", "redis://10.0.0.9"), ("QRL_REDIS_CLUSTER_NODES", "redis://10.0.0.1:7000")] {
            let err = redis(&[sentinels, ("QRL_REDIS_SENTINEL_MASTER", "m"), other]).unwrap_err().to_string();
            assert!(err.contains("not several"), "{err}");
        }
    }

    #[test]
    fn device_memory_is_days_and_bounded() {
        assert_eq!(read(&[], device_memory).unwrap(), Duration::from_secs(180 * 86_400));
        assert_eq!(read(&[("QRL_DEVICE_MEMORY_DAYS", "1")], device_memory).unwrap(), Duration::from_secs(86_400));
        assert!(read(&[("QRL_DEVICE_MEMORY_DAYS", "0")], device_memory).is_err());
    }

    #[test]
    fn a_key_prefix_with_braces_is_refused() {
        let err = redis(&[("QRL_REDIS_KEY_PREFIX", "a{b}")]).unwrap_err();
        assert!(err.to_string().starts_with("QRL_REDIS_KEY_PREFIX is invalid"));
    }

    #[test]
    fn the_help_lists_what_is_read_with_the_defaults_read() {
        const OWN: &[vars::EnvVar] = &[vars::listen_addr("127.0.0.1:8080"), vars::DEVICE_MEMORY];
        let groups = [vars::SERVICE_VARS, &[vars::EnvGroup { title: "", vars: OWN }]].concat();
        let read = |env: Env| {
            let settings = (ServiceSettings::read(&env, 8080), device_memory(&env));
            format!("{:?}", env.finish(settings))
        };

        let drift = vars::drift(&groups, &[include_str!("config.rs")], &REQUIRED, read);

        assert!(drift.is_empty(), "{drift:#?}");
    }
}
