//! The login as users live it: approve, refuse, give up, run out of time, and two people on one QR.

use std::time::Duration;

use qrlogin_e2e::{BROWSER_USER_AGENT, SESSION_TTL_SECS, Stack, WEB_AUDIENCE, WEB_ISSUER, WEB_TOKEN_TTL_SECS};
use qrlogin_shared::test_support::QR_BASE_URL;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{assert_claim_repeats_then_expires, assert_claims_token_for, assert_poll, directory_profile, keys};

#[tokio::test]
async fn happy_path_phone_reads_the_png_confirms_and_the_browser_gets_a_verifiable_token() {
    // Arrange: the browser starts a login; the phone reads the QR off the picture.
    let stack = Stack::start().await;
    let before = OffsetDateTime::now_utc() - Duration::from_secs(1);
    let login = stack.login().await;
    let after = OffsetDateTime::now_utc() + Duration::from_secs(1);
    let alice = stack.user_token("alice");

    assert_eq!(keys(&login.created), ["expires_in", "poll_interval_ms", "qr_content", "qr_image", "uuid"]);
    assert_eq!(login.created["expires_in"], SESSION_TTL_SECS);
    assert_eq!(login.created["poll_interval_ms"], 1000);
    assert!(login.qr_text.starts_with(&format!("{QR_BASE_URL}/q/{}.", login.uuid)), "{}", login.qr_text);
    assert_eq!(login.verification.len(), 48);
    assert_eq!(login.binding.len(), 43, "a 256-bit secret, base64url");
    for attribute in ["HttpOnly", "SameSite=Strict", &format!("Path=/v1/qr/{}", login.uuid)] {
        assert!(login.set_cookie.contains(attribute), "cookie lacks {attribute}: {}", login.set_cookie);
    }
    assert!(!login.set_cookie.contains("Secure"), "cookie_secure is off: {}", login.set_cookie);
    assert_poll(&stack, &login, "pending").await;

    // Act + Assert: scan shows the phone where the login comes from.
    let scan = stack.scan(&alice, &login.qr_text).await;
    let scanned = scan.expect_status(200);
    // Issue 10 adds `risk`, `check_code_required` and the requester's browser, os, location and known_device.
    assert_eq!(keys(scanned), ["check_code_required", "expires_in", "requester", "risk", "uuid"]);
    assert_eq!(scanned["check_code_required"], false, "a low-risk login asks for no check code by default");
    assert_eq!(scanned["uuid"], login.uuid.as_str());
    assert_eq!(
        keys(&scanned["requester"]),
        ["browser", "created_at", "ip", "known_device", "location", "os", "user_agent"]
    );
    assert_eq!(scanned["requester"]["ip"], "127.0.0.1");
    assert_eq!(scanned["requester"]["user_agent"], BROWSER_USER_AGENT);
    let created_at = scanned["requester"]["created_at"].as_str().expect("created_at is a string");
    let created_at = OffsetDateTime::parse(created_at, &Rfc3339).expect("created_at is RFC 3339");
    assert!(before <= created_at && created_at <= after, "created_at {created_at} not in [{before}, {after}]");
    let expires_in = scanned["expires_in"].as_u64().expect("expires_in is a number");
    assert!((SESSION_TTL_SECS - 10..=SESSION_TTL_SECS).contains(&expires_in), "expires_in {expires_in}");

    // The browser learns that someone scanned, but not who: exactly this body.
    assert_poll(&stack, &login, "scanned").await;

    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_json(200, &json!({ "status": "confirmed" }));

    // The browser claims the token, once.
    let reply = stack.poll(&login.uuid, Some(&login.binding)).await;
    let body = reply.expect_status(200).clone();
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let token = body["token"].as_str().expect("token is a string").to_owned();
    let expected = json!({
        "status": "confirmed",
        "token": token,
        "token_type": "Bearer",
        "expires_in": WEB_TOKEN_TTL_SECS,
        "user": directory_profile("alice"),
    });
    assert_eq!(body, expected);

    // The web team's backend verifies it with the published key, picked by kid.
    let web = stack.verify_web_token(&token).await;
    assert_eq!(web.header.typ.as_deref(), Some("at+jwt"));
    let claims = &web.claims;
    assert_eq!(keys(claims), ["amr", "aud", "exp", "iat", "iss", "jti", "sid", "sub"]);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["iss"], WEB_ISSUER);
    assert_eq!(claims["aud"], WEB_AUDIENCE);
    assert_eq!(claims["amr"], json!(["qr"]));
    let jti = claims["jti"].as_str().expect("jti is a string");
    assert!(uuid::Uuid::parse_str(jti).is_ok(), "jti {jti} is a uuid");
    let (iat, exp) = (claims["iat"].as_u64().expect("iat"), claims["exp"].as_u64().expect("exp"));
    assert_eq!(exp - iat, WEB_TOKEN_TTL_SECS);
    assert!(iat.abs_diff(qrlogin_shared::unix_now()) <= 5, "iat {iat} is now");

    // The JWKS publishes public keys only.
    let jwks = stack.gateway_request(reqwest::Method::GET, "/.well-known/jwks.json", None).await;
    for jwk in jwks.expect_status(200)["keys"].as_array().expect("keys is an array") {
        assert!(jwk.get("d").is_none(), "private key material in the JWKS: {jwk}");
    }

    // Once claimed, the login is over for the phone at once, and for the browser after the grace window.
    stack.scan(&alice, &login.qr_text).await.expect_problem(404, "session-not-found");
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_problem(404, "session-not-found");
    assert_claim_repeats_then_expires(&stack, &login, &body).await;
    stack.scan(&alice, &login.qr_text).await.expect_problem(404, "session-not-found");
}

