//! Redis on AOF `appendfsync everysec` (the README's advice) crashes (`kill -9`) with logins the phone
//! confirmed and no browser has claimed yet; started again on the same data, each browser claims its token.

use std::time::{Duration, Instant};

use qrlogin_e2e::RedisProcess;

use super::{RECOVERY_BOUND, claim_until, confirmed_login, stack_on};

const LOGINS: usize = 3;
/// Past the once-a-second fsync.
const FSYNCED: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn confirmed_unclaimed_logins_survive_an_aof_everysec_crash() {
    let mut redis = RedisProcess::start_with(&["--appendfsync", "everysec"]).await;
    let stack = stack_on(&redis).await;
    let users = ["alice", "bob", "carol"];
    let mut logins = Vec::new();
    for user in users.iter().take(LOGINS) {
        logins.push(confirmed_login(&stack, &stack.user_token(user)).await);
    }
    tokio::time::sleep(FSYNCED).await;

    redis.restart().await;
    let restarted = Instant::now();

    let mut tokens = Vec::new();
    for (login, user) in logins.iter().zip(users) {
        let token = claim_until(&stack, login, restarted + RECOVERY_BOUND).await;
        assert_eq!(stack.verify_web_token(&token).await.claims["sub"], user);
        tokens.push(token);
    }
    let recovered = restarted.elapsed();
    let distinct: std::collections::HashSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), LOGINS, "each browser its own token");
    println!("AOF everysec crash: {LOGINS} confirmed logins claimed within {recovered:?} of the restart");
}
