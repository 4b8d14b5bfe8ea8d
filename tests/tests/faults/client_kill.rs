//! `CLIENT KILL TYPE normal` (every pooled connection of both services dies) and `CLIENT KILL TYPE pubsub` (the
//! gateway's event listener dies) while one browser waits on an event stream and another on a long-poll: after
//! the phone confirms, both get their token promptly, and nothing is answered worse than one fast 503 per
//! service (the call that finds its connection dead).

use std::time::{Duration, Instant};

use qrlogin_e2e::{EventStream, Login, RedisProcess, Stack};
use serde_json::Value;

use super::{ok_or_fast_503, stack_on};

/// Time for the waiters to register before the fault.
const SETTLE: Duration = Duration::from_millis(500);
/// A waiting browser learns of the confirm within this (the fallbacks, a re-read every 15 s or the end of the
/// 20 s long-poll, would be far later).
const PROMPTLY: Duration = Duration::from_secs(5);
const WAIT_SECS: u64 = 20;
/// Bound on the whole wait of each browser.
const PHASE: Duration = Duration::from_secs(15);

/// An `EventSource`: reads until the login is confirmed, reopening an ended stream with `Last-Event-ID`; the
/// confirmed event's data, when it came, and how many 503s it met.
async fn stream_until_confirmed(
    stack: &Stack,
    login: &Login,
    mut stream: EventStream,
    mut last: String,
) -> (Value, Instant, usize) {
    let mut unavailable = 0;
    loop {
        match stream.next_within(PHASE).await {
            Some(event) => {
                last = event.id().to_owned();
                let data = event.json();
                if data["status"] == "confirmed" {
                    return (data, Instant::now(), unavailable);
                }
            }
            None => loop {
                match stack.events(&login.uuid, Some(&login.binding), Some(&last)).await {
                    Ok(reopened) => {
                        stream = reopened;
                        break;
                    }
                    Err(reply) => {
                        assert!(!ok_or_fast_503(&reply, "reopening the stream"), "{}", reply.status);
                        unavailable += 1;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            },
        }
    }
}

/// qrlogin.js's long-poll loop until the login is confirmed; the confirmed answer, when, and the 503s met.
async fn long_poll_until_confirmed(stack: &Stack, login: &Login) -> (Value, Instant, usize) {
    let mut unavailable = 0;
    loop {
        let reply = stack.long_poll(&login.uuid, Some(&login.binding), WAIT_SECS, "scanned").await;
        let bound = Duration::from_secs(WAIT_SECS) + super::ANSWER_BOUND;
        assert!(reply.elapsed < bound, "a long-poll took {:?}", reply.elapsed);
        if reply.status.is_success() {
            if reply.body["status"] == "confirmed" {
                return (reply.body.clone(), Instant::now(), unavailable);
            }
        } else {
            assert!(!ok_or_fast_503(&reply, "long-poll"), "{}", reply.status);
            unavailable += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The phone confirms, again after a fast 503; the 503s it met.
async fn confirm(stack: &Stack, user_token: &str, login: &Login) -> usize {
    for unavailable in 0..5 {
        if ok_or_fast_503(&stack.confirm(user_token, &login.uuid, &login.verification).await, "confirm") {
            return unavailable;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the phone could not confirm after the CLIENT KILL");
}

async fn waiting_browsers_get_their_tokens_across_client_kill(kind: &str) {
    let redis = RedisProcess::start().await;
    let stack = stack_on(&redis).await;
    let alice = stack.user_token("alice");
    let (streamed, polled) = (stack.login().await, stack.login().await);
    for login in [&streamed, &polled] {
        stack.scan(&alice, &login.qr_text).await.expect_status(200);
    }
    let mut stream = stack.events(&streamed.uuid, Some(&streamed.binding), None).await.expect("the stream opens");
    let first = stream.next_status(PHASE).await;
    assert_eq!(first.json()["status"], "scanned");

    let fault_then_confirm = async {
        tokio::time::sleep(SETTLE).await;
        let killed: u64 = redis.command(&["CLIENT", "KILL", "TYPE", kind]).await.parse().expect("a count");
        assert!(killed > 0, "no {kind} connection was killed: the fault was not exercised");
        let unavailable = confirm(&stack, &alice, &streamed).await + confirm(&stack, &alice, &polled).await;
        (Instant::now(), unavailable, killed)
    };
    let ((streamed_got, streamed_at, s503), (polled_got, polled_at, p503), (confirmed_at, c503, killed)) = tokio::join!(
        stream_until_confirmed(&stack, &streamed, stream, first.id().to_owned()),
        long_poll_until_confirmed(&stack, &polled),
        fault_then_confirm,
    );

    for (what, body, at) in [("stream", &streamed_got, streamed_at), ("long-poll", &polled_got, polled_at)] {
        let token = body["token"].as_str().unwrap_or_else(|| panic!("{what}: no token in {body}"));
        assert_eq!(stack.verify_web_token(token).await.claims["sub"], "alice", "{what}");
        let late = at.saturating_duration_since(confirmed_at);
        assert!(late < PROMPTLY, "{what}: the token came {late:?} after the confirm");
    }
    assert_ne!(streamed_got["token"], polled_got["token"]);
    // At most the one call per service that found its connection dead (mobile-api: a confirm; the gateway: a
    // waiter's re-read).
    assert!(c503 <= 1, "the phone met {c503} 503s after CLIENT KILL TYPE {kind}");
    assert!(s503 + p503 <= 1, "the browsers met {} 503s after CLIENT KILL TYPE {kind}", s503 + p503);
    println!("CLIENT KILL TYPE {kind}: {killed} connections; 503s: phone {c503}, browsers {}", s503 + p503);
}

#[tokio::test]
async fn waiting_browsers_get_their_tokens_after_client_kill_type_normal() {
    waiting_browsers_get_their_tokens_across_client_kill("normal").await;
}

#[tokio::test]
async fn waiting_browsers_get_their_tokens_after_client_kill_type_pubsub() {
    waiting_browsers_get_their_tokens_across_client_kill("pubsub").await;
}
