//! Per-client limits count an IPv6 client by its /64 (a subscriber picks any of its 2^64 addresses at will), and
//! one client cannot hold more than its share of the instance's waiting slots. The clients here sit behind a
//! trusted proxy that names them in `X-Forwarded-For`, as a load balancer in front of the gateway would.

use qrlogin_shared::http::TrustedProxies;
use qrlogin_shared::rate_limit::Rate;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Login, TestApp, assert_problem, binding_cookie, settings, spawn_app_with};

/// The test client connects from loopback, which the gateway trusts as its proxy.
fn behind_the_proxy() -> web_gateway::Settings {
    let mut settings = settings();
    settings.service.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    settings
}

async fn create_from(app: &TestApp, client: &str) -> reqwest::Response {
    app.client.post(format!("{}/v1/qr", app.address)).header("x-forwarded-for", client).send().await.unwrap()
}

async fn login_from(app: &TestApp, client: &str) -> Login {
    let res = create_from(app, client).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = binding_cookie(res.headers()).value;
    let body: Value = res.json().await.unwrap();
    Login { uuid: body["uuid"].as_str().unwrap().to_owned(), cookie }
}

async fn long_poll_from(app: &TestApp, login: &Login, client: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/v1/qr/{}?wait=20&known=pending", app.address, login.uuid))
        .header("cookie", format!("qrl_bind={}", login.cookie))
        .header("x-forwarded-for", client)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rotating_addresses_within_one_ipv6_64_shares_one_issue_allowance() {
    // Arrange
    let mut settings = behind_the_proxy();
    settings.limits.per_ip = Rate::new(3, 60);
    let app = spawn_app_with(settings).await;

    // Act: a new address of the same /64 for every request.
    let mut statuses = Vec::new();
    for n in 1..=6 {
        statuses.push(create_from(&app, &format!("2001:db8:1:2::{n:x}")).await.status().as_u16());
    }
    let neighbour = create_from(&app, "2001:db8:1:3::1").await;

    // Assert: one allowance for the /64; the next /64 has its own.
    assert_eq!(statuses, [201, 201, 201, 429, 429, 429]);
    assert_eq!(neighbour.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn one_client_cannot_hold_more_than_its_waiting_slots() {
    // Arrange: two waits per client; the client's sessions are its own (each under the per-session cap).
    let mut settings = behind_the_proxy();
    settings.waiters.per_client = 2;
    let app = spawn_app_with(settings).await;
    let mut logins = Vec::new();
    for n in 1..=3 {
        logins.push(login_from(&app, &format!("2001:db8:1:2::{n}")).await);
    }
    let other = login_from(&app, "198.51.100.7").await;

    // Act: the client opens three long-polls, from three addresses of its /64, while another client waits too.
    let first = long_poll_from(&app, &logins[0], "2001:db8:1:2::1");
    let second = long_poll_from(&app, &logins[1], "2001:db8:1:2::2");
    let (third, others, (), ()) = tokio::join!(
        async {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            long_poll_from(&app, &logins[2], "2001:db8:1:2::ffff").await
        },
        async {
            tokio::time::sleep(std::time::Duration::from_millis(700)).await;
            let res = long_poll_from(&app, &other, "198.51.100.7");
            // Still waiting after a second: it got a slot.
            tokio::time::timeout(std::time::Duration::from_secs(1), res).await.is_err()
        },
        async { drop(tokio::time::timeout(std::time::Duration::from_secs(2), first).await) },
        async { drop(tokio::time::timeout(std::time::Duration::from_secs(2), second).await) },
    );

    // Assert
    assert_eq!(third.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    assert_problem(
        third,
        StatusCode::TOO_MANY_REQUESTS,
        serde_json::json!({
            "type": "urn:qrlogin:problem:too-many-waiters",
            "title": "Too many waits from this client",
            "status": 429,
            "detail": "wait with one stream or long-poll per login",
        }),
    )
    .await;
    assert!(others, "another client still gets a waiting slot");
}
