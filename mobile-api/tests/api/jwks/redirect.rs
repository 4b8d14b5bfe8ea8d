//! The key set comes from the configured URL only: a provider URL that answers with a redirect (an open redirect
//! on the provider's host, a hijacked path) must not lead us to keys served elsewhere.

use std::time::Duration;

use mobile_api::config::UserJwtKey;
use qrlogin_shared::store::PollOutcome;
use qrlogin_shared::test_support::fake::{FakeService, ResponseTemplate};

use super::provider::{Provider, RSA_A, SigningKey};
use crate::helpers::{assert_problem, good_claims, spawn_app_with_user_jwt};

#[tokio::test]
async fn a_jwks_url_answering_a_redirect_to_another_host_yields_no_keys() {
    // Arrange: the attacker's host serves a key set with the attacker's key; the configured JWKS URL redirects
    // there.
    let attacker_key = SigningKey::rsa(RSA_A, "attacker");
    let attacker = Provider::start(&[&attacker_key]).await;
    let elsewhere = attacker.settings(Duration::from_secs(30), Duration::from_secs(300));
    let UserJwtKey::Jwks(target) = &elsewhere.key else { panic!("JWKS settings") };
    let location = target.url.to_string();
    let redirecting = FakeService::start("^/jwks\\.json$", Duration::ZERO, move |_| {
        ResponseTemplate::new(302).insert_header("location", location.as_str())
    })
    .await;
    let mut settings = attacker.settings(Duration::from_secs(30), Duration::from_secs(300));
    if let UserJwtKey::Jwks(jwks) = &mut settings.key {
        jwks.url = format!("{}/jwks.json", redirecting.uri()).parse().unwrap();
    }
    let app = spawn_app_with_user_jwt(settings).await;

    // Act: a token signed with the attacker's key.
    let session = app.new_session().await;
    let res = app.scan(&attacker_key.sign(&good_claims("alice")), &session.qr_content).await;

    // Assert: no keys were had (the provider's answer was no key set), so nothing verifies; the redirect was not
    // followed.
    assert_problem(res, 503, "unavailable").await;
    assert_eq!(redirecting.requests(), 1, "the configured URL was asked");
    assert_eq!(attacker.fetches(), 0, "the redirect target was never asked");
    assert_eq!(app.poll(&session).await, PollOutcome::Pending);
}
