//! One mode, start to end: create and scan the sessions, let every browser wait, confirm them all at a steady
//! pace, and collect when each browser got its token.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{StreamExt, stream};
use qrlogin_e2e::bench::redis_probe::RedisProbe;
use tokio::time::Instant;

use crate::login::{self, Phone, Session};
use crate::procs::{self, Gateway, Stack};
use crate::report::ModeReport;
use crate::waiters::{Progress, Waited, Waiter, browser_client};
use crate::{Mode, Options, Result};

/// Requests in flight while creating and scanning the sessions (setup, not measured).
const SETUP_CONCURRENCY: usize = 50;
/// Bound on all browsers being in place before the confirms start.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// After the browsers are in place, a moment for the machine to go quiet.
const SETTLE: Duration = Duration::from_millis(500);
/// After the last confirm, how long the browsers have to get their tokens.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// The bench's own timer lateness is watched this long past the last confirm.
const LAG_TAIL: Duration = Duration::from_millis(1500);
/// Kept from the run's deadline for stopping and printing.
const MARGIN: Duration = Duration::from_secs(3);

pub(crate) async fn run_mode(
    mode: Mode,
    options: &Options,
    stack: &Stack,
    gateways: &[Gateway],
    token: &str,
    deadline: Instant,
) -> Result<ModeReport> {
    let label = mode.name();
    let end = deadline.checked_sub(MARGIN).unwrap_or(deadline);
    let mut report = ModeReport::new(mode, options.browsers);
    let setup = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(SETUP_CONCURRENCY).build()?;
    let phone = Arc::new(Phone { client: setup.clone(), base: stack.mobile_url.clone(), token: token.to_owned() });

    // Browser i creates and waits on gateway i mod N.
    let gateway_of = |i: usize| &gateways[i % gateways.len()];

    // 1. Browsers create their sessions; the phone scans each one.
    let started = Instant::now();
    let created: Vec<Result<Session>> = stream::iter(0..options.browsers)
        .map(|i| login::create(&setup, &gateway_of(i).url))
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect()
        .await;
    let sessions = report.keep_ok("create", created);
    let scanned: Vec<Result<Session>> = stream::iter(sessions)
        .map(|s| async { phone.scan(&s).await.map(|()| s) })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect()
        .await;
    let sessions: Vec<Arc<Session>> = report.keep_ok("scan", scanned).into_iter().map(Arc::new).collect();
    eprintln!("[{label}] {} sessions created and scanned in {:.1?}", sessions.len(), started.elapsed());

    // 2. Every browser starts waiting.
    let progress = Arc::new(Progress::default());
    let scripts_before = script_calls(stack.redis).await?;
    let mut browsers = Vec::with_capacity(sessions.len());
    for (index, session) in sessions.iter().enumerate() {
        let waiter = Waiter {
            mode,
            client: browser_client()?,
            gateway: gateway_of(index).url.clone(),
            session: Arc::clone(session),
            index,
            browsers: sessions.len(),
            progress: Arc::clone(&progress),
            until: end,
        };
        browsers.push(tokio::spawn(waiter.run()));
    }
    let waiting = wait_connected(mode, stack.redis, &progress, sessions.len(), scripts_before, end).await?;
    eprintln!("[{label}] {waiting} of {} browsers waiting after {:.1?}", sessions.len(), started.elapsed());
    tokio::time::sleep(SETTLE).await;

    // 3. The phone confirms every session, paced evenly over --confirm-secs, from a task of its own: the main
    //    thread (which runs this function) is just one more thread the OS may set aside for a while.
    let step = Duration::from_secs(options.confirm_secs).div_f64(sessions.len().max(1) as f64);
    let first = Instant::now();
    let (sched_before, pressure_before) =
        (gateways.iter().map(Gateway::sched).collect::<Vec<_>>(), procs::cpu_pressure());
    let mut events_before = Vec::with_capacity(gateways.len());
    for gateway in gateways {
        events_before.push(gateway.events_received().await?);
    }
    let lag = tokio::spawn(worst_timer_lag(first + Duration::from_secs(options.confirm_secs) + LAG_TAIL));
    let jobs: Vec<(usize, usize, Arc<Session>)> = confirm_order(sessions.len())
        .into_iter()
        .enumerate()
        .map(|(slot, i)| (slot, i, Arc::clone(&sessions[i])))
        .collect();
    let concurrency = options.confirm_concurrency;
    let confirming = tokio::spawn(async move {
        stream::iter(jobs)
            .map(|(slot, i, session)| {
                let phone = Arc::clone(&phone);
                async move {
                    tokio::time::sleep_until(first + step.mul_f64(slot as f64)).await;
                    (i, phone.confirm(&session).await)
                }
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<_>>()
            .await
    });
    let confirms = confirming.await?;
    eprintln!("[{label}] {} confirms sent in {:.1?}", confirms.len(), first.elapsed());

    // 4. Every browser should now have its token.
    let collect_until = end.min(Instant::now() + DELIVERY_TIMEOUT);
    let mut waited = Vec::with_capacity(browsers.len());
    for mut handle in browsers {
        match tokio::time::timeout_at(collect_until, &mut handle).await {
            Ok(Ok(w)) => waited.push(w),
            Ok(Err(e)) => waited.push(Waited { error: Some(format!("browser task failed: {e}")), ..Waited::default() }),
            Err(_) => {
                handle.abort();
                waited.push(Waited { error: Some("no token before the deadline".into()), ..Waited::default() });
            }
        }
    }
    let window = first.elapsed();
    for ((gateway, sched), events) in gateways.iter().zip(sched_before).zip(events_before) {
        let events = gateway.events_received().await?.saturating_sub(events);
        report.per_gateway.push((gateway.sched().since(sched), events));
    }
    report.gateway_sched = report.per_gateway.iter().fold(procs::Sched::default(), |sum, (s, _)| sum.plus(*s));
    report.cpu_pressure = procs::cpu_pressure()
        .zip(pressure_before)
        .map(|(after, before)| after.saturating_sub(before).as_secs_f64() / window.as_secs_f64());
    let mut confirmed = vec![None; sessions.len()];
    for (i, result) in confirms {
        match result {
            Ok(times) => confirmed[i] = Some(times),
            Err(e) => report.error("confirm", &e.to_string()),
        }
    }
    report.record(first, &confirmed, &waited);
    for gateway in gateways {
        report.peak_rss_kib = report.peak_rss_kib.max(gateway.peak_rss_kib()?);
    }
    report.waiting_at_start = waiting;
    report.timer_lag = lag.await?;
    eprintln!("[{label}] done in {:.1?}: {} tokens", started.elapsed(), report.delivered());
    Ok(report)
}

/// The order the phone confirms in: shuffled (fixed seed, so runs compare), so that a browser's place in the
/// poll cycle, which follows its index, says nothing about when its session is confirmed.
fn confirm_order(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state: u64 = 0x5eed;
    for i in (1..n).rev() {
        // splitmix64: plenty for a shuffle, and no dependency.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let j = usize::try_from(z % (i as u64 + 1)).unwrap_or(i);
        order.swap(i, j);
    }
    order
}

/// Waits until every browser is waiting (or gave up); returns how many are. A stream or a plain poll has seen
/// `scanned` by then; a long-poll answers nothing until the state changes, so for it Redis is watched instead:
/// each one's first read of the session is one script call, made after its waiter registered.
async fn wait_connected(
    mode: Mode,
    redis: RedisProbe,
    progress: &Progress,
    browsers: usize,
    scripts_before: u64,
    end: Instant,
) -> Result<usize> {
    let until = end.min(Instant::now() + CONNECT_TIMEOUT);
    loop {
        let failed = progress.failed.load(Ordering::Relaxed);
        let waiting = match mode {
            Mode::LongPoll => {
                let calls = script_calls(redis).await?.saturating_sub(scripts_before);
                usize::try_from(calls)?.min(browsers - failed)
            }
            Mode::Sse | Mode::Poll1s => progress.connected.load(Ordering::Relaxed),
        };
        if waiting + failed >= browsers {
            return Ok(waiting);
        }
        if Instant::now() >= until {
            eprintln!("push-bench: only {waiting} of {browsers} browsers waiting; confirming anyway");
            return Ok(waiting);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The latest a 1 ms timer fired in this process until `until`: when the OS gives the benchmark's threads
/// no CPU for a while (other work on the machine), this shows it, and every latency measured across such a
/// pause is longer by up to that much.
async fn worst_timer_lag(until: Instant) -> Duration {
    let mut worst = Duration::ZERO;
    while Instant::now() < until {
        let before = Instant::now();
        tokio::time::sleep(Duration::from_millis(1)).await;
        worst = worst.max(before.elapsed().saturating_sub(Duration::from_millis(1)));
    }
    worst
}

/// Script calls (EVAL and EVALSHA) Redis has run so far.
async fn script_calls(redis: RedisProbe) -> Result<u64> {
    let calls = redis.command_calls().await?;
    Ok(["evalsha", "eval"].iter().filter_map(|c| calls.get(*c)).sum())
}
