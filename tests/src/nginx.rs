//! Debian's nginx in front of the services, started with the project's own proxy config
//! (deploy/nginx/qrlogin.conf) rewritten only for addresses: the upstreams' host names become the test's loopback
//! ports, `listen 8080` a free port and the access log's path one in the test's own directory (its format stays
//! the project's). A child process of the test with a directory of its own, gone on drop.
//!
//! The main config around it is the test's: the error log and temporary files in that directory, one worker (so
//! the
//! round-robin over the two gateways is one strict rotation), and an `X-Test-Upstream` response header naming
//! the gateway(s) nginx passed the request to, so a test can tell which instance served a browser.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The project's proxy config, exactly as deployed.
const PROJECT_CONF: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/nginx/qrlogin.conf");
/// Debian's `nginx` package installs it here; /usr/sbin is not on every user's PATH.
const DEBIAN_NGINX: &str = "/usr/sbin/nginx";
const INSTALL: &str = "the proxy tests need Debian's nginx: as root, run `apt-get update -qq && apt-get install -y \
                       -qq nginx` (deploy/test.sh and .ci/run do this when it is missing)";
/// The response header (added by the test's main config) naming the upstream(s) tried, as `$upstream_addr`.
pub const UPSTREAM_HEADER: &str = "x-test-upstream";
/// Ports below Linux's ephemeral range (32768+), so no outgoing connection takes the port meanwhile.
const PORTS: std::ops::Range<u16> = 20_000..32_000;
const START_ATTEMPTS: usize = 5;
/// nginx starts in milliseconds; a loaded machine may take longer.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Nginx {
    /// `http://127.0.0.1:<port>`: where the browser and the phone send everything.
    pub url: String,
    dir: PathBuf,
    child: Option<Child>,
}

impl Nginx {
    /// Starts nginx in front of two gateway instances and one mobile-api, given as `http://127.0.0.1:<port>`
    /// URLs; checks the config with `nginx -t` first and waits until the proxy accepts connections.
    pub async fn start(gateway_a: &str, gateway_b: &str, mobile_api: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("qrl-e2e-nginx-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create the nginx directory");
        // nginx's worker (nobody, when the test runs as root) must be able to enter it, whatever the umask.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("open the nginx directory");
        let mut nginx = Self { url: String::new(), dir, child: None };
        let seed = usize::from(uuid::Uuid::new_v4().as_bytes()[0]) * 53;
        let span = usize::from(PORTS.end - PORTS.start);
        let mut failures = Vec::new();
        for attempt in 0..START_ATTEMPTS {
            let port = PORTS.start + u16::try_from((seed + attempt * 397) % span).expect("fits");
            if TcpListener::bind(("0.0.0.0", port)).is_err() {
                continue;
            }
            let site = site_config(gateway_a, gateway_b, mobile_api, port, &nginx.dir);
            std::fs::write(nginx.dir.join("qrlogin.conf"), site).expect("write qrlogin.conf");
            std::fs::write(nginx.dir.join("nginx.conf"), main_config(&nginx.dir)).expect("write nginx.conf");
            nginx.check_config();
            nginx.url = format!("http://127.0.0.1:{port}");
            // Another process may take the port between the check and nginx binding it: then try another.
            match nginx.spawn_and_wait(port).await {
                Ok(()) => return nginx,
                Err(failure) => failures.push(failure),
            }
        }
        panic!("nginx did not start in {START_ATTEMPTS} attempts: {failures:?}\n{}", nginx.error_log());
    }

    /// nginx's error log so far (upstream failures and retries show up here), for failure messages.
    pub fn error_log(&self) -> String {
        read_or_note(&self.dir.join("error.log"))
    }

    /// The access log so far, in the project's `qrlogin` format: one line per request with the upstream(s) tried
    /// and their statuses.
    pub fn access_log(&self) -> String {
        read_or_note(&self.dir.join("access.log"))
    }

    /// `nginx -t` on the written config: a config nginx refuses fails the test with nginx's own words.
    fn check_config(&self) {
        let out = self.command().arg("-t").output().unwrap_or_else(|e| panic!("cannot run nginx ({e}): {INSTALL}"));
        assert!(
            out.status.success(),
            "nginx refuses the config built from deploy/nginx/qrlogin.conf:\n{}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.error_log()
        );
    }

    async fn spawn_and_wait(&mut self, port: u16) -> Result<(), String> {
        let child = self
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Leader of a group of its own with its worker: on drop the whole group goes, even if the test panics.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run nginx ({e}): {INSTALL}"));
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                self.child = None;
                return Err(format!("port {port}: nginx exited with {status}"));
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill();
        Err(format!("port {port}: not accepting connections within {READY_TIMEOUT:?}"))
    }

    /// nginx with this directory as prefix, its config and error log there; in the foreground.
    fn command(&self) -> Command {
        let binary = if Path::new(DEBIAN_NGINX).exists() { DEBIAN_NGINX } else { "nginx" };
        let mut command = Command::new(binary);
        command
            .arg("-p")
            .arg(&self.dir)
            // Before it reads the config nginx logs to its built-in path; keep even that in the directory.
            .arg("-e")
            .arg(self.dir.join("error.log"))
            .arg("-c")
            .arg(self.dir.join("nginx.conf"))
            .arg("-g")
            .arg(format!("daemon off; pid {};", self.dir.join("nginx.pid").display()));
        command
    }

    fn kill(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        // The master and its worker; already gone is fine.
        let group = format!("-{}", child.id());
        let killed = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        if !killed.is_ok_and(|status| status.success()) {
            let _ = child.kill();
        }
        let _ = child.wait();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// deploy/nginx/qrlogin.conf with only the three upstream addresses and the listen port replaced. Each must be
/// there exactly once: a config that changed shape fails here, by name, instead of proxying somewhere else.
fn site_config(gateway_a: &str, gateway_b: &str, mobile_api: &str, port: u16, dir: &Path) -> String {
    let mut conf = std::fs::read_to_string(PROJECT_CONF).expect("deploy/nginx/qrlogin.conf is readable");
    let listen = format!("listen {port};");
    let access_log = dir.join("access.log").display().to_string();
    for (from, to) in [
        ("gateway-a:8080", host_port(gateway_a)),
        ("gateway-b:8080", host_port(gateway_b)),
        ("mobile-api:8080", host_port(mobile_api)),
        ("listen 8080;", listen.as_str()),
        ("/var/log/nginx/access.log", access_log.as_str()),
    ] {
        assert_eq!(conf.matches(from).count(), 1, "deploy/nginx/qrlogin.conf should name `{from}` exactly once");
        conf = conf.replace(from, to);
    }
    conf
}

fn host_port(url: &str) -> &str {
    url.strip_prefix("http://").unwrap_or_else(|| panic!("not an http:// URL: {url}")).trim_end_matches('/')
}

fn main_config(dir: &Path) -> String {
    let dir = dir.display();
    // No `user`: as root the worker runs as nobody, which may enter the (0755) directory and owns the temporary
    // paths nginx creates in it; as another user nginx simply runs as that user.
    format!(
        r#"worker_processes 1;
error_log {dir}/error.log info;
events {{
    worker_connections 512;
}}
http {{
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # Inherited by the project's server block, which adds no header of its own.
    add_header X-Test-Upstream $upstream_addr always;
    include {dir}/qrlogin.conf;
}}
"#
    )
}

fn read_or_note(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()))
}
