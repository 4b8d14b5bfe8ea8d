//! One waiting browser per task, in each of the three ways a page can wait for its login: an event stream, a
//! long-poll re-issued while nothing changes, or a plain poll every second. Each notes the instant the
//! answer carrying the web token arrived.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::{ACCEPT, COOKIE};
use serde_json::Value;
use tokio::time::{Instant, MissedTickBehavior};

use crate::login::{BROWSER_USER_AGENT, REQUEST_TIMEOUT, Session};
use crate::{Mode, Result};

/// The long-poll's wait, as a page would ask for it (the gateway's maximum).
const LONG_POLL_WAIT_SECS: u64 = 30;
/// The plain poll's period: the gateway's advised `poll_interval_ms`.
const POLL_PERIOD: Duration = Duration::from_secs(1);

/// What the browsers share: how many are waiting (or gave up), for the start of the confirms.
#[derive(Default)]
pub(crate) struct Progress {
    /// Browsers that have seen `scanned` (stream and plain poll; a long-poll answers nothing until it ends).
    pub(crate) connected: AtomicUsize,
    pub(crate) failed: AtomicUsize,
}

/// How one browser fared.
#[derive(Default)]
pub(crate) struct Waited {
    /// When the answer with the token arrived.
    pub(crate) got_token: Option<Instant>,
    pub(crate) error: Option<String>,
    /// Plain polls answered 429 `slow-down`.
    pub(crate) slow_downs: u32,
    /// Long-polls that ended unchanged and were sent again.
    pub(crate) reissued: u32,
}

/// A browser of its own: its own connection (and pool), as a real one would have.
pub(crate) fn browser_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .user_agent(BROWSER_USER_AGENT)
        .connect_timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(2)
        .build()?)
}

/// One browser, about to wait.
pub(crate) struct Waiter {
    pub(crate) mode: Mode,
    pub(crate) client: reqwest::Client,
    pub(crate) gateway: String,
    pub(crate) session: Arc<Session>,
    /// This browser's place among `browsers`, to spread the plain polls over one period.
    pub(crate) index: usize,
    pub(crate) browsers: usize,
    pub(crate) progress: Arc<Progress>,
    /// Gives up then.
    pub(crate) until: Instant,
}

impl Waiter {
    /// Waits, the `mode` way, until the session answers `confirmed` with a token.
    pub(crate) async fn run(self) -> Waited {
        let Self { mode, client, gateway, session, index, browsers, progress, until } = self;
        let mut waited = Waited::default();
        let mut b = Browser { client, gateway, session, progress: Arc::clone(&progress), connected: false };
        let (mut reissued, mut slow_downs) = (0, 0);
        let run = async {
            match mode {
                Mode::Sse => b.stream().await,
                Mode::LongPoll => b.long_poll(&mut reissued).await,
                Mode::Poll1s => {
                    // Browsers opened their pages at different moments: phases spread evenly over one period.
                    let offset = POLL_PERIOD.mul_f64(index as f64 / browsers as f64);
                    tokio::time::sleep(offset).await;
                    b.poll(&mut slow_downs).await
                }
            }
        };
        let result = tokio::time::timeout_at(until, run).await;
        match result {
            Ok(Ok(at)) => waited.got_token = Some(at),
            Ok(Err(e)) => waited.error = Some(e.to_string()),
            Err(_) => waited.error = Some("no token before the deadline".into()),
        }
        (waited.reissued, waited.slow_downs) = (reissued, slow_downs);
        if waited.error.is_some() && !b.connected {
            progress.failed.fetch_add(1, Ordering::Relaxed);
        }
        waited
    }
}

struct Browser {
    client: reqwest::Client,
    gateway: String,
    session: Arc<Session>,
    progress: Arc<Progress>,
    connected: bool,
}

enum Seen {
    Waiting,
    Token,
}

impl Browser {
    fn get(&self, path_and_query: &str) -> reqwest::RequestBuilder {
        let url = format!("{}/v1/qr/{}{path_and_query}", self.gateway, self.session.uuid);
        self.client.get(url).header(COOKIE, self.session.cookie.clone())
    }

    /// Judges one status body: still waiting, or the token; anything else is an error.
    fn judge(&mut self, body: &str) -> Result<Seen> {
        let json: Value = serde_json::from_str(body).map_err(|e| format!("bad JSON {body:?}: {e}"))?;
        match json["status"].as_str() {
            Some("scanned") => {
                if !self.connected {
                    self.connected = true;
                    self.progress.connected.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Seen::Waiting)
            }
            Some("confirmed") if json["token"].as_str().is_some_and(|t| !t.is_empty()) => Ok(Seen::Token),
            _ => Err(format!("unexpected answer {body}").into()),
        }
    }

    /// `GET /v1/qr/{uuid}/events` until the `confirmed` event.
    async fn stream(&mut self) -> Result<Instant> {
        let mut res = self.get("/events").header(ACCEPT, "text/event-stream").send().await?;
        if !res.status().is_success() {
            return Err(format!("event stream answered {}", res.status()).into());
        }
        let mut buffer = String::new();
        while let Some(chunk) = res.chunk().await? {
            let at = Instant::now();
            buffer.push_str(std::str::from_utf8(&chunk)?);
            // Events end with a blank line; comments (keep-alives) and `retry:` carry no data.
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                let data: Vec<&str> = event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect();
                if !data.is_empty()
                    && let Seen::Token = self.judge(&data.join("\n"))?
                {
                    return Ok(at);
                }
            }
        }
        Err("event stream ended without the token".into())
    }

    /// `GET /v1/qr/{uuid}?wait=30&known=scanned`, sent again whenever it ends unchanged.
    async fn long_poll(&mut self, reissued: &mut u32) -> Result<Instant> {
        let query = format!("?wait={LONG_POLL_WAIT_SECS}&known=scanned");
        loop {
            let res = self.get(&query).timeout(Duration::from_secs(LONG_POLL_WAIT_SECS + 10)).send().await?;
            let status = res.status();
            let body = res.text().await?;
            let at = Instant::now();
            if !status.is_success() {
                return Err(format!("long-poll answered {status}: {body}").into());
            }
            match self.judge(&body)? {
                Seen::Token => return Ok(at),
                Seen::Waiting => *reissued += 1,
            }
        }
    }

    /// `GET /v1/qr/{uuid}` every second.
    async fn poll(&mut self, slow_downs: &mut u32) -> Result<Instant> {
        let mut ticks = tokio::time::interval(POLL_PERIOD);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let res = self.get("").timeout(REQUEST_TIMEOUT).send().await?;
            let status = res.status();
            let body = res.text().await?;
            let at = Instant::now();
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                *slow_downs += 1;
                continue;
            }
            if !status.is_success() {
                return Err(format!("poll answered {status}: {body}").into());
            }
            if let Seen::Token = self.judge(&body)? {
                return Ok(at);
            }
        }
    }
}
