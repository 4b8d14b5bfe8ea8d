//! push-bench: how fast does a waiting browser learn that its login was confirmed, with 1,000 browsers waiting
//! at once, by Server-Sent Events, by long-poll, and by plain polling every second?
//!
//! Starts its own Redis and the real `web-gateway` and `mobile-api` binaries (from the directory this binary
//! is in) with the development settings of `deploy/dev.env`, all on 127.0.0.1. Per mode: a fresh gateway
//! process (so its peak RSS is that mode's own), N sessions created and scanned, N browsers waiting, then
//! every session confirmed through mobile-api at a steady pace; each browser notes when its token arrives.
//! Prints one column per mode. Not a test: nothing here fails a build, and it runs only when asked.

mod login;
mod phases;
mod procs;
mod redis_probe;
mod report;
mod waiters;

use std::process::ExitCode;
use std::time::Duration;

use tokio::time::Instant;

use crate::report::ModeReport;

pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// How a browser waits for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Sse,
    LongPoll,
    Poll1s,
}

impl Mode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Sse => "sse",
            Self::LongPoll => "long-poll",
            Self::Poll1s => "poll-1s",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        [Self::Sse, Self::LongPoll, Self::Poll1s]
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown mode {s:?} (sse, long-poll, poll-1s)").into())
    }
}

#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) browsers: usize,
    pub(crate) max_secs: u64,
    pub(crate) modes: Vec<Mode>,
    /// Confirms in flight at most.
    pub(crate) confirm_concurrency: usize,
    /// The confirms are paced evenly over this long.
    pub(crate) confirm_secs: u64,
    /// Service settings on top of the benchmark's (`--env RUST_LOG=info`).
    pub(crate) env: Vec<(String, String)>,
    /// Where to write every delivery's timings (CSV).
    pub(crate) timeline: Option<std::path::PathBuf>,
}

const USAGE: &str = "\
usage: push-bench [--browsers N] [--max-secs S] [--modes sse,long-poll,poll-1s]
                  [--confirm-concurrency C] [--confirm-secs S] [--timeline FILE]
                  [--env KEY=VALUE]...

  --browsers N              waiting browsers per mode (default 1000, at most 10000)
  --max-secs S              bound on the whole run; past it everything is stopped (default 120)
  --modes LIST              which modes to run, in order (default sse,long-poll,poll-1s)
  --confirm-concurrency C   confirm requests in flight at most (default 50)
  --confirm-secs S          the confirms are spread evenly over S seconds (default 4)
  --timeline FILE           write each delivery's times (ms since the first confirm) as CSV
  --env KEY=VALUE           a service setting on top of the benchmark's (e.g. RUST_LOG=info, QRL_WORKERS=1)

Needs the service binaries next to this one: `cargo build --release --bins` first (or without --release
for the dev profile, then run target/debug/push-bench).";

fn parse_args() -> Result<Options> {
    let mut o = Options {
        browsers: 1000,
        max_secs: 120,
        modes: vec![Mode::Sse, Mode::LongPoll, Mode::Poll1s],
        confirm_concurrency: 50,
        confirm_secs: 4,
        timeline: None,
        env: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))?;
        let number = || value.parse::<u64>().map_err(|_| format!("{flag}: {value:?} is not a number"));
        match flag.as_str() {
            "--browsers" => o.browsers = usize::try_from(number()?)?,
            "--max-secs" => o.max_secs = number()?,
            "--confirm-concurrency" => o.confirm_concurrency = usize::try_from(number()?)?,
            "--confirm-secs" => o.confirm_secs = number()?,
            "--env" => {
                let (k, v) = value.split_once('=').ok_or_else(|| format!("--env {value:?}: expected KEY=VALUE"))?;
                o.env.push((k.to_owned(), v.to_owned()));
            }
            "--timeline" => o.timeline = Some(value.into()),
            "--modes" => o.modes = value.split(',').map(|m| Mode::parse(m.trim())).collect::<Result<_>>()?,
            _ => return Err(format!("unknown option {flag}\n\n{USAGE}").into()),
        }
    }
    if !(1..=10_000).contains(&o.browsers) || o.confirm_concurrency == 0 || o.max_secs == 0 || o.modes.is_empty() {
        return Err(format!("options out of range\n\n{USAGE}").into());
    }
    Ok(o)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run_bounded().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("push-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs every mode within `--max-secs` and prints what was measured, also when stopped early. `Ok(false)`:
/// some browsers did not get their token.
async fn run_bounded() -> Result<bool> {
    let options = parse_args()?;
    let limit = procs::raise_open_files(options.browsers)?;
    let profile = if cfg!(debug_assertions) { "dev" } else { "release" };
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    // Everything shares this machine's CPUs: a busy machine shows up in the tail latencies.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    for (k, v) in &options.env {
        println!("push-bench: service setting {k}={v}");
    }
    println!(
        "push-bench: {} browsers per mode, confirms paced over {} s with at most {} in flight; {profile} build; \
         {cpus} CPUs, load average {load}; open files {limit}",
        options.browsers, options.confirm_secs, options.confirm_concurrency
    );
    let mut reports = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(options.max_secs);
    // Every child process belongs to a guard inside `run`: dropping the future (time is up, Ctrl-C) kills them.
    let outcome = tokio::select! {
        r = tokio::time::timeout_at(deadline, run(&options, deadline, &mut reports)) => match r {
            Ok(r) => r,
            Err(_) => Err(format!("stopped after --max-secs {}", options.max_secs).into()),
        },
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
    };
    if !reports.is_empty() {
        println!("\n{}", report::table(&reports));
    }
    if let Some(path) = &options.timeline {
        std::fs::write(path, report::timeline_csv(&reports))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    outcome?;
    Ok(reports.iter().all(|r| r.errors() == 0))
}

/// Browsers in the unreported warm-up round.
const WARM_UP_BROWSERS: usize = 100;

async fn run(options: &Options, deadline: Instant, reports: &mut Vec<ModeReport>) -> Result<()> {
    let stack = procs::Stack::start(&options.env).await?;
    let token = login::dev_user_token(&stack.env, "alice")?;
    // Whatever mode ran first paid for cold caches, lazily opened Redis connections and first script loads
    // in Redis and mobile-api (p99 up to 4x in trials): a small round first, not reported, evens that out.
    let warm_up = Options { browsers: options.browsers.min(WARM_UP_BROWSERS), confirm_secs: 1, ..options.clone() };
    let first = options.modes.first().copied().unwrap_or(Mode::Sse);
    let gateway = stack.start_gateway("warm-up").await?;
    let report = phases::run_mode(first, &warm_up, &stack, &gateway, &token, deadline).await?;
    eprintln!("[warm-up] {} tokens, {} errors (not reported)", report.delivered(), report.errors());
    drop(gateway);
    redis_probe::command(stack.redis_port, &["FLUSHALL"]).await?;

    for &mode in &options.modes {
        let gateway = stack.start_gateway(mode.name()).await?;
        eprintln!("[{}] gateway pid {} on {}", mode.name(), gateway.pid(), gateway.url);
        let report = phases::run_mode(mode, options, &stack, &gateway, &token, deadline).await?;
        reports.push(report);
        drop(gateway);
        redis_probe::command(stack.redis_port, &["FLUSHALL"]).await?;
    }
    Ok(())
}
