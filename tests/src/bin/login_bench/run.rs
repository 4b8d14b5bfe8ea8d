//! The run: start the stack, warm it up, measure the logins, then weigh pending sessions; everything within
//! `--max-secs`, the children killed on any way out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use qrlogin_phone::dev_token::DevTokenSettings;
use tokio::time::Instant;

use crate::flow::{self, Driver, PHONE_USER_AGENT, STEPS};
use crate::procs::{self, Stack};
use crate::redis_counters::RedisCounters;
use crate::report::{self, Logins, Pending};
use crate::{Options, Result};

/// Logins that share one app user: under the per-user scan and decide limits' burst (20 a minute).
pub(crate) const LOGINS_PER_USER: usize = 10;
/// Sessions that share one browser address in the pending phase: under the per-IP issue burst (30 a minute).
const PENDING_PER_ADDRESS: usize = 25;
/// Session keys weighed one by one with MEMORY USAGE.
const MEMORY_SAMPLES: usize = 20;
/// Addresses of the pending phase start here, apart from the logins'.
const PENDING_ADDRESSES_FROM: usize = 1 << 23;

/// Runs within `--max-secs`; `Ok(false)`: some logins failed.
pub(crate) async fn bounded(options: Options) -> Result<bool> {
    // A soak's own length bounds it, with time to start, warm up and stop.
    let deadline = Duration::from_secs(options.soak.map_or(options.max_secs, |s| s + 120));
    tokio::select! {
        r = tokio::time::timeout(deadline, run(&options)) => match r {
            Ok(r) => r,
            Err(_) => Err(format!("stopped after {} s", deadline.as_secs()).into()),
        },
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
    }
}

async fn run(options: &Options) -> Result<bool> {
    let users = match options.soak {
        Some(_) => crate::soak::SOAK_USERS,
        None => (options.logins + options.warm_up).div_ceil(LOGINS_PER_USER),
    };
    let stack = Stack::start(options, users).await?;
    let driver = Arc::new(driver(options, &stack)?);
    print_setup(options, &stack);

    let warm = run_logins(&driver, 0, options.warm_up, options.concurrency).await;
    if warm.errors > 0 {
        eprintln!("[warm-up] {} of {} logins failed; first: {:?}", warm.errors, options.warm_up, warm.first_error);
    }
    if let Some(secs) = options.soak {
        return crate::soak::run(options, &stack, &driver, secs).await;
    }
    let logins = measure_logins(options, &stack, &driver).await?;
    let pending = if options.pending > 0 { Some(measure_pending(options, &stack, &driver).await?) } else { None };

    println!("\n{}", report::summary(options, &logins, pending.as_ref()));
    let mut lines = vec![report::logins_json(options, &logins)];
    lines.extend(pending.as_ref().map(|p| report::pending_json(options, p)));
    report::emit(&lines, options.json_out.as_deref())?;
    Ok(logins.errors == 0)
}

