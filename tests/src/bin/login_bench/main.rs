//! login-bench: what does one complete login cost the servers? N browsers at once each do whole logins
//! (create, pending poll, scan, confirm, claiming poll) against the real release binaries and a Redis of the
//! bench's own, with the default rate limits on; then K sessions are left pending to weigh them in Redis.
//!
//! Reports logins/s, p50/p99 per step, CPU ms per login of each process (utime+stime from `/proc/<pid>/stat`),
//! Redis commands and round trips per login, and Redis bytes per pending session, as a summary and as JSON
//! lines. Not a test: it runs only when asked, bounded in logins and in time (at most a minute).

mod flow;
mod procs;
mod redis_counters;
mod report;
mod run;
mod soak;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use clap::builder::RangedU64ValueParser;

pub(crate) use qrlogin_e2e::bench::{Error, Result};

/// What does one complete login cost the servers? C browsers at once each do whole logins (create, pending
/// poll, scan, confirm, claiming poll) through the real web-gateway and mobile-api release binaries and a
/// Redis the bench starts on a port of its own, all on 127.0.0.1, with the services' default rate limits on.
///
/// Each login is a different browser (its own address, sent as X-Forwarded-For from the trusted 127.0.0.1,
/// and a 111-byte Chrome User-Agent) and its phone is on the same network; at most 10 logins share an app
/// user (the bench writes a user directory of its own), so no per-IP or per-user limit refuses a login. The
/// phone takes the QR link from the create answer's `qr_content` (as fast as a scanner could be) unless
/// --decode-qr.
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "login-bench", version, args_override_self = true)]
#[command(after_help = "Needs the service binaries next to this one (or in --bin-dir): `cargo build --release \
                        -p web-gateway -p mobile-api -p qrlogin-e2e --bins` first. Prints a summary, then one \
                        JSON line per measurement (lines starting with `{`).")]
pub(crate) struct Options {
    /// Measured logins (the run stops earlier at --max-secs).
    #[arg(long, value_name = "N", default_value_t = 4000)]
    #[arg(value_parser = RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub(crate) logins: usize,
    /// Browsers logging in at once.
    #[arg(long, value_name = "C", default_value_t = 32)]
    #[arg(value_parser = RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub(crate) concurrency: usize,
    /// Logins first, not reported: cold caches, lazily opened Redis connections, first script loads.
    #[arg(long, value_name = "N", default_value_t = 300)]
    #[arg(value_parser = RangedU64ValueParser::<usize>::new().range(0..=10_000))]
    pub(crate) warm_up: usize,
    /// Sessions created and left pending afterwards, on an emptied Redis, to weigh a pending session (0: skip).
    #[arg(long, value_name = "K", default_value_t = 2000)]
    #[arg(value_parser = RangedU64ValueParser::<usize>::new().range(0..=20_000))]
    pub(crate) pending: usize,
    /// Instead of measuring --logins: complete logins without pause for this many seconds (at most a day),
    /// sampling each process's resident memory and Redis's keys every --sample-secs, and reporting logins,
    /// errors and growth. Not bounded by --max-secs; bound it with --rate.
    #[arg(long, value_name = "S")]
    #[arg(value_parser = RangedU64ValueParser::<u64>::new().range(10..=86_400))]
    pub(crate) soak: Option<u64>,
    /// With --soak: seconds between samples.
    #[arg(long, value_name = "S", default_value_t = 30)]
    #[arg(value_parser = RangedU64ValueParser::<u64>::new().range(1..=3_600))]
    pub(crate) sample_secs: u64,
    /// With --soak: at most this many logins a second (default: as fast as --concurrency browsers go).
    #[arg(long, value_name = "N")]
    #[arg(value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) rate: Option<u32>,
    /// Bound on the whole run, in seconds (at most 60); past it everything is stopped.
    #[arg(long, value_name = "S", default_value_t = 60)]
    #[arg(value_parser = RangedU64ValueParser::<u64>::new().range(1..=60))]
    pub(crate) max_secs: u64,
    /// Read the QR link off the PNG with a real decoder, as a phone would, instead of from `qr_content`
    /// (costs the bench about 10 ms of CPU per login, the servers nothing).
    #[arg(long)]
    pub(crate) decode_qr: bool,
    /// Pin the services and Redis to --server-cpus and the bench to --driver-cpus (taskset), and report
    /// logins/s per server core.
    #[arg(long)]
    pub(crate) pin: bool,
    /// With --pin: the CPUs of web-gateway, mobile-api and Redis (a taskset list).
    #[arg(long, value_name = "LIST", default_value = "0")]
    pub(crate) server_cpus: String,
    /// With --pin: the CPUs of the bench itself.
    #[arg(long, value_name = "LIST", default_value = "1")]
    pub(crate) driver_cpus: String,
    /// Where web-gateway and mobile-api are; default: the directory of this binary.
    #[arg(long, value_name = "DIR")]
    pub(crate) bin_dir: Option<PathBuf>,
    /// Port of the bench's Redis; default: a free one.
    #[arg(long, value_name = "PORT")]
    pub(crate) redis_port: Option<u16>,
    /// A service setting on top of the bench's (e.g. QRL_CHECK_CODE=never, QRL_WORKERS=1); repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = setting)]
    pub(crate) env: Vec<(String, String)>,
    /// A name for this run, carried in its JSON lines.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub(crate) label: String,
    /// Also append the JSON lines to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) json_out: Option<PathBuf>,
}

/// `KEY=VALUE` of `--env`.
fn setting(value: &str) -> Result<(String, String)> {
    let (k, v) = value.split_once('=').ok_or_else(|| format!("{value:?}: expected KEY=VALUE"))?;
    Ok((k.to_owned(), v.to_owned()))
}

fn main() -> ExitCode {
    let options = match Options::try_parse() {
        Ok(options) => options,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        }
    };
    // Before the runtime starts its threads, so that every one of them inherits the CPUs.
    if options.pin
        && let Err(e) = procs::pin_self(&options.driver_cpus)
    {
        eprintln!("login-bench: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("login-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run::bounded(options)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("login-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_flag_is_documented_and_the_run_is_bounded() {
        let cmd = Options::command();
        cmd.clone().debug_assert();
        for arg in cmd.get_arguments().filter(|a| !["help", "version"].contains(&a.get_id().as_str())) {
            assert!(arg.get_help().is_some(), "{}", arg.get_id());
        }

        let o = Options::try_parse_from(["login-bench"]).unwrap();

        assert_eq!((o.logins, o.concurrency, o.warm_up, o.pending, o.max_secs), (4000, 32, 300, 2000, 60));
        assert!(!o.pin && !o.decode_qr && o.soak.is_none());
        let soak = Options::try_parse_from(["login-bench", "--soak", "1800", "--rate", "50"]).unwrap();
        assert_eq!((soak.soak, soak.rate, soak.sample_secs), (Some(1800), Some(50), 30));
        for bad in [
            ["--max-secs", "61"],
            ["--logins", "0"],
            ["--concurrency", "0"],
            ["--env", "NOEQUALS"],
            ["--soak", "86401"],
        ] {
            assert!(Options::try_parse_from(["login-bench"].into_iter().chain(bad)).is_err(), "{bad:?}");
        }
    }
}
