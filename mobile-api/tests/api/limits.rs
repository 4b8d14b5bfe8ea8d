//! Abuse limits of the phone side: scans and decisions per user, and invalid tokens per client IP, all shared by
//! every instance through Redis. (The lockout after wrong verification strings is `lockout.rs`.)

use mobile_api::config::MobileLimits;
use qrlogin_shared::rate_limit::Rate;
use qrlogin_shared::store::PollOutcome;
use reqwest::header::{RETRY_AFTER, WWW_AUTHENTICATE};

use crate::helpers::{
    TestSession, assert_ok_json, assert_problem, fresh_redis, good_claims, signed_token, spawn_app_on,
    spawn_app_with_limits, token_for,
};

/// Three actions at once, then one every 20 s: a test's fourth action is always refused.
const THREE_PER_MINUTE: Rate = Rate::new(3, 60);

/// Asserts a 429 `rate-limited` problem whose `Retry-After` is whole seconds within the limit's period.
async fn assert_rate_limited(res: reqwest::Response) {
    let retry_after = res.headers().get(RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
    let retry_after = retry_after.expect("a 429 carries Retry-After");
    let secs: u64 = retry_after.parse().unwrap_or_else(|_| panic!("Retry-After is not seconds: {retry_after:?}"));
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
    assert_problem(res, 429, "rate-limited").await;
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
