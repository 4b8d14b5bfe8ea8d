//! The gateway's environment variables as `--help` lists them, next to their reader (`super`); the tests below
//! hold the two together.

use qrlogin_shared::config::vars::{DEVICE_MEMORY, EnvGroup, EnvVar, SERVICE_VARS, VarDefault, listen_addr, render};

use VarDefault::{Described, Off, RequiredWhen, Value};

const fn var(name: &'static str, default: VarDefault, help: &'static str) -> EnvVar {
    EnvVar { name, default, help }
}

const LISTENING: EnvGroup = EnvGroup { title: "Listening", vars: &[listen_addr("127.0.0.1:8080")] };

const OWN: &[EnvGroup] = &[
    EnvGroup {
        title: "Login sessions",
        vars: &[
            var("QRL_SESSION_TTL_SECS", Value("300"), "the login window: lifetime of a login session (1-3600)"),
            var("QRL_QR_ROTATE_SECS", Value("30"), "re-issue a pending session's QR this often; 0: never"),
            var("QRL_POLL_INTERVAL_MS", Value("1000"), "poll interval advised to browsers"),
            var("QRL_POLL_SLOW_DOWN", Value("true"), "answer 429 slow-down to a browser polling faster than that"),
            var("QRL_CLAIM_GRACE_SECS", Value("10"), "how long the claiming browser gets the same answer again"),
            var("QRL_MAX_WAITERS", Value("10000"), "browsers waiting (long-poll, SSE) on one instance"),
            var("QRL_MAX_WAITERS_PER_SESSION", Value("8"), "browsers waiting on one session"),
            var("QRL_MAX_WAITERS_PER_CLIENT", Value("32"), "waits one client IP (IPv6: its /64) may hold"),
            var("QRL_LIMIT_ISSUE_PER_IP", Value("30/60"), "QR sessions per client IP, <count>/<seconds>; 0: off"),
            var("QRL_LIMIT_ISSUE_GLOBAL", Value("6000/60"), "QR sessions across all clients; 0: off"),
            DEVICE_MEMORY,
        ],
    },
    EnvGroup {
        title: "Browsers",
        vars: &[
            var("QRL_COOKIE_SECURE", Value("true"), "Secure on the cookies; false only for plain-http development"),
            var("QRL_CORS_ORIGINS", Off, "comma-separated web origins allowed to call /v1/qr cross-origin"),
            var("QRL_HSTS_SECS", Off, "send Strict-Transport-Security max-age=<secs> (only behind https)"),
            var(
                "QRL_DPOP",
                Value("optional"),
                "bind web tokens to the browser's key (RFC 9449 DPoP): off, optional or required",
            ),
            var(
                "QRL_INTROSPECTION_CLIENTS",
                Off,
                "web backends allowed to introspect tokens: <client_id>:<sha256 hex of its secret>,...",
            ),
            var("QRL_BACKCHANNEL_LOGOUT_URL", Off, "where ended web sessions' OpenID Connect logout tokens are POSTed"),
            var("QRL_LOGIN_WEBHOOK_URL", Off, "where each claimed login's signed \"new login\" webhook is POSTed"),
            var(
                "QRL_LOGIN_WEBHOOK_SECRET",
                RequiredWhen("with QRL_LOGIN_WEBHOOK_URL"),
                "the webhook's HMAC-SHA256 key, at least 32 characters",
            ),
            var(
                "QRL_APP_LINK",
                Value("https://apps.example.com/qrlogin"),
                "where the QR link's page sends people for the app",
            ),
        ],
    },
    EnvGroup {
        title: "Web token (ES256)",
        vars: &[
            var(
                "QRL_WEB_JWT_PRIVATE_KEY_FILE",
                RequiredWhen("unless _PEM is set"),
                "file holding the P-256 private key, PKCS#8 PEM",
            ),
            var("QRL_WEB_JWT_PRIVATE_KEY_PEM", RequiredWhen("unless _FILE is set"), "the same key inline"),
            var(
                "QRL_WEB_JWT_PUBLISHED_KEYS_PEM",
                Off,
                "extra P-256 public keys (PEM) published in the JWKS, never used to sign",
            ),
            var("QRL_WEB_JWT_ISSUER", Described("QRL_QR_BASE_URL"), "iss claim"),
            var("QRL_WEB_JWT_AUDIENCE", Value("qrlogin-web"), "aud claim"),
            var("QRL_WEB_JWT_TTL_SECS", Value("3600"), "token lifetime"),
        ],
    },
    EnvGroup {
        title: "User directory (one of the two)",
        vars: &[
            var(
                "QRL_USER_DIRECTORY_URL",
                RequiredWhen("unless QRL_USER_DIRECTORY_FILE is set"),
                "GET <url>/<user id> answers the profile as JSON, 404 for unknown users",
            ),
            var(
                "QRL_USER_DIRECTORY_FILE",
                RequiredWhen("unless QRL_USER_DIRECTORY_URL is set"),
                "a JSON object {\"<user id>\": {profile...}}",
            ),
            var("QRL_USER_DIRECTORY_TIMEOUT_MS", Value("2000"), "bound on one directory request"),
        ],
    },
];

/// Every variable the gateway reads, grouped.
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
        let sources = [include_str!("../config.rs"), include_str!("../../../shared/src/config.rs")];

        let drift = drift(&env_groups(), &sources, &base, |env| format!("{:?}", Settings::from_env(&env)));

        assert!(drift.is_empty(), "{drift:#?}");
    }
}
