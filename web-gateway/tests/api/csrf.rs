//! Login CSRF, tried as another site would: a page elsewhere makes the victim's browser start a login (so the
//! browser ends up logged in as whoever approves that session, the attacker) or cancel the victim's login.
//! Browsers name the sending page in `Origin` and `Sec-Fetch-Site`, which no script can set; requests without
//! them come from no page and carry no victim's cookies. And the optional HSTS header.

use std::time::Duration;

use reqwest::header::{ORIGIN, SET_COOKIE};
use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::helpers::{ALLOWED_ORIGIN, TestApp, assert_problem, header, settings, spawn_app, spawn_app_with};

const EVIL: &str = "https://evil.example";

async fn request(app: &TestApp, method: Method, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = app.client.request(method, format!("{}{path}", app.address));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

async fn assert_cross_origin(res: Response) {
    assert!(res.headers().get(SET_COOKIE).is_none(), "a refused request sets no cookie");
    assert_problem(
        res,
        StatusCode::FORBIDDEN,
        json!({
            "type": "urn:qrlogin:problem:cross-origin",
            "title": "Request from another site refused",
            "status": 403,
            "detail": "start and cancel logins from the site's own pages (or an origin in QRL_CORS_ORIGINS)",
        }),
    )
    .await;
}

#[tokio::test]
async fn another_site_cannot_start_a_login_in_the_victims_browser() {
    // Arrange
    let app = spawn_app().await;

    // Act: a form post or fetch from the attacker's page, one whose browser sends no Origin, a sandboxed frame.
    let from_evil = request(&app, Method::POST, "/v1/qr", &[(ORIGIN.as_str(), EVIL)]).await;
    let cross_site = request(&app, Method::POST, "/v1/qr", &[("sec-fetch-site", "cross-site")]).await;
    let sandboxed = request(&app, Method::POST, "/v1/qr", &[(ORIGIN.as_str(), "null")]).await;
    let lookalike =
        request(&app, Method::POST, "/v1/qr", &[(ORIGIN.as_str(), "https://login.test.qrlogin.invalid.evil.example")])
            .await;

    // Assert: refused, and no session exists.
    for res in [from_evil, cross_site, sandboxed, lookalike] {
        assert_cross_origin(res).await;
    }
    assert!(app.keys_under_prefix().await.is_empty(), "no session was created: {:?}", app.keys_under_prefix().await);
}

#[tokio::test]
async fn another_site_cannot_cancel_the_victims_login() {
    // Arrange: the victim's login, its cookie in the victim's browser.
    let app = spawn_app().await;
    let login = app.start_login().await;
    let cookie = format!("qrl_bind={}", login.cookie);
    let path = format!("/v1/qr/{}", login.uuid);

    // Act
    let from_evil = request(&app, Method::DELETE, &path, &[(ORIGIN.as_str(), EVIL), ("cookie", &cookie)]).await;
    let cross_site =
        request(&app, Method::DELETE, &path, &[("sec-fetch-site", "cross-site"), ("cookie", &cookie)]).await;

    // Assert
    assert_cross_origin(from_evil).await;
    assert_cross_origin(cross_site).await;
    assert_eq!(app.poll_json(&login).await.1, json!({ "status": "pending" }), "the login is untouched");
}

#[tokio::test]
async fn the_sites_own_pages_configured_origins_and_non_browsers_may_start_and_cancel() {
    // Arrange
    let app = spawn_app().await;
    let addressed = app.address.clone();

    // Act
    let attempts = [
        vec![(ORIGIN.as_str(), "https://login.test.qrlogin.invalid"), ("sec-fetch-site", "same-origin")],
        vec![(ORIGIN.as_str(), ALLOWED_ORIGIN), ("sec-fetch-site", "same-site")],
        // The gateway's own page, under the name it was reached by (here its loopback address).
        vec![(ORIGIN.as_str(), addressed.as_str()), ("sec-fetch-site", "same-origin")],
        // curl, a server: no browser page involved.
        vec![],
    ];
    let mut statuses = Vec::new();
    for headers in &attempts {
        let res = request(&app, Method::POST, "/v1/qr", headers).await;
        statuses.push(res.status());
        let cookie = crate::helpers::binding_cookie(res.headers()).value;
        let uuid = res.json::<serde_json::Value>().await.unwrap()["uuid"].as_str().unwrap().to_owned();
        let mut cancel_headers = headers.clone();
        let cookie = format!("qrl_bind={cookie}");
        cancel_headers.push(("cookie", cookie.as_str()));
        statuses.push(request(&app, Method::DELETE, &format!("/v1/qr/{uuid}"), &cancel_headers).await.status());
    }

    // Assert
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::NO_CONTENT].repeat(attempts.len()));
}

#[tokio::test]
async fn hsts_is_off_by_default_and_on_every_answer_when_configured() {
    // Arrange
    let plain = spawn_app().await;
    let mut settings = settings();
    settings.hsts = Some(Duration::from_secs(31_536_000));
    let app = spawn_app_with(settings).await;

    // Act
    let answers = [
        app.create_qr().await,
        app.get("/healthz").await,
        app.get("/v1/nope").await,
        request(&app, Method::POST, "/v1/qr", &[(ORIGIN.as_str(), EVIL)]).await,
        app.get("/").await,
    ];

    // Assert
    assert_eq!(header(&plain.create_qr().await, "strict-transport-security"), None);
    for res in &answers {
        assert_eq!(header(res, "strict-transport-security"), Some("max-age=31536000"), "{}", res.url());
    }
}
