//! User tokens checked against the identity provider's JWKS, served by a local [`Provider`] in each test.

mod provider;
mod redirect;
mod throttle;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use qrlogin_shared::store::PollOutcome;
use reqwest::header::WWW_AUTHENTICATE;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, good_claims, spawn_app_with_user_jwt};
use provider::{EC, Provider, RSA_A, RSA_A_PUBLIC, RSA_B, SigningKey, hs256_token};

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn now() -> u64 {
    qrlogin_shared::unix_now()
}

/// Scans with `token` and expects it accepted.
async fn assert_scan_accepted(app: &TestApp, token: &str) {
    let session = app.new_session().await;
    let res = app.scan(token, &session.qr_content).await;
    assert_eq!(res.status(), 200, "scan refused: {}", res.text().await.unwrap_or_default());
}

/// Scans with `token`, expects a 401 with a Bearer challenge, and checks the session is untouched.
async fn assert_scan_refused(app: &TestApp, token: &str) {
    let session = app.new_session().await;
    let res = app.scan(token, &session.qr_content).await;
    let problem = assert_problem(res, 401, "invalid-token").await;
    assert!(problem.headers.get(WWW_AUTHENTICATE).is_some_and(|v| v.to_str().unwrap().starts_with("Bearer")));
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}

#[tokio::test]
async fn valid_rs256_token_is_accepted_with_one_fetch() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    let provider = Provider::start(&[&key]).await;
    let app = provider.app().await;

    assert_scan_accepted(&app, &key.sign(&good_claims("alice"))).await;
    assert_scan_accepted(&app, &key.sign(&good_claims("bob"))).await;

    assert_eq!(provider.fetches(), 1, "the set is cached");
}

#[tokio::test]
async fn es256_key_works_too() {
    let rsa = SigningKey::rsa(RSA_A, "rsa-a");
    let ec = SigningKey::ec(EC, "ec-1");
    let provider = Provider::start(&[&rsa, &ec]).await;
    let app = provider.app().await;

    assert_scan_accepted(&app, &ec.sign(&good_claims("alice"))).await;
    assert_scan_accepted(&app, &rsa.sign(&good_claims("alice"))).await;
}

#[tokio::test]
async fn rotated_key_is_picked_by_kid_after_one_refetch() {
    let old = SigningKey::rsa(RSA_A, "2025-01");
    let new = SigningKey::rsa(RSA_B, "2025-02");
    let provider = Provider::start(&[&old]).await;
    let app = provider.app().await;
    assert_scan_accepted(&app, &old.sign(&good_claims("alice"))).await;

    provider.serve(&[&new]);
    assert_scan_accepted(&app, &new.sign(&good_claims("alice"))).await;

    assert_eq!(provider.fetches(), 2, "one refetch for the new kid");
    // The provider withdrew the old key: tokens signed with it no longer pass.
    assert_scan_refused(&app, &old.sign(&good_claims("alice"))).await;
    assert_eq!(provider.fetches(), 2, "a withdrawn kid right after a refetch costs no fetch");
}

#[tokio::test]
async fn burst_of_unknown_kids_costs_at_most_one_refetch_per_interval() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    // Slow enough that the burst arrives while the one refetch is running.
    let provider = Provider::start_with_delay(&[&key], Duration::from_millis(200)).await;
    let app = spawn_app_with_user_jwt(provider.settings(Duration::from_secs(3600), Duration::from_secs(3600))).await;
    let session = app.new_session().await;
    assert_scan_accepted(&app, &key.sign(&good_claims("alice"))).await;
    let before = provider.fetches();

    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let token = key.sign_as(&uuid::Uuid::new_v4().to_string(), &good_claims("mallory"));
        let (client, url) = (app.client.clone(), format!("{}/v1/scan", app.address));
        let body = json!({ "qr_content": session.qr_content });
        burst.spawn(async move { client.post(url).bearer_auth(token).json(&body).send().await.unwrap().status() });
    }
    let statuses = burst.join_all().await;

    assert!(statuses.iter().all(|s| *s == 401), "statuses: {statuses:?}");
    let refetches = provider.fetches() - before;
    assert!(refetches <= 1, "{refetches} refetches for one burst");
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
    // The genuine key still works from the cache.
    assert_scan_accepted(&app, &key.sign(&good_claims("alice"))).await;
    assert_eq!(provider.fetches() - before, refetches);
}

#[tokio::test]
async fn hs256_token_signed_with_the_rsa_public_key_is_refused() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    let provider = Provider::start(&[&key]).await;
    let app = provider.app().await;
    let header = json!({ "alg": "HS256", "typ": "JWT", "kid": "rsa-a" });

    assert_scan_refused(&app, &hs256_token(&header, &good_claims("alice"), RSA_A_PUBLIC.as_bytes())).await;
}

#[tokio::test]
async fn symmetric_key_published_in_the_jwks_is_never_used() {
    let provider = Provider::start(&[]).await;
    let secret = b"a-shared-secret-nobody-should-publish";
    provider.serve_raw(
        json!({ "keys": [{ "kty": "oct", "kid": "hs", "alg": "HS256", "k": URL_SAFE_NO_PAD.encode(secret) }] }),
    );
    let app = provider.app().await;
    let header = json!({ "alg": "HS256", "typ": "JWT", "kid": "hs" });

    assert_scan_refused(&app, &hs256_token(&header, &good_claims("alice"), secret)).await;
}

