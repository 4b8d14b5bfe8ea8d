//! Every Lua script against a real Redis, through every reply it can give, decoded by the one decoder of that
//! reply (`store/reply.rs`): Lua and Rust agree on every shape, or this fails. Needs the test Redis
//! (`deploy/redis.sh 6390 target/test-redis`, or `QRL_TEST_REDIS_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

use std::collections::BTreeSet;
use std::time::Duration;

use qrlogin_shared::rate_limit::{Limit, Rate, RateLimiter};
use qrlogin_shared::session::{CheckCode, LoginStatus, RiskLevel, SessionState};
use qrlogin_shared::store::{
    CHECK_CODE_ATTEMPTS, CancelOutcome, ClaimOutcome, Claimant, DecideOutcome, Decided, Decision, DecisionCodes,
    History, MissOutcome, NewSession, NewWebSession, OutboxEvent, OutboxKind, PollOutcome, Requester, Retry,
    RotateOutcome, ScanOutcome, Shown, StepError, WEB_SESSIONS_PER_USER,
};
use qrlogin_shared::telemetry::Traceparent;
use qrlogin_shared::{BindingHash, DeviceHash, KeySchema, SessionId, SessionStore, UserId, test_support};

const CODE: u32 = 4_000_000_000;

fn store() -> SessionStore {
    SessionStore::connect(&test_support::redis_settings(&test_support::redis_url())).unwrap()
}

fn requester() -> Requester {
    Requester { ip: "192.0.2.1".into(), user_agent: "ua".into(), created_at: "2026-12-01T10:00:00Z".into() }
}

async fn pending(store: &SessionStore, binding: &BindingHash) -> SessionId {
    traced(store, binding, None).await
}

/// A pending session whose create stored `trace` (as it does while traces are exported).
async fn traced(store: &SessionStore, binding: &BindingHash, trace: Option<&Traceparent>) -> SessionId {
    let id = SessionId::random();
    let requester = requester();
    let new = NewSession {
        binding,
        requester: &requester,
        device: None,
        ttl: Duration::from_secs(60),
        code_expires_at: CODE,
        trace,
        dpop_jkt: None,
    };
    assert!(store.create(&id, &new, &[]).await.unwrap());
    assert!(!store.create(&id, &new, &[]).await.unwrap(), "a second create of one id is refused");
    id
}

#[tokio::test]
async fn browser_scripts_give_every_reply_they_document() {
    let (store, bind, other) = (store(), BindingHash::of_secret("b"), BindingHash::of_secret("o"));
    let alice = UserId::parse("alice").unwrap();
    let id = pending(&store, &bind).await;

    let polled = store.poll(&id, &bind, Duration::ZERO).await.unwrap();
    assert_eq!((polled.outcome, polled.version, polled.code_expires_at), (PollOutcome::Pending, 1, CODE));
    assert!(polled.expires_in > Duration::ZERO);
    assert_eq!(store.poll(&id, &other, Duration::ZERO).await.unwrap().outcome, PollOutcome::Forbidden);
    // One poll per interval, tolerating one early: the third in a row is told to wait.
    for _ in 0..2 {
        store.poll(&id, &bind, Duration::from_secs(60)).await.unwrap();
    }
    let slow = store.poll(&id, &bind, Duration::from_secs(60)).await.unwrap().outcome;
    assert!(matches!(slow, PollOutcome::SlowDown(wait) if wait > Duration::ZERO), "{slow:?}");
    let gone = SessionId::random();
    assert_eq!(store.poll(&gone, &bind, Duration::ZERO).await.unwrap().outcome, PollOutcome::Expired);

    assert_eq!(store.rotate(&id, CODE, CODE + 1).await.unwrap(), RotateOutcome::Rotated(2));
    assert_eq!(store.rotate(&id, CODE, CODE + 2).await.unwrap(), RotateOutcome::Stale(CODE + 1));
    assert!(matches!(store.scan(&id, &alice, CODE + 1, None, None).await.unwrap(), ScanOutcome::Scanned { .. }));
    assert_eq!(store.rotate(&id, CODE + 1, CODE + 2).await.unwrap(), RotateOutcome::NotPending);
    assert_eq!(store.poll(&id, &bind, Duration::ZERO).await.unwrap().outcome, PollOutcome::Scanned);
    assert_eq!(
        store.claim(&id, &bind, "{}", Duration::from_secs(5), None).await.unwrap(),
        ClaimOutcome::Other(PollOutcome::Scanned)
    );

    assert_eq!(
        store.decide(&id, &alice, Decision::Confirm, DecisionCodes::new(CODE + 1, None), &[]).await.unwrap().outcome,
        DecideOutcome::Done
    );
    assert_eq!(
        store.poll(&id, &bind, Duration::ZERO).await.unwrap().outcome,
        PollOutcome::Confirmed { user: alice.clone(), jkt: None }
    );
    assert_eq!(
        store.claim(&id, &other, "{}", Duration::from_secs(5), None).await.unwrap(),
        ClaimOutcome::Other(PollOutcome::Forbidden)
    );
    assert!(matches!(
        store.claim(&id, &bind, "{\"a\":1}", Duration::from_secs(5), None).await.unwrap(),
        ClaimOutcome::Won { .. }
    ));
    let again = store.claim(&id, &bind, "{}", Duration::from_secs(5), None).await.unwrap();
    assert!(matches!(again, ClaimOutcome::AlreadyClaimed { ref answer, .. } if answer == "{\"a\":1}"), "{again:?}");
    let claimed = store.poll(&id, &bind, Duration::ZERO).await.unwrap().outcome;
    assert_eq!(claimed, PollOutcome::Claimed("{\"a\":1}".into()));
    assert_eq!(
        store.claim(&gone, &bind, "{}", Duration::from_secs(5), None).await.unwrap(),
        ClaimOutcome::Other(PollOutcome::Expired)
    );

    let cancelled = pending(&store, &bind).await;
    assert_eq!(store.cancel(&cancelled, &other).await.unwrap(), CancelOutcome::Forbidden);
    assert_eq!(store.cancel(&cancelled, &bind).await.unwrap(), CancelOutcome::Cancelled);
    assert_eq!(store.poll(&cancelled, &bind, Duration::ZERO).await.unwrap().outcome, PollOutcome::Cancelled);
    assert_eq!(store.cancel(&id, &bind).await.unwrap(), CancelOutcome::Gone, "a claimed session is dropped");
    assert_eq!(store.cancel(&gone, &bind).await.unwrap(), CancelOutcome::Gone);
}

