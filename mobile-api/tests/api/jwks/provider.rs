//! The local identity provider of the JWKS tests, on the kit's fake: serves a key set that can be swapped at run
//! time, counts how often it is asked, and can be made slow or failing. Its signing keys under `../keys/` are
//! test-only.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mobile_api::config::{JwksSettings, UserJwtKey, UserJwtSettings};
use qrlogin_shared::test_support::fake::{FakeService, ResponseTemplate};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with_user_jwt};

pub const RSA_A: &str = include_str!("../keys/rs256-a.pem");
pub const RSA_A_PUBLIC: &str = include_str!("../keys/rs256-a.pub.pem");
pub const RSA_B: &str = include_str!("../keys/rs256-b.pem");
pub const EC: &str = include_str!("../keys/es256.pem");

/// The local identity provider: `GET /jwks.json` answers the current set (or 500 while failing).
pub struct Provider {
    url: String,
    set: Arc<Mutex<Value>>,
    fake: FakeService,
}

impl Provider {
    pub async fn start(keys: &[&SigningKey]) -> Self {
        Self::start_with_delay(keys, Duration::ZERO).await
    }

    /// A provider that takes `delay` to answer: long enough for requests to pile up behind one fetch.
    pub async fn start_with_delay(keys: &[&SigningKey], delay: Duration) -> Self {
        let set = Arc::new(Mutex::new(set_of(keys)));
        let served = Arc::clone(&set);
        let fake = FakeService::start("^/jwks\\.json$", delay, move |_| {
            ResponseTemplate::new(200).set_body_json(served.lock().unwrap().clone())
        })
        .await;
        Self { url: format!("{}/jwks.json", fake.uri()), set, fake }
    }

    pub fn serve(&self, keys: &[&SigningKey]) {
        *self.set.lock().unwrap() = set_of(keys);
    }

    pub fn serve_raw(&self, set: Value) {
        *self.set.lock().unwrap() = set;
    }

    pub fn fail(&self) {
        self.fake.fail(true);
    }

    pub fn fetches(&self) -> usize {
        self.fake.requests()
    }

    /// mobile-api checking user tokens against this provider's JWKS (issuer, audience and leeway as in
    /// [`UserJwtSettings::for_test`]).
    pub fn settings(&self, min_refetch: Duration, refresh: Duration) -> UserJwtSettings {
        UserJwtSettings {
            algorithm: Algorithm::RS256,
            key: UserJwtKey::Jwks(JwksSettings {
                url: self.url.parse().unwrap(),
                algorithms: Vec::new(),
                refresh,
                min_refetch,
                timeout: Duration::from_secs(2),
            }),
            ..UserJwtSettings::for_test()
        }
    }

    /// An app with the defaults: 300 s cache, 30 s between refetches.
    pub async fn app(&self) -> TestApp {
        spawn_app_with_user_jwt(self.settings(Duration::from_secs(30), Duration::from_secs(300))).await
    }
}

/// One of the provider's signing keys, with its public JWK as the provider publishes it.
pub struct SigningKey {
    pub kid: String,
    alg: Algorithm,
    pub key: EncodingKey,
    jwk: Value,
}

impl SigningKey {
    pub fn rsa(pem: &str, kid: &str) -> Self {
        Self::new(EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(), Algorithm::RS256, kid)
    }

    pub fn ec(pem: &str, kid: &str) -> Self {
        Self::new(EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(), Algorithm::ES256, kid)
    }

    pub fn new(key: EncodingKey, alg: Algorithm, kid: &str) -> Self {
        let mut jwk = Jwk::from_encoding_key(&key, alg).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        // Like many providers, publish no `alg`: the key type must imply it.
        jwk.common.key_algorithm = None;
        Self { kid: kid.to_owned(), alg, key, jwk: serde_json::to_value(jwk).unwrap() }
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }

    pub fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

fn set_of(keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
}

/// A token with any header, HS256-signed with `secret`.
pub fn hs256_token(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let key = EncodingKey::from_secret(secret);
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{signing_input}.{signature}")
}
