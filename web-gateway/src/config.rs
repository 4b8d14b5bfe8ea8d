//! The gateway's settings, from environment variables (see README "Configuration"); [`vars`] lists them for
//! `--help`.

mod vars;

use crate::introspection::IntrospectionClients;
use std::path::PathBuf;
use std::time::Duration;

use qrlogin_shared::config::{ConfigError, ConfigErrors, Env, ServiceSettings, device_memory};
use qrlogin_shared::http::TrustedProxies;
use qrlogin_shared::rate_limit::Rate;
use secrecy::{ExposeSecret, SecretString};

use crate::outbox::{DeliverySettings, LoginWebhook};

pub use vars::{env_groups, env_help};

pub const DEFAULT_PORT: u16 = 8080;

#[derive(Debug)]
pub struct Settings {
    pub service: ServiceSettings,
    pub session_ttl: Duration,
    pub poll_interval: Duration,
    /// How often a pending session's QR is re-issued (zero: never; the first code then lives the whole window).
    pub qr_rotate: Duration,
    pub waiters: WaiterLimits,
    /// Answer 429 `slow-down` to a browser polling one session faster than `poll_interval`.
    pub poll_slow_down: bool,
    /// How long the browser that claimed a token gets the same answer again, should a response be lost.
    pub claim_grace: Duration,
    /// Set `Secure` on the binding cookie; only a local http setup turns it off.
    pub cookie_secure: bool,
    pub web_token: WebTokenSettings,
    pub directory: DirectorySettings,
    pub limits: IssueLimits,
    /// Web origins allowed to call the browser endpoints cross-origin (with credentials).
    pub cors_origins: Vec<String>,
    /// The web backends that may introspect tokens (`QRL_INTROSPECTION_CLIENTS`).
    pub introspection_clients: IntrospectionClients,
    /// Where the page a QR link opens in a camera app sends people to get the app.
    pub app_link: String,
    /// How long a browser's logins are remembered for the user (`QRL_DEVICE_MEMORY_DAYS`); also the device
    /// cookie's lifetime.
    pub device_memory: Duration,
    /// `Strict-Transport-Security: max-age=<secs>` on every answer (`QRL_HSTS_SECS`); off when unset, since
    /// only a gateway reached over https (directly or behind its TLS proxy) may promise it.
    pub hsts: Option<Duration>,
    /// Where back-channel logouts and login webhooks go (none: nothing is queued for them).
    pub deliveries: DeliverySettings,
    /// Sender-constrained web tokens (`QRL_DPOP`, RFC 9449).
    pub dpop: DpopMode,
}

/// Whether a login's token is bound to the browser's DPoP key (RFC 9449).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpopMode {
    /// The `DPoP` header is ignored: every token is a Bearer token.
    Off,
    /// A create with a valid proof gets a bound token, one without a proof a Bearer token; an invalid proof is 400.
    #[default]
    Optional,
    /// A create without a valid proof is 400: every token is bound.
    Required,
}

impl std::str::FromStr for DpopMode {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "optional" => Ok(Self::Optional),
            "required" => Ok(Self::Required),
            _ => Err("expected off, optional or required"),
        }
    }
}

/// Caps on waiting browsers, answered 503 (instance full) or 429 (one session, or one client, waiting too often).
#[derive(Debug, Clone, Copy)]
pub struct WaiterLimits {
    pub per_instance: usize,
    pub per_session: usize,
    /// Per client (its IP, or an IPv6 client's /64), so one address cannot fill the instance by itself.
    pub per_client: usize,
}

/// Bounds on issuing QR sessions, so a flood can neither exhaust Redis memory nor drown one site's users.
#[derive(Debug, Clone, Copy)]
pub struct IssueLimits {
    pub per_ip: Rate,
    /// Across all clients and instances: with the session TTL this caps the sessions Redis holds.
    pub global: Rate,
}

