//! A headless Chromium of the test's own: a chromedriver child process on a free loopback port, a fresh
//! profile directory, and a fantoccini WebDriver session. One per test, so tests in this binary run in parallel
//! without sharing cookies, storage or a driver.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Map, Value, json};

use crate::shots::PAGE_SIZE;

/// Debian's `chromium` package; chromedriver is told to use exactly this binary.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's `chromium-driver` package installs it as /usr/bin/chromedriver.
const CHROMEDRIVER: &str = "chromedriver";
const INSTALL: &str = "the browser tests need Debian's Chromium and its WebDriver: as root, run \
                       `apt-get update -qq && apt-get install -y -qq chromium chromium-driver` \
                       (deploy/test.sh and .ci/run do this when they are missing)";
/// chromedriver answers `/status` within a fraction of a second; a cold start on a loaded machine takes longer.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(15);
/// Another process may take the free port between our probe and chromedriver's bind: try again elsewhere.
const DRIVER_START_ATTEMPTS: u32 = 3;

/// The chromedriver process, leader of a process group of its own that the Chromium it starts joins: on drop
/// the whole group is killed, also when the test panics (a killed chromedriver leaves its Chromium running).
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    async fn start(log: &Path) -> Self {
        let mut last_failure = String::new();
        for _ in 0..DRIVER_START_ATTEMPTS {
            let port = free_port();
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn();
            let child = match child {
                Ok(child) => child,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    panic!("`{CHROMEDRIVER}` is not on PATH: {INSTALL}")
                }
                Err(e) => panic!("cannot run `{CHROMEDRIVER}` ({e}): {INSTALL}"),
            };
            let mut driver = Self { child, url: format!("http://127.0.0.1:{port}") };
            match driver.wait_ready().await {
                Ok(()) => return driver,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("chromedriver did not start: {last_failure}; the end of its log:\n{}", log_tail(log))
    }

    /// Polls `GET /status` until chromedriver says it is ready, or it exits, or the timeout passes.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(2)).build().expect("client");
        let started = Instant::now();
        while started.elapsed() < DRIVER_READY_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("it exited with {status}"));
            }
            if let Ok(res) = http.get(format!("{}/status", self.url)).send().await
                && let Ok(body) = res.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("not ready within {DRIVER_READY_TIMEOUT:?}"))
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // Already gone is fine; neither a stuck driver nor its browser may outlive the test.
        let group = format!("-{}", self.child.id());
        let killed = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        if !killed.is_ok_and(|status| status.success()) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("bound address").port()
}

/// A headless Chromium session. [`Browser::quit`] ends it; dropping it only kills the driver.
pub(crate) struct Browser {
    pub(crate) client: Client,
    // Field order is drop order: the driver (and with it any Chromium left), then the profile they used.
    _driver: Chromedriver,
    _profile: Profile,
}

/// Chromium's user data directory (and the driver's log), removed on drop.
struct Profile(PathBuf);

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    pub(crate) async fn launch() -> Self {
        assert!(Path::new(CHROMIUM).exists(), "{CHROMIUM} not found: {INSTALL}");
        let profile = Profile(std::env::temp_dir().join(format!("qrlogin-browser-{}", uuid::Uuid::new_v4())));
        std::fs::create_dir_all(&profile.0).expect("create the browser profile directory");

        let log = profile.0.join("chromedriver.log");
        let driver = Chromedriver::start(&log).await;

        let client = ClientBuilder::rustls()
            .expect("rustls with the system's root certificates")
            .capabilities(capabilities(&profile.0.join("chromium")))
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver started no Chromium session ({e}); {INSTALL}. The end of its log:\n{}",
                    log_tail(&log)
                )
            });
        Self { client, _driver: driver, _profile: profile }
    }

    /// Ends the WebDriver session (Chromium exits), then the driver, then removes the profile.
    pub(crate) async fn quit(self) {
        // A session that is already broken cannot be closed; the driver's drop kills its Chromium then.
        let _ = self.client.clone().close().await;
    }
}

/// The last lines of chromedriver's log (which also has Chromium's own complaints), for a failure message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| format!("({}: {e})", log.display()));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn capabilities(user_data_dir: &Path) -> Map<String, Value> {
    let options = json!({
        "binary": CHROMIUM,
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--window-size=480,800",
            format!("--user-data-dir={}", user_data_dir.display()),
        ],
        // Headless Chromium keeps windows at least 500 px wide and subtracts its (invisible) toolbar from the
        // height, so the page itself is set to the phone-sized viewport the screenshots show. Desktop otherwise:
        // no touch, no mobile user agent or viewport rules.
        "mobileEmulation": {
            "deviceMetrics": { "width": PAGE_SIZE.0, "height": PAGE_SIZE.1, "pixelRatio": 1, "mobile": false, "touch": false },
        },
    });
    let mut caps = Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("goog:chromeOptions".into(), options);
    caps
}
