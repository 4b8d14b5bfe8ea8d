//! A Redis of one test's own, as a child process it may kill, freeze and start again on the same port. Its data
//! survives that: an append-only file, fsynced on every write unless the test asks otherwise
//! ([`RedisProcess::start_with`]), in a directory of its own.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench::redis_probe::RedisProbe;

/// Ports below Linux's ephemeral range (32768+), so no outgoing connection takes the port while Redis is down.
const PORTS: std::ops::Range<u16> = 20_000..32_000;
/// Generous: loading a small append-only file takes milliseconds.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

pub struct RedisProcess {
    port: u16,
    dir: PathBuf,
    /// Extra `redis-server` arguments, given again on every restart.
    args: Vec<String>,
    child: Option<Child>,
}

impl RedisProcess {
    /// Starts `redis-server` on a free loopback port and waits until it answers.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// [`RedisProcess::start`] with extra `redis-server` arguments after the defaults, which they override
    /// (e.g. `["--appendfsync", "everysec"]`, `["--maxmemory", "8mb"]`); a restart keeps them.
    pub async fn start_with(args: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!("qrl-e2e-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create the Redis data directory");
        let seed = usize::from(uuid::Uuid::new_v4().as_bytes()[0]) * 41;
        let span = usize::from(PORTS.end - PORTS.start);
        for attempt in 0..20 {
            let port = PORTS.start + u16::try_from((seed + attempt * 397) % span).expect("fits");
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
                continue;
            }
            let args = args.iter().map(|&a| a.to_owned()).collect();
            let mut redis = Self { port, dir: dir.clone(), args, child: None };
            // Another process may take the port between the check and Redis binding it: then try the next.
            if redis.spawn_and_wait().await {
                return redis;
            }
        }
        panic!("could not start redis-server on any of 20 ports (is it installed? see deploy/redis.sh)");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// One command on a connection of its own (not one of the services'), its reply as text, e.g.
    /// `["SCRIPT", "FLUSH"]`, `["CLIENT", "KILL", "TYPE", "pubsub"]`; an error reply fails the test.
    pub async fn command(&self, args: &[&str]) -> String {
        let probe = RedisProbe { port: self.port, timeout: Duration::from_secs(5) };
        probe.command(args).await.unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// Freezes Redis (SIGSTOP): connections stay open and nothing is answered, as with a stuck server.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused Redis run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("redis-server is running").id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().expect("run kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    /// Kills Redis at once (SIGKILL: no shutdown save, as in a crash); connections to it break.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Already exited is fine: the point is that it is not running.
            let _ = child.kill();
            child.wait().expect("reap redis-server");
        }
    }

    /// Starts Redis again on the same port with the same data, and waits until it answers.
    pub async fn restart(&mut self) {
        self.kill();
        assert!(self.spawn_and_wait().await, "redis-server did not come back on port {}", self.port);
    }

    async fn spawn_and_wait(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.dir.join("redis.log"))
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server (is it installed? see deploy/redis.sh)");
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()).is_some() {
                // It exited: most likely the port was taken.
                self.child = None;
                return false;
            }
            if self.pong().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill();
        false
    }

    /// PING answered with PONG (not `-LOADING`, not refused).
    async fn pong(&self) -> bool {
        let ping = async {
            let conn = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.ok()?;
            conn.writable().await.ok()?;
            // Six bytes always fit an empty socket buffer.
            conn.try_write(b"PING\r\n").ok()?;
            let mut reply = [0; 16];
            loop {
                conn.readable().await.ok()?;
                match conn.try_read(&mut reply) {
                    Ok(n) => return Some(reply[..n].starts_with(b"+PONG")),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return None,
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(1), ping).await.ok().flatten().unwrap_or(false)
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
