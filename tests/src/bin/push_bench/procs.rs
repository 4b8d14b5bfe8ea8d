//! The benchmark's stack: Redis, mobile-api and one web-gateway per mode, each behind a guard of
//! `qrlogin_e2e::bench::procs` (killed when dropped); what the gateways cost (CPU, scheduler waits, peak RSS).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use qrlogin_e2e::bench::procs::{self, Guard};
use qrlogin_e2e::bench::redis_probe::RedisProbe;

use crate::Result;

/// Bound on each of the benchmark's own Redis commands.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Sockets this process needs besides one per browser (phone connections, Redis probes, files).
const SPARE_FILES: u64 = 512;

/// Raises the soft open-files limit so that every browser holds a socket; fails if the hard limit is too low.
/// The children inherit the raised limit.
pub(crate) fn raise_open_files(browsers: usize) -> Result<u64> {
    let wanted = u64::try_from(browsers)? * 2 + SPARE_FILES;
    let got = rlimit::increase_nofile_limit(wanted.max(65_536))?;
    if got < wanted {
        return Err(format!("open-files limit is {got}, {wanted} needed: raise the hard limit (ulimit -Hn)").into());
    }
    Ok(got)
}

/// A running web-gateway.
pub(crate) struct Gateway {
    pub(crate) url: String,
    guard: Guard,
}

impl Gateway {
    pub(crate) fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// The peak resident set size so far (`VmHWM`), in KiB.
    pub(crate) fn peak_rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no VmHWM in /proc/{}/status", self.pid()).into())
    }

    /// CPU time of all the gateway's threads so far, and time they spent runnable but waiting for a CPU.
    pub(crate) fn sched(&self) -> Sched {
        Sched::of(self.pid())
    }

    /// The session events its pub/sub listener received since it started (`qrlogin_push_events_received`).
    pub(crate) async fn events_received(&self) -> Result<u64> {
        let text = reqwest::Client::builder().no_proxy().build()?.get(format!("{}/metrics", self.url)).send().await?;
        let text = text.error_for_status()?.text().await?;
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix("qrlogin_push_events_received "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .ok_or("no qrlogin_push_events_received in the gateway's /metrics")?;
        Ok(value as u64)
    }
}

/// Scheduler totals of one process (all threads), from `/proc/<pid>/task/*/schedstat`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sched {
    pub(crate) on_cpu: Duration,
    pub(crate) waiting: Duration,
}

impl Sched {
    fn of(pid: u32) -> Self {
        let mut total = Self::default();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return total };
        for task in tasks.filter_map(|t| t.ok()) {
            let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else { continue };
            let mut fields = stat.split_whitespace().map(|f| f.parse::<u64>().unwrap_or(0));
            total.on_cpu += Duration::from_nanos(fields.next().unwrap_or(0));
            total.waiting += Duration::from_nanos(fields.next().unwrap_or(0));
        }
        total
    }

    pub(crate) fn since(self, earlier: Self) -> Self {
        Self {
            on_cpu: self.on_cpu.saturating_sub(earlier.on_cpu),
            waiting: self.waiting.saturating_sub(earlier.waiting),
        }
    }

    /// Both totals of several processes added up.
    pub(crate) fn plus(self, other: Self) -> Self {
        Self { on_cpu: self.on_cpu + other.on_cpu, waiting: self.waiting + other.waiting }
    }
}

/// Time so far during which some runnable task on this machine waited for a CPU (`/proc/pressure/cpu`).
pub(crate) fn cpu_pressure() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/pressure/cpu").ok()?;
    let some = text.lines().find(|l| l.starts_with("some"))?;
    let total = some.split_whitespace().find_map(|f| f.strip_prefix("total="))?;
    total.parse().ok().map(Duration::from_micros)
}

/// Redis and mobile-api, kept for the whole run; gateways come and go per mode.
pub(crate) struct Stack {
    /// The benchmark's own commands to its Redis.
    pub(crate) redis: RedisProbe,
    pub(crate) mobile_url: String,
    /// `deploy/dev.env` with the benchmark's overrides: what every service is started with.
    pub(crate) env: Vec<(String, String)>,
    gateway_bin: PathBuf,
    log_dir: PathBuf,
    _mobile: Guard,
    // Declared last: dropped after the services that use it.
    _redis: Guard,
}

impl Stack {
    /// `extra_env` goes on top of everything else (`--env`).
    pub(crate) async fn start(extra_env: &[(String, String)]) -> Result<Self> {
        let bin_dir = std::env::current_exe()?.parent().map(Path::to_path_buf).ok_or("no directory of this binary")?;
        let gateway_bin = procs::check_binary(&bin_dir, "web-gateway")?;
        let mobile_bin = procs::check_binary(&bin_dir, "mobile-api")?;
        let log_dir = bin_dir.join("push-bench-logs");
        std::fs::create_dir_all(&log_dir)?;

        let redis = RedisProbe { port: procs::free_port()?, timeout: PROBE_TIMEOUT };
        let mut redis_server = Command::new("redis-server");
        redis_server.args(["--maxclients", "20000"]);
        let redis_server = procs::start_redis(redis_server, redis, &log_dir).await?;

        let mut env = procs::service_env(redis.port);
        procs::set_env(&mut env, BENCH_SETTINGS.iter().map(|&(k, v)| (k, v.to_owned())));
        procs::set_env(&mut env, extra_env.iter().cloned());
        let (mobile, mobile_url) =
            procs::start_service("mobile-api", Command::new(mobile_bin), &env, log_dir.join("mobile-api.log")).await?;
        Ok(Self { redis, mobile_url, env, gateway_bin, log_dir, _mobile: mobile, _redis: redis_server })
    }

    /// A fresh gateway process, ready to serve; `label` names its log file.
    pub(crate) async fn start_gateway(&self, label: &str) -> Result<Gateway> {
        let log = self.log_dir.join(format!("web-gateway-{label}.log"));
        let (guard, url) = procs::start_service("web-gateway", Command::new(&self.gateway_bin), &self.env, log).await?;
        Ok(Gateway { url, guard })
    }

    /// `n` fresh gateways on the one Redis (`label-1`, `label-2`, ... with more than one).
    pub(crate) async fn start_gateways(&self, label: &str, n: usize) -> Result<Vec<Gateway>> {
        let mut gateways = Vec::with_capacity(n);
        for i in 1..=n {
            let label = if n == 1 { label.to_owned() } else { format!("{label}-{i}") };
            gateways.push(self.start_gateway(&label).await?);
        }
        Ok(gateways)
    }
}

/// The benchmark's settings on top of `deploy/dev.env`: every limit that would refuse its burst off.
const BENCH_SETTINGS: &[(&str, &str)] = &[
    ("QRL_LIMIT_ISSUE_PER_IP", "0"),
    ("QRL_LIMIT_ISSUE_GLOBAL", "0"),
    ("QRL_LIMIT_SCAN_PER_USER", "0"),
    ("QRL_LIMIT_DECIDE_PER_USER", "0"),
    ("QRL_MAX_WAITERS", "100000"),
    // Every simulated browser connects from 127.0.0.1.
    ("QRL_MAX_WAITERS_PER_CLIENT", "100000"),
    ("QRL_QR_ROTATE_SECS", "0"),
    ("QRL_SESSION_TTL_SECS", "600"),
];
