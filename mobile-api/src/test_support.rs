//! mobile-api's part of the test kit (feature `test-support`): [`Settings::for_test`], the one set of test
//! settings every suite starts from and changes only what it is about.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use qrlogin_shared::session::CheckCodeMode;
use qrlogin_shared::test_support::service_settings;
use secrecy::SecretString;

use crate::config::{MobileLimits, RiskSettings};
use crate::config::{Settings, UserJwtKey, UserJwtSettings};

/// The identity provider of the tests: user tokens are HS256 with this shared secret.
pub const JWT_SECRET: &str = "test-user-jwt-secret-0123456789abcdef";
pub const ISSUER: &str = "https://id.test.qrlogin.invalid";
pub const AUDIENCE: &str = "qrlogin-mobile";
pub const LEEWAY: Duration = Duration::from_secs(30);

impl Settings {
    /// mobile-api on a random loopback port against the test Redis, with a key prefix of its own; user tokens
    /// as [`UserJwtSettings::for_test`] says, no abuse limits and no check code (tests about them set their own:
    /// sessions made straight in Redis carry no device or location, so `risky` would ask for one every time).
    pub fn for_test() -> Self {
        Self {
            service: service_settings(),
            user_jwt: UserJwtSettings::for_test(),
            limits: MobileLimits::unlimited(),
            check_code: CheckCodeMode::Never,
            risk: RiskSettings::for_test(),
        }
    }
}

/// The committed test city database (`tests/geo/make-city-db.py` lists its documentation-range entries).
pub const CITY_DB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/geo/city-test.mmdb");

impl RiskSettings {
    /// No city database (tests about location set [`CITY_DB`]), the default distance, no blocking.
    pub fn for_test() -> Self {
        Self { geo_db: None, far_km: 500.0, block: None, device_memory: Duration::from_secs(180 * 86_400) }
    }
}

impl UserJwtSettings {
    /// HS256 user tokens with [`JWT_SECRET`], [`ISSUER`] and [`AUDIENCE`], 30 s of clock leeway.
    pub fn for_test() -> Self {
        Self {
            algorithm: Algorithm::HS256,
            key: UserJwtKey::Secret(SecretString::from(JWT_SECRET)),
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            leeway: LEEWAY,
        }
    }
}