#[tokio::test]
async fn phone_scripts_give_every_reply_they_document() {
    let (store, bind) = (store(), BindingHash::of_secret("b"));
    let (alice, bob) = (UserId::parse("alice").unwrap(), UserId::parse("bob").unwrap());
    let id = pending(&store, &bind).await;

    assert_eq!(
        store.scan(&id, &alice, CODE + 9, None, None).await.unwrap(),
        ScanOutcome::NotFound,
        "a superseded code"
    );
    match store.scan(&id, &alice, CODE, None, None).await.unwrap() {
        ScanOutcome::Scanned { requester: r, ttl, check_code_required, trace } => {
            assert_eq!((r, ttl > Duration::ZERO, check_code_required), (requester(), true, false));
            assert_eq!(trace, None, "nothing was stored, nothing comes back");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.decide(&id, &bob, Decision::Deny, DecisionCodes::new(CODE, None), &[]).await.unwrap().outcome,
        DecideOutcome::WrongUser
    );
    assert_eq!(
        store.decide(&id, &alice, Decision::Deny, DecisionCodes::new(CODE + 9, None), &[]).await.unwrap().outcome,
        DecideOutcome::NotFound
    );
    assert_eq!(
        store.decide(&id, &alice, Decision::Deny, DecisionCodes::new(CODE, None), &[]).await.unwrap().outcome,
        DecideOutcome::Done
    );
    assert_eq!(
        store.decide(&id, &alice, Decision::Deny, DecisionCodes::new(CODE, None), &[]).await.unwrap().outcome,
        DecideOutcome::WrongState
    );
    assert_eq!(store.poll(&id, &bind, Duration::ZERO).await.unwrap().outcome, PollOutcome::Denied);
    assert_eq!(store.scan(&id, &alice, CODE, None, None).await.unwrap(), ScanOutcome::Conflict);

    // A second user scanning what alice scanned ends the login for both.
    let shared = pending(&store, &bind).await;
    assert!(matches!(store.scan(&shared, &alice, CODE, None, None).await.unwrap(), ScanOutcome::Scanned { .. }));
    assert_eq!(
        store.scan(&shared, &bob, CODE, None, None).await.unwrap(),
        ScanOutcome::Ended { first_scanner: alice.clone(), trace: None }
    );
    assert_eq!(
        store.decide(&shared, &alice, Decision::Confirm, DecisionCodes::new(CODE, None), &[]).await.unwrap().outcome,
        DecideOutcome::NotFound
    );
    assert_eq!(store.poll(&shared, &bind, Duration::ZERO).await.unwrap().outcome, PollOutcome::Cancelled);

    assert_eq!(store.record_miss(&SessionId::random(), 2, &[]).await.unwrap(), MissOutcome::Unknown);
    assert_eq!(store.record_miss(&id, 2, &[]).await.unwrap(), MissOutcome::Counted(1));
    assert_eq!(store.record_miss(&id, 2, &[]).await.unwrap(), MissOutcome::Destroyed);
    assert_eq!(store.poll(&id, &bind, Duration::ZERO).await.unwrap().outcome, PollOutcome::Expired);
}

/// A session `alice` scanned.
async fn scanned_by(store: &SessionStore, bind: &BindingHash, alice: &UserId) -> SessionId {
    let id = pending(store, bind).await;
    assert!(matches!(store.scan(&id, alice, CODE, None, None).await.unwrap(), ScanOutcome::Scanned { .. }));
    id
}

async fn decided(store: &SessionStore, id: &SessionId, user: &UserId, decision: Decision) {
    let done = store.decide(id, user, decision, DecisionCodes::new(CODE, None), &[]).await.unwrap();
    assert_eq!(done.outcome, DecideOutcome::Done);
}

/// The session gone, as at the end of its TTL.
async fn expire(store: &SessionStore, keys: &KeySchema, id: &SessionId) {
    let mut conn = store.redis().pool().get().await.unwrap();
    let _: () = redis::cmd("DEL").arg(keys.session(id)).query_async(&mut conn).await.unwrap();
}

#[tokio::test]
async fn the_phone_learns_how_a_login_it_scanned_stands_and_ended() {
    let settings = test_support::redis_settings(&test_support::redis_url());
    let keys = KeySchema::new(settings.key_prefix.clone());
    let (store, bind) = (SessionStore::connect(&settings).unwrap(), BindingHash::of_secret("b"));
    let (alice, bob) = (UserId::parse("alice").unwrap(), UserId::parse("bob").unwrap());
    let status = async |id: &SessionId, user: &UserId| store.login_status(id, user, &[]).await.unwrap();

    assert_eq!(status(&SessionId::random(), &alice).await, None, "unknown");
    let id = pending(&store, &bind).await;
    assert_eq!(status(&id, &alice).await, None, "nobody scanned it");
    assert!(matches!(store.scan(&id, &alice, CODE, None, None).await.unwrap(), ScanOutcome::Scanned { .. }));
    assert_eq!(status(&id, &alice).await, Some(LoginStatus::Scanned));
    assert_eq!(status(&id, &bob).await, None, "another user's login answers as an unknown one");
    decided(&store, &id, &alice, Decision::Confirm).await;
    assert_eq!(status(&id, &alice).await, Some(LoginStatus::Confirmed));
    assert!(matches!(
        store.claim(&id, &bind, "{}", Duration::from_secs(5), None).await.unwrap(),
        ClaimOutcome::Won { .. }
    ));
    assert_eq!(status(&id, &alice).await, Some(LoginStatus::Claimed));
    // The browser is done and drops the grace copy: the outcome stays.
    assert_eq!(store.cancel(&id, &bind).await.unwrap(), CancelOutcome::Gone);
    assert_eq!(status(&id, &alice).await, Some(LoginStatus::Claimed));
    assert_eq!(status(&id, &bob).await, None);

    let denied = scanned_by(&store, &bind, &alice).await;
    decided(&store, &denied, &alice, Decision::Deny).await;
    assert_eq!(status(&denied, &alice).await, Some(LoginStatus::Denied));
    expire(&store, &keys, &denied).await;
    assert_eq!(status(&denied, &alice).await, None, "only a confirmed login's end is kept");

    // The race of issue 13: the confirm won, then the browser cancelled before it claimed.
    let cancelled = scanned_by(&store, &bind, &alice).await;
    decided(&store, &cancelled, &alice, Decision::Confirm).await;
    assert_eq!(store.cancel(&cancelled, &bind).await.unwrap(), CancelOutcome::Cancelled);
    assert_eq!(status(&cancelled, &alice).await, Some(LoginStatus::Cancelled));
    expire(&store, &keys, &cancelled).await;
    assert_eq!(status(&cancelled, &alice).await, Some(LoginStatus::Cancelled), "also once the session is gone");

    let uncollected = scanned_by(&store, &bind, &alice).await;
    decided(&store, &uncollected, &alice, Decision::Confirm).await;
    expire(&store, &keys, &uncollected).await;
    assert_eq!(status(&uncollected, &alice).await, Some(LoginStatus::Expired));
    assert_eq!(status(&uncollected, &bob).await, None);

    let ended = scanned_by(&store, &bind, &alice).await;
    assert!(matches!(store.scan(&ended, &bob, CODE, None, None).await.unwrap(), ScanOutcome::Ended { .. }));
    assert_eq!(status(&ended, &alice).await, Some(LoginStatus::Cancelled), "a second scanner ended it");
    assert_eq!(status(&ended, &bob).await, None);

    let subject = fresh_subject();
    let once = Limit::counted(&subject, "status", "user", Rate::new(1, 60));
    assert!(store.login_status(&id, &alice, &[once]).await.is_ok());
    assert!(matches!(store.login_status(&id, &alice, &[once]).await, Err(StepError::Limited(_))));
}

#[tokio::test]
async fn a_check_code_is_shown_to_the_browser_and_needed_to_confirm() {
    let (store, bind) = (store(), BindingHash::of_secret("b"));
    let alice = UserId::parse("alice").unwrap();
    let id = pending(&store, &bind).await;
    let code = CheckCode::random();

    let scanned = store.scan(&id, &alice, CODE, Some(&code), None).await.unwrap();
    assert!(matches!(scanned, ScanOutcome::Scanned { check_code_required: true, .. }), "{scanned:?}");
    // A retry keeps the first code.
    let retried = store.scan(&id, &alice, CODE, Some(&CheckCode::random()), None).await.unwrap();
    assert!(matches!(retried, ScanOutcome::Scanned { check_code_required: true, .. }));
    let shown = PollOutcome::ScannedWithCheckCode(code.as_str().to_owned());
    assert_eq!(store.poll(&id, &bind, Duration::ZERO).await.unwrap().outcome, shown);

    let wrong = if code.as_str() == "00" { "01" } else { "00" };
    for presented in [None, Some(wrong)] {
        let outcome =
            store.decide(&id, &alice, Decision::Confirm, DecisionCodes::new(CODE, presented), &[]).await.unwrap();
        assert_eq!(outcome.outcome, DecideOutcome::WrongCheckCode);
    }
    assert_eq!(store.poll(&id, &bind, Duration::ZERO).await.unwrap().outcome, shown, "nothing changed");
    let right =
        store.decide(&id, &alice, Decision::Confirm, DecisionCodes::new(CODE, Some(code.as_str())), &[]).await.unwrap();
    assert_eq!(right.outcome, DecideOutcome::Done);
    assert_eq!(
        store.poll(&id, &bind, Duration::ZERO).await.unwrap().outcome,
        PollOutcome::Confirmed { user: alice.clone(), jkt: None }
    );

    // The third wrong code denies; deny never needs the code.
    let guessed = pending(&store, &bind).await;
    store.scan(&guessed, &alice, CODE, Some(&code), None).await.unwrap();
    let attempts: Vec<_> = wrong_codes(&store, &guessed, &alice, wrong).await;
    assert_eq!(
        attempts,
        [DecideOutcome::WrongCheckCode, DecideOutcome::WrongCheckCode, DecideOutcome::CheckCodeDenied]
    );
    assert_eq!(store.poll(&guessed, &bind, Duration::ZERO).await.unwrap().outcome, PollOutcome::Denied);
    let denied = pending(&store, &bind).await;
    store.scan(&denied, &alice, CODE, Some(&code), None).await.unwrap();
    assert_eq!(
        store.decide(&denied, &alice, Decision::Deny, DecisionCodes::new(CODE, None), &[]).await.unwrap().outcome,
        DecideOutcome::Done
    );
}

async fn wrong_codes(store: &SessionStore, id: &SessionId, user: &UserId, wrong: &str) -> Vec<DecideOutcome> {
    let mut outcomes = Vec::new();
    for _ in 0..CHECK_CODE_ATTEMPTS {
        outcomes.push(
            store
                .decide(id, user, Decision::Confirm, DecisionCodes::new(CODE, Some(wrong)), &[])
                .await
                .unwrap()
                .outcome,
        );
    }
    outcomes
}

/// The create's trace context comes back in the reply of every step that joins the login's trace: the scan (first
/// scanner and second), every decision, the won claim.
#[tokio::test]
async fn the_stored_trace_context_comes_back_with_every_step() {
    let (store, bind) = (store(), BindingHash::of_secret("b"));
    let (alice, bob) = (UserId::parse("alice").unwrap(), UserId::parse("bob").unwrap());
    let tp = Traceparent::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
    let traced_with = |outcome| Decided { outcome, trace: Some(tp.clone()) };

    let id = traced(&store, &bind, Some(&tp)).await;
    let scanned = store.scan(&id, &alice, CODE, Some(&CheckCode::random()), None).await.unwrap();
    assert!(matches!(scanned, ScanOutcome::Scanned { trace: Some(ref t), .. } if *t == tp), "{scanned:?}");
    assert_eq!(
        store.decide(&id, &bob, Decision::Confirm, DecisionCodes::new(CODE, None), &[]).await.unwrap(),
        traced_with(DecideOutcome::WrongUser)
    );
    let mut attempts = Vec::new();
    for _ in 0..CHECK_CODE_ATTEMPTS {
        attempts.push(
            store.decide(&id, &alice, Decision::Confirm, DecisionCodes::new(CODE, Some("no")), &[]).await.unwrap(),
        );
    }
    assert_eq!(attempts[0], traced_with(DecideOutcome::WrongCheckCode));
    assert_eq!(attempts.last(), Some(&traced_with(DecideOutcome::CheckCodeDenied)));
    assert_eq!(
        store.decide(&id, &alice, Decision::Deny, DecisionCodes::new(CODE, None), &[]).await.unwrap(),
        traced_with(DecideOutcome::WrongState)
    );
    let unknown =
        store.decide(&SessionId::random(), &alice, Decision::Deny, DecisionCodes::new(CODE, None), &[]).await.unwrap();
    assert_eq!(unknown, Decided { outcome: DecideOutcome::NotFound, trace: None });

    let confirmed = traced(&store, &bind, Some(&tp)).await;
    store.scan(&confirmed, &alice, CODE, None, None).await.unwrap();
    assert_eq!(
        store.decide(&confirmed, &alice, Decision::Confirm, DecisionCodes::new(CODE, None), &[]).await.unwrap(),
        traced_with(DecideOutcome::Done)
    );
    let won = store.claim(&confirmed, &bind, "{}", Duration::from_secs(5), None).await.unwrap();
    assert!(matches!(won, ClaimOutcome::Won { trace: Some(ref t), .. } if *t == tp), "{won:?}");

    let shared = traced(&store, &bind, Some(&tp)).await;
    store.scan(&shared, &alice, CODE, None, None).await.unwrap();
    let ended = store.scan(&shared, &bob, CODE, None, None).await.unwrap();
    assert_eq!(ended, ScanOutcome::Ended { first_scanner: alice.clone(), trace: Some(tp.clone()) });

    // Without one stored, the claim says so too.
    let plain = pending(&store, &bind).await;
    store.scan(&plain, &alice, CODE, None, None).await.unwrap();
    store.decide(&plain, &alice, Decision::Confirm, DecisionCodes::new(CODE, None), &[]).await.unwrap();
    let won = store.claim(&plain, &bind, "{}", Duration::from_secs(5), None).await.unwrap();
    assert!(matches!(won, ClaimOutcome::Won { trace: None, .. }), "{won:?}");
}

#[tokio::test]
async fn the_risk_and_device_scripts_give_every_reply_they_document() {
    let (store, bind) = (store(), BindingHash::of_secret("b"));
    let alice = UserId::parse("alice").unwrap();
    let device = DeviceHash::of_secret("a-browser");
    let requester = requester();
    let id = SessionId::random();
    let new = NewSession {
        binding: &bind,
        requester: &requester,
        device: Some(&device),
        ttl: Duration::from_secs(60),
        code_expires_at: CODE,
        trace: None,
        dpop_jkt: None,
    };
    assert!(store.create(&id, &new, &[]).await.unwrap());

    assert!(store.login_context(&SessionId::random(), &[], None).await.unwrap().is_none());
    let context = store.login_context(&id, &[], None).await.unwrap().unwrap();
    assert_eq!((context.state, context.scanner, context.risk), (SessionState::Pending, None, None));
    assert_eq!((context.requester, context.device), (requester.clone(), Some(device.clone())));

    // The scan keeps its verdict for the confirm.
    store.scan(&id, &alice, CODE, None, Some((RiskLevel::Medium, &shown()))).await.unwrap();
    let context = store.login_context(&id, &[], None).await.unwrap().unwrap();
    assert_eq!((context.scanner, context.risk), (Some(alice.clone()), Some(RiskLevel::Medium)));

    // The won claim names the device, for the user's history.
    store.decide(&id, &alice, Decision::Confirm, DecisionCodes::new(CODE, None), &[]).await.unwrap();
    let won = store.claim(&id, &bind, "{}", Duration::from_secs(5), None).await.unwrap();
    assert!(matches!(won, ClaimOutcome::Won { device: Some(ref d), .. } if *d == device), "{won:?}");

    let memory = Duration::from_secs(3600);
    assert!(!store.knows_device(&alice, &device, memory).await.unwrap());
    store.remember_device(&alice, &device, memory).await.unwrap();
    assert!(store.knows_device(&alice, &device, memory).await.unwrap());
    assert!(!store.knows_device(&UserId::parse("bob").unwrap(), &device, memory).await.unwrap());
}

#[tokio::test]
async fn on_a_single_redis_the_session_steps_read_and_write_the_users_device_history_themselves() {
    let (store, bind, alice) = (store(), BindingHash::of_secret("b"), UserId::parse("alice").unwrap());
    let device = DeviceHash::of_secret("a-browser");
    let history = Some(History { user: &alice, memory: Duration::from_secs(3600) });
    let requester = requester();
    let (first, second, anonymous) = (SessionId::random(), SessionId::random(), SessionId::random());
    let new = session_of(&bind, &requester, Some(&device));
    for id in [&first, &second] {
        assert!(store.create(id, &new, &[]).await.unwrap());
    }
    assert!(store.create(&anonymous, &NewSession { device: None, ..new }, &[]).await.unwrap());

    let unknown = store.login_context(&first, &[], history).await.unwrap().unwrap();
    store.scan(&first, &alice, CODE, None, None).await.unwrap();
    store.decide(&first, &alice, Decision::Confirm, DecisionCodes::new(CODE, None), &[]).await.unwrap();
    let web = NewWebSession { sid: "sid-1", lifetime: Duration::from_secs(3600) };
    let claimant = history.map(|history| Claimant { history, web });
    let won = store.claim(&first, &bind, "{}", Duration::from_secs(5), claimant).await.unwrap();
    let known = store.login_context(&second, &[], history).await.unwrap().unwrap();
    let no_device = store.login_context(&anonymous, &[], history).await.unwrap().unwrap();

    assert_eq!(unknown.known_device, Some(false));
    assert!(matches!(won, ClaimOutcome::Won { device: None, shown: None, .. }), "done in the claim: {won:?}");
    let sessions = store.web_sessions(&alice).await.unwrap();
    assert_eq!(sessions.iter().map(|s| s.sid.as_str()).collect::<Vec<_>>(), ["sid-1"], "the claim began it");
    assert!(store.knows_device(&alice, &device, Duration::from_secs(3600)).await.unwrap());
    assert_eq!(known.known_device, Some(true), "the next login of that browser is known");
    assert_eq!(no_device.known_device, None, "a session without a device has nothing to look up");
}

#[tokio::test]
async fn a_confirm_at_a_blocked_risk_level_or_without_a_verdict_is_refused_and_changes_nothing() {
    let (store, bind, alice) = (store(), BindingHash::of_secret("b"), UserId::parse("alice").unwrap());
    let block = |level| DecisionCodes { risk_block: Some(level), ..DecisionCodes::new(CODE, None) };
    let (judged, unjudged) = (pending(&store, &bind).await, pending(&store, &bind).await);
    store.scan(&judged, &alice, CODE, None, Some((RiskLevel::Medium, &shown()))).await.unwrap();
    store.scan(&unjudged, &alice, CODE, None, None).await.unwrap();

    let at_medium = store.decide(&judged, &alice, Decision::Confirm, block(RiskLevel::Medium), &[]).await.unwrap();
    let no_verdict = store.decide(&unjudged, &alice, Decision::Confirm, block(RiskLevel::High), &[]).await.unwrap();
    let state = store.login_context(&judged, &[], None).await.unwrap().unwrap().state;
    let below = store.decide(&judged, &alice, Decision::Confirm, block(RiskLevel::High), &[]).await.unwrap();

    assert_eq!(at_medium.outcome, DecideOutcome::RiskBlocked);
    assert_eq!(no_verdict.outcome, DecideOutcome::RiskBlocked);
    assert_eq!(state, SessionState::Scanned, "the refused confirm changed nothing");
    assert_eq!(below.outcome, DecideOutcome::Done, "medium is below a high block");
}

#[tokio::test]
async fn a_long_user_agent_comes_back_whole_and_the_session_stays_compact() {
    let settings = test_support::redis_settings(&test_support::redis_url());
    let (store, bind) = (SessionStore::connect(&settings).unwrap(), BindingHash::of_secret("b"));
    let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    let user_agent = format!("{chrome} Ünïcödé/{}", "é".repeat(60));
    let requester = Requester { user_agent: user_agent.clone(), ..requester() };
    let device = DeviceHash::of_secret("d");
    let id = SessionId::random();
    let new = session_of(&bind, &requester, Some(&device));
    assert!(store.create(&id, &new, &[]).await.unwrap());

    let context = store.login_context(&id, &[], None).await.unwrap().unwrap();
    let mut conn = store.redis().pool().get().await.unwrap();
    let key = KeySchema::new(settings.key_prefix).session(&id);
    let encoding: String = redis::cmd("OBJECT").arg("ENCODING").arg(&key).query_async(&mut conn).await.unwrap();
    let alice = UserId::parse("alice").unwrap();
    let scanned = store.scan(&id, &alice, CODE, None, None).await.unwrap();

    assert_eq!(context.requester.user_agent, user_agent);
    assert!(matches!(scanned, ScanOutcome::Scanned { ref requester, .. } if requester.user_agent == user_agent));
    assert_eq!(encoding, "listpack", "every field within Redis's compact hash limit");
}

/// What a create stores for `requester`'s browser (60 s, the test code, no trace).
fn session_of<'a>(
    binding: &'a BindingHash,
    requester: &'a Requester,
    device: Option<&'a DeviceHash>,
) -> NewSession<'a> {
    NewSession {
        binding,
        requester,
        device,
        ttl: Duration::from_secs(60),
        code_expires_at: CODE,
        trace: None,
        dpop_jkt: None,
    }
}

