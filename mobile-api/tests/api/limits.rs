//! Abuse limits of the phone side: the lockout that destroys a session after repeated wrong verification
//! strings, scans and decisions per user, and invalid tokens per client IP, all shared by every instance through
//! Redis.

use mobile_api::{admission::ALLOWED_MISSES, config::MobileLimits};
use qrlogin_shared::rate_limit::Rate;
use qrlogin_shared::store::{ClaimOutcome, PollOutcome};
use qrlogin_shared::{KeySchema, SessionId, UserId, test_support};
use reqwest::header::{DATE, RETRY_AFTER, WWW_AUTHENTICATE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    SESSION_TTL, TestApp, TestSession, assert_ok_json, assert_problem, expires_at, foreign_verifier, good_claims,
    signed_token, spawn_app_on, spawn_app_with_limits, token_for,
};

/// Three actions at once, then one every 20 s: a test's fourth action is always refused.
const THREE_PER_MINUTE: Rate = Rate::new(3, 60);

fn fresh_redis() -> qrlogin_shared::config::RedisSettings {
    test_support::redis_settings(&test_support::redis_url())
}

/// A wrong verification string for `session`: the right format and expiry, a tag under a key we do not hold.
/// `n` makes each one different, as a guesser's would be.
fn wrong_link(app: &TestApp, session: &TestSession, n: u32) -> String {
    let forged = foreign_verifier().issue(&session.id, expires_at(SESSION_TTL) + n);
    app.base.link(&session.id, &forged)
}

fn wrong_verification(session: &TestSession, n: u32) -> String {
    foreign_verifier().issue(&session.id, expires_at(SESSION_TTL) + n).encode()
}

/// Whether `key` exists in the test Redis, asked with a raw `EXISTS` (mobile-api's tests have no Redis client of
/// their own, and one integer reply does not need one).
async fn redis_key_exists(key: &str) -> bool {
    let url = test_support::redis_url();
    let addr = url
        .strip_prefix("redis://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|addr| !addr.contains(['@', '/']))
        .unwrap_or_else(|| panic!("the raw EXISTS check needs a plain redis://host:port URL, not {url}"));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let command = format!("*2\r\n$6\r\nEXISTS\r\n${}\r\n{key}\r\n", key.len());
    stream.write_all(command.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    while !reply.ends_with(b"\r\n") {
        let mut buf = [0; 64];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "Redis closed the connection after {reply:?}");
        reply.extend_from_slice(&buf[..n]);
    }
    match reply.as_slice() {
        b":1\r\n" => true,
        b":0\r\n" => false,
        other => panic!("unexpected EXISTS reply {:?}", String::from_utf8_lossy(other)),
    }
}

/// Everything a client sees of an answer but what differs on every request (date, request id).
async fn observable(res: reqwest::Response) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let status = res.status().as_u16();
    let mut headers: Vec<(String, String)> = res
        .headers()
        .iter()
        .filter(|(name, _)| *name != DATE && name.as_str() != "x-request-id")
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (status, headers, res.bytes().await.unwrap().to_vec())
}

/// Asserts a 429 `rate-limited` problem whose `Retry-After` is whole seconds within the limit's period.
async fn assert_rate_limited(res: reqwest::Response) {
    let retry_after = res.headers().get(RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
    let retry_after = retry_after.expect("a 429 carries Retry-After");
    let secs: u64 = retry_after.parse().unwrap_or_else(|_| panic!("Retry-After is not seconds: {retry_after:?}"));
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
    assert_problem(res, 429, "rate-limited").await;
}

// --- lockout ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn five_wrong_verification_strings_destroy_the_session_and_then_it_answers_like_one_never_created() {
    // Arrange
    let redis = fresh_redis();
    let key = |id: &SessionId| KeySchema::new(redis.key_prefix.clone()).session(id);
    let app = spawn_app_on(redis.clone(), MobileLimits::unlimited()).await;
    let session = app.new_session().await;
    let never_created = SessionId::random();
    let genuine_for_unknown = app.verifier.issue(&never_created, expires_at(SESSION_TTL));
    assert!(redis_key_exists(&key(&session.id)).await, "the session hash is where the key schema says");

    // Act
    for n in 0..ALLOWED_MISSES {
        let res = app.scan(&token_for("mallory"), &wrong_link(&app, &session, n)).await;
        assert_problem(res, 404, "session-not-found").await;
    }
    let genuine = app.scan(&token_for("alice"), &session.qr_content).await;
    let unknown = app.scan(&token_for("alice"), &app.base.link(&never_created, &genuine_for_unknown)).await;

    // Assert: gone from Redis, and the genuine code is now answered exactly like a session that never existed.
    assert_eq!(ALLOWED_MISSES, 5);
    assert!(!redis_key_exists(&key(&session.id)).await, "the session survived {ALLOWED_MISSES} wrong strings");
    let (genuine, unknown) = (observable(genuine).await, observable(unknown).await);
    assert_eq!(genuine.0, 404, "body: {}", String::from_utf8_lossy(&genuine.2));
    assert_eq!(genuine, unknown, "a destroyed session must be indistinguishable from an unknown one");
    assert_eq!(app.poll(&session).await, PollOutcome::Expired);
    let confirm = app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await;
    assert_problem(confirm, 404, "session-not-found").await;
}

