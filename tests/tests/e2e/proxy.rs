//! Behind the project's reverse proxy: Debian's nginx, started with deploy/nginx/qrlogin.conf (rewritten only for
//! addresses), in front of two gateway instances and one mobile-api that trust the proxy's address alone. The
//! browser connects from 127.0.0.2 and the proxy from 127.0.0.1, so the services can only learn the browser's
//! address from the proxy's `X-Forwarded-For`, and must learn exactly that one.
//!
//! Timing is asserted with generous bounds only: "told within a few seconds of the phone acting, on a stream
//! that stays open" separates an unbuffered proxy from one that holds events back until the stream ends.

mod rolling_restart;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use qrlogin_e2e::{BROWSER_USER_AGENT, Login, Nginx, Reply, Stack};
use qrlogin_shared::http::TrustedProxies;
use serde_json::{Value, json};

use crate::directory_profile;

/// The proxy's address as the services see it: the only one they trust.
const PROXY_IP: &str = "127.0.0.1";
/// Where the browser connects from: any loopback address but the proxy's.
const BROWSER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// What a browser (or anyone before the proxy) claims to be.
const FORGED: &str = "6.6.6.6";
/// Time for a waiter to register before the phone acts.
const SETTLE: Duration = Duration::from_millis(500);
/// A pushed answer arrives within this of the phone's act, far below any wait used.
const PROMPTLY: Duration = Duration::from_secs(5);
/// Bound on reading one event (or the end) of a stream.
const EVENT_WAIT: Duration = Duration::from_secs(10);
/// A long-poll's wait: far longer than any push takes.
const WAIT_SECS: u64 = 20;

/// Two gateways (A, B) and mobile-api trusting only the proxy, nginx in front, and the browser and phone of
/// [`Proxied::browser`] that talk to nginx alone. Fields drop in order: the view, nginx, then the services.
struct Proxied {
    /// The browser (from [`BROWSER_IP`]) and the phone, both sending everything to nginx.
    browser: Stack,
    nginx: Nginx,
    b: Stack,
    a: Stack,
}

impl Proxied {
    async fn start() -> Self {
        let a = Stack::start_with(trust_the_proxy).await;
        let b = a.another_gateway(|_| {}).await;
        let nginx = Nginx::start(&a.gateway_url, &b.gateway_url, &a.mobile_url).await;
        let browser = a.via(&nginx.url, &nginx.url, BROWSER_IP);
        Self { browser, nginx, b, a }
    }
}

/// Both services (mobile-api copies the gateway's shared settings) believe `X-Forwarded-For` from the proxy only.
fn trust_the_proxy(settings: &mut web_gateway::Settings) {
    settings.service.trusted_proxies = TrustedProxies::parse(PROXY_IP).expect("a valid address");
}

/// The phone scans (through whatever `stack` points at) and returns the requester it is shown.
async fn scan(stack: &Stack, login: &Login) -> Value {
    let reply = stack.scan(&stack.user_token("alice"), &login.qr_text).await;
    reply.expect_status(200)["requester"].clone()
}

async fn confirm(stack: &Stack, login: &Login) {
    stack.confirm(&stack.user_token("alice"), &login.uuid, &login.verification).await.expect_status(200);
}

/// Runs `fut` and notes when it finished.
async fn timed<T>(fut: impl Future<Output = T>) -> (T, Instant) {
    let out = fut.await;
    (out, Instant::now())
}

/// Runs `fut` (the phone) after [`SETTLE`] and notes when it finished.
async fn after_settling<T>(fut: impl Future<Output = T>) -> (T, Instant) {
    tokio::time::sleep(SETTLE).await;
    timed(fut).await
}

/// The answer (done at `answered`) came within [`PROMPTLY`] of the phone's act (done at `acted`), or before it:
/// the push is published before the phone's response is sent.
#[track_caller]
fn assert_prompt(answered: Instant, acted: Instant, what: &str) {
    let after = answered.saturating_duration_since(acted);
    assert!(after < PROMPTLY, "{what}: answered {after:?} after the phone acted");
}

/// A confirmed answer for alice whose token verifies with the JWKS (fetched through the proxy too).
async fn assert_token_for_alice(stack: &Stack, body: &Value) {
    assert_eq!(body["status"], "confirmed", "body: {body}");
    assert_eq!(body["user"], directory_profile("alice"), "body: {body}");
    let token = body["token"].as_str().unwrap_or_else(|| panic!("a confirmed answer carries the token: {body}"));
    assert_eq!(stack.verify_web_token(token).await.claims["sub"], "alice");
}

