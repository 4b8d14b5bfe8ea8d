//! How the app user's token is checked: a static key with its pinned algorithm, or the provider's JWKS.

use std::net::IpAddr;
use std::time::Duration;

use jsonwebtoken::{Algorithm, AlgorithmFamily};
use qrlogin_shared::config::Env;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

/// How the app user's token is checked. The algorithm is pinned here or comes with the provider's key, never from
/// the token alone.
#[derive(Debug)]
pub struct UserJwtSettings {
    /// With a static key: the one accepted algorithm. With a JWKS it is not used: every key brings its own
    /// algorithm and [`JwksSettings::algorithms`] restricts them. (Kept as a plain field so that static-key
    /// settings are written as before.)
    pub algorithm: Algorithm,
    pub key: UserJwtKey,
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

#[derive(Debug)]
pub enum UserJwtKey {
    /// HS256/384/512: the identity provider's shared secret.
    Secret(SecretString),
    /// RS*, PS*, ES*, EdDSA: the provider's public key as PEM.
    PublicPem(String),
    /// The provider publishes its public keys as a JWKS; tokens name theirs by `kid`.
    Jwks(JwksSettings),
}

/// Where the identity provider's keys are and how often we may ask for them.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    pub url: Url,
    /// Accepted algorithms; empty accepts whatever asymmetric algorithm a key declares or implies.
    pub algorithms: Vec<Algorithm>,
    /// Age after which the cached keys are fetched again (in the background; the old ones serve meanwhile).
    pub refresh: Duration,
    /// Least time between two fetches for the same reason (a due refresh, or a token with a `kid` we do not
    /// know): tokens with random `kid`s cannot make us hammer the provider.
    pub min_refetch: Duration,
    /// Bound on one fetch, connection included.
    pub timeout: Duration,
}

impl UserJwtSettings {
    /// Problems are noted in `env` (see [`Env::finish`]).
    pub fn read(env: &Env) -> Self {
        let (algorithm, key) = match env.optional("QRL_USER_JWKS_URL") {
            Some(_) => jwks_key(env),
            None => static_key(env),
        };
        Self {
            algorithm,
            key,
            issuer: env.required("QRL_USER_JWT_ISSUER"),
            audience: env.required("QRL_USER_JWT_AUDIENCE"),
            leeway: env.secs_or("QRL_USER_JWT_LEEWAY_SECS", 30),
        }
    }
}

/// Stands in for a key that could not be read (the problem is noted, so `Env::finish` never hands it out).
fn no_key() -> (Algorithm, UserJwtKey) {
    (Algorithm::RS256, UserJwtKey::PublicPem(String::new()))
}

fn static_key(env: &Env) -> (Algorithm, UserJwtKey) {
    // Without the algorithm, which key is needed is unknown: asking for one would only add a guess.
    let Some(algorithm) = env.required_with("QRL_USER_JWT_ALG", parse_alg) else {
        return no_key();
    };
    let key = match algorithm.family() {
        AlgorithmFamily::Hmac => UserJwtKey::Secret(hmac_secret(env)),
        _ => UserJwtKey::PublicPem(env.required("QRL_USER_JWT_PUBLIC_KEY_PEM")),
    };
    (algorithm, key)
}

/// Shortest HS* secret accepted: RFC 7518 §3.2 asks for a key at least as long as the hash (256 bits for
/// HS256); a shorter one can be brute-forced offline from any single token.
pub const MIN_USER_JWT_SECRET_BYTES: usize = 32;

fn hmac_secret(env: &Env) -> SecretString {
    let secret = env.secret("QRL_USER_JWT_SECRET");
    // Empty is missing, noted already.
    let len = secret.expose_secret().len();
    if len > 0 && len < MIN_USER_JWT_SECRET_BYTES {
        env.invalid("QRL_USER_JWT_SECRET", format!("must be at least {MIN_USER_JWT_SECRET_BYTES} bytes"));
    }
    secret
}

fn jwks_key(env: &Env) -> (Algorithm, UserJwtKey) {
    const NAME: &str = "QRL_USER_JWKS_URL";
    for other in ["QRL_USER_JWT_SECRET", "QRL_USER_JWT_PUBLIC_KEY_PEM"] {
        if env.optional(other).is_some() {
            env.invalid(NAME, format!("set either {NAME} or {other}, not both"));
        }
    }
    let algorithms: Vec<Algorithm> = env
        .or("QRL_USER_JWT_ALG", "")
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .filter_map(|a| parse_alg(a).map_err(|e| env.invalid("QRL_USER_JWT_ALG", e)).ok())
        .collect();
    if algorithms.iter().any(|a| a.family() == AlgorithmFamily::Hmac) {
        env.invalid("QRL_USER_JWT_ALG", "a JWKS only serves public keys: HS* cannot be accepted");
    }
    let refresh = positive(env, "QRL_USER_JWKS_REFRESH_SECS", env.secs_or("QRL_USER_JWKS_REFRESH_SECS", 300));
    let min_refetch =
        positive(env, "QRL_USER_JWKS_MIN_REFETCH_SECS", env.secs_or("QRL_USER_JWKS_MIN_REFETCH_SECS", 30));
    let timeout = positive(env, "QRL_USER_JWKS_TIMEOUT_MS", env.millis_or("QRL_USER_JWKS_TIMEOUT_MS", 2000));
    let Some(url) = env.parse_with(NAME, jwks_url) else {
        return no_key();
    };
    // Not consulted in JWKS mode (see the field's doc); any asymmetric value will do.
    let algorithm = algorithms.first().copied().unwrap_or(Algorithm::RS256);
    (algorithm, UserJwtKey::Jwks(JwksSettings { url, algorithms, refresh, min_refetch, timeout }))
}

