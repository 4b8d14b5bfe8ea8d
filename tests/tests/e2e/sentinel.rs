//! The services on a Sentinel-managed primary (`QRL_REDIS_SENTINELS`): logins work, the primary is killed
//! (`kill -9`) while browsers wait, and within 10 s of the replica's promotion logins work again, the waiting
//! browsers get their tokens, and no request hangs past the configured timeouts meanwhile.

use std::time::{Duration, Instant};

use qrlogin_e2e::{Login, RedisSentinel, Reply, SENTINEL_MASTER, Stack};
use secrecy::SecretString;
use serde_json::Value;

/// The bound: logins succeed again within this of the promotion.
const RECOVERED_WITHIN: Duration = Duration::from_secs(10);
/// No request may take longer than the Redis timeouts allow (wait 500 ms + connect 500 ms + command 500 ms in the
/// test settings), plus generous slack for a loaded machine.
const NO_HANG: Duration = Duration::from_secs(5);
const WAIT_SECS: u64 = 20;

async fn stack_on(setup: &RedisSentinel) -> Stack {
    let sentinels: Vec<SecretString> = setup.sentinel_urls().into_iter().map(SecretString::from).collect();
    Stack::start_with(|s| {
        s.service.redis.url = SecretString::from(String::new());
        s.service.redis.sentinels = sentinels;
        s.service.redis.sentinel_master = SENTINEL_MASTER.to_owned();
    })
    .await
}

/// A whole login, retried step by step until `deadline` while Redis is failing over (503s are expected then);
/// every answer is checked to come within [`NO_HANG`].
async fn login_until(stack: &Stack, token: &str, deadline: Instant) -> Result<String, String> {
    let mut last = String::new();
    while Instant::now() < deadline {
        match try_login(stack, token).await {
            Ok(web_token) => return Ok(web_token),
            Err(why) => last = why,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(last)
}

/// One whole login; the first step that is not answered with success ends it. Every answer must come within
/// [`NO_HANG`], failure or not.
async fn try_login(stack: &Stack, token: &str) -> Result<String, String> {
    let login = stack.try_login().await.map_err(|reply| bounded(&reply, "create"))?;
    let steps = [
        ("scan", stack.scan(token, &login.qr_text).await),
        ("confirm", stack.confirm(token, &login.uuid, &login.verification).await),
        ("claim", stack.poll(&login.uuid, Some(&login.binding)).await),
    ];
    for (what, reply) in &steps {
        if reply.status.as_u16() != 200 {
            return Err(bounded(reply, what));
        }
    }
    steps[2].1.body["token"].as_str().map(str::to_owned).ok_or_else(|| "the claim carried no token".to_owned())
}

/// What failed, after checking it failed fast.
fn bounded(reply: &Reply, what: &str) -> String {
    assert!(reply.elapsed < NO_HANG, "{what} hung for {:?} during the failover", reply.elapsed);
    format!("{what}: {}", reply.status)
}

/// Long-polls `login` until it is confirmed, as qrlogin.js does (sent again after an unchanged answer or an
/// error), every answer within the wait plus [`NO_HANG`]; returns the token and when it came.
async fn wait_for_token(stack: &Stack, login: &Login, until: Instant) -> (String, Instant) {
    while Instant::now() < until {
        let reply = stack.long_poll(&login.uuid, Some(&login.binding), WAIT_SECS, "scanned").await;
        let bound = Duration::from_secs(WAIT_SECS) + NO_HANG;
        assert!(reply.elapsed < bound, "a long-poll hung for {:?}", reply.elapsed);
        let body: Value = if reply.status.as_u16() == 200 { reply.body.clone() } else { Value::Null };
        if body["status"] == "confirmed" {
            let token = body["token"].as_str().expect("a confirmed answer carries the token");
            return (token.to_owned(), Instant::now());
        }
        if reply.status.as_u16() != 200 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    panic!("the waiting browser never got its token");
}

#[tokio::test]
async fn logins_and_waiting_browsers_survive_a_primary_killed_under_sentinel() {
    // Arrange: a primary, a replica, three sentinels; both services on them; a login works; two browsers wait on
    // scanned logins.
    let mut setup = RedisSentinel::start().await;
    let stack = stack_on(&setup).await;
    let alice = stack.user_token("alice");
    let before = login_until(&stack, &alice, Instant::now() + Duration::from_secs(10)).await;
    stack.verify_web_token(&before.expect("a login before the failover")).await;
    let mut waiting = Vec::new();
    for _ in 0..2 {
        let login = stack.login().await;
        stack.scan(&alice, &login.qr_text).await.expect_status(200);
        waiting.push(login);
    }
    let waiters = futures_util::future::join_all(
        waiting.iter().map(|login| wait_for_token(&stack, login, Instant::now() + Duration::from_secs(60))),
    );

    // Act: the primary dies while they wait; once the sentinels promote the replica, the phone confirms both.
    let failover = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let killed = Instant::now();
        setup.kill_primary();
        let promoted = setup.wait_for_promotion().await;
        let login = login_until(&stack, &alice, promoted + RECOVERED_WITHIN).await;
        let recovered = Instant::now();
        for login in &waiting {
            let deadline = Instant::now() + RECOVERED_WITHIN;
            loop {
                let reply = stack.confirm(&alice, &login.uuid, &login.verification).await;
                assert!(reply.elapsed < NO_HANG, "a confirm hung for {:?}", reply.elapsed);
                if reply.status.as_u16() == 200 || Instant::now() > deadline {
                    reply.expect_status(200);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        (login, promoted.duration_since(killed), recovered.duration_since(promoted), Instant::now())
    };
    let (tokens, (login_after, to_promotion, to_recovery, confirmed)) = tokio::join!(waiters, failover);

    // Assert: a whole login within 10 s of the promotion, and each waiting browser got its own token.
    let token = login_after.unwrap_or_else(|e| panic!("no login within {RECOVERED_WITHIN:?} of the promotion: {e}"));
    stack.verify_web_token(&token).await;
    assert_ne!(tokens[0].0, tokens[1].0);
    for (token, at) in &tokens {
        stack.verify_web_token(token).await;
        // Pushed: the gateway's pub/sub followed the failover (the fallback, a re-read every 15 s or the 20 s
        // long-poll's end, would be far later).
        let late = at.saturating_duration_since(confirmed);
        assert!(late < Duration::from_secs(5), "a waiting browser learned of the confirm {late:?} after it");
    }
    // README "Redis Sentinel" quotes these.
    println!("sentinel failover: promoted {to_promotion:?} after the kill, logins again {to_recovery:?} after that");
}
