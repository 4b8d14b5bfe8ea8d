//! Key rotation without downtime: a new key is added, the old one keeps validating until it is removed.

use jsonwebtoken::jwk::JwkSet;
use qrlogin_e2e::{Stack, WEB_AUDIENCE, WEB_ISSUER};
use qrlogin_shared::test_support::web_token::verify_web_token;
use secrecy::SecretSlice;

use crate::assert_claims_token_for;

const OLD_SECRET: &str = "rotation-test-old-secret-0123456789abcdef";
const NEW_SECRET: &str = "rotation-test-new-secret-0123456789abcdef";
const NEXT_KEY_PEM: &str = include_str!("../../keys/web-jwt-es256-next.pem");
const NEXT_PUBLIC_PEM: &str = include_str!("../../keys/web-jwt-es256-next.pub.pem");
const DEV_PUBLIC_PEM: &str = include_str!("../../keys/web-jwt-es256-dev.pub.pem");

fn secret(s: &str) -> SecretSlice<u8> {
    SecretSlice::from(s.as_bytes().to_vec())
}

/// The gateway still issues QRs with the old secret; mobile-api already signs with the new one and accepts
/// the old one (`QRL_SIGNING_SECRETS_ACCEPTED`).
async fn stack_mid_rotation(accept_old: bool) -> Stack {
    Stack::start_configured(
        |gateway| gateway.service.signing_secret = secret(OLD_SECRET),
        |mobile| {
            mobile.service.signing_secret = secret(NEW_SECRET);
            mobile.service.accepted_signing_secrets = if accept_old { vec![secret(OLD_SECRET)] } else { vec![] };
        },
    )
    .await
}

#[tokio::test]
async fn qr_signed_with_the_old_secret_scans_while_it_is_still_accepted() {
    let stack = stack_mid_rotation(true).await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");

    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);

    assert_claims_token_for(&stack, &login, "alice").await;
}

#[tokio::test]
async fn qr_signed_with_a_removed_secret_no_longer_scans() {
    let stack = stack_mid_rotation(false).await;
    let login = stack.login().await;

    let reply = stack.scan(&stack.user_token("alice"), &login.qr_text).await;

    reply.expect_status(404);
}

#[tokio::test]
async fn qr_signed_with_the_new_secret_scans_on_an_instance_that_accepts_both() {
    let stack = Stack::start_configured(
        |gateway| gateway.service.signing_secret = secret(NEW_SECRET),
        |mobile| {
            mobile.service.signing_secret = secret(NEW_SECRET);
            mobile.service.accepted_signing_secrets = vec![secret(OLD_SECRET)];
        },
    )
    .await;
    let login = stack.login().await;

    stack.scan(&stack.user_token("alice"), &login.qr_text).await.expect_status(200);
}

/// Whether `token` verifies against `jwks` the way a web backend would (the kit's verifier).
fn verifies(token: &str, jwks: &JwkSet) -> bool {
    verify_web_token::<serde_json::Value>(token, jwks, WEB_ISSUER, WEB_AUDIENCE).is_ok()
}

/// A token the gateway minted with its current (dev) key, for a full login on `stack`.
async fn token_from(stack: &Stack) -> String {
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);
    let body = assert_claims_token_for(stack, &login, "alice").await;
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn tokens_of_the_old_web_key_verify_until_its_public_key_is_removed() {
    // Before the switch: the dev key signs, the next key is published ahead of use.
    let before = Stack::start_with(|g| g.web_token.published_keys_pem = NEXT_PUBLIC_PEM.to_owned()).await;
    let old_token = token_from(&before).await;
    assert_eq!(before.jwks().await.keys.len(), 2);

    // After the switch: the next key signs; the old public key stays published.
    let after = Stack::start_with(|g| {
        g.web_token.private_key_pem = NEXT_KEY_PEM.to_owned().into();
        g.web_token.published_keys_pem = DEV_PUBLIC_PEM.to_owned();
    })
    .await;
    let new_token = token_from(&after).await;
    let jwks = after.jwks().await;
    assert!(verifies(&old_token, &jwks), "old tokens still verify");
    assert!(verifies(&new_token, &jwks), "new tokens verify");
    assert_ne!(
        jsonwebtoken::decode_header(&old_token).unwrap().kid,
        jsonwebtoken::decode_header(&new_token).unwrap().kid
    );

    // Once the old key is removed, its tokens no longer verify; new ones still do.
    let retired = Stack::start_with(|g| g.web_token.private_key_pem = NEXT_KEY_PEM.to_owned().into()).await;
    let jwks = retired.jwks().await;
    assert_eq!(jwks.keys.len(), 1);
    assert!(!verifies(&old_token, &jwks));
    assert!(verifies(&new_token, &jwks));
}
