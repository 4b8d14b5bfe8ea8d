//! A gateway process killed with `kill -9` while browsers wait on it (SSE and long-poll): no drain, no answers,
//! its waiters simply lose their connections. They reconnect to a second gateway process on the same Redis and
//! key prefix (as a load balancer would send them), the phone confirms, and each browser gets its token exactly
//! once. The real binaries, since only a whole process can be killed.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::future::join_all;
use qrlogin_e2e::{Login, Services, Stack};
use serde_json::Value;

const SSE_BROWSERS: usize = 10;
const POLL_BROWSERS: usize = 10;
/// How long a broken or resumed wait may take to show.
const WITHIN: Duration = Duration::from_secs(10);
const USER: &str = "alice";

/// `GET /v1/qr/{uuid}?wait=20&known=<known>` on `gateway`: the answer, or the transport error of a gateway that
/// died under it.
async fn long_poll(client: &reqwest::Client, gateway: &str, login: &Login, known: &str) -> reqwest::Result<Value> {
    let url = format!("{gateway}/v1/qr/{}?wait=20&known={known}", login.uuid);
    let res = client.get(url).header("cookie", format!("qrl_bind={}", login.binding)).send().await?;
    assert_eq!(res.status(), 200, "long-poll of {}", login.uuid);
    res.json().await
}

/// Long-polls `gateway` as `qrlogin.js` does until the login is final; returns that answer.
async fn wait_until_final(client: &reqwest::Client, gateway: &str, login: &Login) -> Value {
    let mut known = "pending".to_owned();
    loop {
        let body = long_poll(client, gateway, login, &known).await.expect("the surviving gateway answers");
        match body["status"].as_str() {
            Some("pending" | "scanned") => known = body["status"].as_str().unwrap().to_owned(),
            _ => return body,
        }
    }
}

/// Reads a resumed stream to its end; returns every status event's data.
async fn read_to_end(mut stream: qrlogin_e2e::EventStream) -> Vec<Value> {
    let mut events = Vec::new();
    while let Some(event) = stream.next_within(WITHIN).await {
        events.push(event.json());
    }
    events
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(40)).build().unwrap()
}

#[tokio::test]
async fn browsers_waiting_on_a_killed_gateway_resume_on_another_and_each_gets_its_token_once() {
    // Arrange: gateways A and B, every login created on A and every browser waiting on A.
    // Not about pacing or abuse limits: a re-poll right after an answer is not told to slow down.
    let limits_off = [
        ("QRL_POLL_SLOW_DOWN", "false"),
        ("QRL_CHECK_CODE", "never"),
        ("QRL_LIMIT_ISSUE_PER_IP", "0"),
        ("QRL_LIMIT_SCAN_PER_USER", "0"),
        ("QRL_LIMIT_DECIDE_PER_USER", "0"),
    ];
    let mut services = Services::start(&limits_off).await;
    let a = services.gateway_url.clone();
    let b = services.another_gateway().await;
    let (on_a, on_b) = (Stack::at(&a, &services.mobile_url), Stack::at(&b, &services.mobile_url));
    let logins: Vec<Login> = join_all((0..SSE_BROWSERS + POLL_BROWSERS).map(|_| on_a.login())).await;
    let (streamed, polled) = logins.split_at(SSE_BROWSERS);
    let mut streams = Vec::new();
    for login in streamed {
        let mut stream = on_a.events(&login.uuid, Some(&login.binding), None).await.expect("a stream on A");
        let first = stream.next_status(WITHIN).await;
        assert_eq!(first.json()["status"], "pending");
        let id = first.id().to_owned();
        streams.push((stream, id));
    }
    let browser = client();
    let waits: Vec<_> = polled
        .iter()
        .map(|login| {
            let (browser, a, login) = (browser.clone(), a.clone(), login.clone());
            tokio::spawn(async move { long_poll(&browser, &a, &login, "pending").await })
        })
        .collect();
    // Let the long-polls reach A and start waiting.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Act: A dies; every browser loses its wait and goes to B.
    services.kill(&a);
    for (stream, _) in &mut streams {
        let broken = tokio::time::timeout(WITHIN, stream.try_next()).await.expect("the broken stream shows");
        assert!(!matches!(broken, Ok(Some(_))), "no event from a killed gateway: {broken:?}");
    }
    for wait in waits {
        let broken = tokio::time::timeout(WITHIN, wait).await.expect("the broken long-poll shows").unwrap();
        assert!(broken.is_err(), "no answer from a killed gateway: {broken:?}");
    }
    let mut resumed = Vec::new();
    for ((_, id), login) in streams.iter().zip(streamed) {
        let stream = on_b.events(&login.uuid, Some(&login.binding), Some(id)).await.expect("a stream on B");
        resumed.push(tokio::spawn(read_to_end(stream)));
    }
    let polls: Vec<_> = polled
        .iter()
        .map(|login| {
            let (browser, b, login) = (browser.clone(), b.clone(), login.clone());
            tokio::spawn(async move { wait_until_final(&browser, &b, &login).await })
        })
        .collect();
    let user_token = on_b.user_token(USER);
    for login in &logins {
        on_b.scan(&user_token, &login.qr_text).await.expect_status(200);
        on_b.confirm(&user_token, &login.uuid, &login.verification).await.expect_status(200);
    }

    // Assert: one token per browser, each a valid token for the user, no two alike.
    let mut tokens = Vec::new();
    for stream in resumed {
        let events = tokio::time::timeout(WITHIN * 2, stream).await.expect("the resumed stream ends").unwrap();
        let with_token: Vec<&Value> = events.iter().filter(|e| e.get("token").is_some()).collect();
        assert_eq!(with_token.len(), 1, "exactly one token on the stream: {events:?}");
        assert_eq!(events.last().unwrap()["status"], "confirmed", "{events:?}");
        tokens.push(with_token[0]["token"].as_str().unwrap().to_owned());
    }
    for poll in polls {
        let last = tokio::time::timeout(WITHIN * 2, poll).await.expect("the long-poll ends").unwrap();
        assert_eq!(last["status"], "confirmed", "{last}");
        tokens.push(last["token"].as_str().unwrap().to_owned());
    }
    // The binaries sign with deploy/dev.env's issuer and audience, not the harness's: the claims are read.
    for token in &tokens {
        assert_eq!(super::jwt_claims(token)["sub"], USER, "{token}");
    }
    let jtis: HashSet<Value> = tokens.iter().map(|t| super::jwt_claims(t)["jti"].clone()).collect();
    assert_eq!(jtis.len(), logins.len(), "one distinct token per login");
    // Polled again, a login repeats its one answer (within the claim grace) or is over: never a second token.
    for (login, token) in logins.iter().zip(&tokens) {
        let again = on_b.poll(&login.uuid, Some(&login.binding)).await;
        let body = again.expect_status(200);
        assert!(body["token"] == token.as_str() || body["status"] == "expired", "{body}");
    }
    services.terminate().await;
}
