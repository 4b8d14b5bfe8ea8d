//! Redis frozen with SIGSTOP (connections open, nothing answered, as a stuck server or a long pause): every
//! request is answered 503 within the command deadline plus a margin, and after SIGCONT the login that was
//! waiting completes and new logins work.

use std::time::{Duration, Instant};

use qrlogin_e2e::{Login, RedisProcess, Reply, Stack};
use reqwest::Method;

use super::{ANSWER_BOUND, RECOVERY_BOUND, claim_until, login_until, stack_on};

/// Requests sent while Redis is frozen, in rounds: the second meets the connections the first left waiting.
const ROUNDS: usize = 2;

/// Every kind of request a browser or phone sends, all at once; none may change a login the test goes on with
/// (Redis runs the queued commands once it resumes).
async fn one_round(stack: &Stack, waiting: &Login, spare: &Login, user_token: &str) -> Vec<(&'static str, Reply)> {
    let stream = async {
        match stack.events(&waiting.uuid, Some(&waiting.binding), None).await {
            Ok(_) => panic!("an event stream opened although Redis is frozen"),
            Err(reply) => reply,
        }
    };
    let (create, poll, long_poll, events, scan, ready) = tokio::join!(
        stack.create_qr(),
        stack.poll(&waiting.uuid, Some(&waiting.binding)),
        stack.long_poll(&waiting.uuid, Some(&waiting.binding), 5, "scanned"),
        stream,
        stack.scan(user_token, &spare.qr_text),
        stack.gateway_request(Method::GET, "/readyz", None),
    );
    vec![
        ("create", create),
        ("poll", poll),
        ("long-poll", long_poll),
        ("events", events),
        ("scan", scan),
        ("readyz", ready),
    ]
}

#[tokio::test]
async fn every_request_to_a_frozen_redis_is_a_bounded_503_and_logins_resume_after_sigcont() {
    let redis = RedisProcess::start().await;
    let stack = stack_on(&redis).await;
    let alice = stack.user_token("alice");
    login_until(&stack, &alice, Instant::now() + RECOVERY_BOUND).await.expect("a login before the fault");
    let waiting = stack.login().await;
    stack.scan(&alice, &waiting.qr_text).await.expect_status(200);
    let spare = stack.login().await;

    redis.pause();
    let paused = Instant::now();
    // The slowest answer of each kind.
    let mut slowest = std::collections::BTreeMap::<&str, Duration>::new();
    for _ in 0..ROUNDS {
        for (what, reply) in one_round(&stack, &waiting, &spare, &alice).await {
            reply.expect_problem(503, "unavailable");
            assert!(reply.elapsed < ANSWER_BOUND, "{what} took {:?} while Redis was frozen", reply.elapsed);
            let kind = slowest.entry(what).or_default();
            *kind = (*kind).max(reply.elapsed);
        }
    }
    let frozen_for = paused.elapsed();
    redis.resume();
    let resumed = Instant::now();

    let deadline = resumed + RECOVERY_BOUND;
    loop {
        let reply = stack.confirm(&alice, &waiting.uuid, &waiting.verification).await;
        if super::ok_or_fast_503(&reply, "confirm after SIGCONT") {
            break;
        }
        assert!(Instant::now() < deadline, "the phone could not confirm after SIGCONT");
    }
    let token = claim_until(&stack, &waiting, deadline).await;
    assert_eq!(stack.verify_web_token(&token).await.claims["sub"], "alice");
    let (_, at) = login_until(&stack, &alice, deadline).await.expect("a whole login after SIGCONT");
    // README "Fault suite" quotes these.
    println!(
        "redis SIGSTOP: slowest 503s {slowest:?} (bound {ANSWER_BOUND:?}) over {frozen_for:?} frozen; a new login {:?} after SIGCONT",
        at.duration_since(resumed)
    );
}
