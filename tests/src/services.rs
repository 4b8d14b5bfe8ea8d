//! Both service binaries as child processes, for what only a whole process shows (what `main` sets up from the
//! environment, what it does at SIGTERM): configured as `deploy/dev.env` on the test Redis with a key prefix of
//! their own and this harness's identity provider, plus the caller's variables; nothing from the caller's shell.
//! Everything else runs in-process ([`crate::Stack`]).
//!
//! The binaries are the ones next to this test binary (`target/debug`): `cargo test --workspace` builds them
//! first; a lone `cargo test -p qrlogin-e2e` needs `cargo build -p web-gateway -p mobile-api` before it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qrlogin_shared::test_support;

use crate::bench::procs::{WORKSPACE, sources_newer_than};
use crate::{Stack, USER_AUDIENCE, USER_ISSUER, USER_JWT_SECRET};

const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// One service process; killed if still running when dropped.
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
    /// Where it listens (`http://127.0.0.1:<port>`).
    url: String,
}

impl Process {
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGTERM, as an orchestrator stops it; waits for a clean exit.
    async fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success(), "could not signal {}", self.name);
        let until = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                assert!(status.success(), "{} exited with {status}:\n{}", self.name, self.log_tail());
                return;
            }
            assert!(Instant::now() < until, "{} still running {STOP_TIMEOUT:?} after SIGTERM", self.name);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// web-gateway and mobile-api, running.
pub struct Services {
    pub gateway_url: String,
    pub mobile_url: String,
    /// Their Redis key prefix (`QRL_REDIS_KEY_PREFIX`), to look at what they stored.
    pub key_prefix: String,
    processes: Vec<Process>,
    /// The environment they were started with, for [`Services::another_gateway`].
    env: Vec<(String, String)>,
}

impl Services {
    /// Starts both with `extra` on top of their settings and waits until both are ready.
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        let key_prefix = format!("qrltest-{}", uuid::Uuid::new_v4().simple());
        let mut env = test_support::dev_env();
        let ours = [
            ("REDIS_URL", test_support::redis_url()),
            ("QRL_REDIS_KEY_PREFIX", key_prefix.clone()),
            ("QRL_QR_BASE_URL", test_support::QR_BASE_URL.to_owned()),
            ("QRL_USER_JWT_SECRET", USER_JWT_SECRET.to_owned()),
            ("QRL_USER_JWT_ISSUER", USER_ISSUER.to_owned()),
            ("QRL_USER_JWT_AUDIENCE", USER_AUDIENCE.to_owned()),
            ("QRL_WORKERS", "2".to_owned()),
        ];
        env.extend(ours.into_iter().map(|(k, v)| (k.to_owned(), v)));
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let mut services = Self {
            gateway_url: String::new(),
            mobile_url: String::new(),
            key_prefix,
            processes: vec![],
            env: env.clone(),
        };
        services.gateway_url = services.spawn("web-gateway", &env).await;
        services.mobile_url = services.spawn("mobile-api", &env).await;
        services
    }

    /// A second web-gateway process on the same Redis, key prefix and settings (as behind a load balancer);
    /// returns its URL once it is ready.
    pub async fn another_gateway(&mut self) -> String {
        let env = self.env.clone();
        self.spawn("web-gateway", &env).await
    }

    /// `kill -9` of the process listening at `url`, as a crash or the OOM killer would: no drain, no answers.
    /// Waits until it is gone.
    pub fn kill(&mut self, url: &str) {
        let at = self.processes.iter().position(|p| p.url == url).unwrap_or_else(|| panic!("no process at {url}"));
        let mut process = self.processes.remove(at);
        process.child.kill().expect("SIGKILL the process");
        process.child.wait().expect("reap the killed process");
    }

    /// A browser's and a phone's clients for these services.
    pub fn stack(&self) -> Stack {
        Stack::at(&self.gateway_url, &self.mobile_url)
    }

    /// Stops both with SIGTERM and waits for both to exit cleanly.
    pub async fn terminate(mut self) {
        for process in &mut self.processes {
            process.terminate().await;
        }
    }

    async fn spawn(&mut self, name: &'static str, env: &[(String, String)]) -> String {
        let bin = binary(name);
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = bin.with_file_name(format!("{name}-{}-{}.log", self.key_prefix, self.processes.len()));
        let out = std::fs::File::create(&log).expect("create the service log");
        let mut cmd = Command::new(&bin);
        cmd.current_dir(WORKSPACE).stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(out);
        for (k, _) in std::env::vars() {
            if k.starts_with("QRL_") || k.starts_with("OTEL_") || k == "REDIS_URL" || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().map(|(k, v)| (k, v))).env("QRL_LISTEN_ADDR", format!("127.0.0.1:{port}"));
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let url = format!("http://127.0.0.1:{port}");
        self.processes.push(Process { name, child, log, url: url.clone() });
        self.wait_ready(&url).await;
        url
    }

    async fn wait_ready(&mut self, url: &str) {
        let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(1)).build().unwrap();
        let process = self.processes.last_mut().expect("just spawned");
        let until = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = process.child.try_wait().unwrap() {
                panic!("{} exited at start ({status}):\n{}", process.name, process.log_tail());
            }
            let ready = client.get(format!("{url}/readyz")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(Instant::now() < until, "{} not ready in {START_TIMEOUT:?}:\n{}", process.name, process.log_tail());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The service binary beside this test binary, which must be newer than the service's sources (else the test
/// would check yesterday's code).
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let bin = exe.parent().and_then(Path::parent).expect("a target directory").join(name);
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).unwrap_or_else(|_| {
        panic!("{} not found: build it first (`cargo build -p {name}`, or run `cargo test --workspace`)", bin.display())
    });
    assert!(
        !sources_newer_than(name, built),
        "{} is older than its sources: rebuild it (`cargo build -p {name}`)",
        bin.display()
    );
    bin
}
