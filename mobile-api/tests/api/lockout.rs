//! The lockout: a session is destroyed after repeated wrong verification strings, and then answers exactly like
//! one never created; genuine but expired codes are not counted as guesses.

use mobile_api::{admission::ALLOWED_MISSES, config::MobileLimits};
use qrlogin_shared::store::{ClaimOutcome, PollOutcome};
use qrlogin_shared::{KeySchema, SessionId, UserId, test_support};
use reqwest::header::DATE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    SESSION_TTL, TestApp, TestSession, assert_ok_json, assert_problem, expires_at, foreign_verifier, fresh_redis,
    spawn_app_on, token_for,
};

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
    assert_eq!(app.poll(&session).await, PollOutcome::Confirmed { user: UserId::parse("alice").unwrap(), jkt: None });
    assert!(matches!(app.claim(&session).await, ClaimOutcome::Won { .. }));
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