#[tokio::test]
async fn four_wrong_verification_strings_leave_the_session_usable() {
    // Arrange
    let redis = fresh_redis();
    let app = spawn_app_on(redis.clone(), MobileLimits::unlimited()).await;
    let session = app.new_session().await;

    // Act
    for n in 0..ALLOWED_MISSES - 1 {
        let res = app.scan(&token_for("mallory"), &wrong_link(&app, &session, n)).await;
        assert_problem(res, 404, "session-not-found").await;
    }
    let genuine = app.scan(&token_for("alice"), &session.qr_content).await;

    // Assert
    assert!(redis_key_exists(&KeySchema::new(redis.key_prefix.clone()).session(&session.id)).await);
    let body = assert_ok_json(genuine).await;
    assert_eq!(body["uuid"], session.id.to_string());
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
    // The miss counter kept in the session hash does not disturb the rest of the login.
    let confirm = app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await;
    assert_eq!(assert_ok_json(confirm).await["status"], "confirmed");
    assert_eq!(app.poll(&session).await, PollOutcome::Confirmed(UserId::parse("alice").unwrap()));
    assert!(matches!(app.claim(&session).await, ClaimOutcome::Won(_)));
}

#[tokio::test]
async fn wrong_strings_on_scan_and_on_decisions_count_together() {
    // Arrange: two misses on scan, then the genuine scan.
    let app = spawn_app_on(fresh_redis(), MobileLimits::unlimited()).await;
    let session = app.new_session().await;
    let uuid = session.id.to_string();
    for n in 0..2 {
        assert_problem(app.scan(&token_for("mallory"), &wrong_link(&app, &session, n)).await, 404, "session-not-found")
            .await;
    }
    app.scan_ok("alice", &session).await;

    // Act: three more on confirm and deny make five.
    for n in 2..ALLOWED_MISSES {
        let wrong = wrong_verification(&session, n);
        let res = if n % 2 == 0 {
            app.confirm(&token_for("alice"), &uuid, &wrong).await
        } else {
            app.deny(&token_for("alice"), &uuid, &wrong).await
        };
        assert_problem(res, 404, "session-not-found").await;
    }
    let genuine = app.confirm(&token_for("alice"), &uuid, &session.verification).await;

    // Assert
    assert_problem(genuine, 404, "session-not-found").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Expired);
}

#[tokio::test]
async fn genuine_but_expired_codes_are_not_counted_as_guesses() {
    // Arrange: a stale code is genuine (signed by us), only late: not a guess at the tag.
    let app = spawn_app_on(fresh_redis(), MobileLimits::unlimited()).await;
    let session = app.new_session().await;
    let past = u32::try_from(qrlogin_shared::unix_now() - 60).unwrap();

    // Act
    for n in 0..=ALLOWED_MISSES {
        let stale = app.verifier.issue(&session.id, past - n);
        let res = app.scan(&token_for("alice"), &app.base.link(&session.id, &stale)).await;
        assert_problem(res, 404, "session-not-found").await;
    }

    // Assert
    app.scan_ok("alice", &session).await;
}

// --- per-user scans and decisions ------------------------------------------------------------------------------

