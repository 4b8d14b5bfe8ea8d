//! Redis at its `maxmemory` with the README's `volatile-ttl` policy, filled past it. With keys that have less
//! time left than the logins, Redis evicts those: every answer is a success or a fast 503 (never a 500 or a
//! hang), a login confirmed before the fill is still claimed, and logins go on during and after it. With keys
//! that have more time left, the logins go first (README "Eviction": the keys nearest their expiry): the
//! browser of a confirmed login is then told `expired` (a new QR), never a 5xx.

use std::time::Instant;

use qrlogin_e2e::{RedisProcess, Stack};

use super::{RECOVERY_BOUND, claim, confirmed_login, login_until, stack_on, try_login};

const MAXMEMORY: &str = "8mb";
/// Far past the limit: about 24 MiB of filler in 1 KiB values.
const FILLER_KEYS: usize = 24_000;
const FILLER_BYTES: usize = 1024;
/// Less than the sessions' 120 s (`Settings::for_test`), so `volatile-ttl` takes the filler first.
const SHORTER_LIVED: u64 = 60;
/// More than the sessions' 120 s, as a Redis shared with longer-lived data: the sessions go first.
const LONGER_LIVED: u64 = 600;
const BATCH: usize = 500;

/// Writes the filler, each key living `ttl_secs`, in pipelines over a connection of the test's own.
async fn fill(url: &str, ttl_secs: u64) {
    let client = redis::Client::open(url).expect("a Redis URL");
    let mut conn = client.get_multiplexed_async_connection().await.expect("connect to Redis");
    let value = vec![b'x'; FILLER_BYTES];
    for start in (0..FILLER_KEYS).step_by(BATCH) {
        let mut pipe = redis::pipe();
        for i in start..start + BATCH {
            pipe.set_ex(format!("filler:{i}"), &value, ttl_secs).ignore();
        }
        let () = pipe.query_async(&mut conn).await.expect("filler is written (evicting older filler)");
    }
}

/// Logins while the filler goes in, until `done` says it is all written; how many succeeded.
async fn log_in_while(stack: &Stack, user_token: &str, done: &std::sync::atomic::AtomicBool) -> usize {
    let mut ok = 0;
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        ok += usize::from(try_login(stack, user_token).await.is_some());
    }
    ok
}

fn info_field(info: &str, name: &str) -> u64 {
    let prefix = format!("{name}:");
    info.lines().find_map(|l| l.trim().strip_prefix(prefix.as_str())).map_or(0, |v| v.parse().expect("a number"))
}

/// Asserts that Redis evicted and stayed within its limit; the keys it evicted.
async fn assert_at_the_limit(redis: &RedisProcess) -> u64 {
    let stats = redis.command(&["INFO", "stats"]).await;
    let memory = redis.command(&["INFO", "memory"]).await;
    let evicted = info_field(&stats, "evicted_keys");
    assert!(evicted > 0, "nothing was evicted: the limit was not reached");
    let used = info_field(&memory, "used_memory");
    assert!(used <= info_field(&memory, "maxmemory") * 11 / 10, "used {used} B, past the limit");
    evicted
}

async fn full_redis() -> RedisProcess {
    RedisProcess::start_with(&["--maxmemory", MAXMEMORY, "--maxmemory-policy", "volatile-ttl"]).await
}

#[tokio::test]
async fn at_maxmemory_with_volatile_ttl_logins_go_on_and_a_confirmed_login_is_claimed() {
    let redis = full_redis().await;
    let stack = stack_on(&redis).await;
    let alice = stack.user_token("alice");
    let confirmed = confirmed_login(&stack, &alice).await;

    let done = std::sync::atomic::AtomicBool::new(false);
    let (during, ()) = tokio::join!(log_in_while(&stack, &alice, &done), async {
        fill(&redis.url(), SHORTER_LIVED).await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });

    let evicted = assert_at_the_limit(&redis).await;
    let token = claim(&stack, &confirmed).await.expect("the login confirmed before the fill is claimed");
    assert_eq!(stack.verify_web_token(&token).await.claims["sub"], "alice");
    assert!(during > 0, "no login succeeded while Redis was full");
    login_until(&stack, &alice, Instant::now() + RECOVERY_BOUND).await.expect("a login at the limit");
    println!("maxmemory {MAXMEMORY} volatile-ttl: {evicted} keys evicted, {during} logins during the fill");
}

#[tokio::test]
async fn at_maxmemory_with_volatile_ttl_a_login_with_the_least_time_left_is_evicted_and_its_browser_told() {
    let redis = full_redis().await;
    let stack = stack_on(&redis).await;
    let confirmed = confirmed_login(&stack, &stack.user_token("alice")).await;

    fill(&redis.url(), LONGER_LIVED).await;

    assert_at_the_limit(&redis).await;
    let reply = stack.poll(&confirmed.uuid, Some(&confirmed.binding)).await;
    assert!(reply.elapsed < super::ANSWER_BOUND, "the poll took {:?}", reply.elapsed);
    // As for any login Redis lost: the page shows a new QR.
    reply.expect_json(200, &serde_json::json!({ "status": "expired" }));
}
