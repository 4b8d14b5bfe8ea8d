//! The running system: web-gateway and mobile-api on loopback ports sharing one Redis key prefix, and the HTTP
//! clients of a browser and a phone with one method per endpoint.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use jsonwebtoken::jwk::JwkSet;
use mobile_api::config::{UserJwtKey, UserJwtSettings};
use qrlogin_phone::dev_token::DevTokenSettings;
use qrlogin_shared::config::ServiceSettings;
use qrlogin_shared::test_support;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use web_gateway::startup::Stopper;

use crate::qr::{decode_qr, split_qr_link_under};
use crate::reply::Reply;
use crate::sse::EventStream;
use crate::tokens::WebToken;
use crate::{
    BROWSER_USER_AGENT, CLAIM_GRACE_SECS, PHONE_USER_AGENT, USER_AUDIENCE, USER_ISSUER, USER_JWT_SECRET,
    USER_LEEWAY_SECS, WEB_AUDIENCE, WEB_ISSUER,
};

/// Generous bound on any one request, so a hung service fails a test instead of stalling the run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The same for a whole event stream; tests bound each read far tighter.
const STREAM_TIMEOUT: Duration = Duration::from_secs(120);

mod setup;

use setup::{client, client_from, copy_of, gateway_settings, send, user_jwt_settings, with_cookie};

pub struct Stack {
    pub gateway_url: String,
    pub mobile_url: String,
    /// What the QR links start with.
    pub qr_base_url: String,
    /// The phone side's token settings, to mint user tokens mobile-api accepts.
    pub user_jwt: UserJwtSettings,
    browser: reqwest::Client,
    phone: reqwest::Client,
    servers: Vec<ServerHandle>,
    /// Stops this stack's gateway gracefully, as SIGTERM would; `None` for a [`Stack::remote`].
    gateway_stopper: Option<Stopper>,
    /// The gateway's shared settings, for [`Stack::another_gateway`]; `None` for a [`Stack::remote`].
    service: Option<ServiceSettings>,
}

/// A login the browser started, with the QR as the phone reads it off the PNG.
#[derive(Debug, Clone)]
pub struct Login {
    pub uuid: String,
    /// The text decoded from `qr_image`: what the phone sends as `qr_content`.
    pub qr_text: String,
    /// The part of the QR link after `<uuid>.`.
    pub verification: String,
    /// The value of the `qrl_bind` cookie the gateway set.
    pub binding: String,
    /// The whole `Set-Cookie` header, for attribute checks.
    pub set_cookie: String,
    /// The create response body.
    pub created: Value,
}

impl Stack {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts both services; `configure` may change the gateway's settings first. mobile-api then copies the
    /// gateway's shared settings (Redis, key prefix, signing secret, QR base), so the two always agree.
    pub async fn start_with(configure: impl FnOnce(&mut web_gateway::Settings)) -> Self {
        Self::start_configured(configure, |_| {}).await
    }

    /// As [`Stack::start_with`], and `configure_mobile` may then change mobile-api's settings (e.g. give it
    /// other keys than the gateway, as during a key rotation).
    pub async fn start_configured(
        configure: impl FnOnce(&mut web_gateway::Settings),
        configure_mobile: impl FnOnce(&mut mobile_api::Settings),
    ) -> Self {
        let mut gateway = gateway_settings(test_support::service_settings());
        configure(&mut gateway);
        let needs_redis = gateway.service.redis.url.expose_secret() == test_support::redis_url();
        let mut mobile = mobile_api::Settings {
            service: copy_of(&gateway.service),
            user_jwt: user_jwt_settings(),
            ..mobile_api::Settings::for_test()
        };
        configure_mobile(&mut mobile);
        let service = copy_of(&gateway.service);

        let gateway_app = web_gateway::Application::build(gateway).await.expect("web-gateway starts");
        let mobile_app = mobile_api::Application::build(mobile).await.expect("mobile-api starts");
        let gateway_url = format!("http://127.0.0.1:{}", gateway_app.port());
        let mobile_url = format!("http://127.0.0.1:{}", mobile_app.port());
        let servers = vec![gateway_app.handle(), mobile_app.handle()];
        let gateway_stopper = gateway_app.stopper();
        tokio::spawn(gateway_app.run_until_stopped());
        tokio::spawn(mobile_app.run_until_stopped());

        let stack = Self {
            gateway_url,
            mobile_url,
            qr_base_url: test_support::QR_BASE_URL.to_owned(),
            user_jwt: user_jwt_settings(),
            browser: client(BROWSER_USER_AGENT),
            phone: client(PHONE_USER_AGENT),
            servers,
            gateway_stopper: Some(gateway_stopper),
            service: Some(service),
        };
        if needs_redis {
            // Fail here, with the fix, rather than as a puzzling 503 somewhere in the test.
            let ready = stack.gateway_request(reqwest::Method::GET, "/readyz", None).await;
            assert_eq!(
                ready.status.as_u16(),
                200,
                "the test Redis at {} does not answer: start it with `deploy/redis.sh 6390 target/test-redis` \
                 or point QRL_TEST_REDIS_URL at one",
                test_support::redis_url()
            );
        }
        stack
    }

