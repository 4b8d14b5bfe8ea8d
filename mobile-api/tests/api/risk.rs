//! The scan's risk verdict against the committed test city database (`tests/geo/make-city-db.py`): location,
//! browser, device history, signals and level, and `QRL_RISK_BLOCK` refusing a high-risk confirm.

use std::time::Duration;

use mobile_api::test_support::CITY_DB;
use qrlogin_shared::http::TrustedProxies;
use qrlogin_shared::session::{CheckCodeMode, RiskLevel};
use qrlogin_shared::store::PollOutcome;
use qrlogin_shared::{DeviceHash, UserId};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestSession, assert_ok_json, assert_problem, spawn_app_configured, token_for};

const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// mobile-api with the test city database behind a trusted proxy on loopback (the phone's address is then
/// the `X-Forwarded-For` the test sends), optionally refusing confirms from `block` up.
async fn app(block: Option<RiskLevel>) -> TestApp {
    spawn_app_configured(|s| {
        s.risk.geo_db = Some(CITY_DB.into());
        s.risk.block = block;
        s.service.trusted_proxies = TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await
}

async fn scan_from(app: &TestApp, user: &str, phone_ip: &str, session: &TestSession) -> Value {
    let res = app
        .client
        .post(format!("{}/v1/scan", app.address))
        .bearer_auth(token_for(user))
        .header("X-Forwarded-For", phone_ip)
        .json(&json!({ "qr_content": session.qr_content }))
        .send()
        .await
        .unwrap();
    assert_ok_json(res).await
}

#[tokio::test]
async fn a_browser_in_another_country_is_high_risk_and_blocked_from_confirming() {
    let app = app(Some(RiskLevel::High)).await;
    let session = app.new_session_from("203.0.113.7", CHROME, None).await;

    let body = scan_from(&app, "alice", "192.0.2.50", &session).await;

    let r = &body["requester"];
    assert_eq!((r["browser"].as_str(), r["os"].as_str()), (Some("Chrome 131"), Some("Linux")));
    assert_eq!(r["location"], json!({"country": "US", "city": "New York"}));
    assert_eq!(r["known_device"], false);
    assert_eq!(body["risk"], json!({"level": "high", "signals": ["far_from_phone", "new_device"]}));

    let refused = app.confirm(&token_for("alice"), &session.id.to_string(), &session.verification).await;
    assert_problem(refused, 409, "risk-blocked").await;
    assert_eq!(app.poll(&session).await, PollOutcome::Scanned, "nothing changed");
    let denied = app.deny(&token_for("alice"), &session.id.to_string(), &session.verification).await;
    assert_eq!(denied.status(), 200, "deny never needs a verdict");
}

#[tokio::test]
async fn a_browser_that_logged_in_as_the_user_before_is_known_only_to_that_user() {
    let app = app(Some(RiskLevel::High)).await;
    let device = DeviceHash::of_secret("browser-device-secret");
    let alice = UserId::parse("alice").unwrap();
    app.store.remember_device(&alice, &device, Duration::from_secs(3600)).await.unwrap();

    let now = app.new_session_from("198.51.100.20", CHROME, Some(&device)).await;
    let body = scan_from(&app, "alice", "198.51.100.9", &now).await;

    assert_eq!(body["requester"]["known_device"], true);
    assert_eq!(body["requester"]["location"], json!({"country": "DE", "city": "Hamburg"}));
    assert_eq!(body["risk"], json!({"level": "low", "signals": ["same_network"]}));
    let confirmed = app.confirm(&token_for("alice"), &now.id.to_string(), &now.verification).await;
    assert_eq!(confirmed.status(), 200, "a low-risk login is not blocked");

    let for_bob = app.new_session_from("198.51.100.20", CHROME, Some(&device)).await;
    let body = scan_from(&app, "bob", "192.0.2.50", &for_bob).await;
    assert_eq!(body["requester"]["known_device"], false);
    assert_eq!(body["risk"], json!({"level": "medium", "signals": ["new_device"]}));
}

#[tokio::test]
async fn an_unlocated_browser_with_a_forged_user_agent_is_medium_and_its_text_cleaned() {
    let app = app(None).await;
    let forged = "Safari \u{2014} your Mac, home Wi-Fi, Berlin \u{2705} verified by app\u{202E}ppa\u{202C}";
    let session = app.new_session_from("198.51.100.200", forged, None).await;

    let body = scan_from(&app, "alice", "192.0.2.50", &session).await;

    let r = &body["requester"];
    assert_eq!((r["browser"].as_str(), r["os"].as_str()), (Some("unknown"), Some("unknown")));
    assert_eq!(r["location"], Value::Null);
    assert!(!r["user_agent"].as_str().unwrap().contains('\u{202E}'));
    assert_eq!(body["risk"]["level"], "medium");
    assert_eq!(body["risk"]["signals"], json!(["no_location", "new_device", "unknown_browser"]));
}

#[tokio::test]
async fn in_risky_mode_only_a_medium_or_high_verdict_asks_for_the_check_code() {
    let app = spawn_app_configured(|s| {
        s.risk.geo_db = Some(CITY_DB.into());
        s.check_code = CheckCodeMode::Risky;
        s.service.trusted_proxies = TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await;
    let device = DeviceHash::of_secret("browser-device-secret");
    let alice = UserId::parse("alice").unwrap();
    app.store.remember_device(&alice, &device, Duration::from_secs(3600)).await.unwrap();

    // Low: alice's own browser on the phone's network.
    let known = app.new_session_from("198.51.100.20", CHROME, Some(&device)).await;
    let low = scan_from(&app, "alice", "198.51.100.9", &known).await;
    assert_eq!((&low["risk"]["level"], &low["check_code_required"]), (&json!("low"), &json!(false)));
    assert_eq!(app.poll(&known).await, PollOutcome::Scanned, "no number for the browser to show");

    // Medium: a browser alice never used, somewhere the database does not know.
    let new = app.new_session_from("198.51.100.200", CHROME, None).await;
    let medium = scan_from(&app, "alice", "192.0.2.50", &new).await;
    assert_eq!((&medium["risk"]["level"], &medium["check_code_required"]), (&json!("medium"), &json!(true)));
    assert!(matches!(app.poll(&new).await, PollOutcome::ScannedWithCheckCode(_)));
    let bare = app.confirm(&token_for("alice"), &new.id.to_string(), &new.verification).await;
    assert_problem(bare, 422, "wrong-check-code").await;
}
