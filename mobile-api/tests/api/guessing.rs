//! A guesser is held by its own per-user limit before any of its guesses touches a session: forged verification
//! strings count against the sender's scan or decision rate first, and past it they are refused without reaching
//! the session's miss counter (so a user over the limit can neither keep guessing nor destroy a login by
//! guessing).

use mobile_api::admission::ALLOWED_MISSES;
use mobile_api::config::MobileLimits;
use qrlogin_shared::rate_limit::Rate;
use qrlogin_shared::store::PollOutcome;

use crate::helpers::{
    SESSION_TTL, TestApp, TestSession, assert_ok_json, assert_problem, expires_at, foreign_verifier,
    spawn_app_with_limits, token_for,
};

/// Fewer actions than the lockout needs, so a guesser hits its own limit first.
const TWO_PER_MINUTE: Rate = Rate::new(2, 60);

/// A forged verification string: right format and expiry, a tag under a key the services do not hold.
fn forged(session: &TestSession, n: u32) -> String {
    foreign_verifier().issue(&session.id, expires_at(SESSION_TTL) + n).encode()
}

fn forged_link(app: &TestApp, session: &TestSession, n: u32) -> String {
    let code = foreign_verifier().issue(&session.id, expires_at(SESSION_TTL) + n);
    app.base.link(&session.id, &code)
}

#[tokio::test]
async fn forged_scans_count_against_the_guessers_scan_limit_before_the_session() {
    // Arrange
    let app = spawn_app_with_limits(MobileLimits { scan_per_user: TWO_PER_MINUTE, ..MobileLimits::unlimited() }).await;
    let session = app.new_session().await;
    let mallory = token_for("mallory");

    // Act: mallory sends as many forged strings as would destroy the session.
    let mut statuses = Vec::new();
    for n in 0..ALLOWED_MISSES {
        statuses.push(app.scan(&mallory, &forged_link(&app, &session, n)).await.status().as_u16());
    }
    let genuine_by_mallory = app.scan(&mallory, &session.qr_content).await;

    // Assert: two guesses reached the session, the rest were refused by mallory's own limit (even her genuine
    // scan now waits), and the session survived for its real user.
    assert_eq!(statuses, [404, 404, 429, 429, 429]);
    assert_problem(genuine_by_mallory, 429, "rate-limited").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
    let alice = app.scan(&token_for("alice"), &session.qr_content).await;
    assert_eq!(assert_ok_json(alice).await["uuid"], session.id.to_string());
}

#[tokio::test]
async fn forged_decisions_count_against_the_guessers_decision_limit_before_the_session() {
    // Arrange: alice scanned; mallory guesses at the verification string with confirms and denies.
    let limits = MobileLimits { decide_per_user: TWO_PER_MINUTE, ..MobileLimits::unlimited() };
    let app = spawn_app_with_limits(limits).await;
    let session = app.new_session().await;
    app.scan_ok("alice", &session).await;
    let (mallory, uuid) = (token_for("mallory"), session.id.to_string());

    // Act
    let mut statuses = Vec::new();
    for n in 0..ALLOWED_MISSES {
        let res = if n % 2 == 0 {
            app.confirm(&mallory, &uuid, &forged(&session, n)).await
        } else {
            app.deny(&mallory, &uuid, &forged(&session, n)).await
        };
        statuses.push(res.status().as_u16());
    }

    // Assert: only two guesses were counted against the session, which alice can still confirm.
    assert_eq!(statuses, [404, 404, 429, 429, 429]);
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned);
    let confirmed = app.confirm(&token_for("alice"), &uuid, &session.verification).await;
    assert_eq!(assert_ok_json(confirmed).await["status"], "confirmed");
}
