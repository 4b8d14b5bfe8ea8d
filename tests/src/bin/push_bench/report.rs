//! What one mode measured, and the side-by-side table of all modes.

use std::fmt::Write as _;
use std::time::Duration;

use tokio::time::Instant;

use crate::procs::Sched;
use crate::waiters::Waited;
use crate::{Mode, Result};

pub(crate) struct ModeReport {
    mode: Mode,
    browsers: usize,
    /// Phone taps confirm (request sent) → browser has the token.
    from_sent: Vec<Duration>,
    /// Phone has its answer → browser has the token; clamped at zero (see `before_ack`).
    from_ack: Vec<Duration>,
    /// Browsers that had the token before the phone had its answer (push can beat the confirm response).
    before_ack: usize,
    /// The confirm request's round trip, as the phone sees it.
    confirm_rtt: Vec<Duration>,
    errors: usize,
    /// The first error message of each step, to say what went wrong.
    first_errors: Vec<String>,
    slow_downs: u64,
    reissued: u64,
    pub(crate) waiting_at_start: usize,
    pub(crate) peak_rss_kib: u64,
    /// The worst lateness of a 1 ms timer in the benchmark while confirming: a witness of CPU starvation.
    pub(crate) timer_lag: Duration,
    /// The gateway's threads from the first confirm until every browser was done.
    pub(crate) gateway_sched: Sched,
    /// Each gateway's threads in that window, and the session events its listener received then.
    pub(crate) per_gateway: Vec<(Sched, u64)>,
    /// Share of that window in which some task on the machine waited for a CPU.
    pub(crate) cpu_pressure: Option<f64>,
    /// Per delivered token: confirm sent, confirm answered, token received, in ms since the first confirm.
    timeline: Vec<[f64; 3]>,
}

impl ModeReport {
    pub(crate) fn new(mode: Mode, browsers: usize) -> Self {
        Self {
            mode,
            browsers,
            from_sent: Vec::new(),
            from_ack: Vec::new(),
            before_ack: 0,
            confirm_rtt: Vec::new(),
            errors: 0,
            first_errors: Vec::new(),
            slow_downs: 0,
            reissued: 0,
            waiting_at_start: 0,
            peak_rss_kib: 0,
            timer_lag: Duration::ZERO,
            gateway_sched: Sched::default(),
            per_gateway: Vec::new(),
            cpu_pressure: None,
            timeline: Vec::new(),
        }
    }

    /// Counts one failure of `step`; the first of each step is kept for the report.
    pub(crate) fn error(&mut self, step: &str, message: &str) {
        self.errors += 1;
        if !self.first_errors.iter().any(|e| e.starts_with(step)) {
            self.first_errors.push(format!("{step}: {message}"));
        }
    }

    /// The successes of `step`; its failures are counted.
    pub(crate) fn keep_ok<T>(&mut self, step: &str, results: Vec<Result<T>>) -> Vec<T> {
        let mut ok = Vec::with_capacity(results.len());
        for r in results {
            match r {
                Ok(v) => ok.push(v),
                Err(e) => self.error(step, &e.to_string()),
            }
        }
        ok
    }

    /// Pairs each session's confirm (sent, acknowledged) with the instant its browser got the token.
    pub(crate) fn record(&mut self, start: Instant, confirmed: &[Option<(Instant, Instant)>], waited: &[Waited]) {
        let at = |t: Instant| t.saturating_duration_since(start).as_secs_f64() * 1e3;
        for (confirm, w) in confirmed.iter().zip(waited) {
            self.slow_downs += u64::from(w.slow_downs);
            self.reissued += u64::from(w.reissued);
            if let Some(e) = &w.error {
                self.error("browser", e);
                continue;
            }
            let (Some((sent, acked)), Some(got)) = (confirm, w.got_token) else { continue };
            self.confirm_rtt.push(acked.saturating_duration_since(*sent));
            self.from_sent.push(got.saturating_duration_since(*sent));
            if got < *acked {
                self.before_ack += 1;
            }
            self.from_ack.push(got.saturating_duration_since(*acked));
            self.timeline.push([at(*sent), at(*acked), at(got)]);
        }
        self.timeline.sort_by(|a, b| a[0].total_cmp(&b[0]));
        for v in [&mut self.from_sent, &mut self.from_ack, &mut self.confirm_rtt] {
            v.sort_unstable();
        }
    }

    pub(crate) fn delivered(&self) -> usize {
        self.from_sent.len()
    }

    pub(crate) fn errors(&self) -> usize {
        self.errors
    }

    fn p99_from_sent(&self) -> Option<Duration> {
        percentile(&self.from_sent, 99.0)
    }
}

