//! `TestApp`: one running gateway with its own Redis key prefix, one method per endpoint, and the phone side
//! driven through the real session store.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use jsonwebtoken::TokenData;
use jsonwebtoken::jwk::JwkSet;
use qrlogin_shared::config::RedisSettings;
use qrlogin_shared::store::{DecideOutcome, Decision, DecisionCodes, ScanOutcome};
use qrlogin_shared::test_support::web_token::verify_web_token;
use qrlogin_shared::{SessionId, SessionStore, UserId};
use reqwest::header::COOKIE;
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde_json::Value;
pub use web_gateway::test_support::{AUDIENCE, ISSUER, TOKEN_TTL};

// What the tests assert of answers lives in `answers.rs`; suites import it from here with the rest. By path: the
// metrics suite includes this file from another directory.
#[path = "answers.rs"]
mod answers;
pub use answers::*;
use web_gateway::{Application, Settings};

pub const SESSION_TTL: Duration = web_gateway::test_support::SESSION_TTL;
pub const POLL_INTERVAL: Duration = Duration::from_millis(750);
pub const USER_AGENT: &str = "qrlogin-gateway-tests/1.0";
pub const PROBLEM_JSON: &str = "application/problem+json";
pub const ALLOWED_ORIGIN: &str = "https://www.test.qrlogin.invalid";

/// A binding secret of the right shape (43 base64url characters) that no session was issued with.
pub const FOREIGN_COOKIE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// [`Settings::for_test`] as this suite runs it: a faster poll interval and one allowed CORS origin.
///
/// Redis deadlines are generous here: tests that are not about timeouts must not turn a busy moment on a loaded
/// machine into a 503. The timeout tests use `test_support`'s 500 ms deadlines instead.
pub fn settings() -> Settings {
    let mut settings = Settings::for_test();
    let redis = &mut settings.service.redis;
    redis.wait_timeout = Duration::from_secs(5);
    redis.connect_timeout = Duration::from_secs(5);
    redis.command_timeout = Duration::from_secs(5);
    settings.poll_interval = POLL_INTERVAL;
    settings.cors_origins = vec![ALLOWED_ORIGIN.to_owned()];
    settings
}

pub struct TestApp {
    pub address: String,
    /// The Redis settings (and so the key prefix) the app runs with.
    pub redis: RedisSettings,
    /// The phone side: the real state machine on the app's Redis and key prefix.
    pub store: SessionStore,
    pub client: reqwest::Client,
    handle: ServerHandle,
    /// Stops the app as SIGTERM would.
    pub stopper: web_gateway::startup::Stopper,
}

/// A session started through `POST /v1/qr`, with the binding cookie's secret.
pub struct Login {
    pub uuid: String,
    pub cookie: String,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // `stop` sends the command at once; its future only waits for completion, which a test need not.
        std::mem::drop(self.handle.stop(false));
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(settings()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let redis = settings.service.redis.clone();
    let app = Application::build(settings).await.expect("build the gateway");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());
    // No cookie store: every test says exactly which cookie a request carries.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build the HTTP client");
    TestApp { address, store: SessionStore::connect(&redis).expect("session store"), redis, client, handle, stopper }
}

impl TestApp {
    pub async fn create_qr(&self) -> Response {
        self.client
            .post(format!("{}/v1/qr", self.address))
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .send()
            .await
            .expect("POST /v1/qr")
    }

    pub async fn poll(&self, uuid: &str, cookie: Option<&str>) -> Response {
        with_cookie(self.client.get(format!("{}/v1/qr/{uuid}", self.address)), cookie)
            .send()
            .await
            .expect("GET /v1/qr/{uuid}")
    }

    /// `GET /v1/qr/{uuid}?wait=<secs>&known=<status>`: a long-poll.
    pub async fn long_poll(&self, uuid: &str, cookie: Option<&str>, wait_secs: u64, known: &str) -> Response {
        let url = format!("{}/v1/qr/{uuid}?wait={wait_secs}&known={known}", self.address);
        with_cookie(self.client.get(url), cookie).send().await.expect("GET /v1/qr/{uuid}?wait")
    }

    pub async fn cancel(&self, uuid: &str, cookie: Option<&str>) -> Response {
        with_cookie(self.client.delete(format!("{}/v1/qr/{uuid}", self.address)), cookie)
            .send()
            .await
            .expect("DELETE /v1/qr/{uuid}")
    }

    pub async fn jwks(&self) -> Response {
        self.get("/.well-known/jwks.json").await
    }

    pub async fn healthz(&self) -> Response {
        self.get("/healthz").await
    }

