//! The gateway's part of the test kit (feature `test-support`): [`Settings::for_test`], the one set of test
//! settings every suite starts from and changes only what it is about.
#![allow(clippy::expect_used, reason = "test helpers: a broken test setup should fail loudly")]

use std::time::Duration;

use qrlogin_shared::rate_limit::Rate;
use qrlogin_shared::test_support::service_settings;
use secrecy::SecretString;

use crate::config::{DirectorySettings, IssueLimits, Settings, WebTokenSettings};
use crate::push::WaiterLimits;

/// The workspace's development web token key (deploy/dev), so a test's tokens verify against the dev JWKS.
pub const WEB_KEY_PEM_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/dev/web-jwt-es256.pem");
/// The demo user directory (deploy/dev): alice, bob, ...
pub const USERS_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/dev/users.json");
pub const ISSUER: &str = "https://issuer.test.qrlogin.invalid";
pub const AUDIENCE: &str = "qrlogin-web-test";
pub const TOKEN_TTL: Duration = Duration::from_secs(600);
pub const SESSION_TTL: Duration = Duration::from_secs(120);
pub const CLAIM_GRACE: Duration = Duration::from_secs(10);

impl Settings {
    /// A gateway on a random loopback port against the test Redis, with a key prefix of its own; no abuse limit
    /// (every test's browsers share one loopback address, so no waiter cap per client either) and no poll
    /// slow-down (tests about them turn them on), no QR rotation, cookies without `Secure` (plain http), the dev
    /// web token key and the demo user directory.
    pub fn for_test() -> Self {
        let pem = std::fs::read_to_string(WEB_KEY_PEM_FILE).expect("deploy/dev/web-jwt-es256.pem is readable");
        Self {
            service: service_settings(),
            session_ttl: SESSION_TTL,
            poll_interval: Duration::from_secs(1),
            qr_rotate: Duration::ZERO,
            waiters: WaiterLimits { per_instance: 10_000, per_session: 8, per_client: 10_000 },
            poll_slow_down: false,
            claim_grace: CLAIM_GRACE,
            cookie_secure: false,
            web_token: WebTokenSettings {
                private_key_pem: SecretString::from(pem),
                published_keys_pem: String::new(),
                issuer: ISSUER.to_owned(),
                audience: AUDIENCE.to_owned(),
                ttl: TOKEN_TTL,
            },
            directory: DirectorySettings::File(USERS_FILE.into()),
            // A zero rate is no limit.
            limits: IssueLimits { per_ip: Rate::new(0, 0), global: Rate::new(0, 0) },
            cors_origins: Vec::new(),
            introspection_clients: crate::introspection::IntrospectionClients::default(),
            app_link: "https://apps.test.qrlogin.invalid".to_owned(),
            device_memory: Duration::from_secs(180 * 86_400),
            hsts: None,
            deliveries: crate::outbox::DeliverySettings::default(),
            dpop: crate::config::DpopMode::Optional,
        }
    }
}
