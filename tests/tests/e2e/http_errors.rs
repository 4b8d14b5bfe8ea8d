//! Requests no honest client sends: each gets one exact status and a problem+json body, and changes nothing.

use qrlogin_e2e::Stack;
use reqwest::Method;
use serde_json::json;

use crate::assert_poll;

#[tokio::test]
async fn malformed_json_is_400() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");

    for (path, body) in [
        ("/v1/scan", r#"{"qr_content": "#),
        ("/v1/scan", "not json at all"),
        ("/v1/scan", r#"{"qr": "field has the wrong name"}"#),
        ("/v1/scan", r#"{"qr_content": 42}"#),
        ("/v1/confirm", r#"{"uuid": "#),
        ("/v1/confirm", r#"{"uuid": "only the uuid"}"#),
        ("/v1/deny", "[]"),
    ] {
        let reply = stack.phone_raw(path, Some(&alice), "application/json", body.as_bytes().to_vec()).await;
        let problem = reply.expect_problem(400, "invalid-request");
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains("JSON")), "{path} {body}: {problem}");
    }
    assert_poll(&stack, &login, "pending").await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    let padding = "x".repeat(5 * 1024);

    let scan = json!({ "qr_content": format!("{}{padding}", login.qr_text) });
    stack.phone_json("/v1/scan", Some(&alice), &scan).await.expect_problem(413, "body-too-large");
    let confirm = json!({ "uuid": login.uuid, "verification": login.verification, "padding": padding });
    stack.phone_json("/v1/confirm", Some(&alice), &confirm).await.expect_problem(413, "body-too-large");

    assert_poll(&stack, &login, "pending").await;
}

#[tokio::test]
async fn body_that_is_not_json_is_415() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    let body = json!({ "qr_content": login.qr_text }).to_string().into_bytes();

    let reply = stack.phone_raw("/v1/scan", Some(&alice), "text/plain", body).await;

    reply.expect_problem(415, "unsupported-media-type");
    assert_poll(&stack, &login, "pending").await;
}

#[tokio::test]
async fn invalid_session_ids_are_400() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    let upper = login.uuid.to_uppercase();

    // Gateway: the id is checked before the cookie.
    for (method, uuid, binding) in [
        (Method::GET, "not-a-uuid", None),
        (Method::GET, "not-a-uuid", Some(login.binding.as_str())),
        (Method::GET, upper.as_str(), Some(login.binding.as_str())),
        (Method::DELETE, "not-a-uuid", Some(login.binding.as_str())),
    ] {
        let reply = stack.gateway_request(method.clone(), &format!("/v1/qr/{uuid}"), binding).await;
        reply.expect_problem(400, "invalid-request");
    }

    // mobile-api: uuid and verification must both parse.
    stack.confirm(&alice, "nope", &login.verification).await.expect_problem(400, "invalid-request");
    stack.deny(&alice, "nope", &login.verification).await.expect_problem(400, "invalid-request");
    stack.confirm(&alice, &upper, &login.verification).await.expect_problem(400, "invalid-request");
    stack.confirm(&alice, &login.uuid, "short").await.expect_problem(400, "invalid-request");

    assert_poll(&stack, &login, "pending").await;
}

#[tokio::test]
async fn unknown_routes_are_problem_404s() {
    let stack = Stack::start().await;

    stack.gateway_request(Method::GET, "/v1/nothing-here", None).await.expect_problem(404, "not-found");
    stack.phone_json("/v1/nothing-here", None, &json!({})).await.expect_problem(404, "not-found");
}
