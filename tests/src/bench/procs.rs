//! The benchmarks' child processes (Redis, web-gateway, mobile-api), each owned by a [`Guard`] that kills it
//! when dropped (also on an error, a panic, the time limit or Ctrl-C), with its output in a log file; how a
//! service is started, configured and found ready; whether a service binary is older than its sources.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use qrlogin_shared::test_support;
use tokio::time::Instant;

use super::redis_probe::RedisProbe;
use super::{Result, tool_name};

/// The workspace root, where `deploy/dev.env` and the files it names live; the services run from there.
pub const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// Bound on a child becoming ready.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A child process that dies with its guard.
pub struct Guard {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Guard {
    /// Starts `cmd` with its stdout and stderr in `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: PathBuf) -> Result<Self> {
        let out = File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        cmd.stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out);
        let child = cmd.spawn().map_err(|e| format!("cannot start {name} ({:?}): {e}", cmd.get_program()))?;
        Ok(Self { name: name.to_owned(), child, log })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `ready` answers, failing early (with the end of its log) if the process exits.
    async fn wait_ready(&mut self, ready: impl AsyncFn() -> bool) -> Result<()> {
        let until = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(10)..].join("\n");
                return Err(format!("{} exited ({status}):\n{tail}", self.name).into());
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
        // Already gone is fine; a failure to kill is reported, not fatal (we may be unwinding already).
        if let Err(e) = self.child.kill()
            && e.kind() != std::io::ErrorKind::InvalidInput
        {
            eprintln!("{}: could not kill {} (pid {}): {e}", tool_name(), self.name, self.pid());
        }
        let _ = self.child.wait();
    }
}

/// `cmd` (redis-server, perhaps behind taskset, perhaps with settings of the caller's) on `redis.port` of
/// 127.0.0.1, persisting nothing, with its files in `log_dir`; returned once it answers PING.
pub async fn start_redis(mut cmd: Command, redis: RedisProbe, log_dir: &Path) -> Result<Guard> {
    cmd.current_dir(log_dir).args(["--port", &redis.port.to_string(), "--bind", "127.0.0.1"]);
    cmd.args(["--save", "", "--appendonly", "no", "--daemonize", "no"]);
    let mut guard = Guard::spawn("redis-server", cmd, log_dir.join("redis.log"))
        .map_err(|e| format!("{e}\nredis-server is needed on PATH (Debian: apt-get install redis-server)"))?;
    guard.wait_ready(async || redis.command(&["PING"]).await.is_ok()).await?;
    Ok(guard)
}

/// `cmd` (a service binary, perhaps behind taskset) on a free port of 127.0.0.1, from the workspace root, with
/// `env` and nothing from the caller's shell (a stray QRL_* would skew the numbers); returned once `/readyz`
/// answers, with its base URL.
pub async fn start_service(
    name: &str,
    mut cmd: Command,
    env: &[(String, String)],
    log: PathBuf,
) -> Result<(Guard, String)> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    cmd.current_dir(WORKSPACE);
    for (k, _) in std::env::vars() {
        if k.starts_with("QRL_") || k == "REDIS_URL" || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v))).env("QRL_LISTEN_ADDR", format!("127.0.0.1:{port}"));
    let mut guard = Guard::spawn(name, cmd, log)?;
    guard.wait_ready(async || ready(&url).await).await?;
    Ok((guard, url))
}

async fn ready(base: &str) -> bool {
    let Ok(client) = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(1)).build() else {
        return false;
    };
    client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success())
}

/// A port free right now on 127.0.0.1 (the child binds it a moment later).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `deploy/dev.env` (its file paths made absolute) on the Redis at `redis_port`, logging warnings only: what a
/// bench starts every service with before its own settings.
pub fn service_env(redis_port: u16) -> Vec<(String, String)> {
    let mut env = test_support::dev_env();
    let ours = [("REDIS_URL", format!("redis://127.0.0.1:{redis_port}")), ("RUST_LOG", "warn".into())];
    set_env(&mut env, ours);
    env
}

/// Each `(key, value)` replaces any earlier setting of `key` in `env`.
pub fn set_env<K: Into<String>>(env: &mut Vec<(String, String)>, changes: impl IntoIterator<Item = (K, String)>) {
    for (k, v) in changes {
        let k = k.into();
        env.retain(|(name, _)| *name != k);
        env.push((k, v));
    }
}

/// `dir/name`, which must exist; a warning if its sources changed after it was built.
pub fn check_binary(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    let built = std::fs::metadata(&path).and_then(|m| m.modified()).map_err(|_| {
        let profile = if cfg!(debug_assertions) { "" } else { " --release" };
        format!("{} not found: run `cargo build{profile} --bins` first", path.display())
    })?;
    if sources_newer_than(name, built) {
        eprintln!("{}: warning: {name} is older than its sources; rebuild for current numbers", tool_name());
    }
    Ok(path)
}

/// Whether a source file of service `name` (its crate or `shared`) changed after `built`.
pub fn sources_newer_than(name: &str, built: SystemTime) -> bool {
    let root = Path::new(WORKSPACE);
    let newest = [root.join(name).join("src"), root.join("shared/src")].iter().filter_map(|d| newest_in(d)).max();
    newest.is_some_and(|t| t > built)
}

fn newest_in(dir: &Path) -> Option<SystemTime> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            if meta.is_dir() { newest_in(&e.path()) } else { meta.modified().ok() }
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_replaces_the_earlier_one_of_its_key() {
        let mut env = service_env(6399);
        set_env(&mut env, [("RUST_LOG", "info".to_owned()), ("QRL_WORKERS", "1".to_owned())]);

        let get = |k: &str| env.iter().filter(|(name, _)| name == k).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
        assert_eq!(get("RUST_LOG"), ["info"]);
        assert_eq!(get("REDIS_URL"), ["redis://127.0.0.1:6399"]);
        assert_eq!(get("QRL_WORKERS"), ["1"]);
        assert!(get("QRL_WEB_JWT_PRIVATE_KEY_FILE")[0].starts_with('/'));
    }

    #[test]
    fn a_binary_built_before_its_last_source_change_is_stale() {
        assert!(sources_newer_than("web-gateway", SystemTime::UNIX_EPOCH));
        assert!(!sources_newer_than("web-gateway", SystemTime::now() + Duration::from_secs(3600)));
    }
}
