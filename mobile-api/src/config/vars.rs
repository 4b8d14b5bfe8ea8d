//! mobile-api's environment variables as `--help` lists them, next to their reader (`super`); the tests below
//! hold the two together.

use qrlogin_shared::config::vars::{DEVICE_MEMORY, EnvGroup, EnvVar, SERVICE_VARS, VarDefault, listen_addr, render};

use VarDefault::{Off, Required, RequiredWhen, Value};

const fn var(name: &'static str, default: VarDefault, help: &'static str) -> EnvVar {
    EnvVar { name, default, help }
}

const LISTENING: EnvGroup = EnvGroup { title: "Listening", vars: &[listen_addr("127.0.0.1:8081")] };

const OWN: &[EnvGroup] = &[
    EnvGroup {
        title: "App user tokens (a static key, or the provider's JWKS)",
        vars: &[
            var("QRL_USER_JWT_ISSUER", Required, "expected iss"),
            var("QRL_USER_JWT_AUDIENCE", Required, "expected aud"),
            var(
                "QRL_USER_JWT_ALG",
                RequiredWhen("without QRL_USER_JWKS_URL"),
                "HS256, RS256, ES256, EdDSA...; with a JWKS: an optional allow-list, no HS*",
            ),
            var("QRL_USER_JWT_SECRET", RequiredWhen("for HS*"), "the provider's shared secret (>= 32 bytes)"),
            var(
                "QRL_USER_JWT_PUBLIC_KEY_PEM",
                RequiredWhen("for RS*, PS*, ES*, EdDSA"),
                "the provider's public key, PEM",
            ),
            var("QRL_USER_JWT_LEEWAY_SECS", Value("30"), "clock skew tolerated on exp, nbf and iat"),
            var(
                "QRL_USER_JWKS_URL",
                Off,
                "the provider's JWKS (https; http only on loopback), instead of a static key",
            ),
            var("QRL_USER_JWKS_REFRESH_SECS", Value("300"), "cache age after which the keys are fetched again"),
            var("QRL_USER_JWKS_MIN_REFETCH_SECS", Value("30"), "least time between fetches for an unknown kid"),
            var("QRL_USER_JWKS_TIMEOUT_MS", Value("2000"), "bound on one JWKS fetch"),
        ],
    },
    EnvGroup {
        title: "Confirming",
        vars: &[
            var("QRL_CHECK_CODE", Value("risky"), "never, risky or always: when a confirm needs the browser's number"),
            var("QRL_LIMIT_SCAN_PER_USER", Value("20/60"), "scans per app user, <count>/<seconds>; 0: off"),
            var("QRL_LIMIT_DECIDE_PER_USER", Value("20/60"), "confirm or deny calls per app user"),
            var("QRL_LIMIT_STATUS_PER_USER", Value("120/60"), "questions how a scanned login stands, per app user"),
            var("QRL_LIMIT_BAD_TOKEN_PER_IP", Value("20/60"), "requests with an invalid user token per client IP"),
        ],
    },
    EnvGroup {
        title: "Risk",
        vars: &[
            var("QRL_GEOIP_CITY_DB", Off, "a MaxMind-format city database (GeoLite2-City, DB-IP City)"),
            var("QRL_RISK_FAR_KM", Value("500"), "browser and phone further apart are far_from_phone"),
            var("QRL_RISK_BLOCK", Off, "high or medium: refuse to confirm a login judged that risky or worse"),
            DEVICE_MEMORY,
        ],
    },
];

/// Every variable mobile-api reads, grouped.
pub fn env_groups() -> Vec<EnvGroup> {
    [&[LISTENING][..], SERVICE_VARS, OWN].concat()
}

/// The variables part of `--help`.
pub fn env_help() -> String {
    render(&env_groups())
}

#[cfg(test)]
mod tests {
    use qrlogin_shared::config::vars::drift;
    use qrlogin_shared::test_support::dev_env;

    use super::*;
    use crate::Settings;

    #[test]
    fn the_help_lists_what_is_read_with_the_defaults_read() {
        let dev = dev_env();
        let base: Vec<(&str, &str)> = dev.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let sources =
            [include_str!("mod.rs"), include_str!("user_jwt.rs"), include_str!("../../../shared/src/config.rs")];

        let drift = drift(&env_groups(), &sources, &base, |env| format!("{:?}", Settings::from_env(&env)));

        assert!(drift.is_empty(), "{drift:#?}");
    }
}