/// A subject no other test (or earlier run) has counted against.
fn fresh_subject() -> String {
    SessionId::random().to_string()
}

#[tokio::test]
async fn the_rate_limit_script_admits_then_refuses() {
    let settings = test_support::redis_settings(&test_support::redis_url());
    let limiter = RateLimiter::new(store().redis().clone(), KeySchema::new(settings.key_prefix));
    let user = fresh_subject();
    let limit = [Limit::counted(&user, "scan", "user", Rate::new(1, 60))];

    assert_eq!(limiter.check(&limit).await.unwrap(), None);
    let limited = limiter.check(&limit).await.unwrap().expect("the second is refused");
    assert_eq!(limited.name, "scan");
    assert!(limited.retry_after > Duration::from_secs(50), "{limited:?}");
}

#[tokio::test]
async fn a_rate_limit_peek_answers_like_a_check_and_counts_nothing() {
    let settings = test_support::redis_settings(&test_support::redis_url());
    let limiter = RateLimiter::new(store().redis().clone(), KeySchema::new(settings.key_prefix));
    let client = fresh_subject();
    let counted = Limit::counted(&client, "bad_token", "ip", Rate::new(2, 60));
    let peeked = [Limit { peek: true, ..counted }];

    for _ in 0..5 {
        assert_eq!(limiter.check(&peeked).await.unwrap(), None);
    }
    assert_eq!(limiter.check(&[counted]).await.unwrap(), None);
    assert_eq!(limiter.check(&[counted]).await.unwrap(), None);
    assert!(limiter.check(&peeked).await.unwrap().is_some());
}

