//! Prometheus metrics. One registry per process (the `metrics` facade has one global recorder), installed on
//! first use; `GET /metrics` renders it. Several instances in one process (tests) therefore share counters: no
//! series is labelled per instance, and tests compare counts before and after what they do.
//!
//! Counters move where the matching audit event is logged; gauges that describe this instance (Redis pool,
//! waiting browsers) are read when scraped, so they cost nothing between scrapes.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::{Redis, StoreError};

/// Login sessions by audit event (`event` label: see [`SESSION_EVENTS`]; `outcome`: as in the audit line).
pub const SESSIONS: &str = "qrlogin_sessions_total";
/// Requests refused by an abuse limit (`limit` label: `issue`, `poll`, `scan`, `decide`, `status`, `bad_token`).
pub const RATE_LIMITED: &str = "qrlogin_rate_limited_total";
/// Redis failures that reached a request (`kind` label: `pool`, `timeout`, `protocol`, `command`).
pub const REDIS_ERRORS: &str = "qrlogin_redis_errors_total";
/// Time to the response head (`route` pattern, `method`, `status`). A stream counts until its head is sent.
pub const HTTP_DURATION: &str = "qrlogin_http_request_duration_seconds";
/// Pooled Redis connections of the instance last scraped (`state` label: `in_use`, `idle`).
pub const REDIS_POOL: &str = "qrlogin_redis_pool_connections";
/// Browsers waiting (long-poll or event stream) on the gateway instance last scraped.
pub const WAITING_BROWSERS: &str = "qrlogin_waiting_browsers";
/// Session events (pub/sub messages) the gateway instance last scraped received since it started: only those of
/// sessions a browser waits for there.
pub const PUSH_EVENTS: &str = "qrlogin_push_events_received";

/// Queued events (back-channel logouts, login webhooks) by delivery attempt (`kind`: `logout`, `login`;
/// `result`: `delivered`, `failed` (to be retried), `dropped` (too old, or malformed)).
pub const OUTBOX_DELIVERIES: &str = "qrlogin_outbox_deliveries_total";

/// Every `event` of [`SESSIONS`], primed at zero so each series exists from the first scrape.
pub const SESSION_EVENTS: [&str; 10] = [
    "issued",
    "scanned",
    "confirmed",
    "denied",
    "claimed",
    "expired",
    "cancelled",
    "lockout",
    "wrong_verification",
    "web_session_ended",
];

/// Every `kind` of [`REDIS_ERRORS`], primed at zero as well.
pub const REDIS_ERROR_KINDS: [&str; 4] = ["pool", "timeout", "protocol", "command"];

/// From a cache hit (sub-millisecond) to a long-poll that waited its full 30 s.
const LATENCY_BUCKETS: [f64; 15] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Histogram samples wait in a buffer until folded into buckets; a scrape folds them too, this bounds the buffer
/// of an instance nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The methods kept as a label value; any other (clients may send made-up ones) is `other`.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// The process-wide registry, installed by the first caller.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(install)
}

fn install() -> PrometheusHandle {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), &LATENCY_BUCKETS)
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "latency buckets refused; request durations are exported as a summary");
            PrometheusBuilder::new()
        });
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if let Err(e) = ::metrics::set_global_recorder(recorder) {
        tracing::warn!(error = %e, "another metrics recorder is installed; /metrics stays empty");
    }
    describe();
    for kind in REDIS_ERROR_KINDS {
        ::metrics::counter!(REDIS_ERRORS, "kind" => kind).increment(0);
    }
    let upkept = handle.clone();
    let upkeep = std::thread::Builder::new().name("metrics-upkeep".to_owned()).spawn(move || {
        loop {
            std::thread::sleep(UPKEEP_EVERY);
            upkept.run_upkeep();
        }
    });
    if let Err(e) = upkeep {
        tracing::warn!(error = %e, "no metrics upkeep thread; histograms are folded at scrape time only");
    }
    handle
}

