//! Sender-constrained web tokens (DPoP, RFC 9449): a create with a proof binds the login's token to the browser's
//! key, and `/v1/me` then accepts the token only with a fresh proof by that key, on any gateway instance. Two
//! gateways and mobile-api on one real Redis; the proofs are made as qrlogin.js makes them.

use jsonwebtoken::get_current_timestamp;
use qrlogin_e2e::{Login, Stack};
use qrlogin_shared::test_support::{self, QR_BASE_URL};
use serde_json::{Value, json};
use web_gateway::config::DpopMode;
use web_gateway::dpop::access_token_hash;
use web_gateway::dpop_client::DpopKey;

/// The URL every instance knows itself by (`QRL_QR_BASE_URL`): a proof for it is good at either gateway.
pub(crate) fn public(path: &str) -> String {
    format!("{QR_BASE_URL}{path}")
}

/// A whole login of alice whose create carried `headers`; the confirmed poll's answer.
async fn login_with(stack: &Stack, headers: &[(&str, &str)]) -> Value {
    let login: Login = stack.login_with(headers).await;
    let user = stack.user_token("alice");
    stack.scan(&user, &login.qr_text).await.expect_status(200);
    stack.confirm(&user, &login.uuid, &login.verification).await.expect_status(200);
    let answer = stack.poll(&login.uuid, Some(&login.binding)).await;
    let answer = answer.expect_status(200).clone();
    assert_eq!(answer["status"], "confirmed", "{answer}");
    answer
}

/// A login bound to `key`, its create's proof made for the gateway's public URL; the web token.
pub(crate) async fn bound_token(stack: &Stack, key: &DpopKey) -> String {
    let proof = key.proof("POST", &public("/v1/qr"), None);
    let answer = login_with(stack, &[("DPoP", &proof)]).await;
    assert_eq!(answer["token_type"], "DPoP", "{answer}");
    answer["token"].as_str().unwrap().to_owned()
}

pub(crate) async fn me(stack: &Stack, token: &str, proof: &str) -> qrlogin_e2e::Reply {
    stack.me_with(&[("Authorization", &format!("DPoP {token}")), ("DPoP", proof)]).await
}

#[track_caller]
fn assert_refused_proof(reply: &qrlogin_e2e::Reply, why: &str) {
    reply.expect_problem(401, "invalid-dpop-proof");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("DPoP error=\"invalid_dpop_proof\""), "{why}: {challenge}");
}

/// Refused as a replay, not for anything else about the proof.
#[track_caller]
pub(crate) fn assert_replay_refused(reply: &qrlogin_e2e::Reply, why: &str) {
    assert_refused_proof(reply, why);
    assert!(reply.body["detail"].as_str().unwrap_or_default().contains("used before"), "{why}: {}", reply.text);
}

