//! What both qrlogin services share: the Redis key schema, the login session state machine and its atomic
//! transitions, verification codes, configuration, telemetry and the problem+json error shape.
//!
//! The services never call each other; everything they agree on lives in this crate.

pub mod config;
pub mod http;
pub mod ids;
pub mod keys;
pub mod metrics;
pub mod qr_link;
pub mod rate_limit;
pub mod redis_conn;
pub mod store;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod verification;

pub use ids::{BindingHash, SessionId, UserId};
pub use keys::KeySchema;
pub use redis_conn::{Redis, StoreError};
pub use store::SessionStore;
pub use verification::{VerificationCode, Verifier};

/// Seconds since the Unix epoch; a clock before 1970 reads as 0 rather than panicking.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