#[tokio::test]
async fn unsigned_token_with_alg_none_is_refused() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    let provider = Provider::start(&[&key]).await;
    let app = provider.app().await;
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT", "kid": "rsa-a" }).to_string());
    let claims = URL_SAFE_NO_PAD.encode(good_claims("alice").to_string());

    assert_scan_refused(&app, &format!("{header}.{claims}.")).await;
}

#[tokio::test]
async fn tokens_with_bad_claims_are_refused() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    let provider = Provider::start(&[&key]).await;
    let app = provider.app().await;
    let mut missing_aud = good_claims("alice");
    missing_aud.as_object_mut().unwrap().remove("aud");
    let refused = [
        ("missing aud", missing_aud),
        ("wrong iss", with(good_claims("alice"), "iss", json!("https://evil.example"))),
        ("exp as a string", with(good_claims("alice"), "exp", json!((now() + 600).to_string()))),
        ("expired beyond the leeway", with(good_claims("alice"), "exp", json!(now() - 120))),
        ("iat in the future", with(good_claims("alice"), "iat", json!(now() + 600))),
        ("iat as a string", with(good_claims("alice"), "iat", json!(now().to_string()))),
    ];

    for (case, claims) in refused {
        let session = app.new_session().await;
        let res = app.scan(&key.sign(&claims), &session.qr_content).await;
        assert_eq!(res.status(), 401, "{case}");
    }
    // Within the leeway, a slightly skewed clock is fine.
    let skewed = with(with(good_claims("alice"), "iat", json!(now() + 10)), "exp", json!(now() - 5));
    assert_scan_accepted(&app, &key.sign(&skewed)).await;
}

#[tokio::test]
async fn token_without_kid_is_refused() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    let provider = Provider::start(&[&key]).await;
    let app = provider.app().await;
    let token = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &good_claims("alice"), &key.key).unwrap();

    assert_scan_refused(&app, &token).await;
}

#[tokio::test]
async fn token_signed_with_another_key_under_a_known_kid_is_refused() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    let impostor = SigningKey::rsa(RSA_B, "rsa-a");
    let provider = Provider::start(&[&key]).await;
    let app = provider.app().await;

    assert_scan_refused(&app, &impostor.sign(&good_claims("alice"))).await;
}

#[tokio::test]
async fn body_is_not_read_before_a_token_waiting_for_keys_is_refused() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    let provider = Provider::start_with_delay(&[&key], Duration::from_millis(200)).await;
    let app = provider.app().await;
    // Nothing cached yet: the check waits for the fetch while the body extractor is already polled.
    let token = key.sign_as("not-in-the-set", &good_claims("mallory"));

    let res = app.post_raw("/v1/scan", Some(&token), "application/json", "{ not json".to_owned()).await;

    assert_problem(res, 401, "invalid-token").await;
    assert_eq!(provider.fetches(), 1);
}

#[tokio::test]
async fn body_is_read_once_a_token_waiting_for_keys_is_accepted() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    let provider = Provider::start_with_delay(&[&key], Duration::from_millis(200)).await;
    let app = provider.app().await;

    let res =
        app.post_raw("/v1/scan", Some(&key.sign(&good_claims("alice"))), "application/json", "{".to_owned()).await;

    assert_problem(res, 400, "invalid-request").await;
}

#[tokio::test]
async fn due_cache_is_refreshed_in_the_background() {
    let old = SigningKey::rsa(RSA_A, "2025-01");
    let new = SigningKey::rsa(RSA_B, "2025-02");
    let provider = Provider::start(&[&old]).await;
    let app = spawn_app_with_user_jwt(provider.settings(Duration::from_secs(1), Duration::from_secs(1))).await;
    assert_scan_accepted(&app, &old.sign(&good_claims("alice"))).await;
    provider.serve(&[&old, &new]);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // Served from the due cache at once; the refresh runs behind it.
    assert_scan_accepted(&app, &old.sign(&good_claims("alice"))).await;
    for _ in 0..100 {
        if provider.fetches() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    assert_eq!(provider.fetches(), 2, "one background refresh");
    assert_scan_accepted(&app, &new.sign(&good_claims("alice"))).await;
    assert_eq!(provider.fetches(), 2, "the new key came with the refresh");
}

#[tokio::test]
async fn cached_keys_keep_serving_while_the_provider_fails() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    let provider = Provider::start(&[&key]).await;
    let app = spawn_app_with_user_jwt(provider.settings(Duration::from_secs(1), Duration::from_secs(1))).await;
    assert_scan_accepted(&app, &key.sign(&good_claims("alice"))).await;

    provider.fail();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // The cache is due: this request is served from it and starts a refresh, which fails.
    assert_scan_accepted(&app, &key.sign(&good_claims("alice"))).await;
    assert_scan_accepted(&app, &key.sign(&good_claims("bob"))).await;
    assert!(provider.fetches() <= 2, "at most one refresh per interval: {}", provider.fetches());
}

#[tokio::test]
async fn unreachable_provider_without_cached_keys_is_unavailable_not_unauthorized() {
    let key = SigningKey::rsa(RSA_A, "rsa-a");
    let provider = Provider::start(&[&key]).await;
    provider.fail();
    let app = provider.app().await;

    // Our dependency is down, the token may well be fine: 503 (retry), never a 401 that logs the user out.
    for _ in 0..2 {
        let session = app.new_session().await;
        let res = app.scan(&key.sign(&good_claims("alice")), &session.qr_content).await;
        let problem = assert_problem(res, 503, "unavailable").await;
        assert!(problem.headers.get("retry-after").is_some());
        assert_eq!(app.poll(&session).await, PollOutcome::Pending);
    }

    assert_eq!(provider.fetches(), 1, "retries wait for the refetch interval");
}
