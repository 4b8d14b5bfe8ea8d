//! Gateway containers stopping and restarting under waiting browsers: `podman stop` (SIGTERM) answers the
//! waiters before the process exits, and a rolling restart of one gateway behind nginx loses no login.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use qrlogin_e2e::{Login, Stack};
use serde_json::{Value, json};

use crate::deployment::{
    assert_token_for_alice, container, direct_to, podman, scan_and_confirm, through_nginx, wait_healthy,
};

const EVENT_WAIT: Duration = Duration::from_secs(10);
/// A waiter on a stopping gateway is answered well within this; the stop grace period is 15 s.
const PROMPTLY: Duration = Duration::from_secs(5);
const WAIT_SECS: u64 = 25;
const MAX_ATTEMPTS: usize = 20;

/// Runs a blocking podman command off the runtime, so waiting browsers go on meanwhile; returns when it ended.
async fn podman_in_background(args: &'static [&'static str], service: &str) -> Instant {
    let name = container(service);
    tokio::task::spawn_blocking(move || {
        let mut full: Vec<&str> = args.to_vec();
        full.push(&name);
        podman(&full);
        Instant::now()
    })
    .await
    .expect("podman task")
}

#[tokio::test]
async fn podman_stop_answers_a_gateways_waiters_before_it_exits() {
    // Arrange: on gateway-b directly, two long-polls and an event stream wait on pending logins.
    let b = direct_to("gateway-b");
    let logins = [b.login().await, b.login().await, b.login().await];
    let mut stream = b.events(&logins[2].uuid, Some(&logins[2].binding), None).await.expect("the stream opens");
    stream.next_status(EVENT_WAIT).await;
    let poll = |login: &Login| {
        let (b, login) = (&b, login.clone());
        async move { (b.long_poll(&login.uuid, Some(&login.binding), WAIT_SECS, "pending").await, Instant::now()) }
    };

    // Act: podman stop, once the polls are waiting.
    let began = Instant::now();
    let stopping = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        podman_in_background(&["stop", "-t", "15"], "gateway-b").await
    };
    let (polls, ended, exited) = tokio::join!(
        join_all(logins[..2].iter().map(poll)),
        async {
            stream.expect_end(PROMPTLY + PROMPTLY).await;
            Instant::now()
        },
        stopping
    );

    // Assert: each waiter had its answer (the current state) before the container had exited, and promptly.
    for (reply, at) in &polls {
        reply.expect_json(200, &json!({ "status": "pending" }));
        assert!(*at <= exited, "a long-poll was answered only after the container exited");
        assert!(at.duration_since(began) < PROMPTLY + Duration::from_secs(1), "answered late: {:?}", *at - began);
    }
    assert!(ended <= exited, "the event stream ended only after the container exited");
    let state = podman(&["inspect", "--format", "{{.State.ExitCode}}", &container("gateway-b")]);
    assert_eq!(state, "0", "a stopped gateway exits cleanly");

    podman(&["start", &container("gateway-b")]);
    wait_healthy("gateway-b").await;
}

#[tokio::test]
async fn a_rolling_restart_of_one_gateway_loses_no_waiting_browsers_login() {
    // Arrange: four scanned logins whose browsers wait through nginx (two streams, two long-polls): nginx's
    // round-robin puts some of them on gateway-a.
    let stack = through_nginx();
    let token = stack.user_token("alice");
    let mut logins = Vec::new();
    for _ in 0..4 {
        let login = stack.login().await;
        stack.scan(&token, &login.qr_text).await.expect_status(200);
        logins.push(login);
    }
    let waiters = logins.iter().enumerate().map(|(i, login)| wait_for_token(&stack, login, i < 2));

    // Act: gateway-a restarts while they wait (stop, then start again), and the phone confirms every login
    // while it is down: the browsers that waited on it can only learn of it through gateway-b.
    let restarting = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        podman_in_background(&["stop", "-t", "15"], "gateway-a").await;
        for login in &logins {
            stack.confirm(&token, &login.uuid, &login.verification).await.expect_status(200);
        }
        podman_in_background(&["start"], "gateway-a").await;
    };
    let (waited, ()) = tokio::join!(join_all(waiters), restarting);

    // Assert: every browser holds its own token, each login's exactly one, and the restart cut some of them off.
    let mut tokens = HashSet::new();
    for (answers, _) in &waited {
        let distinct: HashSet<&str> = answers.iter().filter_map(|a| a["token"].as_str()).collect();
        assert_eq!(distinct.len(), 1, "one login, one token: {answers:?}");
        tokens.insert(assert_token_for_alice(&stack, &answers[0]).await);
    }
    assert_eq!(tokens.len(), logins.len(), "each browser got its own login's token");
    assert!(waited.iter().any(|(_, attempts)| *attempts > 1), "no browser waited on the restarted gateway");
    wait_healthy("gateway-a").await;
    // The restarted gateway serves again (through nginx, a new login works end to end).
    let login = stack.login().await;
    scan_and_confirm(&stack, &login).await;
    assert_token_for_alice(&stack, stack.poll(&login.uuid, Some(&login.binding)).await.expect_status(200)).await;
}

/// A browser waiting as `qrlogin.js` does (an `EventSource` reconnecting with `Last-Event-ID`, or long-polls
/// sent again) until the token; returns every confirmed answer it saw and how many requests it made.
async fn wait_for_token(stack: &Stack, login: &Login, stream: bool) -> (Vec<Value>, usize) {
    let binding = Some(login.binding.as_str());
    let mut last_id = None;
    for attempt in 1..=MAX_ATTEMPTS {
        if !stream {
            let reply = stack.long_poll(&login.uuid, binding, WAIT_SECS, "scanned").await;
            // A stopping gateway answers its long-polls at once, so a browser that asks again at once is told to
            // slow down: qrlogin.js then waits as told, and so does this one.
            if reply.status.as_u16() == 429 {
                reply.expect_problem(429, "slow-down");
                let secs = reply.header("retry-after").and_then(|s| s.parse().ok()).unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(secs)).await;
                continue;
            }
            let body = reply.expect_status(200).clone();
            if body["status"] == "confirmed" {
                return (vec![body], attempt);
            }
            continue;
        }
        let Ok(mut events) = stack.events(&login.uuid, binding, last_id.as_deref()).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let mut confirmed = Vec::new();
        while let Some(event) = events.next_within(Duration::from_secs(WAIT_SECS)).await {
            last_id = Some(event.id().to_owned());
            let body = event.json();
            if body["status"] == "confirmed" {
                confirmed.push(body);
            }
        }
        if !confirmed.is_empty() {
            return (confirmed, attempt);
        }
        tokio::time::sleep(Duration::from_millis(events.retry_ms.unwrap_or(1000))).await;
    }
    panic!("no token after {MAX_ATTEMPTS} attempts for {}", login.uuid)
}
