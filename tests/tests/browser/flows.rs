//! What a user sees on the demo page while the phone scans, confirms or denies, and when a code expires.

use std::time::Duration;

use qrlogin_e2e::{Stack, WEB_AUDIENCE, WEB_ISSUER};
use qrlogin_shared::session::CheckCodeMode;
use serde_json::json;

use crate::page::{IMAGE, NEW_CODE, STATUS};
use crate::{in_browser, phone};

const WAITING: &str = "Scan this code with the app on your phone.";
const SCANNED: &str = "Scanned. Confirm the login on your phone.";
const CHECK_CODE: &str = "Scanned. Type this number on your phone to confirm:";
const DENIED: &str = "The login was denied on the phone.";
const EXPIRED: &str = "This code has expired.";

#[tokio::test]
async fn confirming_on_the_phone_logs_the_page_in() {
    let stack = &Stack::start().await;
    in_browser("confirm", |page| async move {
        page.open(&stack.gateway_url).await;
        let code = page.read_code(None).await;
        page.wait_for_status("pending", WAITING).await;
        page.publish("waiting").await;
        let alice = phone(stack, "alice");

        let scan = alice.scan(&code.text).await.expect("the phone scans the QR read off the page");
        assert!(scan.site_checked);
        assert!(scan.requester.user_agent.contains("Chrome"), "the phone is shown the browser: {:?}", scan.requester);
        page.wait_for_status("scanned", SCANNED).await;
        page.publish("scanned").await;
        alice.confirm(&scan.link.uuid, &scan.link.verification).await.expect("the phone confirms");

        let claims = page.wait_for_login("Alice Liddell", "alice").await;
        assert_eq!(
            (&claims["iss"], &claims["aud"], &claims["amr"]),
            (&json!(WEB_ISSUER), &json!(WEB_AUDIENCE), &json!(["qr"])),
            "claims: {claims}"
        );
        // qrlogin.js bound the token to the page's WebCrypto key (DPoP), and /v1/me took its proof.
        assert_eq!(claims["cnf"]["jkt"].as_str().map(str::len), Some(43), "a DPoP-bound token: {claims}");
        page.publish("logged-in").await;
    })
    .await;
}

#[tokio::test]
async fn ending_the_web_session_on_the_phone_logs_the_page_out() {
    let stack = &Stack::start().await;
    in_browser("logout", |page| async move {
        page.open(&stack.gateway_url).await;
        let code = page.read_code(None).await;
        let alice = phone(stack, "alice");
        let scan = alice.scan(&code.text).await.expect("the phone scans");
        alice.confirm(&scan.link.uuid, &scan.link.verification).await.expect("the phone confirms");
        let claims = page.wait_for_login("Alice Liddell", "alice").await;

        let sessions = alice.sessions().await.expect("the phone lists where alice is logged in");
        assert_eq!(sessions.first().map(|s| s.sid.as_str()), claims["sid"].as_str(), "{sessions:?}");
        alice.end_sessions(claims["sid"].as_str()).await.expect("the phone ends the page's session");

        page.wait_for_logout().await;
        page.shoot("logged-out").await;
    })
    .await;
}

#[tokio::test]
async fn with_a_check_code_the_phone_types_the_number_the_page_shows() {
    let stack = &Stack::start_configured(|_| {}, |mobile| mobile.check_code = CheckCodeMode::Always).await;
    in_browser("check-code", |page| async move {
        page.open(&stack.gateway_url).await;
        let code = page.read_code(None).await;
        let alice = phone(stack, "alice");

        let scan = alice.scan(&code.text).await.expect("the phone scans");
        assert!(scan.check_code_required);
        page.wait_for_status("scanned", CHECK_CODE).await;
        let number = page.shown_check_code().await;
        page.publish("check-code").await;
        let (uuid, verification) = (&scan.link.uuid, &scan.link.verification);
        let wrong = if number == "00" { "01" } else { "00" };
        let refused = alice.confirm_with_check_code(uuid, verification, wrong).await;
        assert!(format!("{:?}", refused.expect_err("a wrong number is refused")).contains("wrong-check-code"));
        alice.confirm_with_check_code(uuid, verification, &number).await.expect("the right number confirms");

        page.wait_for_login("Alice Liddell", "alice").await;
    })
    .await;
}

#[tokio::test]
async fn denying_on_the_phone_tells_the_page_and_offers_a_new_code() {
    let stack = &Stack::start().await;
    in_browser("deny", |page| async move {
        page.open(&stack.gateway_url).await;
        let code = page.read_code(None).await;
        page.shoot("waiting").await;
        let alice = phone(stack, "alice");

        let scan = alice.scan(&code.text).await.expect("the phone scans");
        page.wait_for_status("scanned", SCANNED).await;
        alice.deny(&scan.link.uuid, &scan.link.verification).await.expect("the phone denies");

        page.wait_for_status("denied", DENIED).await;
        assert_eq!(page.overlay().await, Some((DENIED.to_owned(), true)), "overlay with a New code button");
        page.shoot("denied").await;
    })
    .await;
}

#[tokio::test]
async fn an_expired_code_is_replaced_by_a_new_one_from_the_keyboard_that_logs_in() {
    const TTL: Duration = Duration::from_secs(3);
    let stack = &Stack::start_with(|gateway| {
        gateway.session_ttl = TTL;
        gateway.qr_rotate = Duration::ZERO;
    })
    .await;
    in_browser("expired", |page| async move {
        page.open(&stack.gateway_url).await;
        let first = page.read_code(None).await;
        page.shoot("waiting").await;

        // The page must say so shortly after the login window ends, not whenever it next hears from the gateway.
        tokio::time::sleep(TTL).await;
        page.wait_for_status("expired", EXPIRED).await;
        assert_eq!(page.overlay().await, Some((EXPIRED.to_owned(), true)), "overlay with a New code button");
        page.publish("expired").await;

        page.new_code_by_keyboard().await;
        let second = page.read_code(Some(&first)).await;
        assert_ne!(second.text, first.text, "a new code is a new login");
        page.wait_for_status("pending", WAITING).await;
        let alice = phone(stack, "alice");
        let scan = alice.scan(&second.text).await.expect("the new code scans");
        alice.confirm(&scan.link.uuid, &scan.link.verification).await.expect("the phone confirms");

        page.wait_for_login("Alice Liddell", "alice").await;
        page.shoot("logged-in").await;
    })
    .await;
}

#[tokio::test]
async fn the_code_and_its_status_are_accessible() {
    let stack = &Stack::start().await;
    in_browser("a11y", |page| async move {
        page.open(&stack.gateway_url).await;
        page.read_code(None).await;

        let script = r#"
            const img = document.querySelector(arguments[0]);
            const status = document.querySelector(arguments[1]);
            const button = document.querySelector(arguments[2]);
            return {
                alt: img.getAttribute("alt"),
                live: status.getAttribute("aria-live"),
                role: status.getAttribute("role"),
                button_type: button.getAttribute("type"),
                lang: document.documentElement.lang,
            };"#;
        let found = page.eval(script, vec![json!(IMAGE), json!(STATUS), json!(NEW_CODE)]).await;

        let alt = found["alt"].as_str().unwrap_or_default();
        assert!(!alt.trim().is_empty(), "the QR image needs a text alternative: {found}");
        assert_eq!(found["live"], "polite", "status changes must be announced: {found}");
        assert_eq!(found["role"], "status", "{found}");
        assert_eq!(found["button_type"], "button", "{found}");
        assert_eq!(found["lang"], "en", "{found}");
    })
    .await;
}
