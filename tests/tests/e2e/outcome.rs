//! The phone learns how a login ended (issue 13, defect 3): a browser's cancel racing the phone's confirm may
//! come after the confirm won (the phone was told `200 confirmed`) but before the browser claimed, so the login
//! ends cancelled. `GET /v1/logins/{uuid}` then says `cancelled`, and `claimed` when the browser got its token.

use std::time::Duration;

use qrlogin_e2e::{Login, Stack};
use serde_json::json;

/// Races in flight at once: enough to interleave, few enough for a 2-core runner.
const AT_ONCE: usize = 8;
const TRIALS: usize = 200;

/// What one trial saw: whether the phone was told its confirm succeeded, whether the browser got a token, and
/// what the phone is told afterwards.
struct Trial {
    confirm_won: bool,
    browser_got_token: bool,
    phone: String,
}

/// One login whose confirm, the browser's poll (which claims a confirmed login, shortly after the confirm) and
/// the browser's cancel (`cancel_after` the start, varied so either may end the login) race; then the phone asks
/// how it ended.
async fn race(stack: &Stack, token: &str, cancel_after: Duration) -> Trial {
    let login: Login = stack.login().await;
    stack.scan(token, &login.qr_text).await.expect_status(200);
    let (confirm, cancel, polled) = tokio::join!(
        stack.confirm(token, &login.uuid, &login.verification),
        async {
            tokio::time::sleep(cancel_after).await;
            stack.cancel(&login.uuid, Some(&login.binding)).await
        },
        async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            stack.poll(&login.uuid, Some(&login.binding)).await
        },
    );
    cancel.expect_status(204);
    let confirm_won = confirm.status == 200;
    assert!(confirm_won || confirm.status == 409, "confirm: {} {}", confirm.status, confirm.text);
    let browser_got_token = polled.expect_status(200).get("token").is_some();
    // The browser's last word, now that its cancel is done: cancelled, or gone after it had its token.
    let last = stack.poll(&login.uuid, Some(&login.binding)).await;
    let last = last.expect_status(200)["status"].as_str().unwrap().to_owned();
    assert_eq!(last, if browser_got_token { "expired" } else { "cancelled" });

    let answer = stack.login_status(token, &login.uuid).await;
    let answer = answer.expect_status(200);
    assert_eq!(answer["uuid"], login.uuid.as_str());
    Trial { confirm_won, browser_got_token, phone: answer["status"].as_str().unwrap().to_owned() }
}

#[tokio::test]
async fn after_a_cancel_races_a_confirm_the_phone_learns_what_the_browser_saw() {
    let stack = Stack::start().await;
    let token = stack.user_token("alice");
    let mut trials = Vec::new();
    for _ in 0..TRIALS / AT_ONCE {
        let batch = (0..AT_ONCE).map(|i| race(&stack, &token, Duration::from_millis(2 * (i as u64 % 4))));
        trials.extend(futures_util::future::join_all(batch).await);
    }

    for t in &trials {
        // The browser was handed a token exactly when the phone hears "claimed"; otherwise it was cancelled.
        let expected = if t.browser_got_token { "claimed" } else { "cancelled" };
        assert_eq!(t.phone, expected, "browser got a token: {}, confirm won: {}", t.browser_got_token, t.confirm_won);
    }
    let won = trials.iter().filter(|t| t.confirm_won).count();
    let won_then_cancelled = trials.iter().filter(|t| t.confirm_won && !t.browser_got_token).count();
    let claimed = trials.iter().filter(|t| t.browser_got_token).count();
    eprintln!(
        "{TRIALS} races: {won} confirms won, {won_then_cancelled} of them then cancelled in the browser, {claimed} \
         claimed"
    );
}

#[tokio::test]
async fn only_the_scanner_learns_a_logins_status_and_a_stranger_cannot_tell_it_exists() {
    let stack = Stack::start().await;
    let (alice, bob) = (stack.user_token("alice"), stack.user_token("bob"));
    let login = stack.login().await;

    stack.login_status(&alice, &login.uuid).await.expect_problem(404, "session-not-found");
    stack.scan(&alice, &login.qr_text).await.expect_status(200);
    stack.login_status(&alice, &login.uuid).await.expect_json(200, &json!({"uuid": login.uuid, "status": "scanned"}));
    stack.login_status(&bob, &login.uuid).await.expect_problem(404, "session-not-found");
    stack.login_status(&bob, &uuid::Uuid::new_v4().to_string()).await.expect_problem(404, "session-not-found");
    stack.login_status(&alice, "not-a-uuid").await.expect_problem(400, "invalid-request");
    stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200);
    let confirmed = json!({"uuid": login.uuid, "status": "confirmed"});
    stack.login_status(&alice, &login.uuid).await.expect_json(200, &confirmed);
    stack.poll(&login.uuid, Some(&login.binding)).await.expect_status(200);
    let claimed = json!({"uuid": login.uuid, "status": "claimed"});
    stack.login_status(&alice, &login.uuid).await.expect_json(200, &claimed);
    // The browser is done and drops its copy: the phone is still told how the login ended.
    stack.cancel(&login.uuid, Some(&login.binding)).await.expect_status(204);
    stack.login_status(&alice, &login.uuid).await.expect_json(200, &claimed);
}
