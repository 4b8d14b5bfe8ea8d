//! The local identity provider of the JWKS tests: serves a key set that can be swapped at run time, counts how
//! often it is asked, and can be made slow or failing. Its signing keys under `../keys/` are test-only.

use std::net::TcpListener;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mobile_api::config::{JwksSettings, UserJwtKey, UserJwtSettings};
use serde_json::{Value, json};

use crate::helpers::{AUDIENCE, ISSUER, TestApp, spawn_app_with_user_jwt};

pub const RSA_A: &str = include_str!("../keys/rs256-a.pem");
pub const RSA_A_PUBLIC: &str = include_str!("../keys/rs256-a.pub.pem");
pub const RSA_B: &str = include_str!("../keys/rs256-b.pem");
pub const EC: &str = include_str!("../keys/es256.pem");

/// The local identity provider: `GET /jwks.json` answers the current set (or 500 while failing).
pub struct Provider {
    url: String,
    state: web::Data<ProviderState>,
    handle: ServerHandle,
}

struct ProviderState {
    set: Mutex<Value>,
    fetches: AtomicUsize,
    failing: AtomicBool,
    delay: Duration,
}

impl Provider {
    pub async fn start(keys: &[&SigningKey]) -> Self {
        Self::start_with_delay(keys, Duration::ZERO).await
    }

    /// A provider that takes `delay` to answer: long enough for requests to pile up behind one fetch.
    pub async fn start_with_delay(keys: &[&SigningKey], delay: Duration) -> Self {
        let state = web::Data::new(ProviderState {
            set: Mutex::new(set_of(keys)),
            fetches: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
            delay,
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}/jwks.json", listener.local_addr().unwrap().port());
        let data = state.clone();
        let server =
            HttpServer::new(move || App::new().app_data(data.clone()).route("/jwks.json", web::get().to(jwks)))
                .workers(1)
                .listen(listener)
                .unwrap()
                .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, state, handle }
    }

    pub fn serve(&self, keys: &[&SigningKey]) {
        *self.state.set.lock().unwrap() = set_of(keys);
    }

    pub fn serve_raw(&self, set: Value) {
        *self.state.set.lock().unwrap() = set;
    }

    pub fn fail(&self) {
        self.state.failing.store(true, Ordering::SeqCst);
    }

    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// mobile-api checking user tokens against this provider's JWKS.
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
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            leeway: Duration::from_secs(30),
        }
    }

    /// An app with the defaults: 300 s cache, 30 s between refetches.
    pub async fn app(&self) -> TestApp {
        spawn_app_with_user_jwt(self.settings(Duration::from_secs(30), Duration::from_secs(300))).await
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn jwks(state: web::Data<ProviderState>) -> HttpResponse {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(state.delay).await;
    if state.failing.load(Ordering::SeqCst) {
        return HttpResponse::InternalServerError().finish();
    }
    let set = state.set.lock().unwrap().clone();
    HttpResponse::Ok().json(set)
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
