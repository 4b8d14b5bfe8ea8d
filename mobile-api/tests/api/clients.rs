//! The invalid-token limit counts an IPv6 client by its /64: a guesser rotating through the addresses of its
//! own prefix shares one allowance. The client sits behind a trusted proxy that names it in `X-Forwarded-For`.

use mobile_api::Settings;
use mobile_api::config::MobileLimits;
use qrlogin_shared::http::TrustedProxies;
use qrlogin_shared::rate_limit::Rate;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with_settings};

async fn scan_from(app: &TestApp, client: &str, qr_content: &str) -> u16 {
    let res = app
        .client
        .post(format!("{}/v1/scan", app.address))
        .header(CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", client)
        .bearer_auth("not-a-jwt")
        .body(json!({ "qr_content": qr_content }).to_string())
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn bad_tokens_from_rotating_addresses_of_one_ipv6_64_share_one_allowance() {
    // Arrange
    let mut settings = Settings {
        limits: MobileLimits { bad_token_per_ip: Rate::new(3, 60), ..MobileLimits::unlimited() },
        ..Settings::for_test()
    };
    settings.service.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    let app = spawn_app_with_settings(settings).await;
    let session = app.new_session().await;

    // Act: a fresh address of the /64 for every forged token.
    let mut statuses = Vec::new();
    for n in 1..=6 {
        statuses.push(scan_from(&app, &format!("2001:db8:7:8::{n:x}"), &session.qr_content).await);
    }
    let neighbour = scan_from(&app, "2001:db8:7:9::1", &session.qr_content).await;

    // Assert
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
    assert_eq!(neighbour, 401, "the next /64 has an allowance of its own");
}