fn driver(options: &Options, stack: &Stack) -> Result<Driver> {
    let lookup = |name: &str| stack.env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let minter = DevTokenSettings::from_lookup(lookup).map_err(|e| format!("deploy/dev.env: {e}"))?;
    let tokens = (0..stack.users)
        .map(|i| minter.mint(&format!("bench-{i}"), Duration::from_secs(options.soak.unwrap_or(0).max(3000) + 600)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Driver {
        browser: flow::client(options.concurrency, flow::BROWSER_USER_AGENT)?,
        phone: flow::client(options.concurrency, PHONE_USER_AGENT)?,
        gateway: stack.gateway_url.clone(),
        mobile: stack.mobile_url.clone(),
        tokens,
        decode_qr: options.decode_qr,
    })
}

fn print_setup(options: &Options, stack: &Stack) {
    let profile = if cfg!(debug_assertions) { "dev" } else { "release" };
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    for (k, v) in &options.env {
        println!("login-bench: service setting {k}={v}");
    }
    let pin = if options.pin {
        format!("services and Redis on CPUs {}, bench on {}", options.server_cpus, options.driver_cpus)
    } else {
        "not pinned".into()
    };
    let what = match (options.soak, options.rate) {
        (Some(secs), rate) => format!(
            "a {secs} s soak (at most {} logins/s, a sample every {} s)",
            rate.map_or("unbounded".into(), |r| r.to_string()),
            options.sample_secs
        ),
        (None, _) => format!("{} logins", options.logins),
    };
    let pending = if options.soak.is_some() { 0 } else { options.pending };
    println!(
        "login-bench: {what} ({} warm-up) by {} browsers at once, then {pending} pending sessions; {} users; Redis \
         on port {}; bench built {profile}; {cpus} CPUs, {pin}; load average {}",
        options.warm_up,
        options.concurrency,
        stack.users,
        stack.redis.port,
        load.split_whitespace().next().unwrap_or("?")
    );
}

/// What C workers doing `n` logins (browsers `first..first + n`) saw.
pub(crate) struct Outcome {
    /// Per step (in [`STEPS`] order), the times of the logins that succeeded.
    pub(crate) times: Vec<Vec<Duration>>,
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
    pub(crate) wall: Duration,
}

async fn run_logins(driver: &Arc<Driver>, first: usize, n: usize, concurrency: usize) -> Outcome {
    let next = Arc::new(AtomicUsize::new(first));
    let started = Instant::now();
    let workers = (0..concurrency.min(n.max(1))).map(|_| {
        let (driver, next) = (Arc::clone(driver), Arc::clone(&next));
        tokio::spawn(async move {
            let mut out =
                Outcome { times: vec![Vec::new(); STEPS.len()], errors: 0, first_error: None, wall: Duration::ZERO };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= first + n {
                    return out;
                }
                match driver.login(i, i / LOGINS_PER_USER).await {
                    Ok(steps) => out.times.iter_mut().zip(steps).for_each(|(v, t)| v.push(t)),
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
        })
    });
    let mut total =
        Outcome { times: vec![Vec::new(); STEPS.len()], errors: 0, first_error: None, wall: Duration::ZERO };
    for worker in join_all(workers).await {
        match worker {
            Ok(out) => {
                total.times.iter_mut().zip(out.times).for_each(|(all, mine)| all.extend(mine));
                total.errors += out.errors;
                total.first_error = total.first_error.or(out.first_error);
            }
            Err(e) => {
                total.errors += 1;
                total.first_error.get_or_insert_with(|| format!("a worker failed: {e}"));
            }
        }
    }
    total.wall = started.elapsed();
    total.times.iter_mut().for_each(|v| v.sort_unstable());
    total
}

async fn measure_logins(options: &Options, stack: &Stack, driver: &Arc<Driver>) -> Result<Logins> {
    let redis0 = RedisCounters::read(stack.redis).await?;
    let (cpu0, own0) = (stack.cpu()?, procs::own_cpu_time()?);
    let outcome = run_logins(driver, options.warm_up, options.logins, options.concurrency).await;
    let (cpu1, own1) = (stack.cpu()?, procs::own_cpu_time()?);
    let redis1 = RedisCounters::read(stack.redis).await?;
    let cpu = [cpu1[0] - cpu0[0], cpu1[1] - cpu0[1], cpu1[2] - cpu0[2], own1.saturating_sub(own0)];
    Ok(Logins::new(outcome, cpu, redis1.since(&redis0)))
}

/// K sessions created and left pending on an emptied Redis (rate-limit state included: one issue-limit key per
/// 25 sessions), weighed by `used_memory` and by MEMORY USAGE of some of their keys.
async fn measure_pending(options: &Options, stack: &Stack, driver: &Arc<Driver>) -> Result<Pending> {
    let redis = stack.redis;
    redis.command(&["FLUSHALL"]).await?;
    let keys0: u64 = redis.command(&["DBSIZE"]).await?.parse()?;
    let memory0 = RedisCounters::read(redis).await?.used_memory;
    let next = Arc::new(AtomicUsize::new(0));
    let workers = (0..options.concurrency.min(options.pending)).map(|_| {
        let (driver, next) = (Arc::clone(driver), Arc::clone(&next));
        let total = options.pending;
        tokio::spawn(async move {
            let mut uuids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, crate::Error>(uuids);
                }
                let ip = flow::client_address(PENDING_ADDRESSES_FROM + i / PENDING_PER_ADDRESS);
                uuids.push(driver.create(&ip).await?.uuid);
            }
        })
    });
    let mut uuids = Vec::new();
    for worker in join_all(workers).await {
        uuids.extend(worker??);
    }
    let memory1 = RedisCounters::read(redis).await?.used_memory;
    let keys1: u64 = redis.command(&["DBSIZE"]).await?.parse()?;
    let mut samples = Vec::new();
    for uuid in uuids.iter().take(MEMORY_SAMPLES) {
        let keys = redis.command(&["KEYS", &format!("*{uuid}*")]).await?;
        let mut bytes = 0;
        for key in keys.lines() {
            bytes += redis.command(&["MEMORY", "USAGE", key, "SAMPLES", "0"]).await?.parse::<u64>()?;
        }
        samples.push((keys.lines().count(), bytes));
    }
    let fields = match uuids.first() {
        Some(uuid) => redis.command(&["KEYS", &format!("*{uuid}*")]).await?,
        None => String::new(),
    };
    let field_names = match fields.lines().next() {
        Some(key) => redis.command(&["HKEYS", key]).await?,
        None => String::new(),
    };
    Ok(Pending {
        sessions: uuids.len(),
        keys: keys1.saturating_sub(keys0),
        used_memory: memory1.saturating_sub(memory0),
        samples,
        fields: field_names.lines().map(str::to_owned).collect(),
    })
}
