//! The real mobile-api on a random port against the test Redis, plus the browser/gateway side simulated with the
//! real shared code on the same Redis and key prefix.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mobile_api::config::UserJwtSettings;
use mobile_api::{Application, Settings};
use qrlogin_phone::dev_token::DevTokenSettings;
use qrlogin_shared::config::RedisSettings;
use qrlogin_shared::qr_link::QrBaseUrl;
use qrlogin_shared::store::{ClaimOutcome, NewSession, PollOutcome, Requester};
use qrlogin_shared::{BindingHash, DeviceHash, SessionId, SessionStore, Verifier, test_support, unix_now};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use secrecy::SecretSlice;
use serde_json::{Value, json};

pub const JWT_SECRET: &str = mobile_api::test_support::JWT_SECRET;
pub const ISSUER: &str = mobile_api::test_support::ISSUER;
pub const AUDIENCE: &str = mobile_api::test_support::AUDIENCE;
pub const PROBLEM_JSON: &str = "application/problem+json";
/// How long a test session lives in Redis.
pub const SESSION_TTL: Duration = Duration::from_secs(120);

/// A verifier holding the services' signing secret, as the gateway has it.
pub fn gateway_verifier() -> Verifier {
    Verifier::new(SecretSlice::from(test_support::SIGNING_SECRET.as_bytes().to_vec()), vec![]).unwrap()
}

/// A verifier with a key of the right length that the services do not hold.
pub fn foreign_verifier() -> Verifier {
    Verifier::new(SecretSlice::from(vec![0x5a; 32]), vec![]).unwrap()
}

/// A valid, unexpired token for `user`, signed as the identity provider would (by the one development minter).
pub fn token_for(user: &str) -> String {
    let minter = DevTokenSettings::new(Algorithm::HS256, JWT_SECRET.into(), ISSUER, AUDIENCE).unwrap();
    minter.mint(user, Duration::from_secs(600)).unwrap()
}

/// Any claims, HS256-signed with `secret`: for the tokens the service must refuse.
pub fn signed_token(claims: &Value, secret: &str) -> String {
    signed_token_with(Algorithm::HS256, claims, secret)
}

pub fn signed_token_with(alg: Algorithm, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

/// The claims of a token the service accepts; tests remove or change one of them.
pub fn good_claims(user: &str) -> Value {
    let now = unix_now();
    json!({ "sub": user, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600 })
}

/// One login session as the gateway created it, with what the browser keeps (its binding).
pub struct TestSession {
    pub id: SessionId,
    pub binding: BindingHash,
    pub verification: String,
    pub qr_content: String,
    pub requester: Requester,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// The gateway's view of the same Redis and key prefix.
    pub store: SessionStore,
    pub verifier: Verifier,
    pub base: QrBaseUrl,
    handle: ServerHandle,
    /// Stops the app as SIGTERM would.
    pub stopper: qrlogin_shared::server::Stopper,
    /// Keeps a silent Redis listening for as long as the app lives.
    _silent_redis: Option<TcpListener>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent right away; awaiting its completion is not needed to end a test.
        drop(self.handle.stop(false));
    }
}

/// Redis settings on the test Redis with a key prefix of their own: for apps that must share one.
pub fn fresh_redis() -> RedisSettings {
    test_support::redis_settings(&test_support::redis_url())
}

/// An app against the test Redis, with a key prefix of its own.
pub async fn spawn_app() -> TestApp {
    spawn_with(Settings::for_test(), None).await
}

/// An app whose Redis refuses every connection.
pub async fn spawn_app_with_dead_redis() -> TestApp {
    let mut settings = Settings::for_test();
    settings.service.redis = test_support::redis_settings(&test_support::dead_redis_url());
    spawn_with(settings, None).await
}

/// An app whose Redis accepts connections and never answers.
pub async fn spawn_app_with_silent_redis() -> TestApp {
    let (listener, url) = test_support::silent_redis();
    let mut settings = Settings::for_test();
    settings.service.redis = test_support::redis_settings(&url);
    spawn_with(settings, Some(listener)).await
}

/// An app against the test Redis whose user tokens are checked as `user_jwt` says (e.g. against a JWKS).
pub async fn spawn_app_with_user_jwt(user_jwt: UserJwtSettings) -> TestApp {
    spawn_with(Settings { user_jwt, ..Settings::for_test() }, None).await
}

/// An app built from exactly these settings.
pub async fn spawn_app_with_settings(settings: Settings) -> TestApp {
    spawn_with(settings, None).await
}

/// An app against the test Redis with these abuse limits, on a key prefix of its own.
pub async fn spawn_app_with_limits(limits: mobile_api::config::MobileLimits) -> TestApp {
    spawn_app_on(test_support::redis_settings(&test_support::redis_url()), limits).await
}

/// An app on exactly this Redis and key prefix: apps built from clones of one `RedisSettings` are instances of
/// one deployment, sharing sessions and rate limits.
pub async fn spawn_app_on(redis: RedisSettings, limits: mobile_api::config::MobileLimits) -> TestApp {
    let mut settings = Settings { limits, ..Settings::for_test() };
    settings.service.redis = redis;
    spawn_with(settings, None).await
}