    /// A second gateway instance (another port) on the same Redis and key prefix, in front of this stack's
    /// mobile-api: a browser may create on one instance and wait on the other. `configure` starts from the
    /// harness defaults with this stack's shared settings (Redis, prefix, signing secret, QR base). The new
    /// stack owns only its gateway; keep this one alive as long as the new one is used.
    pub async fn another_gateway(&self, configure: impl FnOnce(&mut web_gateway::Settings)) -> Self {
        let mut settings = gateway_settings(copy_of(self.service.as_ref().expect("not a remote stack")));
        configure(&mut settings);
        let service = copy_of(&settings.service);
        let app = web_gateway::Application::build(settings).await.expect("web-gateway starts");
        let stack = Self {
            gateway_url: format!("http://127.0.0.1:{}", app.port()),
            mobile_url: self.mobile_url.clone(),
            qr_base_url: test_support::QR_BASE_URL.to_owned(),
            user_jwt: user_jwt_settings(),
            browser: client(BROWSER_USER_AGENT),
            phone: client(PHONE_USER_AGENT),
            servers: vec![app.handle()],
            gateway_stopper: Some(app.stopper()),
            service: Some(service),
        };
        tokio::spawn(app.run_until_stopped());
        stack
    }

    /// The clients of a browser and a phone for services deployed elsewhere (the container stack behind its
    /// proxy), whose QR links start with `qr_base_url` and whose app users' tokens `user_jwt` describes. It
    /// starts and stops nothing.
    pub fn remote(gateway_url: &str, mobile_url: &str, qr_base_url: &str, user_jwt: UserJwtSettings) -> Self {
        Self {
            gateway_url: gateway_url.to_owned(),
            mobile_url: mobile_url.to_owned(),
            qr_base_url: qr_base_url.to_owned(),
            user_jwt,
            browser: client(BROWSER_USER_AGENT),
            phone: client(PHONE_USER_AGENT),
            servers: Vec::new(),
            gateway_stopper: None,
            service: None,
        }
    }

    /// Stops the gateway gracefully, as SIGTERM would: waiting browsers are answered, streams end, then
    /// in-flight requests finish. Resolves once the server has stopped.
    pub async fn stop_gateway(&self) {
        self.gateway_stopper.as_ref().expect("a remote stack's gateways stop with their containers").stop().await;
    }

    /// The same services reached at other addresses (e.g. through a reverse proxy), by a browser that connects
    /// from `browser_ip`: a loopback address of its own (`127.0.0.2`), so that whoever listens sees a client
    /// other than itself (and other than a proxy on `127.0.0.1`). The phone still connects from `127.0.0.1`.
    /// The view owns no server: dropping it stops nothing, but its `stop_gateway` stops this stack's gateway.
    pub fn via(&self, gateway_url: &str, mobile_url: &str, browser_ip: IpAddr) -> Self {
        Self {
            gateway_url: gateway_url.to_owned(),
            mobile_url: mobile_url.to_owned(),
            qr_base_url: self.qr_base_url.clone(),
            user_jwt: user_jwt_settings(),
            browser: client_from(BROWSER_USER_AGENT, Some(browser_ip)),
            phone: client(PHONE_USER_AGENT),
            servers: Vec::new(),
            gateway_stopper: self.gateway_stopper.clone(),
            service: self.service.as_ref().map(copy_of),
        }
    }

    /// The clients of a browser and a phone for services running elsewhere (other processes: `Services`), which
    /// accept this harness's user tokens. It owns and stops nothing.
    pub fn at(gateway_url: &str, mobile_url: &str) -> Self {
        Self::remote(gateway_url, mobile_url, test_support::QR_BASE_URL, user_jwt_settings())
    }

    // --- the browser -------------------------------------------------------------------------------------

    /// `POST /v1/qr`.
    pub async fn create_qr(&self) -> Reply {
        self.create_qr_with(&[]).await
    }

