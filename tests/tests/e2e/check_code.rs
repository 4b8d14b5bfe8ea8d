//! Number matching (issue 10 §2): with a check code required, the browser that asked for the QR shows two
//! digits once the phone has scanned, and only a confirm carrying them logs the browser in. A relayed QR's
//! victim sees no number on the attacker's browser, so cannot confirm; a guesser has three tries.

use qrlogin_e2e::{Login, Stack};
use qrlogin_shared::session::CheckCodeMode;
use serde_json::{Value, json};

use crate::{assert_claims_token_for, assert_poll};

async fn stack() -> Stack {
    Stack::start_configured(|_| {}, |mobile| mobile.check_code = CheckCodeMode::Always).await
}

async fn confirm_with(stack: &Stack, token: &str, login: &Login, check_code: Option<&str>) -> qrlogin_e2e::Reply {
    let mut body = json!({ "uuid": login.uuid, "verification": login.verification });
    if let Some(code) = check_code {
        body["check_code"] = json!(code);
    }
    stack.phone_json("/v1/confirm", Some(token), &body).await
}

/// The browser's poll while scanned: `{"status":"scanned","check_code":"NN"}`; returns the code.
async fn shown_code(stack: &Stack, login: &Login) -> String {
    let body: Value = stack.poll(&login.uuid, Some(&login.binding)).await.expect_status(200).clone();
    assert_eq!(body["status"], "scanned", "{body}");
    let code = body["check_code"].as_str().expect("the browser is shown the check code").to_owned();
    assert!(code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "only status and check_code: {body}");
    code
}

#[tokio::test]
async fn only_a_confirm_with_the_number_the_browser_shows_logs_it_in() {
    let stack = stack().await;
    let alice = stack.user_token("alice");
    let login = stack.login().await;
    assert_poll(&stack, &login, "pending").await;

    let scanned = stack.scan(&alice, &login.qr_text).await;
    assert_eq!(scanned.expect_status(200)["check_code_required"], true);
    let code = shown_code(&stack, &login).await;
    // Never to another browser: a foreign cookie is refused as ever.
    stack.poll(&login.uuid, Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).await.expect_status(403);

    let wrong = if code == "00" { "01" } else { "00" };
    confirm_with(&stack, &alice, &login, None).await.expect_problem(422, "wrong-check-code");
    confirm_with(&stack, &alice, &login, Some(wrong)).await.expect_problem(422, "wrong-check-code");
    assert_eq!(shown_code(&stack, &login).await, code, "a wrong code changes nothing");

    confirm_with(&stack, &alice, &login, Some(&code)).await.expect_json(200, &json!({ "status": "confirmed" }));
    assert_claims_token_for(&stack, &login, "alice").await;
}

#[tokio::test]
async fn the_third_wrong_number_denies_and_deny_never_needs_it() {
    let stack = stack().await;
    let alice = stack.user_token("alice");
    let guessed = stack.login().await;
    stack.scan(&alice, &guessed.qr_text).await.expect_status(200);
    let code = shown_code(&stack, &guessed).await;
    let wrong = if code == "00" { "01" } else { "00" };

    for _ in 0..2 {
        confirm_with(&stack, &alice, &guessed, Some(wrong)).await.expect_problem(422, "wrong-check-code");
    }
    let last = confirm_with(&stack, &alice, &guessed, Some(wrong)).await;
    assert!(last.expect_problem(422, "wrong-check-code")["detail"].as_str().unwrap().contains("denied"));
    assert_poll(&stack, &guessed, "denied").await;
    confirm_with(&stack, &alice, &guessed, Some(&code)).await.expect_problem(409, "wrong-state");

    let refused = stack.login().await;
    stack.scan(&alice, &refused.qr_text).await.expect_status(200);
    stack.deny(&alice, &refused.uuid, &refused.verification).await.expect_json(200, &json!({ "status": "denied" }));
    assert_poll(&stack, &refused, "denied").await;
}

#[tokio::test]
async fn without_a_required_code_the_answers_are_as_before() {
    let stack = Stack::start_configured(|_| {}, |mobile| mobile.check_code = CheckCodeMode::Never).await;
    let alice = stack.user_token("alice");
    let login = stack.login().await;

    assert_eq!(stack.scan(&alice, &login.qr_text).await.expect_status(200)["check_code_required"], false);
    assert_poll(&stack, &login, "scanned").await;
    confirm_with(&stack, &alice, &login, None).await.expect_json(200, &json!({ "status": "confirmed" }));
}
