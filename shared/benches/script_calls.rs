//! One Redis step of each kind, as the services call it (`SessionStore`, the rate limiter), against the test
//! Redis (`deploy/redis.sh 6390 target/test-redis`, or `QRL_TEST_REDIS_URL`) on loopback: a step's latency is
//! one round trip plus its script's work in Redis. Each measured call gets a session in the state it expects
//! (made before the clock starts), so the bench times the step's real path, never a cheap refusal. Without a
//! Redis it says so and measures nothing. README "Performance".

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use qrlogin_shared::rate_limit::{Limit, Rate, RateLimiter};
use qrlogin_shared::session::RiskLevel;
use qrlogin_shared::store::{Claimant, Decision, DecisionCodes, History, NewSession, NewWebSession, Requester, Shown};
use qrlogin_shared::{BindingHash, DeviceHash, KeySchema, SessionId, SessionStore, UserId, test_support};
use tokio::runtime::Runtime;

const CODE: u32 = 4_000_000_000;
/// The issuance limits and a phone step's limits, as the services pass them (high enough never to refuse).
const OPEN: Rate = Rate::new(1_000_000_000, 60);
const UA: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

struct Fixture {
    store: SessionStore,
    limiter: RateLimiter,
    bind: BindingHash,
    device: DeviceHash,
    user: UserId,
    requester: Requester,
}

/// The state a measured step expects its session in.
#[derive(Clone, Copy)]
enum Ready {
    Pending,
    Scanned,
    Confirmed,
}

impl Fixture {
    fn issue_limits(&self) -> [Limit<'static>; 2] {
        [Limit::counted("issue", "ip", "192.0.2.1", OPEN), Limit::counted("issue", "global", "all", OPEN)]
    }

    fn phone_limits(&self) -> [Limit<'_>; 2] {
        let bad_tokens = Limit { peek: true, ..Limit::counted("192.0.2.1", "bad_token", "ip", OPEN) };
        [bad_tokens, Limit::counted(self.user.as_str(), "scan", "user", OPEN)]
    }

    fn history(&self) -> Option<History<'_>> {
        Some(History { user: &self.user, memory: Duration::from_secs(3600) })
    }

    /// The won claim's extra work as the gateway asks for it: remember the device, begin the web session.
    fn claimant(&self) -> Option<Claimant<'_>> {
        let web = NewWebSession { sid: "bench-sid", lifetime: Duration::from_secs(3600) };
        self.history().map(|history| Claimant { history, web })
    }

    async fn create(&self, id: &SessionId) {
        let new = NewSession {
            binding: &self.bind,
            requester: &self.requester,
            device: Some(&self.device),
            ttl: Duration::from_secs(120),
            code_expires_at: CODE,
            trace: None,
            dpop_jkt: None,
        };
        let created = self.store.create(id, &new, &self.issue_limits()).await;
        assert!(matches!(created, Ok(true)), "create: {created:?}");
    }

    /// `n` sessions brought to `ready`.
    async fn sessions(&self, n: u64, ready: Ready) -> Vec<SessionId> {
        let mut ids = Vec::new();
        for _ in 0..n {
            let id = SessionId::random();
            self.create(&id).await;
            if matches!(ready, Ready::Scanned | Ready::Confirmed) {
                let scanned = self.store.scan(&id, &self.user, CODE, None, Some((RiskLevel::Low, &shown()))).await;
                assert!(scanned.is_ok(), "scan: {scanned:?}");
            }
            if matches!(ready, Ready::Confirmed) {
                let codes = DecisionCodes::new(CODE, None);
                let decided = self.store.decide(&id, &self.user, Decision::Confirm, codes, &[]).await;
                assert!(decided.is_ok(), "decide: {decided:?}");
            }
            ids.push(id);
        }
        ids
    }
}

/// Times `step` once per session made ready for it, the making excluded.
fn bench_step<F>(c: &mut Criterion, rt: &Runtime, fx: &Fixture, name: &str, ready: Ready, step: F)
where
    F: AsyncFn(&Fixture, SessionId),
{
    c.bench_function(&format!("scripts/{name}"), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let ids = fx.sessions(iters, ready).await;
                let started = Instant::now();
                for id in ids {
                    step(fx, id).await;
                }
                started.elapsed()
            })
        })
    });
}

