//! What the gateways deliver after a login, from the durable queues in Redis, through the real binaries (two
//! gateway processes as behind a load balancer, one killed mid-delivery): the OpenID Connect back-channel
//! logout of an ended web session and the signed "new login" webhook, each delivered once (a 2xx) though the
//! receiver failed, hung or saw several gateways.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use hmac::{Hmac, Mac};
use qrlogin_e2e::{Delivery, Receiver, Services, Stack, WEB_AUDIENCE, WEB_ISSUER};
use qrlogin_shared::test_support::web_token::verify_web_token;
use serde_json::Value;
use sha2::Sha256;

const SECRET: &str = "e2e-login-webhook-secret-0123456789abcdef";
const BACKCHANNEL_LOGOUT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Past the retries these tests cause (1 s, then 2 s) or the takeover of a cut-off attempt (10 s).
const WITHIN: Duration = Duration::from_secs(25);
/// How long nothing more may arrive once an event was delivered.
const QUIET: Duration = Duration::from_secs(3);

/// Both services (and `gateways - 1` more gateways) delivering to `receiver`.
async fn services(receiver: &Receiver, gateways: usize) -> (Services, Vec<String>) {
    let env = [
        ("QRL_BACKCHANNEL_LOGOUT_URL", receiver.url()),
        ("QRL_LOGIN_WEBHOOK_URL", receiver.url()),
        ("QRL_LOGIN_WEBHOOK_SECRET", SECRET.to_owned()),
        ("QRL_WEB_JWT_ISSUER", WEB_ISSUER.to_owned()),
        ("QRL_WEB_JWT_AUDIENCE", WEB_AUDIENCE.to_owned()),
        ("QRL_CHECK_CODE", "never".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut services = Services::start(&env).await;
    let mut urls = vec![services.gateway_url.clone()];
    for _ in 1..gateways {
        urls.push(services.another_gateway().await);
    }
    (services, urls)
}

/// A whole login of alice through `stack`: its web token's `sid`.
async fn logged_in(stack: &Stack) -> String {
    let login = stack.login().await;
    let user = stack.user_token("alice");
    stack.scan(&user, &login.qr_text).await.expect_status(200);
    stack.confirm(&user, &login.uuid, &login.verification).await.expect_status(200);
    let answer = stack.poll(&login.uuid, Some(&login.binding)).await;
    let token = answer.expect_status(200)["token"].as_str().unwrap().to_owned();
    stack.verify_web_token(&token).await.claims["sid"].as_str().unwrap().to_owned()
}

fn logouts(seen: &[Delivery]) -> Vec<&Delivery> {
    seen.iter().filter(|d| d.text().starts_with("logout_token=")).collect()
}

fn logins(seen: &[Delivery]) -> Vec<&Delivery> {
    seen.iter().filter(|d| d.header("content-type") == Some("application/json")).collect()
}

/// The verified claims of a delivered logout token, checked as OpenID Connect Back-Channel Logout 1.0 §2.6 has
/// the receiver check them.
async fn logout_claims(stack: &Stack, delivery: &Delivery) -> Value {
    assert_eq!(delivery.header("content-type"), Some("application/x-www-form-urlencoded"));
    let token = delivery.text().strip_prefix("logout_token=").unwrap().to_owned();
    let verified = verify_web_token::<Value>(&token, &stack.jwks().await, WEB_ISSUER, WEB_AUDIENCE).unwrap();
    assert_eq!(verified.header.typ.as_deref(), Some("logout+jwt"));
    let claims = verified.claims;
    assert_eq!(claims["events"][BACKCHANNEL_LOGOUT], serde_json::json!({}), "{claims}");
    assert!(claims.get("nonce").is_none() && claims["jti"].is_string(), "{claims}");
    claims
}

#[tokio::test]
async fn a_logout_is_delivered_once_though_the_backend_failed_twice_and_two_gateways_deliver() {
    let receiver = Receiver::start().await;
    let (services, _) = services(&receiver, 2).await;
    let stack = services.stack();
    let sid = logged_in(&stack).await;
    receiver.wait_for(WITHIN, |seen| !logins(seen).is_empty()).await;
    receiver.plan(&[500, 503]);

    stack.end_web_sessions(&stack.user_token("alice"), Some(&sid)).await.expect_status(204);

    receiver.wait_for(WITHIN, |seen| logouts(seen).iter().any(|d| d.answered == Some(200))).await;
    tokio::time::sleep(QUIET).await;
    let seen = receiver.deliveries();
    let attempts = logouts(&seen);
    assert_eq!(attempts.iter().map(|d| d.answered).collect::<Vec<_>>(), [Some(500), Some(503), Some(200)]);
    let mut jtis = BTreeSet::new();
    for attempt in attempts {
        let claims = logout_claims(&stack, attempt).await;
        assert_eq!((claims["sub"].as_str(), claims["sid"].as_str()), (Some("alice"), Some(sid.as_str())));
        jtis.insert(claims["jti"].as_str().unwrap().to_owned());
    }
    assert_eq!(jtis.len(), 1, "one logout, retried under one jti");
}

#[tokio::test]
async fn each_claimed_login_sends_one_signed_webhook_whichever_gateway_claimed_it() {
    let receiver = Receiver::start().await;
    let (services, gateways) = services(&receiver, 2).await;
    let mut sids = BTreeSet::new();
    for gateway in &gateways {
        sids.insert(logged_in(&Stack::at(gateway, &services.mobile_url)).await);
    }

    receiver.wait_for(WITHIN, |seen| logins(seen).len() >= 2).await;
    tokio::time::sleep(QUIET).await;
    let seen = receiver.deliveries();
    let hooks = logins(&seen);
    assert_eq!(hooks.len(), 2, "one per login: {hooks:?}");
    let mut delivered = BTreeSet::new();
    for hook in hooks {
        assert_signed(hook);
        let body: Value = serde_json::from_slice(&hook.body).unwrap();
        let keys: BTreeSet<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        let pinned = ["event", "user", "sid", "browser", "os", "location", "risk", "created_at"];
        assert_eq!(keys, pinned.into_iter().collect(), "{body}");
        assert_eq!(
            (body["event"].as_str(), body["user"].as_str(), body["os"].as_str()),
            (Some("login"), Some("alice"), Some("Linux"))
        );
        assert!(["low", "medium", "high"].contains(&body["risk"].as_str().unwrap()), "{body}");
        assert!(
            time::OffsetDateTime::parse(
                body["created_at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339
            )
            .is_ok()
        );
        assert!(hook.header("qrlogin-event-id").is_some());
        delivered.insert(body["sid"].as_str().unwrap().to_owned());
    }
    assert_eq!(delivered, sids);
}

/// `Qrlogin-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, recomputed as a receiver would.
fn assert_signed(hook: &Delivery) {
    let header = hook.header("qrlogin-signature").expect("signed");
    let parts: HashMap<&str, &str> = header.split(',').filter_map(|p| p.split_once('=')).collect();
    let t: u64 = parts["t"].parse().unwrap();
    assert!(qrlogin_shared::unix_now().abs_diff(t) < 60, "signed now: {header}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&hook.body);
    mac.verify_slice(&hex::decode(parts["v1"]).unwrap()).expect("the signature verifies");
}

#[tokio::test]
async fn a_killed_gateway_leaves_its_undelivered_events_to_another() {
    let receiver = Receiver::start().await;
    let (mut services, gateways) = services(&receiver, 1).await;
    let stack = services.stack();
    let (first, second) = (logged_in(&stack).await, logged_in(&stack).await);
    receiver.wait_for(WITHIN, |seen| logins(seen).len() == 2).await;
    receiver.hang(true);
    let alice = stack.user_token("alice");
    stack.end_web_sessions(&alice, Some(&first)).await.expect_status(204);
    let seen = receiver.wait_for(WITHIN, |seen| !logouts(seen).is_empty()).await;
    assert_eq!(logouts(&seen).len(), 1, "the gateway is delivering the first logout");

    // Killed mid-attempt; the second logout is queued while no gateway runs at all.
    services.kill(&gateways[0]);
    stack.end_web_sessions(&alice, Some(&second)).await.expect_status(204);
    receiver.hang(false);
    let another = services.another_gateway().await;

    let done = |seen: &[Delivery]| logouts(seen).iter().filter(|d| d.answered == Some(200)).count() == 2;
    receiver.wait_for(WITHIN, done).await;
    tokio::time::sleep(QUIET).await;
    let seen = receiver.deliveries();
    let on_another = Stack::at(&another, &services.mobile_url);
    let mut delivered = Vec::new();
    for attempt in logouts(&seen).into_iter().filter(|d| d.answered == Some(200)) {
        delivered.push(logout_claims(&on_another, attempt).await["sid"].as_str().unwrap().to_owned());
    }
    delivered.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(delivered, expected, "each delivered once, by the other gateway");
}