fn scan_limited() -> MobileLimits {
    MobileLimits { scan_per_user: THREE_PER_MINUTE, ..MobileLimits::unlimited() }
}

#[tokio::test]
async fn scans_per_user_are_limited_and_other_users_are_not_affected() {
    // Arrange
    let app = spawn_app_with_limits(scan_limited()).await;
    let mut sessions = Vec::new();
    for _ in 0..4 {
        sessions.push(app.new_session().await);
    }

    // Act
    for session in &sessions[..3] {
        app.scan_ok("alice", session).await;
    }
    let fourth = app.scan(&token_for("alice"), &sessions[3].qr_content).await;

    // Assert: refused before anything changed; bob scans the very same session.
    assert_rate_limited(fourth).await;
    assert_eq!(app.poll(&sessions[3]).await, PollOutcome::Pending);
    app.scan_ok("bob", &sessions[3]).await;
}

#[tokio::test]
async fn scan_limit_is_shared_by_instances_on_one_redis() {
    // Arrange: two replicas on one Redis key prefix.
    let redis = fresh_redis();
    let a = spawn_app_on(redis.clone(), scan_limited()).await;
    let b = spawn_app_on(redis, scan_limited()).await;
    assert_ne!(a.address, b.address);
    let mut sessions = Vec::new();
    for _ in 0..4 {
        sessions.push(a.new_session().await);
    }

    // Act: alice alternates between the replicas.
    a.scan_ok("alice", &sessions[0]).await;
    b.scan_ok("alice", &sessions[1]).await;
    a.scan_ok("alice", &sessions[2]).await;
    let fourth = b.scan(&token_for("alice"), &sessions[3].qr_content).await;
    let fifth = a.scan(&token_for("alice"), &sessions[3].qr_content).await;

    // Assert
    assert_rate_limited(fourth).await;
    assert_rate_limited(fifth).await;
    b.scan_ok("bob", &sessions[3]).await;
}

#[tokio::test]
async fn decisions_per_user_are_limited_and_other_users_are_not_affected() {
    // Arrange: scans are free, decisions (confirm and deny alike) three per minute.
    let limits = MobileLimits { decide_per_user: THREE_PER_MINUTE, ..MobileLimits::unlimited() };
    let app = spawn_app_with_limits(limits).await;
    let mut sessions = Vec::new();
    for _ in 0..4 {
        let session = app.new_session().await;
        app.scan_ok("alice", &session).await;
        sessions.push(session);
    }
    let bobs = app.new_session().await;
    app.scan_ok("bob", &bobs).await;
    let alice = token_for("alice");
    let id = |s: &TestSession| s.id.to_string();

    // Act
    let first = app.confirm(&alice, &id(&sessions[0]), &sessions[0].verification).await;
    let second = app.deny(&alice, &id(&sessions[1]), &sessions[1].verification).await;
    let third = app.confirm(&alice, &id(&sessions[2]), &sessions[2].verification).await;
    let fourth_confirm = app.confirm(&alice, &id(&sessions[3]), &sessions[3].verification).await;
    let fourth_deny = app.deny(&alice, &id(&sessions[3]), &sessions[3].verification).await;
    let bob = app.confirm(&token_for("bob"), &id(&bobs), &bobs.verification).await;

    // Assert
    assert_eq!(assert_ok_json(first).await["status"], "confirmed");
    assert_eq!(assert_ok_json(second).await["status"], "denied");
    assert_eq!(assert_ok_json(third).await["status"], "confirmed");
    assert_rate_limited(fourth_confirm).await;
    assert_rate_limited(fourth_deny).await;
    assert_eq!(app.poll(&sessions[3]).await, PollOutcome::Scanned, "a refused decision changes nothing");
    assert_eq!(assert_ok_json(bob).await["status"], "confirmed");
}