/// The reason never quotes the URL.
fn jwks_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| e.to_string())?;
    if !(url.scheme() == "https" || url.scheme() == "http" && is_loopback(&url)) {
        return Err("expected an https URL (plain http only on a loopback address)".to_owned());
    }
    Ok(url)
}

impl JwksSettings {
    /// Whether the key set may come over plain http: only from a provider on this machine. The fetching client
    /// enforces https for every other host (redirects are not followed at all).
    pub fn allows_http(&self) -> bool {
        is_loopback(&self.url)
    }
}

/// Keys fetched over plain http could be swapped by anyone on the path; only a local provider may use it.
fn is_loopback(url: &Url) -> bool {
    url.host_str().is_some_and(|host| {
        host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    })
}

fn parse_alg(name: &str) -> Result<Algorithm, &'static str> {
    name.trim().parse().map_err(|_| "expected HS256, RS256, ES256, EdDSA (or another JWS algorithm)")
}

/// Zero would turn a bound into none (no refetch gap, no timeout).
fn positive(env: &Env, name: &'static str, value: Duration) -> Duration {
    if value.is_zero() {
        env.invalid(name, "must be greater than zero");
    }
    value
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

    use std::collections::HashMap;

    use qrlogin_shared::config::{ConfigError, ConfigErrors};

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let mut map: HashMap<String, String> =
            [("QRL_USER_JWT_ISSUER", "https://id.example"), ("QRL_USER_JWT_AUDIENCE", "qrlogin-mobile")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        map.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Env::from_map(map)
    }

    fn read(env: &Env) -> Result<UserJwtSettings, ConfigErrors> {
        let settings = UserJwtSettings::read(env);
        env.finish(settings)
    }

    fn jwks(settings: UserJwtSettings) -> JwksSettings {
        match settings.key {
            UserJwtKey::Jwks(j) => j,
            other => panic!("expected JWKS settings, got {other:?}"),
        }
    }

    #[test]
    fn jwks_url_makes_the_algorithm_optional_and_sets_the_defaults() {
        let settings = read(&env(&[("QRL_USER_JWKS_URL", "https://id.example/jwks")])).unwrap();

        let j = jwks(settings);
        assert!(j.algorithms.is_empty());
        assert_eq!(j.refresh, Duration::from_secs(300));
        assert_eq!(j.min_refetch, Duration::from_secs(30));
        assert_eq!(j.timeout, Duration::from_millis(2000));
    }

    #[test]
    fn with_a_jwks_the_algorithm_setting_is_an_allow_list() {
        let e = env(&[("QRL_USER_JWKS_URL", "https://id.example/jwks"), ("QRL_USER_JWT_ALG", "RS256, ES256")]);

        assert_eq!(jwks(read(&e).unwrap()).algorithms, [Algorithm::RS256, Algorithm::ES256]);
    }

    #[test]
    fn jwks_refuses_hs_algorithms_plain_http_and_a_second_key() {
        let refused = [
            env(&[("QRL_USER_JWKS_URL", "https://id.example/jwks"), ("QRL_USER_JWT_ALG", "RS256,HS256")]),
            env(&[("QRL_USER_JWKS_URL", "http://id.example/jwks")]),
            env(&[("QRL_USER_JWKS_URL", "https://id.example/jwks"), ("QRL_USER_JWT_SECRET", "s")]),
            env(&[("QRL_USER_JWKS_URL", "https://id.example/jwks"), ("QRL_USER_JWKS_MIN_REFETCH_SECS", "0")]),
        ];
        for e in refused {
            assert!(read(&e).is_err());
        }
        let local = env(&[("QRL_USER_JWKS_URL", "http://127.0.0.1:9000/jwks")]);
        assert!(read(&local).is_ok());
    }

    #[test]
    fn without_a_jwks_the_static_key_is_required_as_before() {
        let hs = env(&[("QRL_USER_JWT_ALG", "HS256"), ("QRL_USER_JWT_SECRET", "0123456789abcdef0123456789abcdef")]);
        let rs = env(&[("QRL_USER_JWT_ALG", "RS256")]);

        assert!(matches!(read(&hs).unwrap().key, UserJwtKey::Secret(_)));
        assert_eq!(read(&rs).unwrap_err(), ConfigError::Missing("QRL_USER_JWT_PUBLIC_KEY_PEM").into());
    }

    #[test]
    fn a_shared_secret_shorter_than_32_bytes_is_refused_without_being_printed() {
        let short = env(&[("QRL_USER_JWT_ALG", "HS256"), ("QRL_USER_JWT_SECRET", "0123456789abcdef0123456789abcde")]);

        let err = read(&short).unwrap_err().to_string();

        assert!(err.starts_with("QRL_USER_JWT_SECRET is invalid"), "{err}");
        assert!(!err.contains("0123456789"), "{err}");
    }
}
