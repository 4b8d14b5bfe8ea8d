//! After the login: every claim opens a web session the phone lists and ends, and the web backend learns of the
//! end through token introspection (RFC 7662) at once; the demo's `/v1/me` refuses an ended session's token.

use std::time::{Duration, Instant};

use qrlogin_e2e::{Login, Stack};
use serde_json::Value;
use sha2::{Digest, Sha256};
use web_gateway::introspection::IntrospectionClients;

use crate::assert_claims_token_for;

const CLIENT: (&str, &str) = ("web-backend", "e2e-introspection-secret");

fn clients() -> IntrospectionClients {
    let hash = hex::encode(Sha256::digest(CLIENT.1.as_bytes()));
    IntrospectionClients::parse(&format!("{}:{hash}", CLIENT.0)).unwrap()
}

async fn stack() -> Stack {
    Stack::start_with(|g| g.introspection_clients = clients()).await
}

/// A whole login of `user`; its web token and the token's `sid`.
async fn logged_in(stack: &Stack, user: &str) -> (String, String) {
    let login: Login = stack.login().await;
    let token = stack.user_token(user);
    stack.scan(&token, &login.qr_text).await.expect_status(200);
    stack.confirm(&token, &login.uuid, &login.verification).await.expect_status(200);
    let web = assert_claims_token_for(stack, &login, user).await["token"].as_str().unwrap().to_owned();
    let sid = stack.verify_web_token(&web).await.claims["sid"].as_str().unwrap().to_owned();
    (web, sid)
}

async fn active(stack: &Stack, token: &str) -> bool {
    let answer = stack.introspect(CLIENT, token).await;
    answer.expect_status(200)["active"].as_bool().expect("active is a bool")
}

#[tokio::test]
async fn the_phone_lists_its_users_web_sessions_newest_first() {
    let stack = stack().await;
    let (_, first) = logged_in(&stack, "alice").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, second) = logged_in(&stack, "alice").await;

    let listed = stack.web_sessions(&stack.user_token("alice")).await;

    let sessions = listed.expect_status(200)["sessions"].as_array().unwrap().clone();
    let sids: Vec<&str> = sessions.iter().map(|s| s["sid"].as_str().unwrap()).collect();
    assert_eq!(sids, [second.as_str(), first.as_str()]);
    assert_eq!(sessions[0]["current_login"], true);
    assert_eq!(sessions[1]["current_login"], false);
    for s in &sessions {
        assert_eq!(s["os"], "Linux", "what the scan showed the phone: {s}");
        assert!(s["browser"].is_string() && s["created_at"].is_string() && s["last_seen"].is_string(), "{s}");
        assert!(s.get("location").is_some(), "{s}");
    }
    let bobs = stack.web_sessions(&stack.user_token("bob")).await;
    assert_eq!(bobs.expect_status(200)["sessions"], Value::Array(vec![]), "only the caller's");
}

#[tokio::test]
async fn a_session_ended_from_the_phone_introspects_inactive_at_once() {
    let stack = stack().await;
    let (ended, sid) = logged_in(&stack, "alice").await;
    let (kept, _) = logged_in(&stack, "alice").await;
    let answer = stack.introspect(CLIENT, &ended).await;
    let claims = answer.expect_status(200);
    assert_eq!((claims["active"].as_bool(), claims["sub"].as_str()), (Some(true), Some("alice")));
    assert_eq!(claims["sid"], sid.as_str());
    stack.me(&ended).await.expect_status(200);

    // Someone else's session is as unknown as none, and stays live.
    stack.end_web_sessions(&stack.user_token("bob"), Some(&sid)).await.expect_problem(404, "web-session-not-found");
    assert!(active(&stack, &ended).await);

    // The very next introspection, at either of two gateway instances, says so.
    let other = stack.another_gateway(|g| g.introspection_clients = clients()).await;
    assert!(active(&other, &ended).await);
    let started = Instant::now();
    stack.end_web_sessions(&stack.user_token("alice"), Some(&sid)).await.expect_status(204);
    assert!(!active(&other, &ended).await && !active(&stack, &ended).await);
    assert!(started.elapsed() < Duration::from_secs(1), "inactive within a second");
    assert_eq!(stack.introspect(CLIENT, &ended).await.expect_status(200), &serde_json::json!({ "active": false }));
    stack.me(&ended).await.expect_problem(401, "session-ended");
    assert!(active(&stack, &kept).await, "the other browser stays logged in");
    stack.end_web_sessions(&stack.user_token("alice"), Some(&sid)).await.expect_problem(404, "web-session-not-found");

    stack.end_web_sessions(&stack.user_token("alice"), None).await.expect_status(204);
    assert!(!active(&stack, &kept).await, "logged out everywhere");
    let listed = stack.web_sessions(&stack.user_token("alice")).await;
    assert_eq!(listed.expect_status(200)["sessions"], Value::Array(vec![]));
}

#[tokio::test]
async fn introspection_needs_a_configured_client_and_says_nothing_about_foreign_tokens() {
    let stack = stack().await;
    let (token, _) = logged_in(&stack, "alice").await;

    stack.introspect((CLIENT.0, "wrong"), &token).await.expect_problem(401, "invalid-client");
    stack.introspect(("stranger", CLIENT.1), &token).await.expect_problem(401, "invalid-client");
    let forged = format!("{}x", token);
    assert!(!active(&stack, &forged).await);
    assert!(!active(&stack, "not-a-token").await);
}
