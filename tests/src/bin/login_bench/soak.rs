//! `--soak <S>`: complete logins without pause for S seconds at a bounded rate, sampling every process's memory
//! and Redis's keys, to show that nothing grows with the number of logins (leaks, keys without a TTL, queues).
//! Growth is judged on the second half of the run: by then every short-lived key (claimed sessions, outcomes,
//! rate-limit windows) has reached its steady state.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::flow::Driver;
use crate::procs::Stack;
use crate::redis_counters::RedisCounters;
use crate::{Options, Result};

/// App users the soak cycles through, ten logins each in turn: every user's logins stay far under the per-user
/// limits (a burst of 20 a minute) at any rate the global issue limit (100 a second) allows.
pub(crate) const SOAK_USERS: usize = 2_000;
/// Browsers get addresses of their own (10.x.y.z); the soak reuses them after this many logins.
const ADDRESSES: usize = 1 << 22;
const PROCESSES: [&str; 3] = ["web-gateway", "mobile-api", "redis"];

/// One look at the running system.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    secs: f64,
    logins: usize,
    errors: usize,
    /// Resident memory of each of [`PROCESSES`], in KiB.
    rss_kib: [u64; 3],
    keys: u64,
    used_memory: u64,
}

/// What the workers share: the next login's number, the counts, the pace.
struct Progress {
    next: AtomicUsize,
    ok: AtomicUsize,
    errors: AtomicUsize,
    first_error: std::sync::Mutex<Option<String>>,
    pace: Option<Mutex<Interval>>,
}

/// Runs the soak after the warm-up; `Ok(false)`: some logins failed.
pub(crate) async fn run(options: &Options, stack: &Stack, driver: &Arc<Driver>, secs: u64) -> Result<bool> {
    let progress = Arc::new(Progress {
        next: AtomicUsize::new(options.warm_up),
        ok: AtomicUsize::new(0),
        errors: AtomicUsize::new(0),
        first_error: std::sync::Mutex::new(None),
        pace: options.rate.map(|rate| {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            Mutex::new(tick)
        }),
    });
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let workers: Vec<_> = (0..options.concurrency)
        .map(|_| tokio::spawn(work(Arc::clone(driver), Arc::clone(&progress), until)))
        .collect();
    let samples = sample_until(stack, &progress, started, until, Duration::from_secs(options.sample_secs)).await?;
    for worker in workers {
        worker.await?;
    }
    let last = sample(stack, &progress, started).await?;
    let first_error = progress.first_error.lock().ok().and_then(|e| e.clone());
    let line = report(options, &samples, &last, first_error);
    println!("\n{}", summary(&line));
    crate::report::emit(&[line], options.json_out.as_deref())?;
    Ok(last.errors == 0)
}

async fn work(driver: Arc<Driver>, progress: Arc<Progress>, until: Instant) {
    while Instant::now() < until {
        if let Some(pace) = &progress.pace {
            pace.lock().await.tick().await;
        }
        let i = progress.next.fetch_add(1, Ordering::Relaxed);
        let user = (i / crate::run::LOGINS_PER_USER) % SOAK_USERS;
        match driver.login(i % ADDRESSES, user).await {
            Ok(_) => progress.ok.fetch_add(1, Ordering::Relaxed),
            Err(e) => {
                if let Ok(mut first) = progress.first_error.lock() {
                    first.get_or_insert_with(|| e.to_string());
                }
                progress.errors.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

/// Samples every `every` until `until`, printing each sample as it is taken.
async fn sample_until(
    stack: &Stack,
    progress: &Progress,
    started: Instant,
    until: Instant,
    every: Duration,
) -> Result<Vec<Sample>> {
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval_at(started, every);
    loop {
        tick.tick().await;
        if Instant::now() >= until {
            return Ok(samples);
        }
        let s = sample(stack, progress, started).await?;
        let mib = |kib: u64| kib as f64 / 1024.0;
        println!(
            "[soak {:>6.0} s] logins {:>8}  errors {:>4}  RSS MiB gateway {:>6.1} mobile {:>6.1} redis {:>6.1}  \
             keys {:>7}  used_memory {:>6.1} MiB",
            s.secs,
            s.logins,
            s.errors,
            mib(s.rss_kib[0]),
            mib(s.rss_kib[1]),
            mib(s.rss_kib[2]),
            s.keys,
            s.used_memory as f64 / (1 << 20) as f64,
        );
        samples.push(s);
    }
}

async fn sample(stack: &Stack, progress: &Progress, started: Instant) -> Result<Sample> {
    let redis = RedisCounters::read(stack.redis).await?;
    Ok(Sample {
        secs: started.elapsed().as_secs_f64(),
        logins: progress.ok.load(Ordering::Relaxed),
        errors: progress.errors.load(Ordering::Relaxed),
        rss_kib: stack.rss_kib()?,
        keys: stack.redis.command(&["DBSIZE"]).await?.parse()?,
        used_memory: redis.used_memory,
    })
}

/// The soak's JSON line: totals, and per measure its value at the start, the middle and the end of the run, its
/// maximum, and its growth over the second half.
fn report(options: &Options, samples: &[Sample], last: &Sample, first_error: Option<String>) -> Value {
    let first = samples.first().copied().unwrap_or(*last);
    let middle = samples.get(samples.len() / 2).copied().unwrap_or(first);
    let measure = |get: &dyn Fn(&Sample) -> u64| {
        let max = samples.iter().chain([last]).map(get).max().unwrap_or(0);
        let growth = i128::from(get(last)) - i128::from(get(&middle));
        json!({ "first": get(&first), "middle": get(&middle), "last": get(last), "max": max,
                "second_half_growth": growth })
    };
    let rss: serde_json::Map<String, Value> =
        PROCESSES.iter().enumerate().map(|(i, name)| (name.to_string(), measure(&|s| s.rss_kib[i]))).collect();
    json!({
        "mode": "soak",
        "label": options.label,
        "secs": (last.secs * 10.0).round() / 10.0,
        "concurrency": options.concurrency,
        "rate_limit_per_s": options.rate,
        "logins_ok": last.logins,
        "errors": last.errors,
        "first_error": first_error,
        "logins_per_s": ((last.logins as f64 / last.secs.max(1e-9)) * 10.0).round() / 10.0,
        "rss_kib": rss,
        "redis_keys": measure(&|s| s.keys),
        "redis_used_memory": measure(&|s| s.used_memory),
        "samples": samples.len(),
        "date_utc": crate::report::now_utc(),
    })
}

fn summary(line: &Value) -> String {
    let growth = |v: &Value| {
        format!(
            "{} -> {} (max {}, second half {:+})",
            v["first"],
            v["last"],
            v["max"],
            v["second_half_growth"].as_i64().unwrap_or(0)
        )
    };
    let rss = &line["rss_kib"];
    format!(
        "soak: {} logins in {} s ({}/s), {} errors{}\n  RSS KiB  web-gateway {}\n           mobile-api  {}\n           \
         redis       {}\n  Redis keys  {}\n  used_memory {}",
        line["logins_ok"],
        line["secs"],
        line["logins_per_s"],
        line["errors"],
        line["first_error"].as_str().map(|e| format!(" (first: {e})")).unwrap_or_default(),
        growth(&rss["web-gateway"]),
        growth(&rss["mobile-api"]),
        growth(&rss["redis"]),
        growth(&line["redis_keys"]),
        growth(&line["redis_used_memory"]),
    )
}
