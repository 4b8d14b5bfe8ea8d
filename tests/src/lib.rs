//! End-to-end harness: both real services in-process on loopback ports, one real Redis behind them, and an HTTP
//! client for each side of a login. The browser creates, polls and cancels; the phone reads the QR off the PNG
//! (as a camera would), then scans, confirms or denies with a user token.
//!
//! Every [`Stack`] gets a Redis key prefix of its own (shared by its two services), so tests run in parallel on
//! one Redis. Start it with `deploy/redis.sh 6390 target/test-redis`; `QRL_TEST_REDIS_URL` points elsewhere.
//! What only a whole process shows runs the real binaries instead ([`Services`]), e.g. against a stand-in
//! OpenTelemetry [`Collector`]. The benchmark tools (`src/bin/`) share their process and Redis probe support
//! in [`bench`].
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test harness: a broken setup or a failed expectation should fail the test loudly"
)]

pub mod bench;
mod collector;
mod nginx;
mod qr;
mod receiver;
mod redis_cluster;
mod redis_process;
mod redis_sentinel;
mod reply;
mod services;
mod sse;
mod stack;
mod tokens;

pub use collector::{Collector, ReceivedSpan};
pub use nginx::{Nginx, UPSTREAM_HEADER};
pub use qr::{decode_qr, split_qr_link};
pub use receiver::{Delivery, Receiver};
pub use redis_cluster::RedisCluster;
pub use redis_process::RedisProcess;
pub use redis_sentinel::{MASTER_NAME as SENTINEL_MASTER, RedisSentinel};
pub use reply::Reply;
pub use services::Services;
pub use sse::{EventStream, SseEvent};
pub use stack::{Login, Stack};
pub use tokens::{WebToken, b64url, hs256_token, unsigned_token, user_claims};

/// What the browser sends as `User-Agent`; the phone must be shown exactly this.
pub const BROWSER_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) qrlogin-e2e-browser/1.0";
pub const PHONE_USER_AGENT: &str = "qrlogin-e2e-phone/1.0";

/// The web token the gateway mints.
pub const WEB_ISSUER: &str = "https://login.test.qrlogin.invalid";
pub const WEB_AUDIENCE: &str = "qrlogin-web-e2e";
pub const WEB_TOKEN_TTL_SECS: u64 = web_gateway::test_support::TOKEN_TTL.as_secs();

/// The app users' identity provider, simulated with a shared HS256 secret.
pub const USER_JWT_SECRET: &str = "e2e-only-user-token-secret-0123456789abcdef";
pub const USER_ISSUER: &str = "https://idp.e2e.qrlogin.invalid";
pub const USER_AUDIENCE: &str = "qrlogin-mobile-e2e";
pub const USER_LEEWAY_SECS: u64 = 30;

/// The gateway's session TTL in these tests (`Settings::for_test`'s).
pub const SESSION_TTL_SECS: u64 = web_gateway::test_support::SESSION_TTL.as_secs();
/// How long the browser that claimed the token gets the same answer again (a lost response is not a lost
/// login); then the session is gone. Short, so tests can wait it out.
pub const CLAIM_GRACE_SECS: u64 = 2;

/// The workspace's development files (web token key, user directory) the gateway runs with.
pub const WEB_KEY_PEM_FILE: &str = web_gateway::test_support::WEB_KEY_PEM_FILE;
pub const USERS_FILE: &str = web_gateway::test_support::USERS_FILE;
