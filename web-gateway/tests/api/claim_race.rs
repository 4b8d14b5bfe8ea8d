//! The claim is one atomic step in Redis: however many polls race for a confirmed login, one token comes out
//! (every poll of the binding browser gets that same token; no other is ever handed out).

use std::collections::HashSet;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::helpers::{alice, assert_confirmed, settings, spawn_app_with};

const RACERS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_polls_after_confirm_yield_exactly_one_token() {
    // Arrange: several server workers, so the polls really run in parallel on the gateway too.
    let mut settings = settings();
    settings.service.workers = 4;
    let app = Arc::new(spawn_app_with(settings).await);
    let login = Arc::new(app.start_login().await);
    app.phone_confirm(&login.uuid, "alice").await;

    // Act
    let mut polls = JoinSet::new();
    for _ in 0..RACERS {
        let (app, login) = (Arc::clone(&app), Arc::clone(&login));
        polls.spawn(async move { app.poll_json(&login).await });
    }
    let answers: Vec<(StatusCode, Value)> = polls.join_all().await;

    // Assert
    assert_eq!(answers.len(), RACERS);
    assert!(answers.iter().all(|(code, _)| *code == StatusCode::OK), "{answers:?}");
    let tokens: HashSet<&str> = answers.iter().filter_map(|(_, body)| body["token"].as_str()).collect();
    assert_eq!(tokens.len(), 1, "exactly one token: {answers:?}");
    assert!(answers.iter().all(|(_, body)| *body == answers[0].1), "every answer is the one claimed answer");
    assert_confirmed(&answers[0].1, &alice());
}
