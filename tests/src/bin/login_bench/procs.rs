//! The child processes (Redis, web-gateway, mobile-api), each owned by a guard that kills it when dropped
//! (also on an error, the time limit or Ctrl-C), with its output in a log file; their CPU time; pinning.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use crate::{Options, Result, probe};

/// The workspace root, where `deploy/dev.env` and the files it names live.
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// Bound on a child becoming ready.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Linux reports utime/stime in clock ticks of USER_HZ, which is 100 on every architecture it runs on.
const TICKS_PER_SEC: u64 = 100;

/// A child process that dies with its guard.
pub(crate) struct Guard {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Guard {
    fn spawn(name: &'static str, mut cmd: Command, log: PathBuf) -> Result<Self> {
        let out = File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        cmd.stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out);
        let child = cmd.spawn().map_err(|e| format!("cannot start {name} ({:?}): {e}", cmd.get_program()))?;
        Ok(Self { name, child, log })
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
                let tail: Vec<&str> = log.lines().rev().take(10).collect::<Vec<_>>().into_iter().rev().collect();
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
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Already gone is fine; a failure to kill is reported, not fatal.
        if let Err(e) = self.child.kill()
            && e.kind() != std::io::ErrorKind::InvalidInput
        {
            eprintln!("login-bench: could not kill {} (pid {}): {e}", self.name, self.pid());
        }
        let _ = self.child.wait();
    }
}

/// Redis and both services, for the whole run.
pub(crate) struct Stack {
    pub(crate) redis_port: u16,
    pub(crate) gateway_url: String,
    pub(crate) mobile_url: String,
    /// `deploy/dev.env` with the bench's settings: what both services run with.
    pub(crate) env: Vec<(String, String)>,
    /// App users in the bench's directory, `bench-0` to `bench-<users - 1>`.
    pub(crate) users: usize,
    gateway: Guard,
    mobile: Guard,
    // Declared last: dropped after the services that use it.
    redis: Guard,
}

impl Stack {
    pub(crate) async fn start(options: &Options, users: usize) -> Result<Self> {
        let bin_dir = match &options.bin_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_exe()?.parent().map(Path::to_path_buf).ok_or("no directory of this binary")?,
        };
        for bin in ["web-gateway", "mobile-api"] {
            if !bin_dir.join(bin).is_file() {
                return Err(format!("{} not found: build it first (see --help)", bin_dir.join(bin).display()).into());
            }
        }
        let log_dir = bin_dir.join("login-bench-logs");
        std::fs::create_dir_all(&log_dir)?;
        let pin = options.pin.then_some(options.server_cpus.as_str());

        let redis_port = match options.redis_port {
            Some(port) => port,
            None => free_port()?,
        };
        let mut cmd = pinned(pin, Path::new("redis-server"));
        cmd.current_dir(&log_dir).args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1"]);
        cmd.args(["--save", "", "--appendonly", "no", "--daemonize", "no"]);
        let mut redis = Guard::spawn("redis-server", cmd, log_dir.join("redis.log"))
            .map_err(|e| format!("{e}\nredis-server is needed on PATH (Debian: apt-get install redis-server)"))?;
        redis.wait_ready(async || probe::command(redis_port, &["PING"]).await.is_ok()).await?;

        let users_file = log_dir.join("users.json");
        std::fs::write(&users_file, user_directory(users))?;
        let mut env = service_env(redis_port, &users_file)?;
        for (k, v) in &options.env {
            env.retain(|(name, _)| name != k);
            env.push((k.clone(), v.clone()));
        }
        let start = async |name: &'static str, log: &str| -> Result<(Guard, String)> {
            let port = free_port()?;
            let url = format!("http://127.0.0.1:{port}");
            let cmd = service_command(pin, &bin_dir.join(name), &env, port);
            let mut guard = Guard::spawn(name, cmd, log_dir.join(log))?;
            guard.wait_ready(async || ready(&url).await).await?;
            Ok((guard, url))
        };
        let (mobile, mobile_url) = start("mobile-api", "mobile-api.log").await?;
        let (gateway, gateway_url) = start("web-gateway", "web-gateway.log").await?;
        Ok(Self { redis_port, gateway_url, mobile_url, env, users, gateway, mobile, redis })
    }

    /// CPU time used so far by web-gateway, mobile-api and Redis.
    pub(crate) fn cpu(&self) -> Result<[Duration; 3]> {
        Ok([cpu_time(self.gateway.pid())?, cpu_time(self.mobile.pid())?, cpu_time(self.redis.pid())?])
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

/// `deploy/dev.env`, paths made absolute, with the bench's Redis and user directory. Every rate limit keeps
/// its default; the bench spreads its logins over addresses and users instead. The one browser that polls
/// three times in a second (a check code) would be slowed down, as a real one would.
fn service_env(redis_port: u16, users_file: &Path) -> Result<Vec<(String, String)>> {
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
    let key_file = env.iter().find(|(k, _)| k == "QRL_WEB_JWT_PRIVATE_KEY_FILE").map(|(_, v)| root.join(v));
    let key_file = key_file.unwrap_or_else(|| root.join("deploy/dev/web-jwt-es256.pem"));
    let overrides = [
        ("REDIS_URL", format!("redis://127.0.0.1:{redis_port}")),
        // Each simulated browser's address comes as X-Forwarded-For from the bench on 127.0.0.1.
        ("QRL_TRUSTED_PROXIES", "127.0.0.1".into()),
        ("RUST_LOG", "warn".into()),
        ("QRL_WEB_JWT_PRIVATE_KEY_FILE", key_file.display().to_string()),
        ("QRL_USER_DIRECTORY_FILE", users_file.display().to_string()),
    ];
    for (k, v) in overrides {
        env.retain(|(name, _)| name != k);
        env.push((k.to_owned(), v));
    }
    Ok(env)
}

fn service_command(pin: Option<&str>, bin: &Path, env: &[(String, String)], port: u16) -> Command {
    let mut cmd = pinned(pin, bin);
    cmd.current_dir(WORKSPACE);
    // Only the bench's settings: nothing from the caller's shell (a stray QRL_* would skew the numbers).
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
    fn own_cpu_time_reads_and_grows() {
        let before = own_cpu_time().unwrap();
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(60) {
            std::hint::black_box(0u64.wrapping_add(1));
        }

        assert!(own_cpu_time().unwrap() > before);
    }
}
