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
mod report;
mod waiters;

use std::process::ExitCode;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::{ArgAction, Parser};
use tokio::time::Instant;

use crate::report::ModeReport;

pub(crate) use qrlogin_e2e::bench::Result;

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
            .find(|m| m.name() == s.trim())
            .ok_or_else(|| format!("unknown mode {s:?} (sse, long-poll, poll-1s)").into())
    }
}

/// How fast does a waiting browser learn that its login was confirmed? Per mode, N browsers wait while every
/// session is confirmed through mobile-api; each notes when its token arrives.
///
/// Starts its own Redis and the real web-gateway and mobile-api binaries (from the directory this binary is
/// in) with the development settings of deploy/dev.env, all on 127.0.0.1, and prints one column per mode.
#[derive(Clone, Debug, clap::Parser)]
// A flag given twice counts once, the last time (as before clap); `--env` is the one that adds up.
#[command(name = "push-bench", version, args_override_self = true)]
#[command(after_help = "Needs the service binaries next to this one: `cargo build --release --bins` first (or \
                        without --release for the dev profile, then run target/debug/push-bench).")]
pub(crate) struct Options {
    /// Waiting browsers per mode.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    #[arg(value_parser = RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub(crate) browsers: usize,
    /// Bound on the whole run, in seconds; past it everything is stopped.
    #[arg(long, value_name = "S", default_value_t = 120, value_parser = RangedU64ValueParser::<u64>::new().range(1..))]
    pub(crate) max_secs: u64,
    /// Which modes to run, in order: sse, long-poll, poll-1s (comma-separated).
    // `Set`: a second `--modes` replaces the first list rather than adding to it.
    #[arg(long, value_name = "LIST", default_value = "sse,long-poll,poll-1s")]
    #[arg(value_delimiter = ',', action = ArgAction::Set, value_parser = Mode::parse)]
    pub(crate) modes: Vec<Mode>,
    /// Confirm requests in flight at most.
    #[arg(long, value_name = "C", default_value_t = 50, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub(crate) confirm_concurrency: usize,
    /// The confirms are spread evenly over this many seconds.
    #[arg(long, value_name = "S", default_value_t = 4)]
    pub(crate) confirm_secs: u64,
    /// A service setting on top of the benchmark's (e.g. RUST_LOG=info, QRL_WORKERS=1); repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = setting)]
    pub(crate) env: Vec<(String, String)>,
    /// Gateway processes per mode, all on the one Redis; browser i creates and waits on gateway i mod N. The
    /// report then shows the session events each gateway received and its CPU (scale-out: both should shrink
    /// as 1/N, since an event reaches only the gateway its browser waits on).
    #[arg(long, value_name = "N", default_value_t = 1)]
    #[arg(value_parser = RangedU64ValueParser::<usize>::new().range(1..=16))]
    pub(crate) gateways: usize,
    /// Write each delivery's times (ms since the first confirm) to this file, as CSV.
    #[arg(long, value_name = "FILE")]
    pub(crate) timeline: Option<std::path::PathBuf>,
}

/// `KEY=VALUE` of `--env`.
fn setting(value: &str) -> Result<(String, String)> {
    let (k, v) = value.split_once('=').ok_or_else(|| format!("{value:?}: expected KEY=VALUE"))?;
    Ok((k.to_owned(), v.to_owned()))
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::try_parse() {
        Ok(options) => options,
        // `--help` and `--version` succeed; a bad command line fails with exit code 1, as it always did.
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        }
    };
    match run_bounded(options).await {
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
async fn run_bounded(options: Options) -> Result<bool> {
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
        "push-bench: {} browsers per mode on {} gateway(s), confirms paced over {} s with at most {} in flight; \
         {profile} build; {cpus} CPUs, load average {load}; open files {limit}",
        options.browsers, options.gateways, options.confirm_secs, options.confirm_concurrency
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
    let gateways = stack.start_gateways("warm-up", options.gateways).await?;
    let report = phases::run_mode(first, &warm_up, &stack, &gateways, &token, deadline).await?;
    eprintln!("[warm-up] {} tokens, {} errors (not reported)", report.delivered(), report.errors());
    drop(gateways);
    stack.redis.command(&["FLUSHALL"]).await?;

    for &mode in &options.modes {
        let gateways = stack.start_gateways(mode.name(), options.gateways).await?;
        for gateway in &gateways {
            eprintln!("[{}] gateway pid {} on {}", mode.name(), gateway.pid(), gateway.url);
        }
        let report = phases::run_mode(mode, options, &stack, &gateways, &token, deadline).await?;
        reports.push(report);
        drop(gateways);
        stack.redis.command(&["FLUSHALL"]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_flag_is_documented_and_the_defaults_are_the_benchmarks() {
        let cmd = Options::command();
        cmd.clone().debug_assert();
        for arg in cmd.get_arguments().filter(|a| !["help", "version"].contains(&a.get_id().as_str())) {
            assert!(arg.get_help().is_some(), "{}", arg.get_id());
        }

        let o = Options::try_parse_from(["push-bench"]).unwrap();

        assert_eq!((o.browsers, o.max_secs, o.confirm_concurrency, o.confirm_secs), (1000, 120, 50, 4));
        assert_eq!(o.gateways, 1);
        assert_eq!(o.modes, [Mode::Sse, Mode::LongPoll, Mode::Poll1s]);
    }

    #[test]
    fn a_repeated_flag_counts_its_last_time_and_env_settings_add_up() {
        let argv = ["push-bench", "--modes", "sse", "--modes", "poll-1s, long-poll", "--browsers", "5"];
        let o = Options::try_parse_from(argv.into_iter().chain(["--env", "A=1", "--env", "B=x=y"])).unwrap();

        assert_eq!(o.modes, [Mode::Poll1s, Mode::LongPoll]);
        assert_eq!(o.browsers, 5);
        assert_eq!(o.env, [("A".to_owned(), "1".to_owned()), ("B".to_owned(), "x=y".to_owned())]);
        for bad in [
            ["--browsers", "0"],
            ["--browsers", "10001"],
            ["--max-secs", "0"],
            ["--modes", "push"],
            ["--gateways", "0"],
        ] {
            assert!(Options::try_parse_from(["push-bench"].into_iter().chain(bad)).is_err(), "{bad:?}");
        }
    }
}
