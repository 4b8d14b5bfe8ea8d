//! A Redis Cluster of one test's own: three masters (no replicas) as child processes on loopback ports, joined
//! with `redis-cli --cluster create`, killed and deleted on drop. No persistence: the test needs none.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Client and cluster-bus ports, both below Linux's ephemeral range (32768+) and apart from
/// [`crate::RedisProcess`]'s (20000+). The bus port is set explicitly (`--cluster-port`, Redis 7+): the default,
/// client port + 10000, would land in other tests' ranges.
const PORTS: std::ops::Range<u16> = 10_000..20_000;
const MASTERS: usize = 3;
/// Creating the cluster takes a few seconds (the nodes meet, then agree on the slots).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct RedisCluster {
    dir: PathBuf,
    nodes: Vec<Node>,
}

/// One `redis-server` child (a node, a replica, a sentinel) and its port.
pub(crate) struct Node {
    pub(crate) port: u16,
    pub(crate) child: Child,
}

impl RedisCluster {
    /// Starts three cluster-enabled `redis-server`s, joins them into one cluster covering all slots, and waits
    /// until every node reports `cluster_state:ok`.
    pub async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("qrl-e2e-cluster-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create the cluster's directory");
        let mut cluster = Self { dir, nodes: Vec::new() };
        let seed = usize::from(u16::from_be_bytes(*uuid::Uuid::new_v4().as_bytes().first_chunk().expect("16 bytes")));
        let span = usize::from(PORTS.end - PORTS.start) / 2;
        for attempt in 0..60 {
            if cluster.nodes.len() == MASTERS {
                break;
            }
            // Client port in the lower half of the range, its bus port the same offset into the upper half.
            let port = PORTS.start + u16::try_from((seed + attempt * 397) % span).expect("fits");
            let bus = port + u16::try_from(span).expect("fits");
            if let Some(node) = cluster.spawn_node(port, bus).await {
                cluster.nodes.push(node);
            }
        }
        assert_eq!(cluster.nodes.len(), MASTERS, "could not start {MASTERS} cluster nodes (see deploy/redis.sh)");
        cluster.create();
        cluster.wait_until_ok().await;
        cluster
    }

    /// The seed nodes, as `QRL_REDIS_CLUSTER_NODES` lists them.
    pub fn node_urls(&self) -> Vec<String> {
        self.ports().map(|port| format!("redis://127.0.0.1:{port}")).collect()
    }

    pub fn ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.nodes.iter().map(|n| n.port)
    }

    /// The keys matching `pattern` held by the node on `port` (SCAN, never KEYS).
    pub fn keys_on(&self, port: u16, pattern: &str) -> Vec<String> {
        let out = cli(port, &["--scan", "--pattern", pattern]);
        out.lines().map(str::to_owned).collect()
    }

    async fn spawn_node(&self, port: u16, bus: u16) -> Option<Node> {
        let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
        if !free(port) || !free(bus) {
            return None;
        }
        let config = self.dir.join(format!("nodes-{port}.conf"));
        let bus = bus.to_string();
        let mut node = Node::spawn(
            &self.dir,
            port,
            &[
                "--cluster-port".as_ref(),
                bus.as_ref(),
                "--cluster-enabled".as_ref(),
                "yes".as_ref(),
                // As README "Running Redis" advises: bounded memory, the sessions nearest expiry evicted first.
                "--maxmemory".as_ref(),
                "64mb".as_ref(),
                "--maxmemory-policy".as_ref(),
                "volatile-ttl".as_ref(),
                "--cluster-config-file".as_ref(),
                config.as_os_str(),
            ],
        );
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if node.child.try_wait().ok().flatten().is_some() {
                // It exited: most likely one of its ports was taken meanwhile.
                return None;
            }
            if try_cli(port, &["ping"]).is_some_and(|out| out.trim() == "PONG") {
                return Some(node);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        node.stop();
        None
    }

    fn create(&self) {
        let addrs: Vec<String> = self.ports().map(|p| format!("127.0.0.1:{p}")).collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli (is it installed? see deploy/redis.sh)");
        assert!(out.status.success(), "redis-cli --cluster create failed:\n{}", String::from_utf8_lossy(&out.stdout));
    }

    async fn wait_until_ok(&self) {
        let started = Instant::now();
        loop {
            let ok = |port| try_cli(port, &["cluster", "info"]).is_some_and(|info| info.contains("cluster_state:ok"));
            if self.ports().all(ok) {
                return;
            }
            assert!(started.elapsed() < READY_TIMEOUT, "the cluster did not reach cluster_state:ok");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Node {
    /// `redis-server` on `port` without persistence, its data and log in `dir/<port>`, with `extra` arguments.
    pub(crate) fn spawn(dir: &Path, port: u16, extra: &[&OsStr]) -> Self {
        let data = dir.join(port.to_string());
        std::fs::create_dir_all(&data).expect("create a node's data directory");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(extra)
            .arg("--dir")
            .arg(&data)
            .arg("--logfile")
            .arg(data.join("redis.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server (is it installed? see deploy/redis.sh)");
        Self { port, child }
    }

    pub(crate) fn stop(&mut self) {
        // Already exited is fine: the point is that it is not running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `redis-cli -p <port> <args>`: its standard output, or `None` if it failed.
pub(crate) fn try_cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    // redis-cli exits 0 on a refused connection too, printing the error: tell those apart.
    (out.status.success() && !text.starts_with("Could not connect") && !text.starts_with("ERR")).then_some(text)
}

fn cli(port: u16, args: &[&str]) -> String {
    try_cli(port, args).unwrap_or_else(|| panic!("redis-cli -p {port} {args:?} failed"))
}