#[tokio::test]
async fn phone_deny_is_shown_to_the_browser() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    stack.scan(&alice, &login.qr_text).await.expect_status(200);

    stack.deny(&alice, &login.uuid, &login.verification).await.expect_json(200, &json!({ "status": "denied" }));

    assert_poll(&stack, &login, "denied").await;
    // A refusal is final: the same user cannot turn it into an approval.
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_problem(409, "wrong-state");
    assert_poll(&stack, &login, "denied").await;
}

#[tokio::test]
async fn browser_cancel_ends_the_login_for_the_phone() {
    let stack = Stack::start().await;
    let alice = stack.user_token("alice");

    // Cancelled after the scan: the phone can neither confirm nor scan again.
    let scanned = stack.login().await;
    stack.scan(&alice, &scanned.qr_text).await.expect_status(200);
    let reply = stack.cancel(&scanned.uuid, Some(&scanned.binding)).await;
    reply.expect_status(204);
    assert_eq!(reply.text, "");
    assert_poll(&stack, &scanned, "cancelled").await;
    stack.confirm(&alice, &scanned.uuid, &scanned.verification).await.expect_problem(409, "wrong-state");
    stack.deny(&alice, &scanned.uuid, &scanned.verification).await.expect_problem(409, "wrong-state");
    stack.scan(&alice, &scanned.qr_text).await.expect_problem(409, "wrong-state");

    // Cancelled before any scan: the QR is dead.
    let fresh = stack.login().await;
    stack.cancel(&fresh.uuid, Some(&fresh.binding)).await.expect_status(204);
    assert_poll(&stack, &fresh, "cancelled").await;
    stack.scan(&alice, &fresh.qr_text).await.expect_problem(409, "wrong-state");

    // Cancelling is idempotent.
    stack.cancel(&fresh.uuid, Some(&fresh.binding)).await.expect_status(204);
    assert_poll(&stack, &fresh, "cancelled").await;

    // Cancelled after the phone confirmed but before the browser claimed: no token is ever handed out.
    let confirmed = stack.login().await;
    stack.scan(&alice, &confirmed.qr_text).await.expect_status(200);
    stack.confirm(&alice, &confirmed.uuid, &confirmed.verification).await.expect_status(200);
    stack.cancel(&confirmed.uuid, Some(&confirmed.binding)).await.expect_status(204);
    assert_poll(&stack, &confirmed, "cancelled").await;
}

