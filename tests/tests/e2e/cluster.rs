//! The services on a Redis Cluster of three masters (`QRL_REDIS_CLUSTER_NODES`), each test on a cluster of its
//! own: the whole login with sessions on every node, push to waiting browsers, the rate limits and the lockout,
//! the check code and a second scanner, the deliveries after the login, a DPoP-bound login and its proofs'
//! replay cache.
//!
//! The gateway's pub/sub connection subscribes on one node; sessions held by the other nodes are answered at once
//! all the same, which shows their scripts' PUBLISH reaching it cluster-wide.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use qrlogin_e2e::{Delivery, Login, Receiver, RedisCluster, Stack};
use qrlogin_shared::rate_limit::Rate;
use qrlogin_shared::{SessionId, Verifier, test_support};
use secrecy::{SecretSlice, SecretString};
use serde_json::{Value, json};
use web_gateway::config::IssueLimits;
use web_gateway::outbox::{DeliverySettings, LoginWebhook};

use crate::assert_poll;

/// Time for a waiter to register before the phone acts.
const SETTLE: Duration = Duration::from_millis(500);
/// A pushed answer arrives within this of the phone's act; the waits are far longer.
const PROMPTLY: Duration = Duration::from_secs(5);
const EVENT_WAIT: Duration = Duration::from_secs(10);
const WAIT_SECS: u64 = 20;

/// A stack whose services use `nodes` as the cluster's seeds, with `configure` applied to the gateway; returns
/// the key prefix too.
async fn stack_on(
    nodes: Vec<String>,
    configure: impl FnOnce(&mut web_gateway::Settings),
    configure_mobile: impl FnOnce(&mut mobile_api::Settings),
) -> (Stack, String) {
    let mut prefix = String::new();
    let stack = Stack::start_configured(
        |s| {
            s.service.redis.cluster_nodes = nodes.into_iter().map(SecretString::from).collect();
            prefix = s.service.redis.key_prefix.clone();
            configure(s);
        },
        configure_mobile,
    )
    .await;
    (stack, prefix)
}

/// Runs `fut` and notes when it finished.
async fn timed<T>(fut: impl Future<Output = T>) -> (T, Instant) {
    let out = fut.await;
    (out, Instant::now())
}

/// Runs `act` (the phone) after [`SETTLE`]; returns when it finished.
async fn after_settling(act: impl Future<Output = ()>) -> Instant {
    tokio::time::sleep(SETTLE).await;
    act.await;
    Instant::now()
}

#[track_caller]
fn assert_prompt(answered: Instant, acted: Instant, what: &str) {
    let after = answered.saturating_duration_since(acted);
    assert!(after < PROMPTLY, "{what}: answered {after:?} after the phone acted");
}

