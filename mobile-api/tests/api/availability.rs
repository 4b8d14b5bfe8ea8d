//! Redis down or silent: a fast, opaque 503 with `Retry-After`, never a hang; health says up, readiness says not.

use std::time::{Duration, Instant};

use qrlogin_shared::SessionId;
use reqwest::header::RETRY_AFTER;

use crate::helpers::{
    TestApp, assert_ok_json, assert_problem, expires_at, spawn_app, spawn_app_with_dead_redis,
    spawn_app_with_silent_redis, token_for,
};

/// Generous: the Redis timeouts are 500 ms; this only catches a hang.
const FAST: Duration = Duration::from_secs(3);

/// A request that passes every stateless check, so the answer depends on Redis alone.
async fn scan_with_valid_token_and_code(app: &TestApp) -> reqwest::Response {
    let id = SessionId::random();
    let code = app.verifier.issue(&id, expires_at(Duration::from_secs(120)));
    app.scan(&token_for("alice"), &app.base.link(&id, &code)).await
}

async fn assert_unavailable(res: reqwest::Response) {
    let problem = assert_problem(res, 503, "unavailable").await;
    let retry_after = problem.headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(retry_after.parse::<u64>().is_ok_and(|s| s >= 1), "Retry-After: {retry_after:?}");
    // Opaque: no Redis address, no error chain.
    assert!(problem.body.get("detail").is_none(), "a 503 tells its cause: {}", problem.text);
    assert!(!problem.text.contains("127.0.0.1"), "a 503 tells where Redis is: {}", problem.text);
}

#[tokio::test]
async fn scan_with_redis_unreachable_is_a_fast_503() {
    let app = spawn_app_with_dead_redis().await;

    let started = Instant::now();
    let res = scan_with_valid_token_and_code(&app).await;
    let elapsed = started.elapsed();

    assert_unavailable(res).await;
    assert!(elapsed < FAST, "took {elapsed:?}");
}

#[tokio::test]
async fn confirm_with_redis_unreachable_is_a_fast_503() {
    let app = spawn_app_with_dead_redis().await;
    let id = SessionId::random();
    let code = app.verifier.issue(&id, expires_at(Duration::from_secs(120))).encode();

    let started = Instant::now();
    let res = app.confirm(&token_for("alice"), &id.to_string(), &code).await;
    let elapsed = started.elapsed();

    assert_unavailable(res).await;
    assert!(elapsed < FAST, "took {elapsed:?}");
}

#[tokio::test]
async fn with_redis_unreachable_readyz_is_503_and_healthz_200() {
    let app = spawn_app_with_dead_redis().await;

    let started = Instant::now();
    let ready = app.get("/readyz").await;
    let elapsed = started.elapsed();
    let health = app.get("/healthz").await;

    assert_unavailable(ready).await;
    assert!(elapsed < FAST, "took {elapsed:?}");
    assert_eq!(assert_ok_json(health).await["status"], "ok");
}

#[tokio::test]
async fn scan_with_a_silent_redis_is_a_503_within_the_command_timeout() {
    let app = spawn_app_with_silent_redis().await;

    let started = Instant::now();
    let res = scan_with_valid_token_and_code(&app).await;
    let elapsed = started.elapsed();

    assert_unavailable(res).await;
    assert!(elapsed < FAST, "took {elapsed:?}");
}

#[tokio::test]
async fn with_a_silent_redis_readyz_is_503_and_healthz_200() {
    let app = spawn_app_with_silent_redis().await;

    let started = Instant::now();
    let ready = app.get("/readyz").await;
    let elapsed = started.elapsed();
    let health = app.get("/healthz").await;

    assert_unavailable(ready).await;
    assert!(elapsed < FAST, "took {elapsed:?}");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn with_redis_up_readyz_and_healthz_are_200() {
    let app = spawn_app().await;

    let ready = app.get("/readyz").await;
    let health = app.get("/healthz").await;

    assert_eq!(assert_ok_json(ready).await["status"], "ready");
    assert_eq!(assert_ok_json(health).await["status"], "ok");
}

#[tokio::test]
async fn stateless_checks_still_answer_while_redis_is_down() {
    // A forged code or a bad token is refused before Redis is asked, so it is not a 503.
    let app = spawn_app_with_dead_redis().await;
    let id = SessionId::random();
    let forged = crate::helpers::foreign_verifier().issue(&id, expires_at(Duration::from_secs(120)));

    let forged_res = app.scan(&token_for("alice"), &app.base.link(&id, &forged)).await;
    let no_token = app.post_json("/v1/scan", None, &serde_json::json!({ "qr_content": "x" })).await;

    assert_problem(forged_res, 404, "session-not-found").await;
    assert_problem(no_token, 401, "invalid-token").await;
}
