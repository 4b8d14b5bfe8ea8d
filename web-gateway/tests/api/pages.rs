//! The demo page, the browser client, the camera landing page and the token check behind `/v1/me`.

use qrlogin_shared::test_support::QR_BASE_URL;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{alice, assert_confirmed, header, spawn_app};

#[tokio::test]
async fn demo_page_loads_only_its_own_scripts_and_styles() {
    let app = spawn_app().await;

    let res = app.get("/").await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), Some("text/html; charset=utf-8"));
    let csp = header(&res, "content-security-policy").unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="/static/demo.js">"#));
    assert!(!html.contains("<script>"), "no inline script");
}

#[tokio::test]
async fn browser_client_is_a_cross_origin_loadable_module() {
    let app = spawn_app().await;

    let res = app.get("/static/qrlogin.js").await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(header(&res, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&res, "cache-control"), Some("public, max-age=300"));
    let body = res.text().await.unwrap();
    assert!(body.contains("export const QrLogin") && body.contains("export function defineQrLoginElement"));
    assert_eq!(app.get("/static/nope.js").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn browser_client_is_also_served_under_its_package_version_forever() {
    let app = spawn_app().await;
    let package: Value = serde_json::from_str(include_str!("../../js/package.json")).unwrap();
    let version = package["version"].as_str().unwrap();

    let pinned = app.get(&format!("/static/qrlogin-{version}.js")).await;
    let pinned_status = pinned.status();
    let cache = header(&pinned, "cache-control").map(str::to_owned);
    let cors = header(&pinned, "access-control-allow-origin").map(str::to_owned);
    let pinned_body = pinned.text().await.unwrap();
    let latest = app.get("/static/qrlogin.js").await.text().await.unwrap();

    assert_eq!(pinned_status, StatusCode::OK);
    assert_eq!(cache.as_deref(), Some("public, max-age=31536000, immutable"));
    // Subresource Integrity on a cross-origin module needs CORS.
    assert_eq!(cors.as_deref(), Some("*"));
    assert_eq!(pinned_body, latest);
    assert!(pinned_body.contains(&format!("export const VERSION = \"{version}\"")));
    assert_eq!(app.get("/static/qrlogin-0.0.0-nope.js").await.status(), StatusCode::NOT_FOUND);
    // An earlier version, which pages may still pin: served as it was released, byte for byte.
    let earlier = app.get("/static/qrlogin-1.0.0.js").await;
    assert_eq!(header(&earlier, "cache-control"), Some("public, max-age=31536000, immutable"));
    let earlier = earlier.text().await.unwrap();
    assert_eq!(earlier, include_str!("../../static/released/qrlogin-1.0.0.js"));
    assert!(earlier.contains("export const VERSION = \"1.0.0\"") && earlier != latest);
}

#[tokio::test]
async fn a_qr_link_opened_in_a_camera_app_explains_and_reveals_nothing() {
    let app = spawn_app().await;
    let login = app.start_login().await;
    let created = app.session_hash(&login.uuid).await;
    let link_path = format!("/q/{}.{}", login.uuid, "x".repeat(48));

    let real = app.get(&format!("/q/{}", login.uuid)).await;
    let real_status = real.status();
    let real_body = real.text().await.unwrap();
    let bogus = app.get(&link_path).await.text().await.unwrap();

    assert_eq!(real_status, StatusCode::OK);
    assert!(real_body.contains("Log in with the app"));
    assert!(real_body.contains("https://apps.test.qrlogin.invalid"));
    // Same page for any code: nothing about the session, and the session is untouched.
    assert_eq!(real_body, bogus);
    assert!(!real_body.contains(&login.uuid));
    assert_eq!(app.session_hash(&login.uuid).await, created);
    assert!(QR_BASE_URL.starts_with("https://"));
}

#[tokio::test]
async fn me_verifies_the_web_token_like_a_backend_would() {
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;
    let (_, body) = app.poll_json(&login).await;
    let token = assert_confirmed(&body, &alice());

    let me: Value = app
        .client
        .get(format!("{}/v1/me", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(me["user"]["name"], "Alice Liddell");
    assert_eq!(me["claims"]["sub"], "alice");
    assert_eq!(me["claims"]["amr"], serde_json::json!(["qr"]));
}

#[tokio::test]
async fn me_refuses_missing_tampered_and_foreign_tokens() {
    let app = spawn_app().await;
    let login = app.start_login().await;
    app.phone_confirm(&login.uuid, "alice").await;
    let (_, body) = app.poll_json(&login).await;
    let token = assert_confirmed(&body, &alice());
    // Flip a character in the middle of the signature (the last one may carry only padding bits).
    let at = token.len() - 20;
    let flipped = if &token[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &token[..at], &token[at + 1..]);

    for bearer in [None, Some(tampered.as_str()), Some("not.a.jwt")] {
        let mut req = app.client.get(format!("{}/v1/me", app.address));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{bearer:?}");
        assert!(header(&res, "www-authenticate").unwrap().starts_with("Bearer"));
        assert_eq!(header(&res, "content-type"), Some("application/problem+json"));
    }
}