/// An app on the test settings as `configure` changes them.
pub async fn spawn_app_configured(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::for_test();
    configure(&mut settings);
    spawn_with(settings, None).await
}

async fn spawn_with(settings: Settings, silent: Option<TcpListener>) -> TestApp {
    let redis = settings.service.redis.clone();
    let base = settings.service.qr_base_url.clone();
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap(),
        store: SessionStore::connect(&redis).unwrap(),
        verifier: gateway_verifier(),
        base,
        handle,
        stopper,
        _silent_redis: silent,
    }
}

impl TestApp {
    /// Stops the app as SIGTERM would: no new connections, in-flight requests finish. Resolves once stopped.
    pub async fn stop_gracefully(&self) {
        self.handle.stop(true).await;
    }

    /// Creates a pending session the way the gateway does and returns what its QR carries.
    pub async fn new_session(&self) -> TestSession {
        self.new_session_from("203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64) qrlogin-test", None).await
    }

    /// [`TestApp::new_session`] for a browser at `ip` saying `user_agent`, with this device cookie's hash.
    pub async fn new_session_from(&self, ip: &str, user_agent: &str, device: Option<&DeviceHash>) -> TestSession {
        let id = SessionId::random();
        let binding = BindingHash::of_secret(&format!("browser-secret-{id}"));
        let requester = Requester {
            ip: ip.to_owned(),
            user_agent: user_agent.to_owned(),
            created_at: "2025-06-01T12:34:56Z".to_owned(),
        };
        let code_expires_at = expires_at(SESSION_TTL);
        let new = NewSession {
            binding: &binding,
            requester: &requester,
            device,
            ttl: SESSION_TTL,
            code_expires_at,
            trace: None,
            dpop_jkt: None,
        };
        let created = self.store.create(&id, &new, &[]).await.unwrap_or_else(|e| {
            panic!("cannot reach the test Redis ({e}); start it with `deploy/redis.sh 6390 target/test-redis`")
        });
        assert!(created, "session id collision");
        let code = self.verifier.issue(&id, code_expires_at);
        TestSession { id, binding, verification: code.encode(), qr_content: self.base.link(&id, &code), requester }
    }

    /// The browser's poll (which never changes the state).
    pub async fn poll(&self, session: &TestSession) -> PollOutcome {
        self.store.poll(&session.id, &session.binding, std::time::Duration::ZERO).await.unwrap().outcome
    }

    /// What the gateway does once the poll says confirmed: hand the token out (here a stand-in answer).
    pub async fn claim(&self, session: &TestSession) -> ClaimOutcome {
        let grace = std::time::Duration::from_secs(10);
        self.store.claim(&session.id, &session.binding, r#"{"status":"confirmed"}"#, grace, None).await.unwrap()
    }

    pub async fn scan(&self, token: &str, qr_content: &str) -> reqwest::Response {
        self.post_json("/v1/scan", Some(token), &json!({ "qr_content": qr_content })).await
    }

    pub async fn confirm(&self, token: &str, uuid: &str, verification: &str) -> reqwest::Response {
        self.post_json("/v1/confirm", Some(token), &json!({ "uuid": uuid, "verification": verification })).await
    }

    pub async fn deny(&self, token: &str, uuid: &str, verification: &str) -> reqwest::Response {
        self.post_json("/v1/deny", Some(token), &json!({ "uuid": uuid, "verification": verification })).await
    }

    /// Scans as `user` and checks it worked: the common first step of the decide tests.
    pub async fn scan_ok(&self, user: &str, session: &TestSession) {
        let res = self.scan(&token_for(user), &session.qr_content).await;
        assert_eq!(res.status(), 200, "scan failed: {}", res.text().await.unwrap_or_default());
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        self.post_raw(path, token, "application/json", body.to_string()).await
    }

    /// Any body with any content type, for the malformed cases.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: String,
    ) -> reqwest::Response {
        let mut req = self.client.post(format!("{}{path}", self.address)).header(CONTENT_TYPE, content_type).body(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).send().await.unwrap()
    }
}

/// Unix time `ttl` from now, as a verification code carries it.
pub fn expires_at(ttl: Duration) -> u32 {
    u32::try_from(unix_now() + ttl.as_secs()).unwrap()
}

/// A problem+json answer, checked for its status, content type and stable `type`.
pub struct Problem {
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

/// Asserts `res` is a problem+json answer with `status` and type `urn:qrlogin:problem:<slug>`.
pub async fn assert_problem(res: reqwest::Response, status: u16, slug: &str) -> Problem {
    let headers = res.headers().clone();
    let actual = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(content_type, PROBLEM_JSON, "content type of a {status}; body: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["type"], format!("urn:qrlogin:problem:{slug}"), "problem type; body: {text}");
    assert_eq!(body["status"], status, "status inside the body: {text}");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "problem without a title: {text}");
    Problem { headers, text, body }
}

/// Asserts `res` is a 200 JSON answer and returns its body.
pub async fn assert_ok_json(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "body: {text}");
    serde_json::from_str(&text).unwrap()
}
