//! A rolling restart behind nginx: one gateway instance is stopped (as SIGTERM does) while browsers wait on it.
//! They carry on through the same proxy, which now reaches only the other instance: event streams reconnect with
//! `Last-Event-ID` as `EventSource` does, long-polls are simply sent again. Every login the phone confirmed
//! meanwhile reaches its browser.

use std::time::{Duration, Instant};

use futures_util::future::{Either, join_all};
use qrlogin_e2e::{EventStream, Login, Stack, UPSTREAM_HEADER};
use serde_json::{Value, json};

use super::{EVENT_WAIT, Proxied, SETTLE, assert_token_for_alice, confirm, scan};

/// A stream may stay quiet (heartbeats aside) this long before the test gives up on it.
const QUIET: Duration = Duration::from_secs(30);
const WAIT_SECS: u64 = 25;
/// Bounds on how often one browser may reconnect or re-poll before the test calls it a loop.
const MAX_RECONNECTS: usize = 20;
const MAX_POLLS: usize = 500;
/// From the phone's last confirm to every browser holding its token: reconnect delays and retries included,
/// still below a long-poll's wait.
const DELIVERED_WITHIN: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Stream,
    LongPoll,
}

/// How one browser's wait went: the answer, when it came, and the gateway(s) nginx sent each of its requests to.
#[derive(Debug)]
struct Waited {
    kind: Kind,
    body: Value,
    at: Instant,
    upstreams: Vec<String>,
}

impl Waited {
    /// Whether the browser's first wait was served by the instance at `url`.
    fn started_on(&self, url: &str) -> bool {
        self.upstreams.first().is_some_and(|u| served_by(u, url))
    }

    fn ended_on(&self, url: &str) -> bool {
        self.upstreams.last().is_some_and(|u| served_by(u, url))
    }
}

/// `$upstream_addr` lists every server nginx tried; the last one answered.
fn served_by(upstream_addr: &str, url: &str) -> bool {
    let answered = upstream_addr.rsplit(',').next().unwrap_or_default().trim();
    url.strip_prefix("http://") == Some(answered)
}

fn upstream_of(headers: &reqwest::header::HeaderMap) -> String {
    let value = headers.get(UPSTREAM_HEADER).and_then(|v| v.to_str().ok());
    value.unwrap_or_else(|| panic!("nginx names no upstream (is add_header inherited?): {headers:?}")).to_owned()
}