#[tokio::test]
async fn a_step_its_limits_refuse_changes_nothing_and_names_the_limit() {
    let store = store();
    let (client, user) = (fresh_subject(), fresh_subject());
    let open = Limit::counted(&client, "ip", "ip", Rate::new(5, 60));
    let once = Limit::counted(&user, "global", "all", Rate::new(1, 60));
    let (first, second) = (SessionId::random(), SessionId::random());
    let (binding, requester) = (BindingHash::of_secret("b"), requester());
    let new = session_of(&binding, &requester, None);

    assert!(store.create(&first, &new, &[open, once]).await.unwrap());
    let refused = store.create(&second, &new, &[open, once]).await;

    match refused {
        Err(StepError::Limited(limited)) => assert_eq!(limited.name, "global"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(store.login_context(&second, &[], None).await.unwrap().is_none(), "no session was stored");
    // Nothing was counted against the limit that admitted it: its four other requests are still there.
    for _ in 0..4 {
        assert!(store.login_context(&first, &[open], None).await.is_ok());
    }
    assert!(matches!(store.login_context(&first, &[open], None).await, Err(StepError::Limited(_))));
}

/// Every quoted word in the scripts is a session state, a reply tag, a hash field or a Redis command: a state
/// misspelt in Lua (`'confimed'`) fails here rather than as a login that never finishes.
#[test]
fn the_scripts_spell_states_only_as_the_enum_does() {
    let scripts = [
        include_str!("../src/store/create.lua"),
        include_str!("../src/store/poll.lua"),
        include_str!("../src/store/claim.lua"),
        include_str!("../src/store/cancel.lua"),
        include_str!("../src/store/rotate.lua"),
        include_str!("../src/store/scan.lua"),
        include_str!("../src/store/decide.lua"),
        include_str!("../src/store/bad_code.lua"),
        include_str!("../src/store/context.lua"),
        include_str!("../src/store/remember_device.lua"),
        include_str!("../src/store/known_device.lua"),
        include_str!("../src/store/outcome.lua"),
        include_str!("../src/store/web_sessions.lua"),
        include_str!("../src/store/web_session_add.lua"),
        include_str!("../src/store/web_sessions_list.lua"),
        include_str!("../src/store/web_session_end.lua"),
        include_str!("../src/store/web_session_touch.lua"),
        include_str!("../src/store/outbox.lua"),
        include_str!("../src/store/outbox_add.lua"),
        include_str!("../src/store/outbox_take.lua"),
        include_str!("../src/store/outbox_settle.lua"),
        include_str!("../src/store/outbox_forget.lua"),
        include_str!("../src/store/dpop_proof.lua"),
        include_str!("../src/rate_limit/admit.lua"),
    ];
    let mut known: BTreeSet<&str> = SessionState::ALL.iter().map(|s| s.as_str()).collect();
    known.extend(["expired", "forbidden", "slow_down", "won", "rotated", "stale", "not_pending", "ok", "gone"]);
    known.extend(["not_found", "conflict", "ended", "wrong_state", "wrong_user", "0", "1", ""]);
    known.extend([
        "risk_blocked",
        ",",
        "none",
        "limited",
        "count",
        "peek",
        "wrong_check_code",
        "check_code_denied",
        "cc",
        "ccbad",
        "dev",
        "risk",
        "tp",
        "shown",
        r#"{"b":"unknown","o":"unknown"}"#,
    ]);
    known.extend(["HGETALL", "HGET", "HDEL", "EXPIREAT"]);
    known.extend(["user", "sid", "at", "XADD", "MAXLEN", "~", "*", "XGROUP", "CREATE", "MKSTREAM", "XPENDING"]);
    known.extend(["IDLE", "-", "+", "XCLAIM", "XREADGROUP", "GROUP", "COUNT", "STREAMS", ">", "XACK", "XDEL"]);
    known.extend(["JUSTID", "XINFO", "CONSUMERS", "DELCONSUMER"]);
    known.extend(["ZADD", "ZREMRANGEBYSCORE", "ZREMRANGEBYRANK", "ZCARD", "ZSCORE", "-inf", "("]);
    known.extend([
        "jkt", "NX", "EX", "st", "bind", "uid", "resp", "ptat", "v", "cexp", "ip", "ua", "ua2", "ua3", "ua4", "ua5",
        "ct", "bad",
    ]);
    known.extend([
        "HMGET", "HSET", "HINCRBY", "EXPIRE", "PUBLISH", "DEL", "EXISTS", "TIME", "PTTL", "TTL", "GET", "SET", "PX",
    ]);
    for script in scripts {
        let code: String = script.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
        for word in code.split('\'').skip(1).step_by(2) {
            assert!(known.contains(word), "unknown literal {word:?} in a script");
        }
    }
}

fn shown() -> Shown {
    Shown { browser: "Firefox 133".into(), os: "Linux".into(), location: None }
}

#[tokio::test]
async fn a_users_web_sessions_are_capped_and_end_one_or_all() {
    let (store, alice, bob) = (store(), UserId::parse("alice").unwrap(), UserId::parse("bob").unwrap());
    let web = |sid| NewWebSession { sid, lifetime: Duration::from_secs(600) };
    let sids: Vec<String> = (0..=WEB_SESSIONS_PER_USER).map(|i| format!("sid-{i:02}")).collect();
    for sid in &sids {
        store.add_web_session(&alice, web(sid), &shown(), None).await.unwrap();
    }

    let kept = store.web_sessions(&alice).await.unwrap();
    assert_eq!(kept.len(), WEB_SESSIONS_PER_USER as usize, "capped");
    assert_eq!(kept[0].shown, shown());
    assert!(store.touch_web_session(&alice, &sids[5]).await.unwrap());
    assert!(!store.touch_web_session(&bob, &sids[5]).await.unwrap(), "another user's sid is unknown");
    assert_eq!(store.end_web_sessions(&bob, Some(&sids[5])).await.unwrap(), 0);
    assert_eq!(store.end_web_sessions(&alice, Some(&sids[5])).await.unwrap(), 1);
    assert!(!store.touch_web_session(&alice, &sids[5]).await.unwrap(), "ended");
    assert_eq!(store.end_web_sessions(&alice, None).await.unwrap(), u64::from(WEB_SESSIONS_PER_USER) - 1);
    assert!(store.web_sessions(&alice).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_dpop_bound_login_hands_its_key_to_the_confirmed_poll_and_a_proof_counts_once() {
    let (store, bind, alice) = (store(), BindingHash::of_secret("b"), UserId::parse("alice").unwrap());
    let id = SessionId::random();
    let requester = requester();
    let jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    let new = NewSession {
        binding: &bind,
        requester: &requester,
        device: None,
        ttl: Duration::from_secs(60),
        code_expires_at: CODE,
        trace: None,
        dpop_jkt: Some(jkt),
    };
    assert!(store.create(&id, &new, &[]).await.unwrap());
    assert!(matches!(store.scan(&id, &alice, CODE, None, None).await.unwrap(), ScanOutcome::Scanned { .. }));
    let confirm = store.decide(&id, &alice, Decision::Confirm, DecisionCodes::new(CODE, None), &[]).await.unwrap();
    assert_eq!(confirm.outcome, DecideOutcome::Done);

    let polled = store.poll(&id, &bind, Duration::ZERO).await.unwrap().outcome;

    assert_eq!(polled, PollOutcome::Confirmed { user: alice, jkt: Some(jkt.to_owned()) });
    let jti = uuid::Uuid::new_v4().simple().to_string();
    assert!(store.first_use_of_proof(jkt, &jti, Duration::from_secs(65)).await.unwrap());
    assert!(!store.first_use_of_proof(jkt, &jti, Duration::from_secs(65)).await.unwrap(), "a replay");
    assert!(store.first_use_of_proof("another-key", &jti, Duration::from_secs(65)).await.unwrap(), "per key");
}

/// Retries on a scale a test can wait for.
const RETRY: Retry =
    Retry { base: Duration::from_secs(1), cap: Duration::from_secs(4), in_flight: Duration::from_secs(2) };

#[tokio::test]
async fn web_sessions_queue_their_logins_and_logouts_only_while_a_gateway_delivers_them() {
    let (store, alice) = (store(), UserId::parse("alice").unwrap());
    let web = |sid| NewWebSession { sid, lifetime: Duration::from_secs(600) };
    store.add_web_session(&alice, web("before"), &shown(), None).await.unwrap();
    store.end_web_sessions(&alice, None).await.unwrap();
    for kind in [OutboxKind::Login, OutboxKind::Logout] {
        assert!(store.outbox_take(kind, "a", 10, &RETRY).await.unwrap().is_empty(), "no queue, nothing queued");
    }

    store.add_web_session(&alice, web("s1"), &shown(), Some(RiskLevel::Medium)).await.unwrap();
    store.add_web_session(&alice, web("s2"), &shown(), None).await.unwrap();
    assert_eq!(store.end_web_sessions(&alice, Some("s1")).await.unwrap(), 1);
    assert_eq!(store.end_web_sessions(&alice, Some("s1")).await.unwrap(), 0, "ended once, logged out once");
    store.end_web_sessions(&alice, None).await.unwrap();

    let logins = store.outbox_take(OutboxKind::Login, "a", 10, &RETRY).await.unwrap();
    let fields = |e: &OutboxEvent, name| e.field(name).unwrap().to_owned();
    assert_eq!(logins.iter().map(|e| fields(e, "sid")).collect::<Vec<_>>(), ["s1", "s2"]);
    assert_eq!((fields(&logins[0], "user"), fields(&logins[0], "risk")), ("alice".into(), "medium".into()));
    assert_eq!(serde_json::from_str::<Shown>(&fields(&logins[0], "shown")).unwrap(), shown());
    assert!(logins[0].field("at").unwrap().parse::<u64>().is_ok());
    let logouts = store.outbox_take(OutboxKind::Logout, "a", 10, &RETRY).await.unwrap();
    assert_eq!(logouts.iter().map(|e| fields(e, "sid")).collect::<Vec<_>>(), ["s1", "s2"]);
    assert!(logouts.iter().all(|e| e.field("user") == Some("alice") && e.attempts == 0));
}

#[tokio::test]
async fn the_cap_logs_out_the_sessions_it_ends_and_a_single_redis_claim_queues_its_login() {
    let (store, bind, alice) = (store(), BindingHash::of_secret("b"), UserId::parse("alice").unwrap());
    store.outbox_take(OutboxKind::Logout, "a", 1, &RETRY).await.unwrap();
    store.outbox_take(OutboxKind::Login, "a", 1, &RETRY).await.unwrap();
    let sids: Vec<String> = (0..=WEB_SESSIONS_PER_USER).map(|i| format!("sid-{i:02}")).collect();
    for sid in &sids[..usize::try_from(WEB_SESSIONS_PER_USER).unwrap()] {
        let web = NewWebSession { sid, lifetime: Duration::from_secs(600) };
        store.add_web_session(&alice, web, &shown(), None).await.unwrap();
    }
    // The last one comes through a claim, which on a single Redis adds it and queues both events itself.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let id = pending(&store, &bind).await;
    store.scan(&id, &alice, CODE, None, Some((RiskLevel::Low, &shown()))).await.unwrap();
    store.decide(&id, &alice, Decision::Confirm, DecisionCodes::new(CODE, None), &[]).await.unwrap();
    let history = History { user: &alice, memory: Duration::from_secs(3600) };
    let web = NewWebSession { sid: sids.last().unwrap(), lifetime: Duration::from_secs(600) };
    let won = store.claim(&id, &bind, "{}", Duration::from_secs(5), Some(Claimant { history, web })).await.unwrap();
    assert!(matches!(won, ClaimOutcome::Won { risk: Some(RiskLevel::Low), .. }), "{won:?}");

    // One of the older ones (times are in seconds: which of those added in the same second is not told).
    let logouts = store.outbox_take(OutboxKind::Logout, "a", 10, &RETRY).await.unwrap();
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    let ended = logouts[0].field("sid").unwrap();
    assert!(sids[..sids.len() - 1].iter().any(|s| s == ended));
    assert!(store.web_sessions(&alice).await.unwrap().iter().all(|s| s.sid != ended), "the one the cap ended");
    let logins = store.outbox_take(OutboxKind::Login, "a", 100, &RETRY).await.unwrap();
    let last = logins.last().unwrap();
    assert_eq!((last.field("sid"), last.field("risk")), (Some(sids.last().unwrap().as_str()), Some("low")));
}

#[tokio::test]
async fn a_failed_event_comes_back_after_its_pause_and_a_cut_off_one_goes_to_another_gateway() {
    let (store, alice) = (store(), UserId::parse("alice").unwrap());
    store.outbox_take(OutboxKind::Logout, "a", 1, &RETRY).await.unwrap();
    store
        .add_web_session(&alice, NewWebSession { sid: "s", lifetime: Duration::from_secs(600) }, &shown(), None)
        .await
        .unwrap();
    store.end_web_sessions(&alice, Some("s")).await.unwrap();
    let take = |consumer| store.outbox_take(OutboxKind::Logout, consumer, 10, &RETRY);

    let first = take("a").await.unwrap();
    assert_eq!((first.len(), first[0].attempts), (1, 0));
    store.outbox_failed(OutboxKind::Logout, "a", &first[0], &RETRY).await.unwrap();
    assert!(take("b").await.unwrap().is_empty(), "not before its pause");
    tokio::time::sleep(RETRY.pause(1) + Duration::from_millis(300)).await;
    let second = take("b").await.unwrap();
    assert_eq!((second.len(), second[0].attempts), (1, 1), "retried, by whichever gateway looks");
    assert_eq!(second[0].id, first[0].id);

    // b dies mid-attempt: the event is another's once the attempt has been in flight too long.
    assert!(take("a").await.unwrap().is_empty(), "in flight");
    tokio::time::sleep(RETRY.in_flight + Duration::from_millis(300)).await;
    let third = take("a").await.unwrap();
    assert_eq!((third.len(), third[0].attempts), (1, 2));
    assert_eq!(store.outbox_forget(OutboxKind::Logout, "a", Duration::ZERO).await.unwrap(), 1, "b holds nothing");
    store.outbox_delivered(OutboxKind::Logout, "a", &third[0]).await.unwrap();
    tokio::time::sleep(RETRY.in_flight + Duration::from_millis(300)).await;
    assert!(take("a").await.unwrap().is_empty(), "delivered: gone");
}

#[test]
fn retry_pauses_double_up_to_their_cap() {
    let pauses: Vec<u64> = (1..=5).map(|n| RETRY.pause(n).as_secs()).collect();
    assert_eq!(pauses, [1, 2, 4, 4, 4]);
    assert_eq!(RETRY.pause(u32::MAX), RETRY.cap);
}

#[tokio::test]
async fn a_queue_whose_group_was_destroyed_gets_it_back_and_keeps_its_events() {
    let settings = test_support::redis_settings(&test_support::redis_url());
    let (store, alice) = (SessionStore::connect(&settings).unwrap(), UserId::parse("alice").unwrap());
    let take = || store.outbox_take(OutboxKind::Logout, "a", 10, &RETRY);
    take().await.unwrap();
    let queue = KeySchema::new(settings.key_prefix.clone()).outbox("logout");
    let mut conn = store.redis().pool().get().await.unwrap();
    let _: i64 = redis::cmd("XGROUP").arg("DESTROY").arg(&queue).arg("gateways").query_async(&mut conn).await.unwrap();
    store
        .add_web_session(&alice, NewWebSession { sid: "s", lifetime: Duration::from_secs(600) }, &shown(), None)
        .await
        .unwrap();
    store.end_web_sessions(&alice, Some("s")).await.unwrap();

    // The next look makes the group again, from the stream's start, and reads the event.
    let taken = take().await.unwrap();
    assert_eq!(taken.iter().map(|e| e.field("sid").unwrap()).collect::<Vec<_>>(), ["s"]);
}