#[tokio::test]
async fn cancel_after_the_claim_ends_the_grace_window_at_once() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);
    assert_claims_token_for(&stack, &login, "alice").await;

    // The browser has its token and says it is done: the copy kept for a lost response goes now.
    stack.cancel(&login.uuid, Some(&login.binding)).await.expect_status(204);

    assert_poll(&stack, &login, "expired").await;
}

#[tokio::test]
async fn session_expires_after_its_ttl() {
    let stack = Stack::start_with(|s| s.session_ttl = Duration::from_secs(2)).await;
    let login = stack.login().await;
    assert_eq!(login.created["expires_in"], 2);
    let alice = stack.user_token("alice");

    tokio::time::sleep(Duration::from_millis(3100)).await;

    assert_poll(&stack, &login, "expired").await;
    stack.scan(&alice, &login.qr_text).await.expect_problem(404, "session-not-found");
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_problem(404, "session-not-found");
}

#[tokio::test]
async fn a_second_confirm_is_a_conflict() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    // Nothing to decide before a scan.
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_problem(409, "wrong-state");
    stack.deny(&alice, &login.uuid, &login.verification).await.expect_problem(409, "wrong-state");
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);

    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_problem(409, "wrong-state");
    stack.deny(&alice, &login.uuid, &login.verification).await.expect_problem(409, "wrong-state");

    // The first decision stands.
    assert_claims_token_for(&stack, &login, "alice").await;
}

#[tokio::test]
async fn only_the_user_who_scanned_may_decide() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let (alice, bob) = (stack.user_token("alice"), stack.user_token("bob"));
    stack.scan(&alice, &login.qr_text).await.expect_status(200);

    stack.confirm(&bob, &login.uuid, &login.verification).await.expect_problem(409, "wrong-user");
    stack.deny(&bob, &login.uuid, &login.verification).await.expect_problem(409, "wrong-user");
    assert_poll(&stack, &login, "scanned").await;
    // Alice's app may retry its scan.
    stack.scan(&alice, &login.qr_text).await.expect_status(200);

    // Bob scanning the QR alice scanned (he photographed it) ends the login: nobody can approve it any more,
    // so the browser is logged in as neither of them.
    stack.scan(&bob, &login.qr_text).await.expect_problem(409, "wrong-state");
    assert_poll(&stack, &login, "cancelled").await;
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_problem(404, "session-not-found");
    assert_poll(&stack, &login, "cancelled").await;
}

#[tokio::test]
async fn the_phone_sees_the_real_peer_and_a_bounded_user_agent() {
    // No proxy is trusted, so a browser cannot choose the address the phone shows; a huge User-Agent is cut.
    let stack = Stack::start().await;
    let long_user_agent = format!("Mozilla/5.0 {}", "x".repeat(1000));
    let login = stack.login_with(&[("x-forwarded-for", "203.0.113.66"), ("user-agent", &long_user_agent)]).await;

    let scan = stack.scan(&stack.user_token("alice"), &login.qr_text).await;

    let requester = &scan.expect_status(200)["requester"];
    assert_eq!(requester["ip"], "127.0.0.1");
    assert_eq!(requester["user_agent"], long_user_agent[..256]);
}

#[tokio::test]
async fn a_user_missing_from_the_directory_gets_a_token_with_just_the_id() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let dave = stack.user_token("dave");
    stack.scan(&dave, &login.qr_text).await.expect_status(200);
    stack.confirm(&dave, &login.uuid, &login.verification).await.expect_status(200);

    let body = assert_claims_token_for(&stack, &login, "dave").await;

    assert_eq!(body["user"], json!({ "id": "dave" }));
}