/// `--timeline`: one CSV line per delivered token, to see when the slow ones happened.
pub(crate) fn timeline_csv(reports: &[ModeReport]) -> String {
    let mut out = String::from("mode,confirm_sent_ms,confirm_answered_ms,token_received_ms,latency_ms\n");
    for r in reports {
        for [sent, acked, got] in &r.timeline {
            let _ = writeln!(out, "{},{sent:.3},{acked:.3},{got:.3},{:.3}", r.mode.name(), got - sent);
        }
    }
    out
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

fn ms(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".into(), |d| format!("{:.1}", d.as_secs_f64() * 1e3))
}

/// One value per gateway, `/`-separated (the first only, then `...`, past 4).
fn per_gateway(r: &ModeReport, cell: impl Fn(&(Sched, u64)) -> String) -> String {
    let cells: Vec<String> = r.per_gateway.iter().take(4).map(cell).collect();
    let more = if r.per_gateway.len() > 4 { "/..." } else { "" };
    format!("{}{more}", cells.join("/"))
}

/// One column per mode.
pub(crate) fn table(reports: &[ModeReport]) -> String {
    const W: usize = 46;
    let mut out = String::new();
    let mut row = |label: &str, cell: &dyn Fn(&ModeReport) -> String| {
        let _ = write!(out, "{label:<W$}");
        for r in reports {
            let _ = write!(out, " {:>15}", cell(r));
        }
        out.push('\n');
    };
    let sub = |label: &str| format!("{label:>W$}");
    let clamp_pct = |p: Option<f64>| p.map_or("-".into(), |p| format!("{:.0}", p * 100.0));
    row("", &|r| r.mode.name().to_owned());
    row("browsers with the token", &|r| format!("{}/{}", r.delivered(), r.browsers));
    row("errors", &|r| r.errors.to_string());
    row("latency, confirm sent -> token (ms)       p50", &|r| ms(percentile(&r.from_sent, 50.0)));
    row(&sub("p90"), &|r| ms(percentile(&r.from_sent, 90.0)));
    row(&sub("p99"), &|r| ms(percentile(&r.from_sent, 99.0)));
    row(&sub("max"), &|r| ms(r.from_sent.last().copied()));
    row("latency, confirm answered -> token (ms)   p50", &|r| ms(percentile(&r.from_ack, 50.0)));
    row(&sub("p99"), &|r| ms(percentile(&r.from_ack, 99.0)));
    row(&sub("tokens before the answer (counted 0)"), &|r| r.before_ack.to_string());
    row("confirm round trip at the phone (ms)      p50", &|r| ms(percentile(&r.confirm_rtt, 50.0)));
    row(&sub("p99"), &|r| ms(percentile(&r.confirm_rtt, 99.0)));
    row("gateway, first confirm to last token:", &|_| String::new());
    row(&sub("CPU used (ms)"), &|r| ms(Some(r.gateway_sched.on_cpu)));
    row(&sub("threads waiting for a CPU (ms)"), &|r| ms(Some(r.gateway_sched.waiting)));
    row(&sub("gateways"), &|r| r.per_gateway.len().to_string());
    row(&sub("session events received, per gateway"), &|r| per_gateway(r, |(_, events)| events.to_string()));
    row(&sub("CPU used per gateway (ms)"), &|r| per_gateway(r, |(s, _)| ms(Some(s.on_cpu))));
    row("machine CPU pressure then (% of time)", &|r| clamp_pct(r.cpu_pressure));
    row("worst lateness of a 1 ms timer in the bench", &|r| ms(Some(r.timer_lag)));
    row("browsers waiting when the confirms began", &|r| r.waiting_at_start.to_string());
    row("long-polls re-issued / polls slowed down", &|r| format!("{}/{}", r.reissued, r.slow_downs));
    row("gateway peak RSS (VmHWM, MiB)", &|r| format!("{:.1}", r.peak_rss_kib as f64 / 1024.0));

    let poll = reports.iter().find(|r| r.mode == Mode::Poll1s).and_then(ModeReport::p99_from_sent);
    for push in reports.iter().filter(|r| r.mode != Mode::Poll1s) {
        if let (Some(poll), Some(p99)) = (poll, push.p99_from_sent()) {
            let ratio = poll.as_secs_f64() / p99.as_secs_f64().max(1e-6);
            let _ = writeln!(out, "p99 poll-1s / p99 {}: {ratio:.0}x", push.mode.name());
        }
    }
    for r in reports {
        for e in &r.first_errors {
            let _ = writeln!(out, "{}: first error of {e}", r.mode.name());
        }
    }
    out
}