    /// `POST /v1/qr` with extra (or overriding) request headers.
    pub async fn create_qr_with(&self, headers: &[(&str, &str)]) -> Reply {
        let req = headers
            .iter()
            .fold(self.browser.post(format!("{}/v1/qr", self.gateway_url)), |req, (k, v)| req.header(*k, *v));
        send(req).await
    }

    /// Starts a login and reads its QR off the PNG; asserts the 201 and that the picture says what the JSON says.
    pub async fn login(&self) -> Login {
        self.login_with(&[]).await
    }

    /// [`Stack::login`] with extra request headers on the create.
    pub async fn login_with(&self, headers: &[(&str, &str)]) -> Login {
        let reply = self.create_qr_with(headers).await;
        reply.expect_status(201);
        Self::login_of(&self.qr_base_url, &reply)
    }

    /// [`Stack::login`], or the create's answer when it is not a 201 (a test that expects refusals or faults).
    pub async fn try_login(&self) -> Result<Login, Reply> {
        let reply = self.create_qr().await;
        if reply.status.as_u16() != 201 {
            return Err(reply);
        }
        Ok(Self::login_of(&self.qr_base_url, &reply))
    }

    fn login_of(qr_base_url: &str, reply: &Reply) -> Login {
        let created = reply.body.clone();
        let set_cookie = reply.header("set-cookie").expect("create sets the binding cookie").to_owned();
        let binding = set_cookie
            .split(';')
            .next()
            .and_then(|pair| pair.trim().strip_prefix("qrl_bind="))
            .unwrap_or_else(|| panic!("Set-Cookie is not qrl_bind: {set_cookie}"))
            .to_owned();
        let qr_text = decode_qr(created["qr_image"].as_str().expect("qr_image is a string"));
        assert_eq!(created["qr_content"], qr_text.as_str(), "the PNG must encode exactly qr_content");
        let (uuid, verification) = split_qr_link_under(qr_base_url, &qr_text);
        assert_eq!(created["uuid"], uuid.as_str(), "the QR names the session it was issued for");
        Login { uuid, qr_text, verification, binding, set_cookie, created }
    }

    /// `GET /v1/qr/{uuid}` with `binding` as the `qrl_bind` cookie, or no cookie at all.
    pub async fn poll(&self, uuid: &str, binding: Option<&str>) -> Reply {
        send(with_cookie(self.browser.get(format!("{}/v1/qr/{uuid}", self.gateway_url)), binding)).await
    }

    /// `GET /v1/qr/{uuid}?wait=<wait_secs>&known=<known>`: the long-poll. The request may take the whole wait.
    pub async fn long_poll(&self, uuid: &str, binding: Option<&str>, wait_secs: u64, known: &str) -> Reply {
        let url = format!("{}/v1/qr/{uuid}?wait={wait_secs}&known={known}", self.gateway_url);
        let req = self.browser.get(url).timeout(Duration::from_secs(wait_secs) + REQUEST_TIMEOUT);
        send(with_cookie(req, binding)).await
    }

    /// `GET /v1/qr/{uuid}/events`, optionally resuming after `last_event_id`: the open stream on 200, else
    /// the whole (non-stream) answer. The stream may stay open for minutes: bound each read instead.
    pub async fn events(
        &self,
        uuid: &str,
        binding: Option<&str>,
        last_event_id: Option<&str>,
    ) -> Result<EventStream, Reply> {
        let mut req = self.browser.get(format!("{}/v1/qr/{uuid}/events", self.gateway_url)).timeout(STREAM_TIMEOUT);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let started = Instant::now();
        let res = with_cookie(req, binding).send().await.expect("the service answers");
        if res.status() == reqwest::StatusCode::OK {
            Ok(EventStream::new(res))
        } else {
            Err(Reply::read(res, started).await)
        }
    }

    /// `DELETE /v1/qr/{uuid}` with `binding` as the `qrl_bind` cookie, or no cookie at all.
    pub async fn cancel(&self, uuid: &str, binding: Option<&str>) -> Reply {
        send(with_cookie(self.browser.delete(format!("{}/v1/qr/{uuid}", self.gateway_url)), binding)).await
    }

    /// `GET /.well-known/jwks.json`, parsed.
    pub async fn jwks(&self) -> JwkSet {
        let reply = send(self.browser.get(format!("{}/.well-known/jwks.json", self.gateway_url))).await;
        serde_json::from_value(reply.expect_status(200).clone()).expect("the JWKS is a JWK set")
    }