#[tokio::test]
async fn decision_limit_is_shared_by_instances_on_one_redis() {
    // Arrange
    let limits = MobileLimits { decide_per_user: THREE_PER_MINUTE, ..MobileLimits::unlimited() };
    let redis = fresh_redis();
    let a = spawn_app_on(redis.clone(), limits).await;
    let b = spawn_app_on(redis, limits).await;
    let mut sessions = Vec::new();
    for _ in 0..4 {
        let session = a.new_session().await;
        b.scan_ok("alice", &session).await;
        sessions.push(session);
    }
    let alice = token_for("alice");

    // Act
    let mut answers = Vec::new();
    for (i, session) in sessions.iter().enumerate() {
        let app = if i % 2 == 0 { &a } else { &b };
        answers.push(app.confirm(&alice, &session.id.to_string(), &session.verification).await);
    }

    // Assert
    let fourth = answers.pop().unwrap();
    for answer in answers {
        assert_eq!(assert_ok_json(answer).await["status"], "confirmed");
    }
    assert_rate_limited(fourth).await;
}

// --- invalid tokens per IP -------------------------------------------------------------------------------------

#[tokio::test]
async fn invalid_tokens_are_throttled_per_ip_and_past_the_limit_nothing_from_it_is_validated() {
    // Arrange
    let limits = MobileLimits { bad_token_per_ip: THREE_PER_MINUTE, ..MobileLimits::unlimited() };
    let app = spawn_app_with_limits(limits).await;
    let session = app.new_session().await;
    let forged = signed_token(&good_claims("alice"), "not-the-identity-providers-secret-0123456789");
    let mut expired = good_claims("alice");
    expired["exp"] = (qrlogin_shared::unix_now() - 3600).into();
    let expired = signed_token(&expired, crate::helpers::JWT_SECRET);

    // Act: three kinds of bad token, then a fourth.
    let first = app.scan(&forged, &session.qr_content).await;
    let second = app.scan(&expired, &session.qr_content).await;
    let third = app.scan("not-a-jwt", &session.qr_content).await;
    let fourth = app.scan(&forged, &session.qr_content).await;
    let valid = app.scan(&token_for("alice"), &session.qr_content).await;
    let fifth = app.confirm(&forged, &session.id.to_string(), &session.verification).await;
    let valid_again = app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await;

    // Assert
    for res in [first, second, third] {
        assert!(res.headers().contains_key(WWW_AUTHENTICATE), "a 401 names the scheme");
        assert_problem(res, 401, "invalid-token").await;
    }
    assert_rate_limited(fourth).await;
    // Past the limit the token is not looked at, so a valid one waits too (valid tokens are never counted:
    // `valid_tokens_are_not_counted_against_the_ip`).
    assert_rate_limited(valid).await;
    assert_rate_limited(fifth).await;
    assert_rate_limited(valid_again).await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn valid_tokens_are_not_counted_against_the_ip() {
    // Arrange
    let limits = MobileLimits { bad_token_per_ip: THREE_PER_MINUTE, ..MobileLimits::unlimited() };
    let app = spawn_app_with_limits(limits).await;
    let mut sessions = Vec::new();
    for _ in 0..4 {
        sessions.push(app.new_session().await);
    }

    // Act: many good requests, then the allowance of bad ones is still whole.
    for session in &sessions {
        app.scan_ok("alice", session).await;
    }
    let mut bad = Vec::new();
    for _ in 0..3 {
        bad.push(app.scan("not-a-jwt", &sessions[0].qr_content).await.status().as_u16());
    }

    // Assert
    assert_eq!(bad, [401; 3]);
    assert_rate_limited(app.scan("not-a-jwt", &sessions[0].qr_content).await).await;
}

#[tokio::test]
async fn invalid_token_limit_is_shared_by_instances_on_one_redis() {
    // Arrange
    let limits = MobileLimits { bad_token_per_ip: THREE_PER_MINUTE, ..MobileLimits::unlimited() };
    let redis = fresh_redis();
    let a = spawn_app_on(redis.clone(), limits).await;
    let b = spawn_app_on(redis, limits).await;
    let session = a.new_session().await;

    // Act
    let mut statuses = Vec::new();
    for i in 0..3 {
        let app = if i % 2 == 0 { &a } else { &b };
        statuses.push(app.scan("not-a-jwt", &session.qr_content).await.status().as_u16());
    }
    let fourth = b.scan("not-a-jwt", &session.qr_content).await;

    // Assert
    assert_eq!(statuses, [401; 3]);
    assert_rate_limited(fourth).await;
    // The other instance knows too: past the limit, nothing from this address is validated there either.
    assert_rate_limited(a.scan(&token_for("alice"), &session.qr_content).await).await;
}