#[derive(Debug)]
pub struct WebTokenSettings {
    /// PKCS#8 PEM of a P-256 key: tokens are ES256, which every JWT library and WebCrypto verify.
    pub private_key_pem: SecretString,
    /// Extra public keys (concatenated PEM) published in the JWKS but never used to sign: the previous key
    /// while its tokens live out, or the next key ahead of a rotation.
    pub published_keys_pem: String,
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

#[derive(Debug, Clone)]
pub enum DirectorySettings {
    /// A JSON file `{"alice": {"name": "Alice", ...}, ...}`.
    File(PathBuf),
    /// `GET <base>/<user id>` answering the profile as JSON, 404 for unknown users.
    Http { base_url: String, timeout: Duration },
}

impl Settings {
    /// Every problem at once, not only the first (`check-config` and a failed start list them all).
    pub fn from_env(env: &Env) -> Result<Self, ConfigErrors> {
        let service = ServiceSettings::read(env, DEFAULT_PORT);
        let settings = Self {
            session_ttl: session_ttl(env),
            poll_interval: env.millis_or("QRL_POLL_INTERVAL_MS", 1000),
            poll_slow_down: env.bool_or("QRL_POLL_SLOW_DOWN", true),
            qr_rotate: env.secs_or("QRL_QR_ROTATE_SECS", 30),
            waiters: WaiterLimits {
                per_instance: env.parse_or("QRL_MAX_WAITERS", 10_000),
                per_session: env.parse_or("QRL_MAX_WAITERS_PER_SESSION", 8),
                per_client: env.parse_or("QRL_MAX_WAITERS_PER_CLIENT", 32),
            },
            claim_grace: env.secs_or("QRL_CLAIM_GRACE_SECS", 10),
            cookie_secure: env.bool_or("QRL_COOKIE_SECURE", true),
            web_token: WebTokenSettings {
                private_key_pem: web_key_pem(env),
                published_keys_pem: env.or("QRL_WEB_JWT_PUBLISHED_KEYS_PEM", ""),
                issuer: env.or("QRL_WEB_JWT_ISSUER", service.qr_base_url.as_str()),
                audience: env.or("QRL_WEB_JWT_AUDIENCE", "qrlogin-web"),
                ttl: env.secs_or("QRL_WEB_JWT_TTL_SECS", 3600),
            },
            directory: directory_from_env(env),
            limits: IssueLimits {
                per_ip: env.parse_or("QRL_LIMIT_ISSUE_PER_IP", Rate::new(30, 60)),
                global: env.parse_or("QRL_LIMIT_ISSUE_GLOBAL", Rate::new(6000, 60)),
            },
            cors_origins: cors_origins(env),
            introspection_clients: IntrospectionClients::parse(&env.or("QRL_INTROSPECTION_CLIENTS", ""))
                .unwrap_or_else(|reason| {
                    env.invalid("QRL_INTROSPECTION_CLIENTS", reason);
                    IntrospectionClients::default()
                }),
            app_link: env.or("QRL_APP_LINK", "https://apps.example.com/qrlogin"),
            device_memory: device_memory(env),
            hsts: env.parse_with("QRL_HSTS_SECS", str::parse).map(Duration::from_secs),
            deliveries: deliveries(env),
            dpop: env.parse_or("QRL_DPOP", DpopMode::Optional),
            service,
        };
        env.finish(settings)
    }
}

/// `QRL_BACKCHANNEL_LOGOUT_URL`, and `QRL_LOGIN_WEBHOOK_URL` with the secret its signatures are made with.
fn deliveries(env: &Env) -> DeliverySettings {
    const WEBHOOK: &str = "QRL_LOGIN_WEBHOOK_URL";
    const SECRET: &str = "QRL_LOGIN_WEBHOOK_SECRET";
    let login_webhook = http_url(env, WEBHOOK).map(|url| {
        let secret = env.secret(SECRET);
        if !secret.expose_secret().is_empty() && secret.expose_secret().len() < 32 {
            env.invalid(SECRET, "must be at least 32 characters (openssl rand -hex 32)");
        }
        LoginWebhook { url, secret }
    });
    if login_webhook.is_none() && env.optional(SECRET).is_some() {
        env.invalid(SECRET, format!("is set but {WEBHOOK} is not"));
    }
    DeliverySettings { backchannel_logout_url: http_url(env, "QRL_BACKCHANNEL_LOGOUT_URL"), login_webhook }
}

/// An absolute http(s) URL, if set. The reason never quotes the URL: it may carry credentials.
fn http_url(env: &Env, name: &'static str) -> Option<reqwest::Url> {
    let parse = |v: &str| {
        reqwest::Url::parse(v)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or("expected an absolute http(s) URL")
    };
    env.parse_with(name, parse)
}

/// `QRL_CORS_ORIGINS`: comma-separated origins such as `https://www.example.com`, exactly as browsers send them.
fn cors_origins(env: &Env) -> Vec<String> {
    let list = env.or("QRL_CORS_ORIGINS", "");
    let origins: Vec<String> = list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    for origin in &origins {
        let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        if host.is_none_or(|h| h.is_empty() || h.contains(['/', '?', '#', ' ', '*'])) {
            env.invalid("QRL_CORS_ORIGINS", format!("{origin} is not an origin like https://www.example.com"));
        }
    }
    origins
}

/// The key as a mounted file (`QRL_WEB_JWT_PRIVATE_KEY_FILE`) or inline (`QRL_WEB_JWT_PRIVATE_KEY_PEM`). Whether
/// it is a P-256 key is checked where it is loaded ([`crate::Application::check`]).
fn web_key_pem(env: &Env) -> SecretString {
    const FILE: &str = "QRL_WEB_JWT_PRIVATE_KEY_FILE";
    const PEM: &str = "QRL_WEB_JWT_PRIVATE_KEY_PEM";
    if let Some(path) = env.optional(FILE) {
        let pem = std::fs::read_to_string(&path).map_err(|e| env.invalid(FILE, format!("cannot read {path}: {e}")));
        return SecretString::from(pem.unwrap_or_default());
    }
    let pem = env.optional(PEM);
    if pem.is_none() {
        env.note(ConfigError::MissingEither(FILE, PEM));
    }
    SecretString::from(pem.unwrap_or_default())
}

/// The login window: how long one session waits for its scan and decision, its QR re-issued meanwhile.
fn session_ttl(env: &Env) -> Duration {
    let ttl = env.secs_or("QRL_SESSION_TTL_SECS", 300);
    if ttl.is_zero() || ttl > Duration::from_secs(3600) {
        env.invalid("QRL_SESSION_TTL_SECS", "must be between 1 and 3600 seconds");
    }
    ttl
}

/// Where profiles come from: the URL, else the file. No default, so that no deployment serves the demo users
/// by accident.
fn directory_from_env(env: &Env) -> DirectorySettings {
    const URL: &str = "QRL_USER_DIRECTORY_URL";
    const FILE: &str = "QRL_USER_DIRECTORY_FILE";
    let timeout = env.millis_or("QRL_USER_DIRECTORY_TIMEOUT_MS", 2000);
    if let Some(base_url) = env.optional(URL) {
        // Checked (and a bad one noted) here; used as written.
        let _checked = http_url(env, URL);
        return DirectorySettings::Http { base_url, timeout };
    }
    let Some(path) = env.optional(FILE).map(PathBuf::from) else {
        env.note(ConfigError::MissingEither(URL, FILE));
        return DirectorySettings::File(PathBuf::new());
    };
    // Its content is checked where it is loaded; a wrong path or a missing mount is found here with the rest.
    if let Err(e) = std::fs::File::open(&path) {
        env.invalid(FILE, format!("cannot read {}: {e}", path.display()));
    }
    DirectorySettings::File(path)
}

/// The session rules the handlers apply, split from [`Settings`] so handlers see only what they use.
#[derive(Debug, Clone)]
pub struct SessionPolicy {
    pub ttl: Duration,
    pub poll_interval: Duration,
    /// The interval the poll script enforces: `poll_interval`, or zero when slowing down is off.
    pub enforced_poll_interval: Duration,
    pub claim_grace: Duration,
    pub qr_rotate: Duration,
    pub cookie_secure: bool,
    pub limits: IssueLimits,
    pub trusted_proxies: TrustedProxies,
    pub app_link: String,
    pub device_memory: Duration,
    pub dpop: DpopMode,
}

impl From<&Settings> for SessionPolicy {
    fn from(s: &Settings) -> Self {
        Self {
            ttl: s.session_ttl,
            poll_interval: s.poll_interval,
            enforced_poll_interval: if s.poll_slow_down { s.poll_interval } else { Duration::ZERO },
            claim_grace: s.claim_grace,
            qr_rotate: s.qr_rotate,
            limits: s.limits,
            app_link: s.app_link.clone(),
            cookie_secure: s.cookie_secure,
            trusted_proxies: s.service.trusted_proxies.clone(),
            device_memory: s.device_memory,
            dpop: s.dpop,
        }
    }
}
