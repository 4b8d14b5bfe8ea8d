//! The device cookie: set once, kept hashed, and a login through one gateway instance makes the browser known
//! to the user for logins through any other instance on the same Redis.

use qrlogin_shared::DeviceHash;
use reqwest::StatusCode;
use reqwest::header::COOKIE;

use crate::helpers::{set_cookie, settings, spawn_app_with, user_id};

#[tokio::test]
async fn a_browser_gets_one_device_cookie_and_redis_keeps_only_its_hash() {
    let app = spawn_app_with(settings()).await;

    let first = app.create_qr().await;
    let device = set_cookie(first.headers(), "qrl_device");
    let uuid = first.json::<serde_json::Value>().await.unwrap()["uuid"].as_str().unwrap().to_owned();

    assert_eq!(device.value.len(), 43, "256 bits, base64url");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/v1/qr"] {
        assert!(device.attributes.iter().any(|a| a == attribute), "{attribute}: {:?}", device.attributes);
    }
    assert!(device.attributes.iter().any(|a| a.starts_with("Max-Age=")), "{:?}", device.attributes);
    let stored = app.session_hash(&uuid).await;
    assert_eq!(stored.get("dev").map(String::as_str), Some(DeviceHash::of_secret(&device.value).as_str()));
    assert!(!stored.values().any(|v| v.contains(&device.value)), "the secret itself never reaches Redis");

    let again = app
        .client
        .post(format!("{}/v1/qr", app.address))
        .header(COOKIE, format!("qrl_device={}", device.value))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert!(
        !again.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("qrl_device=")),
        "a browser that has one keeps it"
    );
}

#[tokio::test]
async fn a_login_through_one_instance_makes_the_device_known_through_another() {
    let a = spawn_app_with(settings()).await;
    let mut second = settings();
    second.service.redis = a.redis.clone();
    let b = spawn_app_with(second).await;

    // A login through instance A, claimed there.
    let created = a.create_qr().await;
    let device = set_cookie(created.headers(), "qrl_device").value;
    let bind = set_cookie(created.headers(), "qrl_bind").value;
    let uuid = created.json::<serde_json::Value>().await.unwrap()["uuid"].as_str().unwrap().to_owned();
    a.phone_confirm(&uuid, "alice").await;
    let claimed = a.poll(&uuid, Some(&bind)).await;
    assert_eq!(claimed.json::<serde_json::Value>().await.unwrap()["status"], "confirmed");

    // The next login of the same browser goes through instance B.
    let next = b
        .client
        .post(format!("{}/v1/qr", b.address))
        .header(COOKIE, format!("qrl_device={device}"))
        .send()
        .await
        .unwrap();
    let next_uuid = next.json::<serde_json::Value>().await.unwrap()["uuid"].as_str().unwrap().to_owned();
    let context = b.store.login_context(&crate::helpers::session_id(&next_uuid), &[], None).await.unwrap().unwrap();
    let hash = context.device.expect("the session records the device");
    let memory = std::time::Duration::from_secs(3600);

    assert!(b.store.knows_device(&user_id("alice"), &hash, memory).await.unwrap(), "known to alice");
    assert!(!b.store.knows_device(&user_id("bob"), &hash, memory).await.unwrap(), "not to anyone else");
}
