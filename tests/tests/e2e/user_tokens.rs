//! The phone's user token: anything but a valid token from the configured provider is a 401 with a Bearer
//! challenge, and changes nothing.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use qrlogin_e2e::{Reply, Stack, USER_LEEWAY_SECS, hs256_token, unsigned_token, user_claims};
use qrlogin_shared::unix_now;
use serde_json::json;

use crate::{assert_claims_token_for, assert_poll};

const INVALID_TOKEN_CHALLENGE: &str = "Bearer error=\"invalid_token\"";

/// Tokens for alice that mobile-api must refuse, each with what is wrong with it.
fn bad_tokens() -> Vec<(&'static str, String)> {
    let good = user_claims("alice");
    let with = |field: &str, value: serde_json::Value| {
        let mut claims = good.clone();
        claims[field] = value;
        hs256_token(qrlogin_e2e::USER_JWT_SECRET, &claims)
    };
    let mut no_sub = good.clone();
    no_sub.as_object_mut().expect("claims are an object").remove("sub");
    let web_key = std::fs::read(qrlogin_e2e::WEB_KEY_PEM_FILE).expect("web key is readable");
    let es256 = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &good,
        &EncodingKey::from_ec_pem(&web_key).expect("web key is a P-256 PEM"),
    )
    .expect("ES256 signing works");
    vec![
        ("wrong signature", hs256_token("another-provider-secret-0123456789abcdef", &good)),
        ("wrong issuer", with("iss", json!("https://evil.example"))),
        ("wrong audience", with("aud", json!("some-other-app"))),
        ("expired beyond leeway", with("exp", json!(unix_now() - USER_LEEWAY_SECS - 60))),
        ("alg none", unsigned_token(&good)),
        ("algorithm other than the pinned one", es256),
        ("no subject", hs256_token(qrlogin_e2e::USER_JWT_SECRET, &no_sub)),
        ("not a JWT", "not-a-jwt".to_owned()),
    ]
}

fn assert_invalid_token(reply: &Reply, what: &str) {
    assert_eq!(reply.status.as_u16(), 401, "{what}: {}", reply.text);
    reply.expect_problem(401, "invalid-token");
    assert_eq!(reply.header("www-authenticate"), Some(INVALID_TOKEN_CHALLENGE), "{what}");
}

#[tokio::test]
async fn bad_user_tokens_are_401_and_change_nothing() {
    let stack = Stack::start().await;
    let login = stack.login().await;

    // Scan with each bad token: refused, the session stays pending.
    for (what, token) in bad_tokens() {
        assert_invalid_token(&stack.scan(&token, &login.qr_text).await, what);
    }
    assert_poll(&stack, &login, "pending").await;

    // A token just past `exp` but within the leeway is still good (clock skew): alice scans with it.
    let mut skewed = user_claims("alice");
    skewed["exp"] = json!(unix_now() - 5);
    let alice_skewed = hs256_token(qrlogin_e2e::USER_JWT_SECRET, &skewed);
    stack.scan(&alice_skewed, &login.qr_text).await.expect_status(200);

    // Confirm or deny with each bad token: refused, the session stays scanned.
    for (what, token) in bad_tokens() {
        assert_invalid_token(&stack.confirm(&token, &login.uuid, &login.verification).await, what);
        assert_invalid_token(&stack.deny(&token, &login.uuid, &login.verification).await, what);
    }
    assert_poll(&stack, &login, "scanned").await;

    let alice = stack.user_token("alice");
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);
    assert_claims_token_for(&stack, &login, "alice").await;
}

#[tokio::test]
async fn missing_bearer_token_is_a_plain_bearer_challenge() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let body = json!({ "qr_content": login.qr_text });

    let reply = stack.phone_json("/v1/scan", None, &body).await;

    reply.expect_problem(401, "invalid-token");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    let decide = json!({ "uuid": login.uuid, "verification": login.verification });
    let reply = stack.phone_json("/v1/confirm", None, &decide).await;
    reply.expect_problem(401, "invalid-token");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert_poll(&stack, &login, "pending").await;
}