#[track_caller]
fn assert_status_reply(reply: &Reply, status: &str) {
    reply.expect_json(200, &json!({ "status": status }));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

/// The phone is shown the browser's own address and browser, as the services learnt them through the proxy.
#[track_caller]
fn assert_requester_is_the_browser(requester: &Value) {
    assert_eq!(requester["ip"], BROWSER_IP.to_string(), "requester: {requester}");
    assert_eq!(requester["user_agent"], BROWSER_USER_AGENT, "requester: {requester}");
}

#[tokio::test]
async fn a_whole_login_with_an_event_stream_goes_through_the_proxy() {
    // Arrange: the browser creates the login and opens its event stream, both through nginx.
    let p = Proxied::start().await;
    let browser = &p.browser;
    let login = browser.login().await;
    let mut stream = browser.events(&login.uuid, Some(&login.binding), None).await.expect("the stream opens");
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    let first = stream.next_status(EVENT_WAIT).await;
    assert_eq!(first.json()["qr_content"], login.qr_text.as_str(), "the first event is the pending state");

    // Act: the phone scans, through nginx to mobile-api, while the stream stays open.
    let ((scanned, told), (requester, acted)) =
        tokio::join!(timed(stream.next_status(EVENT_WAIT)), after_settling(scan(browser, &login)));

    // Assert: the phone sees where the login really comes from; the event was not held back by the proxy.
    assert_requester_is_the_browser(&requester);
    assert_eq!(scanned.json(), json!({ "status": "scanned" }));
    assert_prompt(told, acted, "scanned event through nginx");

    let ((confirmed, told), ((), acted)) =
        tokio::join!(timed(stream.next_status(EVENT_WAIT)), after_settling(confirm(browser, &login)));
    assert_token_for_alice(browser, &confirmed.json()).await;
    assert_prompt(told, acted, "confirmed event through nginx");
    stream.expect_end(EVENT_WAIT).await;
}

#[tokio::test]
async fn a_whole_login_with_long_polls_goes_through_the_proxy_which_drops_a_forged_forwarded_for() {
    // Arrange: the browser claims another address in the header the proxy owns.
    let p = Proxied::start().await;
    let browser = &p.browser;
    let login = browser.login_with(&[("x-forwarded-for", FORGED)]).await;
    let binding = Some(login.binding.as_str());

    // Act: the browser long-polls through nginx while the phone scans, then confirms.
    let ((waited, told), (requester, acted)) = tokio::join!(
        timed(browser.long_poll(&login.uuid, binding, WAIT_SECS, "pending")),
        after_settling(scan(browser, &login)),
    );

    // Assert: the forged address reached no one; each answer came at once, not when the wait ended.
    assert_requester_is_the_browser(&requester);
    assert_status_reply(&waited, "scanned");
    assert_prompt(told, acted, "long-poll through nginx, scan");

    let ((waited, told), ((), acted)) = tokio::join!(
        timed(browser.long_poll(&login.uuid, binding, WAIT_SECS, "scanned")),
        after_settling(confirm(browser, &login)),
    );
    assert_eq!(waited.status, 200, "body: {}", waited.text);
    assert_token_for_alice(browser, &waited.body).await;
    assert_prompt(told, acted, "long-poll through nginx, confirm");
}

#[tokio::test]
async fn a_forged_forwarded_for_sent_around_the_proxy_is_ignored() {
    // Arrange: services that trust the proxy's address; a browser reaching a gateway directly, from its own.
    let stack = Stack::start_with(trust_the_proxy).await;
    let direct = stack.via(&stack.gateway_url, &stack.mobile_url, BROWSER_IP);

    // Act: it claims to be someone else, even to have come through the proxy.
    let forged_chain = format!("{FORGED}, {PROXY_IP}");
    let login = direct.login_with(&[("x-forwarded-for", forged_chain.as_str())]).await;
    let requester = scan(&stack, &login).await;

    // Assert: an untrusted peer's header is ignored: the phone sees the address the request came from.
    assert_requester_is_the_browser(&requester);

    // The same header from the trusted address is believed: that is why the proxy must replace, not pass, it.
    let from_proxy_address = stack.login_with(&[("x-forwarded-for", FORGED)]).await;
    assert_eq!(scan(&stack, &from_proxy_address).await["ip"], FORGED);
}

#[tokio::test]
async fn the_proxy_logs_a_qr_link_without_its_verification_string() {
    // Arrange: a pending login; its QR link as a camera app opens it, through nginx.
    let p = Proxied::start().await;
    let login = p.browser.login().await;
    let path = format!("/q/{}.{}", login.uuid, login.verification);

    // Act: the link, and the link with a query string.
    for variant in [path.clone(), format!("{path}?utm=x")] {
        let landing = p.browser.gateway_request(reqwest::Method::GET, &variant, None).await;
        assert_eq!(landing.status, 200, "the landing page: {}", landing.text);
    }

    // Assert: the lines are there (nginx writes them just after answering), naming the session but never the
    // verification string, which would let whoever reads the log scan the pending login.
    let redacted = format!("/q/{}.[redacted]", login.uuid);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut log = p.nginx.access_log();
    while log.matches(redacted.as_str()).count() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        log = p.nginx.access_log();
    }
    assert_eq!(log.matches(redacted.as_str()).count(), 2, "both requests logged, redacted:\n{log}");
    assert!(!log.contains(&login.verification), "the access log carries the verification string:\n{log}");
}
