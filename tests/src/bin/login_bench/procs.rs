//! The bench's stack (its Redis and both services, each behind a guard of `qrlogin_e2e::bench::procs`), their
//! CPU time, and pinning.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use qrlogin_e2e::bench::procs::{self, Guard};
use qrlogin_e2e::bench::redis_probe::RedisProbe;

use crate::{Options, Result};

/// Bound on each of the bench's own Redis commands.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Linux reports utime/stime in clock ticks of USER_HZ, which is 100 on every architecture it runs on.
const TICKS_PER_SEC: u64 = 100;

/// Redis and both services, for the whole run.
pub(crate) struct Stack {
    /// The bench's own commands to its Redis.
    pub(crate) redis: RedisProbe,
    pub(crate) gateway_url: String,
    pub(crate) mobile_url: String,
    /// `deploy/dev.env` with the bench's settings: what both services run with.
    pub(crate) env: Vec<(String, String)>,
    /// App users in the bench's directory, `bench-0` to `bench-<users - 1>`.
    pub(crate) users: usize,
    gateway: Guard,
    mobile: Guard,
    // Declared last: dropped after the services that use it.
    redis_server: Guard,
}

impl Stack {
    pub(crate) async fn start(options: &Options, users: usize) -> Result<Self> {
        let bin_dir = match &options.bin_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_exe()?.parent().map(Path::to_path_buf).ok_or("no directory of this binary")?,
        };
        let gateway_bin = procs::check_binary(&bin_dir, "web-gateway")?;
        let mobile_bin = procs::check_binary(&bin_dir, "mobile-api")?;
        let log_dir = bin_dir.join("login-bench-logs");
        std::fs::create_dir_all(&log_dir)?;
        let pin = options.pin.then_some(options.server_cpus.as_str());

        let port = match options.redis_port {
            Some(port) => port,
            None => procs::free_port()?,
        };
        let redis = RedisProbe { port, timeout: PROBE_TIMEOUT };
        let redis_server = procs::start_redis(pinned(pin, Path::new("redis-server")), redis, &log_dir).await?;

        let users_file = log_dir.join("users.json");
        std::fs::write(&users_file, user_directory(users))?;
        let mut env = procs::service_env(port);
        procs::set_env(&mut env, bench_settings(&users_file));
        procs::set_env(&mut env, options.env.iter().cloned());
        let (mobile, mobile_url) =
            procs::start_service("mobile-api", pinned(pin, &mobile_bin), &env, log_dir.join("mobile-api.log")).await?;
        let (gateway, gateway_url) =
            procs::start_service("web-gateway", pinned(pin, &gateway_bin), &env, log_dir.join("web-gateway.log"))
                .await?;
        Ok(Self { redis, gateway_url, mobile_url, env, users, gateway, mobile, redis_server })
    }

    /// Resident memory of web-gateway, mobile-api and Redis now, in KiB.
    pub(crate) fn rss_kib(&self) -> Result<[u64; 3]> {
        Ok([rss_kib(self.gateway.pid())?, rss_kib(self.mobile.pid())?, rss_kib(self.redis_server.pid())?])
    }

    /// CPU time used so far by web-gateway, mobile-api and Redis.
    pub(crate) fn cpu(&self) -> Result<[Duration; 3]> {
        Ok([cpu_time(self.gateway.pid())?, cpu_time(self.mobile.pid())?, cpu_time(self.redis_server.pid())?])
    }
}

/// `utime + stime` of process `pid` (all its threads, living and ended), from `/proc/<pid>/stat`.
pub(crate) fn cpu_time(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis start at field 3.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or("malformed /proc/<pid>/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).ok_or("malformed /proc/<pid>/stat");
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after field 2.
    let ticks = tick(11)? + tick(12)?;
    Ok(Duration::from_millis(ticks * 1000 / TICKS_PER_SEC))
}

/// `VmRSS` of process `pid`, from `/proc/<pid>/status` (which gives it in kB, meaning KiB).
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).ok_or("no VmRSS in /proc/<pid>/status")?;
    let kib = line.trim().trim_end_matches("kB").trim();
    Ok(kib.parse().map_err(|e| format!("VmRSS {kib:?}: {e}"))?)
}

/// This process (the bench's own CPU time, for the driver's share).
pub(crate) fn own_cpu_time() -> Result<Duration> {
    cpu_time(std::process::id())
}

/// Puts this process (still one thread: the runtime starts later) on `cpus`.
pub(crate) fn pin_self(cpus: &str) -> Result<()> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("--pin needs taskset (Debian: util-linux): {e}"))?;
    if !status.success() {
        return Err(format!("taskset -c {cpus} failed ({status})").into());
    }
    Ok(())
}

/// `program`, or `taskset -c <cpus> program` (which execs it: the pid is the program's).
fn pinned(cpus: Option<&str>, program: &Path) -> Command {
    match cpus {
        Some(cpus) => {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", cpus]).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// `{ "bench-0": {...}, ... }`: one app user per few logins, so no per-user limit refuses a login.
fn user_directory(users: usize) -> String {
    let entries: Vec<String> = (0..users)
        .map(|i| format!("\"bench-{i}\":{{\"name\":\"Bench User {i}\",\"email\":\"bench-{i}@example.com\"}}"))
        .collect();
    format!("{{{}}}", entries.join(","))
}

/// The bench's settings on top of `deploy/dev.env`: its user directory. Every rate limit keeps its default; the
/// bench spreads its logins over addresses and users instead. The one browser that polls three times in a
/// second (a check code) would be slowed down, as a real one would.
fn bench_settings(users_file: &Path) -> [(&'static str, String); 2] {
    [
        // Each simulated browser's address comes as X-Forwarded-For from the bench on 127.0.0.1.
        ("QRL_TRUSTED_PROXIES", "127.0.0.1".into()),
        ("QRL_USER_DIRECTORY_FILE", users_file.display().to_string()),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn the_user_directory_is_json_with_every_user() {
        let dir: serde_json::Value = serde_json::from_str(&user_directory(3)).unwrap();

        assert_eq!(dir.as_object().unwrap().len(), 3);
        assert_eq!(dir["bench-2"]["name"], "Bench User 2");
    }

    #[test]
    fn rss_reads_this_process() {
        let kib = rss_kib(std::process::id()).unwrap();

        assert!((1_000..10_000_000).contains(&kib), "{kib} KiB");
    }

    #[test]
    fn own_cpu_time_reads_and_grows() {
        let before = own_cpu_time().unwrap();
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(60) {
            std::hint::black_box(0u64.wrapping_add(1));
        }

        assert!(own_cpu_time().unwrap() > before);
    }
}