#[tokio::test]
async fn a_bound_token_names_the_key_and_works_only_with_fresh_proofs_by_it() {
    let stack = Stack::start().await;
    let key = DpopKey::generate();

    let token = bound_token(&stack, &key).await;

    let claims = stack.verify_web_token(&token).await.claims;
    assert_eq!(claims["cnf"], json!({ "jkt": key.thumbprint() }));
    // The proof for the URL the request was addressed to (the demo page's case) and for the public one.
    let addressed = key.proof("GET", &format!("{}/v1/me", stack.gateway_url), Some(&token));
    let answer = me(&stack, &token, &addressed).await;
    assert_eq!(answer.expect_status(200)["claims"]["cnf"]["jkt"], key.thumbprint());
    me(&stack, &token, &key.proof("GET", &public("/v1/me"), Some(&token))).await.expect_status(200);

    // Copied out of the browser, the token alone is refused however it is presented.
    let bearer = stack.me(&token).await;
    bearer.expect_problem(401, "invalid-token");
    assert!(bearer.header("www-authenticate").unwrap().starts_with("DPoP error=\"invalid_token\""));
    let no_proof = stack.me_with(&[("Authorization", &format!("DPoP {token}"))]).await;
    assert_refused_proof(&no_proof, "no proof");
    let cases = [
        ("another URL", key.proof("GET", "https://elsewhere.example/v1/me", Some(&token))),
        ("another path", key.proof("GET", &public("/v1/qr"), Some(&token))),
        ("another method", key.proof("POST", &public("/v1/me"), Some(&token))),
        ("another key", DpopKey::generate().proof("GET", &public("/v1/me"), Some(&token))),
        ("no ath", key.proof("GET", &public("/v1/me"), None)),
        ("the ath of another token", key.proof("GET", &public("/v1/me"), Some("another.token.value"))),
        ("a stale iat", stale(&key, &token)),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (why, proof) in &cases {
        assert_refused_proof(&me(&stack, &token, proof).await, why);
    }
}

fn stale(key: &DpopKey, token: &str) -> String {
    key.sign(&json!({"jti": uuid::Uuid::new_v4().to_string(), "htm": "GET", "htu": public("/v1/me"),
        "iat": get_current_timestamp() - 120, "ath": access_token_hash(token)}))
}

#[tokio::test]
async fn a_proof_is_good_once_at_whichever_instance_sees_it_first() {
    let a = Stack::start().await;
    let b = a.another_gateway(|_| {}).await;
    let key = DpopKey::generate();
    let token = bound_token(&a, &key).await;
    let proof = key.proof("GET", &public("/v1/me"), Some(&token));

    me(&a, &token, &proof).await.expect_status(200);

    assert_replay_refused(&me(&a, &token, &proof).await, "replayed at the same instance");
    assert_replay_refused(&me(&b, &token, &proof).await, "replayed at the other instance");
    // Seen first at B, then replayed at A.
    let other = key.proof("GET", &public("/v1/me"), Some(&token));
    me(&b, &token, &other).await.expect_status(200);
    assert_replay_refused(&me(&a, &token, &other).await, "replayed back at the first instance");
}

#[tokio::test]
async fn required_refuses_a_create_without_a_valid_proof_and_stores_nothing() {
    let mut prefix = String::new();
    let stack = Stack::start_with(|g| {
        g.dpop = DpopMode::Required;
        prefix = g.service.redis.key_prefix.clone();
    })
    .await;
    let key = DpopKey::generate();

    for (why, headers) in [
        ("no proof", vec![]),
        ("a proof for GET", vec![("DPoP", key.proof("GET", &public("/v1/qr"), None))]),
        ("garbage", vec![("DPoP", "garbage".to_owned())]),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = stack.create_qr_with(&headers).await;
        refused.expect_problem(400, "invalid-dpop-proof");
        assert!(refused.header("set-cookie").is_none(), "{why}: no binding cookie");
    }

    assert_eq!(keys_under(&prefix).await, Vec::<String>::new(), "no session was stored");
    bound_token(&stack, &key).await;
}

async fn keys_under(prefix: &str) -> Vec<String> {
    let client = redis::Client::open(test_support::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut conn).await.unwrap()
}

#[tokio::test]
async fn optional_gives_bearer_without_a_proof_and_refuses_a_bad_one() {
    let stack = Stack::start().await;

    let answer = login_with(&stack, &[]).await;

    assert_eq!(answer["token_type"], "Bearer");
    let token = answer["token"].as_str().unwrap();
    assert!(stack.verify_web_token(token).await.claims.get("cnf").is_none());
    stack.me(token).await.expect_status(200);
    // A Bearer token is not a DPoP one, whatever proof comes with it.
    let key = DpopKey::generate();
    let as_dpop = me(&stack, token, &key.proof("GET", &public("/v1/me"), Some(token))).await;
    as_dpop.expect_problem(401, "invalid-token");
    for proof in ["garbage".to_owned(), key.proof("POST", "https://elsewhere.example/v1/qr", None)] {
        stack.create_qr_with(&[("DPoP", &proof)]).await.expect_problem(400, "invalid-dpop-proof");
    }
}

#[tokio::test]
async fn off_ignores_the_header_and_issues_bearer_tokens() {
    let stack = Stack::start_with(|g| g.dpop = DpopMode::Off).await;
    let key = DpopKey::generate();

    let answer = login_with(&stack, &[("DPoP", &key.proof("POST", &public("/v1/qr"), None))]).await;

    assert_eq!(answer["token_type"], "Bearer");
    let token = answer["token"].as_str().unwrap();
    assert!(stack.verify_web_token(token).await.claims.get("cnf").is_none());
    stack.me(token).await.expect_status(200);
    stack.create_qr_with(&[("DPoP", "garbage")]).await.expect_status(201);
}

#[tokio::test]
async fn introspection_says_dpop_and_names_the_key() {
    use sha2::{Digest, Sha256};
    let (id, secret) = ("web-backend", "e2e-dpop-introspection-secret");
    let clients = format!("{id}:{}", hex::encode(Sha256::digest(secret.as_bytes())));
    let clients = web_gateway::introspection::IntrospectionClients::parse(&clients).unwrap();
    let stack = Stack::start_with(|g| g.introspection_clients = clients).await;
    let key = DpopKey::generate();
    let token = bound_token(&stack, &key).await;

    let answer = stack.introspect((id, secret), &token).await;

    let answer = answer.expect_status(200);
    assert_eq!((answer["active"].as_bool(), answer["token_type"].as_str()), (Some(true), Some("DPoP")));
    assert_eq!(answer["cnf"], json!({ "jkt": key.thumbprint() }));
}
