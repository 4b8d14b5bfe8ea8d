//! The child processes: Redis, mobile-api and one web-gateway per mode, each owned by a guard that kills it
//! when dropped (also on an error, a panic, the time limit or Ctrl-C), with its output in a log file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::Result;

/// The workspace root, where `deploy/dev.env` and the files it names live.
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// Bound on a child becoming ready.
const START_TIMEOUT: Duration = Duration::from_secs(20);

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

/// A child process that dies with its guard.
pub(crate) struct Guard {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Guard {
    fn spawn(name: &str, mut cmd: Command, log: PathBuf) -> Result<Self> {
        let out = File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        cmd.stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out);
        let child = cmd.spawn().map_err(|e| format!("cannot start {name} ({:?}): {e}", cmd.get_program()))?;
        Ok(Self { name: name.to_owned(), child, log })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `ready` answers, failing early (with the end of its log) if the process exits.
    async fn wait_ready(&mut self, ready: impl AsyncFn() -> bool) -> Result<()> {
        let until = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(10).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(format!("{} exited ({status}):\n{}", self.name, tail.join("\n")).into());
            }
            if ready().await {
                return Ok(());
            }
            if Instant::now() > until {
                return Err(
                    format!("{} not ready after {START_TIMEOUT:?}; see {}", self.name, self.log.display()).into()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Already gone is fine; a failure to kill is reported, not fatal (we are likely unwinding already).
        if let Err(e) = self.child.kill()
            && e.kind() != std::io::ErrorKind::InvalidInput
        {
            eprintln!("push-bench: could not kill {} (pid {}): {e}", self.name, self.pid());
        }
        let _ = self.child.wait();
    }
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

    pub(crate) fn peak_rss_kib(&self) -> Result<u64> {
        self.guard.peak_rss_kib()
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
    pub(crate) redis_port: u16,
    pub(crate) mobile_url: String,
    /// `deploy/dev.env` with the benchmark's overrides: what every service is started with.
    pub(crate) env: Vec<(String, String)>,
    bin_dir: PathBuf,
    log_dir: PathBuf,
    _mobile: Guard,
    // Declared last: dropped after the services that use it.
    _redis: Guard,
}

impl Stack {
    /// `extra_env` goes on top of everything else (`--env`).
    pub(crate) async fn start(extra_env: &[(String, String)]) -> Result<Self> {
        let bin_dir = std::env::current_exe()?.parent().map(Path::to_path_buf).ok_or("no directory of this binary")?;
        for bin in ["web-gateway", "mobile-api"] {
            check_binary(&bin_dir, bin)?;
        }
        let log_dir = bin_dir.join("push-bench-logs");
        std::fs::create_dir_all(&log_dir)?;

        let redis_port = free_port()?;
        let mut redis = Command::new("redis-server");
        redis.current_dir(&log_dir).args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1"]);
        redis.args(["--save", "", "--appendonly", "no", "--daemonize", "no", "--maxclients", "20000"]);
        let mut redis = Guard::spawn("redis-server", redis, log_dir.join("redis.log"))
            .map_err(|e| format!("{e}\nredis-server is needed on PATH (Debian: apt-get install redis-server)"))?;
        redis.wait_ready(async || crate::redis_probe::command(redis_port, &["PING"]).await.is_ok()).await?;

        let mut env = service_env(redis_port)?;
        for (k, v) in extra_env {
            env.retain(|(name, _)| name != k);
            env.push((k.clone(), v.clone()));
        }
        let mobile_port = free_port()?;
        let mobile_url = format!("http://127.0.0.1:{mobile_port}");
        let mut mobile = Guard::spawn(
            "mobile-api",
            service_command(&bin_dir.join("mobile-api"), &env, mobile_port),
            log_dir.join("mobile-api.log"),
        )?;
        mobile.wait_ready(async || ready(&mobile_url).await).await?;
        Ok(Self { redis_port, mobile_url, env, bin_dir, log_dir, _mobile: mobile, _redis: redis })
    }

    /// A fresh gateway process, ready to serve; `label` names its log file.
    pub(crate) async fn start_gateway(&self, label: &str) -> Result<Gateway> {
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let log = self.log_dir.join(format!("web-gateway-{label}.log"));
        let mut guard =
            Guard::spawn("web-gateway", service_command(&self.bin_dir.join("web-gateway"), &self.env, port), log)?;
        guard.wait_ready(async || ready(&url).await).await?;
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

/// `deploy/dev.env`, with every limit that would refuse a benchmark's burst off, and paths made absolute.
fn service_env(redis_port: u16) -> Result<Vec<(String, String)>> {
    let root = Path::new(WORKSPACE).canonicalize()?;
    let file = root.join("deploy/dev.env");
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut env: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches(['"', '\'']).to_owned()))
        .collect();
    let absolute = |var: &str, default: &str| {
        let rel = env.iter().find(|(k, _)| k == var).map_or(default, |(_, v)| v.as_str());
        root.join(rel).display().to_string()
    };
    let key_file = absolute("QRL_WEB_JWT_PRIVATE_KEY_FILE", "deploy/dev/web-jwt-es256.pem");
    let users_file = absolute("QRL_USER_DIRECTORY_FILE", "deploy/dev/users.json");
    let overrides = [
        ("REDIS_URL", format!("redis://127.0.0.1:{redis_port}")),
        ("QRL_LIMIT_ISSUE_PER_IP", "0".into()),
        ("QRL_LIMIT_ISSUE_GLOBAL", "0".into()),
        ("QRL_LIMIT_SCAN_PER_USER", "0".into()),
        ("QRL_LIMIT_DECIDE_PER_USER", "0".into()),
        ("QRL_MAX_WAITERS", "100000".into()),
        // Every simulated browser connects from 127.0.0.1.
        ("QRL_MAX_WAITERS_PER_CLIENT", "100000".into()),
        ("QRL_QR_ROTATE_SECS", "0".into()),
        ("QRL_SESSION_TTL_SECS", "600".into()),
        ("RUST_LOG", "warn".into()),
        ("QRL_WEB_JWT_PRIVATE_KEY_FILE", key_file),
        ("QRL_USER_DIRECTORY_FILE", users_file),
    ];
    for (k, v) in overrides {
        env.retain(|(name, _)| name != k);
        env.push((k.to_owned(), v));
    }
    Ok(env)
}

fn service_command(bin: &Path, env: &[(String, String)], port: u16) -> Command {
    let mut cmd = Command::new(bin);
    cmd.current_dir(WORKSPACE);
    // Only the benchmark's settings: nothing from the caller's shell (a stray QRL_* would skew the numbers).
    for (k, _) in std::env::vars() {
        if k.starts_with("QRL_") || k == "REDIS_URL" || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v))).env("QRL_LISTEN_ADDR", format!("127.0.0.1:{port}"));
    cmd
}

async fn ready(base: &str) -> bool {
    let Ok(client) = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(1)).build() else {
        return false;
    };
    client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success())
}

/// A port free right now on 127.0.0.1 (the child binds it a moment later).
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The service binary must exist; a warning if its sources changed after it was built.
fn check_binary(dir: &Path, name: &str) -> Result<()> {
    let path = dir.join(name);
    let built = std::fs::metadata(&path).and_then(|m| m.modified()).map_err(|_| {
        let profile = if cfg!(debug_assertions) { "" } else { " --release" };
        format!("{} not found: run `cargo build{profile} --bins` first", path.display())
    })?;
    let root = Path::new(WORKSPACE);
    let newest = [root.join(name).join("src"), root.join("shared/src")].iter().filter_map(|d| newest_in(d)).max();
    if newest.is_some_and(|t| t > built) {
        eprintln!("push-bench: warning: {name} is older than its sources; rebuild for current numbers");
    }
    Ok(())
}

fn newest_in(dir: &Path) -> Option<SystemTime> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            if meta.is_dir() { newest_in(&e.path()) } else { meta.modified().ok() }
        })
        .max()
}