fn scripts(c: &mut Criterion) {
    let Ok(rt) = Runtime::new() else { return eprintln!("scripts: no tokio runtime") };
    let settings = test_support::redis_settings(&test_support::redis_url());
    let Ok(store) = SessionStore::connect(&settings) else { return eprintln!("scripts: bad Redis settings") };
    if rt.block_on(store.redis().ping()).is_err() {
        return eprintln!("scripts: no Redis at {}: nothing measured", test_support::redis_url());
    }
    let Ok(user) = UserId::parse("alice") else { return eprintln!("scripts: alice is not a user id") };
    let requester =
        Requester { ip: "192.0.2.1".into(), user_agent: UA.into(), created_at: "2026-12-01T10:00:00Z".into() };
    let fx = Fixture {
        limiter: RateLimiter::new(store.redis().clone(), KeySchema::new(settings.key_prefix.clone())),
        store,
        bind: BindingHash::of_secret("bench-binding"),
        device: DeviceHash::of_secret("bench-device"),
        user,
        requester,
    };
    let must = |what: &str, ok: bool| assert!(ok, "{what} failed");

    c.bench_function("scripts/create", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let ids: Vec<SessionId> = (0..iters).map(|_| SessionId::random()).collect();
                let started = Instant::now();
                for id in &ids {
                    fx.create(id).await;
                }
                started.elapsed()
            })
        })
    });
    bench_step(c, &rt, &fx, "poll", Ready::Pending, async |fx, id| {
        must("poll", fx.store.poll(&id, &fx.bind, Duration::ZERO).await.is_ok());
    });
    bench_step(c, &rt, &fx, "rotate", Ready::Pending, async |fx, id| {
        must("rotate", fx.store.rotate(&id, CODE, CODE + 1).await.is_ok());
    });
    bench_step(c, &rt, &fx, "cancel", Ready::Pending, async |fx, id| {
        must("cancel", fx.store.cancel(&id, &fx.bind).await.is_ok());
    });
    bench_step(c, &rt, &fx, "context_with_limits_and_history", Ready::Pending, async |fx, id| {
        must("context", fx.store.login_context(&id, &fx.phone_limits(), fx.history()).await.is_ok());
    });
    bench_step(c, &rt, &fx, "scan", Ready::Pending, async |fx, id| {
        must("scan", fx.store.scan(&id, &fx.user, CODE, None, Some((RiskLevel::Low, &shown()))).await.is_ok());
    });
    bench_step(c, &rt, &fx, "record_miss_with_limits", Ready::Pending, async |fx, id| {
        must("record_miss", fx.store.record_miss(&id, 5, &fx.phone_limits()).await.is_ok());
    });
    bench_step(c, &rt, &fx, "decide_with_limits", Ready::Scanned, async |fx, id| {
        let codes = DecisionCodes { risk_block: Some(RiskLevel::High), ..DecisionCodes::new(CODE, None) };
        must("decide", fx.store.decide(&id, &fx.user, Decision::Confirm, codes, &fx.phone_limits()).await.is_ok());
    });
    bench_step(c, &rt, &fx, "claim_with_history", Ready::Confirmed, async |fx, id| {
        let grace = Duration::from_secs(5);
        must("claim", fx.store.claim(&id, &fx.bind, "{\"token\":\"x\"}", grace, fx.claimant()).await.is_ok());
    });
    let memory = Duration::from_secs(3600);
    repeated(c, &rt, "known_device", async || {
        must("known", fx.store.knows_device(&fx.user, &fx.device, memory).await.is_ok());
    });
    repeated(c, &rt, "remember_device", async || {
        must("remember", fx.store.remember_device(&fx.user, &fx.device, memory).await.is_ok());
    });
    repeated(c, &rt, "rate_limit_alone", async || must("limit", fx.limiter.check(&fx.issue_limits()).await.is_ok()));
}

/// Times a call that needs no fresh session, one call at a time like the others.
fn repeated(c: &mut Criterion, rt: &Runtime, name: &str, call: impl AsyncFn()) {
    c.bench_function(&format!("scripts/{name}"), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    call().await;
                }
                started.elapsed()
            })
        })
    });
}

criterion_group! {
    name = benches;
    // Each sample makes its sessions first: fewer, shorter samples keep a run to about a minute.
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(2));
    targets = scripts
}
criterion_main!(benches);

/// What a scan showed the phone, as mobile-api passes it.
fn shown() -> Shown {
    Shown { browser: "Chrome 131".into(), os: "Windows 10".into(), location: None }
}