    pub async fn readyz(&self) -> Response {
        self.get("/readyz").await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.address)).send().await.expect("GET")
    }

    /// `POST /v1/qr`, expecting success: the session id and the binding cookie's secret.
    pub async fn start_login(&self) -> Login {
        let res = self.create_qr().await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let cookie = binding_cookie(res.headers()).value;
        let body: Value = res.json().await.expect("JSON body");
        Login { uuid: body["uuid"].as_str().expect("uuid").to_owned(), cookie }
    }

    /// Polls with the right cookie and returns status and body.
    pub async fn poll_json(&self, login: &Login) -> (StatusCode, Value) {
        let res = self.poll(&login.uuid, Some(&login.cookie)).await;
        let status = res.status();
        (status, res.json().await.expect("JSON body"))
    }

    /// The expiry of the session's current QR code, as a phone holding that QR would present it.
    pub async fn code_expiry(&self, uuid: &str) -> u32 {
        self.session_hash(uuid).await.get("cexp").and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    pub async fn phone_scan(&self, uuid: &str, user: &str) {
        let outcome =
            self.store.scan(&session_id(uuid), &user_id(user), self.code_expiry(uuid).await, None, None).await;
        let outcome = outcome.expect("scan");
        assert!(matches!(outcome, ScanOutcome::Scanned { .. }), "scan: {outcome:?}");
    }

    pub async fn phone_decide(&self, uuid: &str, user: &str, decision: Decision) {
        let code = self.code_expiry(uuid).await;
        let outcome = self
            .store
            .decide(&session_id(uuid), &user_id(user), decision, DecisionCodes::new(code, None), &[])
            .await
            .expect("decide");
        assert_eq!(outcome.outcome, DecideOutcome::Done);
    }

    /// Scan and confirm as `user`: the login is now waiting for the browser to claim it.
    pub async fn phone_confirm(&self, uuid: &str, user: &str) {
        self.phone_scan(uuid, user).await;
        self.phone_decide(uuid, user, Decision::Confirm).await;
    }

    pub fn session_key(&self, uuid: &str) -> String {
        format!("{}:{{{uuid}}}", self.redis.key_prefix)
    }

    /// HGETALL of the session hash, read straight from Redis.
    pub async fn session_hash(&self, uuid: &str) -> HashMap<String, String> {
        let redis = qrlogin_shared::Redis::connect(&self.redis).expect("pool");
        let pool = redis.pool();
        let mut conn = pool.get().await.expect("Redis connection");
        redis::cmd("HGETALL").arg(self.session_key(uuid)).query_async(&mut conn).await.expect("HGETALL")
    }

    /// TTL of the session hash in seconds (-2: no such key, -1: no TTL).
    pub async fn session_ttl(&self, uuid: &str) -> i64 {
        let redis = qrlogin_shared::Redis::connect(&self.redis).expect("pool");
        let pool = redis.pool();
        let mut conn = pool.get().await.expect("Redis connection");
        redis::cmd("TTL").arg(self.session_key(uuid)).query_async(&mut conn).await.expect("TTL")
    }

    /// Every key under the app's prefix, read straight from Redis with SCAN (never KEYS).
    pub async fn keys_under_prefix(&self) -> Vec<String> {
        let redis = qrlogin_shared::Redis::connect(&self.redis).expect("pool");
        let pool = redis.pool();
        let mut conn = pool.get().await.expect("Redis connection");
        let pattern = format!("{}*", self.redis.key_prefix);
        let mut keys = Vec::new();
        let mut cursor = 0_u64;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .expect("SCAN");
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Verifies a web token the way the web team's backend would (see `verify_web_token`), against this app's
    /// published JWKS.
    pub async fn verify_token(&self, token: &str) -> TokenData<WebClaims> {
        let jwks: JwkSet = self.jwks().await.json().await.expect("JWKS JSON");
        verify_web_token(token, &jwks, ISSUER, AUDIENCE).unwrap_or_else(|e| panic!("{e}"))
    }
}

#[derive(Debug, Deserialize)]
pub struct WebClaims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    pub sid: String,
    pub amr: Vec<String>,
}

fn with_cookie(req: reqwest::RequestBuilder, cookie: Option<&str>) -> reqwest::RequestBuilder {
    match cookie {
        Some(secret) => req.header(COOKIE, format!("qrl_bind={secret}")),
        None => req,
    }
}

pub fn session_id(uuid: &str) -> SessionId {
    SessionId::parse(uuid).expect("a session id")
}

pub fn user_id(user: &str) -> UserId {
    UserId::parse(user).expect("a user id")
}
