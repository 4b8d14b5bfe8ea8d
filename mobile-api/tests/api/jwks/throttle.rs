//! The invalid-token limit stops a guesser before its tokens are looked at: once an address is past it, a
//! forged token costs no signature check and no fetch of the provider's keys. CORS preflights are not tokens:
//! they never count against it.

use std::time::Duration;

use mobile_api::Settings;
use mobile_api::config::MobileLimits;
use qrlogin_shared::rate_limit::Rate;
use reqwest::Method;
use reqwest::header::{ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, ORIGIN};

use super::provider::{Provider, RSA_A, SigningKey};
use crate::helpers::{TestApp, assert_problem, good_claims, spawn_app_with_settings};

const THREE_PER_MINUTE: Rate = Rate::new(3, 60);

/// An app on `provider`'s JWKS that may refetch it for every unknown `kid` (so each forged token that is
/// validated shows as a fetch), with three invalid tokens per minute and address.
async fn app_on(provider: &Provider) -> TestApp {
    let limits = MobileLimits { bad_token_per_ip: THREE_PER_MINUTE, ..MobileLimits::unlimited() };
    let user_jwt = provider.settings(Duration::from_millis(1), Duration::from_secs(300));
    spawn_app_with_settings(Settings { user_jwt, limits, ..Settings::for_test() }).await
}

#[tokio::test]
async fn past_the_limit_forged_tokens_cost_no_validation_and_no_key_fetch() {
    // Arrange
    let key = SigningKey::rsa(RSA_A, "real");
    let provider = Provider::start(&[&key]).await;
    let app = app_on(&provider).await;
    let session = app.new_session().await;
    let forged = |n: u32| key.sign_as(&format!("guess-{n}"), &good_claims("alice"));

    // Act: three tokens with kids the provider never issued (each makes us ask it), then more of them.
    let mut first = Vec::new();
    for n in 0..3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        first.push(app.scan(&forged(n), &session.qr_content).await.status().as_u16());
    }
    let fetched = provider.fetches();
    let mut later = Vec::new();
    for n in 3..8 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        later.push(app.scan(&forged(n), &session.qr_content).await);
    }

    // Assert: the first three were checked (and asked the provider), the rest refused before any of that.
    assert_eq!(first, [401; 3]);
    assert!(fetched >= 2, "unknown kids made us ask the provider: {fetched}");
    for res in later {
        assert_problem(res, 429, "rate-limited").await;
    }
    assert_eq!(provider.fetches(), fetched, "no fetch for tokens from an address past its limit");
}

#[tokio::test]
async fn cors_preflights_are_not_counted_as_invalid_tokens() {
    // Arrange
    let key = SigningKey::rsa(RSA_A, "real");
    let provider = Provider::start(&[&key]).await;
    let app = app_on(&provider).await;
    let session = app.new_session().await;

    // Act: a web page's preflights (no credentials, as browsers send them; one with a forged token too), then
    // three bad tokens.
    for n in 0..6 {
        let mut preflight = app
            .client
            .request(Method::OPTIONS, format!("{}/v1/scan", app.address))
            .header(ORIGIN, "https://www.example.com")
            .header(ACCESS_CONTROL_REQUEST_METHOD, "POST");
        if n == 0 {
            preflight = preflight.header(AUTHORIZATION, format!("Bearer {}", key.sign_as("guess", &good_claims("a"))));
        }
        assert_problem(preflight.send().await.unwrap(), 405, "method-not-allowed").await;
    }
    let fetched = provider.fetches();
    let mut bad = Vec::new();
    for _ in 0..3 {
        bad.push(app.scan("not-a-jwt", &session.qr_content).await.status().as_u16());
    }

    // Assert: the allowance was whole after the preflights, which validated nothing.
    assert_eq!(fetched, 0, "a preflight's token is not validated");
    assert_eq!(bad, [401; 3]);
    assert_problem(app.scan("not-a-jwt", &session.qr_content).await, 429, "rate-limited").await;
}