    /// Verifies a web token against the gateway's published JWKS.
    pub async fn verify_web_token(&self, token: &str) -> WebToken {
        WebToken::verify(token, &self.jwks().await)
    }

    /// `POST /v1/introspect` as the web backend `client` (id, secret) would ask about `token`.
    pub async fn introspect(&self, client: (&str, &str), token: &str) -> Reply {
        let req = self.browser.post(format!("{}/v1/introspect", self.gateway_url)).basic_auth(client.0, Some(client.1));
        // A JWT's characters (base64url and dots) need no form escaping.
        send(req.header("content-type", "application/x-www-form-urlencoded").body(format!("token={token}"))).await
    }

    /// `GET /v1/me` with the web token.
    pub async fn me(&self, token: &str) -> Reply {
        send(self.browser.get(format!("{}/v1/me", self.gateway_url)).bearer_auth(token)).await
    }

    /// `GET /v1/me` with exactly these request headers (`Authorization`, `DPoP`: a DPoP-bound token's).
    pub async fn me_with(&self, headers: &[(&str, &str)]) -> Reply {
        let req = headers
            .iter()
            .fold(self.browser.get(format!("{}/v1/me", self.gateway_url)), |req, (k, v)| req.header(*k, *v));
        send(req).await
    }

    /// Any gateway request, for the odd paths and methods no browser code would use.
    pub async fn gateway_request(&self, method: reqwest::Method, path: &str, binding: Option<&str>) -> Reply {
        send(with_cookie(self.browser.request(method, format!("{}{path}", self.gateway_url)), binding)).await
    }

    // --- the phone ---------------------------------------------------------------------------------------

    /// A user token mobile-api accepts, valid for five minutes.
    pub fn user_token(&self, user: &str) -> String {
        let UserJwtKey::Secret(secret) = &self.user_jwt.key else { panic!("the stack's user tokens are HS256") };
        let jwt = &self.user_jwt;
        DevTokenSettings::new(jwt.algorithm, secret.clone(), &jwt.issuer, &jwt.audience)
            .and_then(|minter| minter.mint(user, Duration::from_secs(300)))
            .expect("HS256 dev token")
    }

    /// `POST /v1/scan` with `{"qr_content": ...}`.
    pub async fn scan(&self, token: &str, qr_content: &str) -> Reply {
        self.phone_json("/v1/scan", Some(token), &json!({ "qr_content": qr_content })).await
    }

    /// `POST /v1/confirm` with `{"uuid": ..., "verification": ...}`.
    pub async fn confirm(&self, token: &str, uuid: &str, verification: &str) -> Reply {
        self.phone_json("/v1/confirm", Some(token), &json!({ "uuid": uuid, "verification": verification })).await
    }

    /// `POST /v1/deny` with `{"uuid": ..., "verification": ...}`.
    pub async fn deny(&self, token: &str, uuid: &str, verification: &str) -> Reply {
        self.phone_json("/v1/deny", Some(token), &json!({ "uuid": uuid, "verification": verification })).await
    }

    /// `GET /v1/logins/{uuid}`: how a login the token's user scanned stands.
    pub async fn login_status(&self, token: &str, uuid: &str) -> Reply {
        send(self.phone.get(format!("{}/v1/logins/{uuid}", self.mobile_url)).bearer_auth(token)).await
    }

    /// `GET /v1/sessions`: the token's user's web sessions.
    pub async fn web_sessions(&self, token: &str) -> Reply {
        send(self.phone.get(format!("{}/v1/sessions", self.mobile_url)).bearer_auth(token)).await
    }

    /// `DELETE /v1/sessions/{sid}`, or `DELETE /v1/sessions` with `None`.
    pub async fn end_web_sessions(&self, token: &str, sid: Option<&str>) -> Reply {
        let path = sid.map_or_else(|| "/v1/sessions".to_owned(), |sid| format!("/v1/sessions/{sid}"));
        send(self.phone.delete(format!("{}{path}", self.mobile_url)).bearer_auth(token)).await
    }

    /// A JSON POST to mobile-api with an optional bearer token.
    pub async fn phone_json(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.phone_raw(path, token, "application/json", body.to_string().into_bytes()).await
    }

    /// A POST to mobile-api with any body and content type: malformed and oversized requests.
    pub async fn phone_raw(&self, path: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> Reply {
        let mut req = self.phone.post(format!("{}{path}", self.mobile_url)).header("content-type", content_type);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        send(req.body(body)).await
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for server in &self.servers {
            // `stop` sends the command when called; the returned future only waits for completion, which the
            // ending test runtime cannot drive any more.
            drop(server.stop(false));
        }
    }
}
