//! `SCRIPT FLUSH` (as after a Redis restart without persistence of scripts, or an operator's flush): the
//! services meet `NOSCRIPT`, load their scripts again and answer every step of every login with success.

use std::time::Instant;

use qrlogin_e2e::RedisProcess;

use super::{RECOVERY_BOUND, claim, confirmed_login, login_until, stack_on, try_login};

/// `NOSCRIPT` errors Redis has answered so far (`INFO errorstats`).
async fn noscript_errors(redis: &RedisProcess) -> u64 {
    let info = redis.command(&["INFO", "errorstats"]).await;
    info.lines()
        .find_map(|l| l.trim().strip_prefix("errorstat_NOSCRIPT:count="))
        .map_or(0, |n| n.parse().expect("a count"))
}

#[tokio::test]
async fn logins_keep_working_right_after_script_flush() {
    let redis = RedisProcess::start().await;
    let stack = stack_on(&redis).await;
    let alice = stack.user_token("alice");
    login_until(&stack, &alice, Instant::now() + RECOVERY_BOUND).await.expect("a login before the flush");
    let confirmed = confirmed_login(&stack, &alice).await;
    let before = noscript_errors(&redis).await;

    assert_eq!(redis.command(&["SCRIPT", "FLUSH"]).await, "OK");

    // Not one 503: a flushed script is loaded again within the same call.
    let token = claim(&stack, &confirmed).await.expect("the login confirmed before the flush is claimed");
    assert_eq!(stack.verify_web_token(&token).await.claims["sub"], "alice");
    for i in 0..3 {
        let token = try_login(&stack, &alice).await.unwrap_or_else(|| panic!("login {i} after the flush met a 503"));
        assert_eq!(stack.verify_web_token(&token).await.claims["sub"], "alice");
    }
    let after = noscript_errors(&redis).await;
    assert!(after > before, "no NOSCRIPT was met: the flush was not exercised");
}