#[tokio::test]
async fn browsers_waiting_on_a_stopping_gateway_get_their_token_through_the_other() {
    // Arrange: four scanned logins whose browsers wait through nginx, two with event streams and two with
    // long-polls, opened in the order stream, stream, long-poll, long-poll: nginx's strict round-robin puts one
    // of each kind on A.
    let p = Proxied::start().await;
    let browser = &p.browser;
    let mut logins = Vec::new();
    for _ in 0..4 {
        let login = browser.login().await;
        scan(browser, &login).await;
        logins.push(login);
    }
    let mut streams = Vec::new();
    for login in &logins[..2] {
        let mut stream = browser.events(&login.uuid, Some(&login.binding), None).await.expect("the stream opens");
        let first = stream.next_status(EVENT_WAIT).await;
        assert_eq!(first.json(), json!({ "status": "scanned" }));
        streams.push((stream, first.id().to_owned()));
    }
    // One future per browser, each waiting its own way.
    let waiters = streams
        .into_iter()
        .zip(&logins[..2])
        .map(|((stream, seen), login)| Either::Left(stream_until_token(browser, login, stream, seen)))
        .chain(logins[2..].iter().map(|login| Either::Right(long_poll_until_token(browser, login))));

    // Act: A is stopped while they wait; the phone confirms every login while A goes down.
    let restart = async {
        tokio::time::sleep(SETTLE).await;
        let confirming = async {
            // Browsers cut off from A are between connections now.
            tokio::time::sleep(Duration::from_millis(200)).await;
            for login in &logins {
                confirm(browser, login).await;
            }
            Instant::now()
        };
        let ((), confirmed) = tokio::join!(p.a.stop_gateway(), confirming);
        confirmed
    };
    let (waited, confirmed) = tokio::join!(join_all(waiters), restart);

    // Assert: every browser holds its token, soon after the phone confirmed.
    let report = |w: &Waited| format!("{w:?}\nnginx:\n{}\n{}", p.nginx.access_log(), p.nginx.error_log());
    for w in &waited {
        assert_token_for_alice(browser, &w.body).await;
        let late = w.at.saturating_duration_since(confirmed);
        assert!(late < DELIVERED_WITHIN, "token {late:?} after the confirmations: {}", report(w));
    }
    // The test proved something only if A had browsers of both kinds; they finished on B.
    for kind in [Kind::Stream, Kind::LongPoll] {
        let on_a: Vec<&Waited> = waited.iter().filter(|w| w.kind == kind && w.started_on(&p.a.gateway_url)).collect();
        assert!(!on_a.is_empty(), "no {kind:?} waited on A: {waited:?}\n{}", p.nginx.access_log());
        for w in on_a {
            assert!(w.ended_on(&p.b.gateway_url), "a {kind:?} moved from A but not to B: {}", report(w));
        }
    }
    // A is gone; nginx still serves new logins, from B.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(http.get(format!("{}/healthz", p.a.gateway_url)).send().await.is_err(), "A stopped");
    let created = browser.create_qr().await;
    assert_eq!(created.status, 201, "body: {}", created.text);
    assert!(served_by(&upstream_of(&created.headers), &p.b.gateway_url), "{:?}", created.headers);
}

/// A browser's `EventSource`: reads the stream until the token; when the server ends the stream, waits the
/// advised `retry` and reconnects with `Last-Event-ID`, through the same proxy.
async fn stream_until_token(browser: &Stack, login: &Login, mut stream: EventStream, mut seen: String) -> Waited {
    let binding = Some(login.binding.as_str());
    let mut upstreams = vec![upstream_of(&stream.headers)];
    loop {
        while let Some(event) = stream.next_within(QUIET).await {
            assert_eq!(event.event.as_deref(), Some("status"), "{event:?}");
            seen = event.id().to_owned();
            let body = event.json();
            match body["status"].as_str() {
                Some("confirmed") => return Waited { kind: Kind::Stream, body, at: Instant::now(), upstreams },
                Some("scanned") => {}
                _ => panic!("unexpected event {body} (upstreams {upstreams:?})"),
            }
        }
        assert!(upstreams.len() <= MAX_RECONNECTS, "reconnecting in a loop: {upstreams:?}");
        tokio::time::sleep(Duration::from_millis(stream.retry_ms.unwrap_or(3000))).await;
        stream = match browser.events(&login.uuid, binding, Some(&seen)).await {
            Ok(stream) => stream,
            Err(reply) => panic!("reconnect refused: {} {} (upstreams {upstreams:?})", reply.status, reply.text),
        };
        upstreams.push(upstream_of(&stream.headers));
    }
}

/// A browser long-polling: sends the poll again whenever it is answered without the token.
async fn long_poll_until_token(browser: &Stack, login: &Login) -> Waited {
    let mut upstreams = Vec::new();
    loop {
        let reply = browser.long_poll(&login.uuid, Some(&login.binding), WAIT_SECS, "scanned").await;
        upstreams.push(upstream_of(&reply.headers));
        let body = reply.expect_status(200).clone();
        match body["status"].as_str() {
            Some("confirmed") => return Waited { kind: Kind::LongPoll, body, at: Instant::now(), upstreams },
            Some("scanned") => assert!(upstreams.len() <= MAX_POLLS, "polling in a loop: {upstreams:?}"),
            _ => panic!("unexpected answer {body} (upstreams {upstreams:?})"),
        }
    }
}