#[tokio::test]
async fn the_whole_login_and_push_work_with_sessions_on_every_node() {
    // Arrange: a cluster, both services on it, and logins until every node holds a session. The first seed is
    // down: the pools learn the cluster from the others, and the gateway's pub/sub moves on to the next one. The
    // issue limits stay on: their script touches two keys, which must share a slot.
    let cluster = RedisCluster::start().await;
    let seeds = [vec![test_support::dead_redis_url()], cluster.node_urls()].concat();
    let limits = IssueLimits { per_ip: Rate::new(1000, 60), global: Rate::new(1000, 60) };
    let receiver = Receiver::start().await;
    let url: reqwest::Url = receiver.url().parse().unwrap();
    let webhook = LoginWebhook { url: url.clone(), secret: "e2e-cluster-webhook-secret-0123456789abcdef".into() };
    let deliveries = DeliverySettings { backchannel_logout_url: Some(url), login_webhook: Some(webhook) };
    let configure = |s: &mut web_gateway::Settings| {
        s.limits = limits;
        s.deliveries = deliveries;
    };
    let (stack, prefix) = stack_on(seeds, configure, |_| {}).await;
    let mut by_node: BTreeMap<u16, Login> = BTreeMap::new();
    for _ in 0..60 {
        let login = stack.login().await;
        let key = format!("{prefix}:{{{}}}", login.uuid);
        let holders: Vec<u16> = cluster.ports().filter(|&port| !cluster.keys_on(port, &key).is_empty()).collect();
        assert_eq!(holders.len(), 1, "session {key} is on exactly one node: {holders:?}");
        by_node.entry(holders[0]).or_insert(login);
        if by_node.len() == cluster.ports().count() {
            break;
        }
    }
    assert_eq!(by_node.len(), 3, "60 sessions should have reached all three nodes: {:?}", by_node.keys());
    let alice = stack.user_token("alice");

    for (node, login) in &by_node {
        let binding = Some(login.binding.as_str());
        let mut stream = stack.events(&login.uuid, binding, None).await.expect("the stream opens");
        let first = stream.next_status(EVENT_WAIT).await;
        assert_eq!(first.json()["status"], "pending", "on node {node}");

        // Act: the phone scans while the browser both streams and long-polls.
        let scan = async {
            stack.scan(&alice, &login.qr_text).await.expect_status(200);
        };
        let ((reply, polled_at), (scanned, streamed_at), acted) = tokio::join!(
            timed(stack.long_poll(&login.uuid, binding, WAIT_SECS, "pending")),
            timed(stream.next_status(EVENT_WAIT)),
            after_settling(scan),
        );

        // Assert: both waits are answered at once.
        reply.expect_json(200, &json!({ "status": "scanned" }));
        assert_prompt(polled_at, acted, &format!("long-poll, session on node {node}"));
        assert_eq!(scanned.json(), json!({ "status": "scanned" }), "on node {node}");
        assert_prompt(streamed_at, acted, &format!("stream, session on node {node}"));

        // The confirmation reaches the stream at once, with the token.
        let confirm = async {
            stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);
        };
        let ((confirmed, answered), acted) =
            tokio::join!(timed(stream.next_status(EVENT_WAIT)), after_settling(confirm));
        assert_prompt(answered, acted, &format!("stream, session on node {node}, confirm"));
        let body = confirmed.json();
        assert_eq!(body["status"], "confirmed", "on node {node}: {body}");
        let token = body["token"].as_str().expect("the confirmed event carries the token");
        assert_eq!(stack.verify_web_token(token).await.claims["sub"], "alice");
        stream.expect_end(EVENT_WAIT).await;

        // A poll within the grace window repeats the answer; the phone is done with this login.
        let again = stack.poll(&login.uuid, binding).await;
        assert_eq!(again.expect_status(200), &body, "on node {node}");
        stack.scan(&alice, &login.qr_text).await.expect_problem(404, "session-not-found");
        // The claim recorded the outcome in the session's slot; the status read (and its user limit) works there.
        assert_eq!(stack.login_status(&alice, &login.uuid).await.expect_status(200)["status"], "claimed");
    }

    // A login the phone refuses and one the browser gives up, on whatever node: their scripts publish too.
    let denied = stack.login().await;
    stack.scan(&alice, &denied.qr_text).await.expect_status(200);
    stack.deny(&alice, &denied.uuid, &denied.verification).await.expect_status(200);
    assert_poll(&stack, &denied, "denied").await;
    let cancelled = stack.login().await;
    stack.cancel(&cancelled.uuid, Some(&cancelled.binding)).await.expect_status(204);
    assert_poll(&stack, &cancelled, "cancelled").await;
    // Confirmed, then cancelled in the browser before it claimed: the cancel records it in the outcome key.
    let raced = stack.login().await;
    stack.scan(&alice, &raced.qr_text).await.expect_status(200);
    stack.confirm(&alice, &raced.uuid, &raced.verification).await.expect_status(200);
    stack.cancel(&raced.uuid, Some(&raced.binding)).await.expect_status(204);
    assert_eq!(stack.login_status(&alice, &raced.uuid).await.expect_status(200)["status"], "cancelled");

    // The device history lives in the user's own slot, apart from every session: each step touches one slot, so
    // a browser that logged in as alice is known at her next login (a cross-slot script would fail here).
    let device = [("Cookie", "qrl_device=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")];
    let first = stack.login_with(&device).await;
    let scanned = stack.scan(&alice, &first.qr_text).await;
    assert_eq!(scanned.expect_status(200)["requester"]["known_device"], false);
    stack.confirm(&alice, &first.uuid, &first.verification).await.expect_status(200);
    assert_eq!(stack.poll(&first.uuid, Some(&first.binding)).await.expect_status(200)["status"], "confirmed");
    let next = stack.login_with(&device).await;
    let scanned = stack.scan(&alice, &next.qr_text).await;
    assert_eq!(scanned.expect_status(200)["requester"]["known_device"], true);

    // So do her web sessions: each claim above began one, in a step of its own after the claim.
    let listed = stack.web_sessions(&alice).await;
    let sessions = listed.expect_status(200)["sessions"].as_array().cloned().unwrap_or_default();
    assert_eq!(sessions.len(), by_node.len() + 1, "one per claimed login: {sessions:?}");
    let sid = sessions[0]["sid"].as_str().expect("a sid");
    stack.end_web_sessions(&alice, Some(sid)).await.expect_status(204);
    let left = stack.web_sessions(&alice).await;
    assert_eq!(left.expect_status(200)["sessions"].as_array().map(Vec::len), Some(by_node.len()));

    // Their login webhooks and that logout were queued in steps of their own too (the queues' slot is another).
    let hooks = |seen: &[Delivery]| -> BTreeSet<String> {
        let json = seen.iter().filter_map(|d| serde_json::from_slice::<Value>(&d.body).ok());
        json.filter_map(|body| body["sid"].as_str().map(str::to_owned)).collect()
    };
    let logged_out = |seen: &[Delivery]| seen.iter().any(|d| d.text().starts_with("logout_token="));
    let all: BTreeSet<String> = sessions.iter().filter_map(|s| s["sid"].as_str().map(str::to_owned)).collect();
    let seen = receiver.wait_for(EVENT_WAIT, |seen| hooks(seen) == all && logged_out(seen)).await;
    assert_eq!(hooks(&seen), all, "one webhook per claimed login");
    assert!(logged_out(&seen), "the ended session's logout");
}