fn describe() {
    use ::metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(SESSIONS, "Login session events, as in the audit log");
    describe_counter!(RATE_LIMITED, "Requests refused by an abuse limit");
    describe_counter!(REDIS_ERRORS, "Redis failures that reached a request");
    describe_histogram!(HTTP_DURATION, ::metrics::Unit::Seconds, "Time to the response head, by route pattern");
    describe_gauge!(REDIS_POOL, "Pooled Redis connections of the instance scraped");
    describe_gauge!(WAITING_BROWSERS, "Browsers waiting by long-poll or event stream on the instance scraped");
    describe_gauge!(PUSH_EVENTS, "Session events received since start by the gateway instance scraped");
    describe_counter!(OUTBOX_DELIVERIES, "Attempts to deliver queued logouts and login webhooks, by result");
}

/// One login session event (`issued`, `scanned`, ...): only the audit point (`audit::record`) counts, next to its line.
pub(crate) fn session_event(event: &'static str, outcome: &'static str) {
    session_events(event, outcome, 1);
}

/// Moves (or, by 0, exports) one series of [`SESSIONS`].
pub(crate) fn session_events(event: &'static str, outcome: &'static str, by: u64) {
    // The recorder must exist before the first count, or the count goes nowhere.
    let _recorder = handle();
    ::metrics::counter!(SESSIONS, "event" => event, "outcome" => outcome).increment(by);
}

/// One request refused by the abuse limit `limit`; counted by the audit point only.
pub(crate) fn rate_limited(limit: &'static str) {
    ::metrics::counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// Counts a Redis failure if one is anywhere in `cause`'s chain (a service error wrapping a [`StoreError`]).
pub fn redis_error_in(cause: &(dyn std::error::Error + 'static)) {
    let Some(store) = StoreError::in_chain(cause) else { return };
    let kind = match store {
        StoreError::Pool(_) => "pool",
        StoreError::Timeout(_) => "timeout",
        StoreError::Protocol(_) => "protocol",
        StoreError::Redis(_) => "command",
    };
    ::metrics::counter!(REDIS_ERRORS, "kind" => kind).increment(1);
}

/// One answered request. `route` is the matched pattern (never the raw path: it may carry secrets).
pub(crate) fn http_request(route: &str, method: &str, status: u16, elapsed: Duration) {
    let method = METHODS.into_iter().find(|m| *m == method).unwrap_or("other");
    ::metrics::histogram!(HTTP_DURATION, "route" => route.to_owned(), "method" => method, "status" => status.to_string())
        .record(elapsed);
}

/// What `GET /metrics` renders: the process's registry, after sampling this instance's gauges.
#[derive(Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
    redis: Redis,
    only_on: Option<SocketAddr>,
    samplers: Vec<Arc<dyn Fn() + Send + Sync>>,
}

impl Exporter {
    /// `only_on`: the one local address that answers `/metrics` (`QRL_METRICS_ADDR`); `None`: every address.
    pub fn new(redis: Redis, only_on: Option<SocketAddr>) -> Self {
        Self { handle: handle().clone(), redis, only_on, samplers: Vec::new() }
    }

    /// Something else to read at each scrape, e.g. a gauge of the service's own.
    pub fn sample(mut self, sampler: impl Fn() + Send + Sync + 'static) -> Self {
        self.samplers.push(Arc::new(sampler));
        self
    }

    /// Whether a request that arrived on `local` may see the metrics.
    pub fn serves(&self, local: SocketAddr) -> bool {
        self.only_on.is_none_or(|addr| addr == local)
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let pool = self.redis.pool().status();
        let idle = pool.available;
        ::metrics::gauge!(REDIS_POOL, "state" => "in_use").set(pool.size.saturating_sub(idle) as f64);
        ::metrics::gauge!(REDIS_POOL, "state" => "idle").set(idle as f64);
        for sample in &self.samplers {
            sample();
        }
        self.handle.render()
    }
}

/// One attempt to deliver a queued event of `kind`, and its `result`.
pub fn outbox_delivery(kind: &'static str, result: &'static str) {
    let _recorder = handle();
    ::metrics::counter!(OUTBOX_DELIVERIES, "kind" => kind, "result" => result).increment(1);
}

/// Browsers waiting on the gateway instance, set at scrape time.
pub fn waiting_browsers(count: usize) {
    ::metrics::gauge!(WAITING_BROWSERS).set(count as f64);
}

/// Samples [`PUSH_EVENTS`] of the instance being scraped.
pub fn push_events(received: u64) {
    ::metrics::gauge!(PUSH_EVENTS).set(received as f64);
}
