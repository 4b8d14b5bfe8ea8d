//! The claim race, 1,000 times: a confirmed login polled by 20 concurrent polls of its browser (the same binding
//! cookie) yields exactly one token. Every poll within the claim grace gets the identical answer; the tokens are
//! told apart by their `jti`, so a second token minted for the same login fails the test even if the answers
//! looked alike. Written against the HTTP contract only (status, body, token claims).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::join_all;
use qrlogin_e2e::{Stack, split_qr_link};
use serde_json::Value;

const TRIALS: usize = 1000;
const RACERS: usize = 20;
/// Trials at once: enough to keep both cores busy, few enough that no poll waits long.
const BATCH: usize = 16;
/// Long enough that every racing poll is a repeat within it on a loaded machine.
const GRACE: Duration = Duration::from_secs(30);

/// One trial: create, scan, confirm, then `RACERS` polls at once; returns their answers (status, body).
async fn trial(stack: &Stack, user_token: &str) -> Vec<(u16, Value)> {
    let created = stack.create_qr().await;
    let body = created.expect_status(201);
    let qr_text = body["qr_content"].as_str().unwrap().to_owned();
    let (uuid, verification) = split_qr_link(&qr_text);
    let cookie = created.header("set-cookie").unwrap();
    let binding = cookie.split(';').next().unwrap().trim_start_matches("qrl_bind=").to_owned();
    stack.scan(user_token, &qr_text).await.expect_status(200);
    stack.confirm(user_token, &uuid, &verification).await.expect_status(200);
    let polls = (0..RACERS).map(|_| stack.poll(&uuid, Some(&binding)));
    join_all(polls).await.into_iter().map(|r| (r.status.as_u16(), r.body)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_logins_each_claimed_by_twenty_racing_polls_yield_one_token_each() {
    // Arrange
    let stack = Stack::start_with(|s| {
        s.claim_grace = GRACE;
        s.service.workers = 2;
    })
    .await;
    let user_token = stack.user_token("alice");
    let started = Instant::now();

    // Act
    let trials = futures_util::stream::iter(0..TRIALS).map(|_| trial(&stack, &user_token)).buffer_unordered(BATCH);
    let outcomes: Vec<Vec<(u16, Value)>> = trials.collect().await;

    // Assert
    let mut all_jtis = HashSet::new();
    for answers in &outcomes {
        assert!(answers.iter().all(|(status, _)| *status == 200), "{answers:?}");
        let jtis: HashSet<Value> = answers
            .iter()
            .filter_map(|(_, b)| b["token"].as_str())
            .map(|t| super::jwt_claims(t)["jti"].clone())
            .collect();
        assert_eq!(jtis.len(), 1, "exactly one token per login: {answers:?}");
        assert!(answers.iter().all(|(_, body)| *body == answers[0].1), "every poll gets the one answer: {answers:?}");
        assert_eq!(answers[0].1["status"], "confirmed");
        all_jtis.extend(jtis);
    }
    assert_eq!(all_jtis.len(), TRIALS, "no token shared between logins");
    let (_, first) = &outcomes[0][0];
    assert_eq!(stack.verify_web_token(first["token"].as_str().unwrap()).await.claims["sub"], "alice");
    println!("{TRIALS} trials of {RACERS} racing polls: one token each, in {:?}", started.elapsed());
}
