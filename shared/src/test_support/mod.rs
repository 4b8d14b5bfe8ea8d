//! The test kit (feature `test-support`), one copy for every suite: settings that point at the test Redis with
//! a key prefix of their own (so every test runs in parallel on one Redis without seeing another's keys), and
//!
//! - [`qr`]: reads the login QR off its PNG with a real decoder, as a phone does;
//! - [`web_token`]: verifies a web token against the published JWKS, as the web team's backend does;
//! - [`prometheus`]: reads a `/metrics` answer back;
//! - [`fake`]: fake HTTP dependencies (identity provider, user directory) on `wiremock`;
//! - [`logs`]: what was logged, captured as JSON lines;
//! - [`bin`]: runs a service binary in a clean environment (its command line, exit codes and messages);
//! - [`raw_http`]: HTTP/1.1 on a bare socket (stalled and malformed bodies) and the process's open descriptors.
//!
//! The services build their own `Settings::for_test()` on [`service_settings`].
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a broken test setup or a failed expectation should fail loudly"
)]

pub mod bin;
pub mod fake;
pub mod logs;
pub mod openapi;
pub mod prometheus;
pub mod qr;
pub mod raw_http;
pub mod web_token;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use secrecy::{SecretSlice, SecretString};

use crate::config::{RedisSettings, ServiceSettings};
use crate::http::TrustedProxies;
use crate::qr_link::QrBaseUrl;

/// The same development secret as deploy/dev.env.
pub const SIGNING_SECRET: &str = "dev-only-not-secret-0123456789abcdef0123456789";
pub const QR_BASE_URL: &str = "https://login.test.qrlogin.invalid";

/// `QRL_TEST_REDIS_URL`, else `REDIS_URL`, else the port deploy/test.sh starts Redis on.
pub fn redis_url() -> String {
    std::env::var("QRL_TEST_REDIS_URL")
        .or_else(|_| std::env::var("REDIS_URL"))
        .unwrap_or_else(|_| "redis://127.0.0.1:6390".to_owned())
}

pub fn redis_settings(url: &str) -> RedisSettings {
    RedisSettings {
        url: SecretString::from(url.to_owned()),
        cluster_nodes: Vec::new(),
        sentinels: Vec::new(),
        sentinel_master: String::new(),
        key_prefix: format!("qrltest-{}", uuid::Uuid::new_v4().simple()),
        pool_size: 16,
        wait_timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(500),
        outage_summary: Duration::from_secs(10),
    }
}

/// Settings for one service instance on a random loopback port against the test Redis.
pub fn service_settings() -> ServiceSettings {
    ServiceSettings {
        listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        redis: redis_settings(&redis_url()),
        signing_secret: SecretSlice::from(SIGNING_SECRET.as_bytes().to_vec()),
        accepted_signing_secrets: Vec::new(),
        qr_base_url: QrBaseUrl::parse(QR_BASE_URL).expect("constant is a valid base"),
        trusted_proxies: TrustedProxies::default(),
        log_json: false,
        workers: 2,
        shutdown_timeout: Duration::from_secs(10),
        metrics_addr: None,
    }
}

/// A Redis URL on which nothing listens: connections are refused at once.
pub fn dead_redis_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(1, |a| a.port());
    format!("redis://127.0.0.1:{port}")
}

/// A Redis URL that accepts connections and never answers: the slow-Redis case. Keep the listener alive.
pub fn silent_redis() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("bound address").port();
    (listener, format!("redis://127.0.0.1:{port}"))
}

/// The repository's root, where deploy/dev.env's relative paths start.
pub const WORKSPACE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The development settings of deploy/dev.env (the ones deploy/stack.sh starts the services with), its relative
/// file paths made absolute so that they hold from any directory.
pub fn dev_env() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(format!("{WORKSPACE_ROOT}/deploy/dev.env")).expect("deploy/dev.env");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = if k.ends_with("_FILE") { format!("{WORKSPACE_ROOT}/{v}") } else { v.to_owned() };
            (k.to_owned(), v)
        })
        .collect()
}
