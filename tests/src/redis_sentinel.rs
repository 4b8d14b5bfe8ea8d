//! A Sentinel-managed Redis of one test's own: a primary, one replica and three sentinels (quorum 2) as child
//! processes on loopback ports, killed and deleted on drop. The sentinels judge a primary down after 1 s
//! without an answer, so a failover takes a few seconds. No persistence: the test needs none.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis_cluster::{Node as Process, try_cli};

/// Below [`crate::RedisCluster`]'s and [`crate::RedisProcess`]'s ranges and the test Redis's 6390.
const PORTS: std::ops::Range<u16> = 5_000..6_300;
const SENTINELS: usize = 3;
/// The name the sentinels monitor the primary under (`QRL_REDIS_SENTINEL_MASTER`).
pub const MASTER_NAME: &str = "qrlogin";
const READY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct RedisSentinel {
    dir: PathBuf,
    primary: Option<Process>,
    replica: Process,
    sentinels: Vec<Process>,
}

impl RedisSentinel {
    /// Starts the primary, its replica (waiting until it is in sync) and three sentinels (waiting until each
    /// knows the replica and the other sentinels).
    pub async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("qrl-e2e-sentinel-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create the sentinel setup's directory");
        let mut ports = free_ports(2 + SENTINELS).into_iter();
        let mut port = || ports.next().expect("enough free ports");
        let primary = Process::spawn(&dir, port(), &[]);
        let replica_of = primary.port.to_string();
        let replica =
            Process::spawn(&dir, port(), &["--replicaof".as_ref(), "127.0.0.1".as_ref(), replica_of.as_ref()]);
        wait_for(replica.port, &["info", "replication"], "master_link_status:up").await;
        let sentinels = (0..SENTINELS).map(|_| spawn_sentinel(&dir, port(), primary.port)).collect();
        let setup = Self { dir, primary: Some(primary), replica, sentinels };
        for sentinel in &setup.sentinels {
            let master = ["sentinel", "master", MASTER_NAME];
            wait_for(sentinel.port, &master, &format!("num-other-sentinels\n{}", SENTINELS - 1)).await;
            wait_for(sentinel.port, &master, "num-slaves\n1").await;
        }
        setup
    }

    /// The sentinels, as `QRL_REDIS_SENTINELS` lists them.
    pub fn sentinel_urls(&self) -> Vec<String> {
        self.sentinels.iter().map(|s| format!("redis://127.0.0.1:{}", s.port)).collect()
    }

    /// Kills the primary at once (SIGKILL: a crash), after its replica has every write it acknowledged.
    pub fn kill_primary(&mut self) {
        if let Some(primary) = &self.primary {
            // Asynchronous replication: without this the last writes could be lost in the failover (README).
            let synced = try_cli(primary.port, &["wait", "1", "2000"]);
            assert_eq!(synced.as_deref().map(str::trim), Some("1"), "the replica did not catch up");
        }
        if let Some(mut primary) = self.primary.take() {
            primary.stop();
        }
    }

    /// Waits until every sentinel names the replica as the primary; returns when that happened.
    pub async fn wait_for_promotion(&self) -> Instant {
        let expected = self.replica.port.to_string();
        for sentinel in &self.sentinels {
            wait_for(sentinel.port, &["sentinel", "get-master-addr-by-name", MASTER_NAME], &expected).await;
        }
        Instant::now()
    }
}

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        for process in self.sentinels.iter_mut().chain(self.primary.as_mut()).chain([&mut self.replica]) {
            process.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A sentinel monitoring the primary on `primary`: down after 1 s of silence, failed over by a quorum of 2.
fn spawn_sentinel(dir: &std::path::Path, port: u16, primary: u16) -> Process {
    let conf = dir.join(format!("sentinel-{port}.conf"));
    let text = format!(
        "port {port}\nbind 127.0.0.1\ndir {dir}\nlogfile {dir}/sentinel-{port}.log\n\
         sentinel monitor {MASTER_NAME} 127.0.0.1 {primary} 2\n\
         sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
         sentinel failover-timeout {MASTER_NAME} 10000\n\
         sentinel parallel-syncs {MASTER_NAME} 1\n",
        dir = dir.display()
    );
    // The sentinel rewrites its file as it learns the setup: it must be its own and writable.
    std::fs::write(&conf, text).expect("write the sentinel's configuration");
    let child = Command::new("redis-server")
        .arg(&conf)
        .arg("--sentinel")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server --sentinel (is it installed? see deploy/redis.sh)");
    Process { port, child }
}

/// `n` ports free now, apart from each other, in [`PORTS`].
fn free_ports(n: usize) -> Vec<u16> {
    let seed = usize::from(u16::from_be_bytes(*uuid::Uuid::new_v4().as_bytes().first_chunk().expect("16 bytes")));
    let span = usize::from(PORTS.end - PORTS.start);
    let candidates = (0..200).map(|i| PORTS.start + u16::try_from((seed + i * 397) % span).expect("fits"));
    let free: Vec<u16> =
        candidates.filter(|&p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()).take(n).collect();
    assert_eq!(free.len(), n, "not enough free ports for the sentinel setup");
    free
}

/// Waits until `redis-cli -p <port> <args>` prints `expected` (a substring).
async fn wait_for(port: u16, args: &[&str], expected: &str) {
    let started = Instant::now();
    while !try_cli(port, args).is_some_and(|out| out.contains(expected)) {
        assert!(started.elapsed() < READY_TIMEOUT, "port {port}: {args:?} never showed {expected:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
