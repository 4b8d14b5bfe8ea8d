//! `kill -9` of Redis while browsers and phones log in, then Redis started again on the same data: during the
//! outage every answer is a fast 503 (never a 500, a hang or a dropped connection: the harness fails on a
//! connection error), and after the restart every browser logs in again within seconds, with the same services.

use std::time::{Duration, Instant};

use qrlogin_e2e::RedisProcess;

use super::{RECOVERY_BOUND, stack_on, try_login};

const BROWSERS: usize = 4;
/// Logins before the kill, then the outage, then logins after the restart.
const BEFORE: Duration = Duration::from_secs(1);
const OUTAGE: Duration = Duration::from_secs(2);
const AFTER: Duration = Duration::from_secs(5);

/// One browser with its phone, logging in again and again until `until`: when each attempt ended and whether
/// it got its token.
async fn log_in_until(stack: &qrlogin_e2e::Stack, user: &str, until: Instant) -> Vec<(Instant, bool)> {
    let token = stack.user_token(user);
    let mut attempts = Vec::new();
    while Instant::now() < until {
        let ok = try_login(stack, &token).await.is_some();
        attempts.push((Instant::now(), ok));
        if !ok {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    attempts
}

#[tokio::test]
async fn logins_under_load_survive_redis_killed_and_restarted() {
    let mut redis = RedisProcess::start().await;
    let stack = stack_on(&redis).await;
    let until = Instant::now() + BEFORE + OUTAGE + AFTER;

    let users = ["alice", "bob", "carol", "alice"];
    let browsers = futures_util::future::join_all(users.iter().take(BROWSERS).map(|u| log_in_until(&stack, u, until)));
    let fault = async {
        tokio::time::sleep(BEFORE).await;
        let killed = Instant::now();
        redis.kill();
        tokio::time::sleep(OUTAGE).await;
        redis.restart().await;
        (killed, Instant::now())
    };
    let (attempts, (killed, restarted)) = tokio::join!(browsers, fault);

    let mut first_after = None::<Instant>;
    let mut failed_during = 0;
    for (i, browser) in attempts.iter().enumerate() {
        assert!(browser.iter().any(|&(at, ok)| ok && at < killed), "browser {i} never logged in before the kill");
        let after = browser.iter().find(|&&(at, ok)| ok && at > restarted).map(|&(at, _)| at);
        let after = after.unwrap_or_else(|| panic!("browser {i} never logged in again after the restart"));
        first_after = Some(first_after.map_or(after, |f| f.min(after)));
        failed_during += browser.iter().filter(|&&(at, ok)| !ok && at > killed && at < restarted).count();
    }
    assert!(failed_during > BROWSERS, "only {failed_during} failed attempts: the outage was not exercised");
    let recovery = first_after.expect("some browser").duration_since(restarted);
    assert!(recovery < RECOVERY_BOUND, "the first login after the restart came {recovery:?} after it");
    // README "Fault suite" quotes this.
    println!(
        "redis kill -9: {failed_during} attempts answered 503 during the outage; a login again {recovery:?} after the restart"
    );
}