#[tokio::test]
async fn rate_limits_and_the_lockout_work_on_the_cluster() {
    let cluster = RedisCluster::start().await;
    let limits = IssueLimits { per_ip: Rate::new(2, 3600), global: Rate::new(100, 3600) };
    let scan_limit = |m: &mut mobile_api::Settings| m.limits.scan_per_user = Rate::new(1, 3600);
    let (stack, _) = stack_on(cluster.node_urls(), |s| s.limits = limits, scan_limit).await;
    let alice = stack.user_token("alice");

    // The issue limits (two keys in one script): the third login from this IP is refused.
    let first = stack.login().await;
    let second = stack.login().await;
    let refused = stack.create_qr().await;
    refused.expect_problem(429, "rate-limited");
    assert!(refused.header("retry-after").is_some(), "{refused:?}");

    // A per-user limit on mobile-api: alice's second scan is refused.
    stack.scan(&alice, &first.qr_text).await.expect_status(200);
    stack.scan(&alice, &second.qr_text).await.expect_problem(429, "rate-limited");

    // The lockout: five wrong verification strings destroy the session, and the browser waiting on it is told
    // at once. Five guessers: each guess counts against its sender's scan limit first (one per user here).
    let foreign = Verifier::new(SecretSlice::from(vec![0x5a; 32]), vec![]).expect("a strong enough key");
    let id = SessionId::parse(&second.uuid).expect("a session id");
    let expires_at = u32::try_from(qrlogin_shared::unix_now() + 120).expect("fits");
    let wrong_scans = async {
        for n in 0..5 {
            let forged = foreign.issue(&id, expires_at + n).encode();
            let qr = format!("{}/q/{}.{forged}", test_support::QR_BASE_URL, second.uuid);
            let guesser = stack.user_token(&format!("mallory{n}"));
            stack.scan(&guesser, &qr).await.expect_problem(404, "session-not-found");
        }
    };
    let ((reply, answered), acted) = tokio::join!(
        timed(stack.long_poll(&second.uuid, Some(&second.binding), WAIT_SECS, "pending")),
        after_settling(wrong_scans),
    );
    reply.expect_json(200, &json!({ "status": "expired" }));
    assert_prompt(answered, acted, "long-poll on a locked-out session");
}

#[tokio::test]
async fn the_check_code_and_a_second_scanner_work_on_the_cluster() {
    let cluster = RedisCluster::start().await;
    let always = |m: &mut mobile_api::Settings| m.check_code = qrlogin_shared::session::CheckCodeMode::Always;
    let (stack, _) = stack_on(cluster.node_urls(), |_| {}, always).await;
    let (alice, bob) = (stack.user_token("alice"), stack.user_token("bob"));

    // Number matching: the code is stored by the scan, shown by the poll and checked by the confirm, all on the
    // session's one slot.
    let login = stack.login().await;
    assert_eq!(stack.scan(&alice, &login.qr_text).await.expect_status(200)["check_code_required"], true);
    let shown = stack.poll(&login.uuid, Some(&login.binding)).await.expect_status(200).clone();
    let code = shown["check_code"].as_str().expect("the browser is shown the check code").to_owned();
    let body = json!({ "uuid": login.uuid, "verification": login.verification, "check_code": code });
    stack.phone_json("/v1/confirm", Some(&alice), &body).await.expect_status(200);
    assert_eq!(stack.poll(&login.uuid, Some(&login.binding)).await.expect_status(200)["status"], "confirmed");

    // A second scanner ends the login.
    let shared = stack.login().await;
    stack.scan(&alice, &shared.qr_text).await.expect_status(200);
    stack.scan(&bob, &shared.qr_text).await.expect_problem(409, "wrong-state");
    assert_poll(&stack, &shared, "cancelled").await;
}

#[tokio::test]
async fn a_dpop_bound_login_and_the_proof_replay_cache_work_on_the_cluster() {
    use crate::dpop::{assert_replay_refused, bound_token, me, public};
    let cluster = RedisCluster::start().await;
    let (stack, _) = stack_on(cluster.node_urls(), |_| {}, |_| {}).await;
    let key = web_gateway::dpop_client::DpopKey::generate();

    // The create stores the key's thumbprint, the poll hands it to the claim, /v1/me remembers the proof.
    let token = bound_token(&stack, &key).await;
    let proof = key.proof("GET", &public("/v1/me"), Some(&token));
    me(&stack, &token, &proof).await.expect_status(200);

    assert_replay_refused(&me(&stack, &token, &proof).await, "replayed on the cluster");
}
