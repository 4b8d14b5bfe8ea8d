//! What both qrlogin services share, and the domain types the reference phone client shares with them.
//!
//! ```text
//! domain (always built; no Redis, no HTTP):
//!   session     SessionState, Status, Decision, Requester, RiskLevel, Signal, Risk: the vocabulary, once
//!   requester   RequesterDetails (the scan answer's requester), Location, sanitize_user_agent
//!   ids         SessionId, UserId, BindingHash, DeviceHash: parsed newtypes
//!   verification, qr_link   the QR's verification string and the link that carries it
//!   keys        the Redis key schema          error_chain   an error printed with its causes
//! service (feature `service`, on by default):
//!   config      Env -> RedisSettings, ServiceSettings, every problem at once; vars: the table --help lists
//!               (imports http::TrustedProxies only)
//!   redis_conn  the bounded pool; store (state machine, one Lua script per transition) and rate_limit on it
//!   audit       AuditEvent: one log line + one counter per event   -> metrics
//!   http        problem+json, client IP, access log, health, metrics endpoint
//!   server      the one bootstrap: listeners, timeouts, headers, shutdown   -> http, metrics, config
//!   telemetry   logs, traces (OTEL_*), a login's trace context kept with its session, the stop signal
//!   cli         the binaries' subcommands (serve, check-config), their plain-words report and exit codes
//! ```
//! Arrows point down: the domain imports nothing of the service half, `config` nothing of `server` or `http`
//! beyond the proxy list. The services never call each other; everything they agree on lives in this crate.

pub mod error_chain;
pub mod ids;
pub mod keys;
pub mod qr_link;
pub mod requester;
pub mod session;
pub mod verification;

#[cfg(feature = "service")]
pub mod audit;
#[cfg(feature = "service")]
pub mod cli;
#[cfg(feature = "service")]
pub mod config;
#[cfg(feature = "service")]
pub mod http;
#[cfg(feature = "service")]
pub mod metrics;
#[cfg(feature = "service")]
pub mod openapi;
#[cfg(feature = "service")]
pub mod rate_limit;
#[cfg(feature = "service")]
pub mod redis_conn;
#[cfg(feature = "service")]
pub mod server;
#[cfg(feature = "service")]
pub mod store;
#[cfg(feature = "service")]
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use error_chain::ErrorChain;
pub use ids::{BindingHash, DeviceHash, SessionId, UserId};
pub use keys::KeySchema;
#[cfg(feature = "service")]
pub use redis_conn::{Redis, StoreError};
#[cfg(feature = "service")]
pub use store::SessionStore;
pub use verification::{VerificationCode, Verifier};

/// Seconds since the Unix epoch; a clock before 1970 reads as 0 rather than panicking.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Unix seconds as RFC 3339 (UTC), as the APIs write times; '' for a time out of range.
pub fn rfc3339(unix: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix).unwrap_or(i64::MAX));
    at.ok().and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()).unwrap_or_default()
}
