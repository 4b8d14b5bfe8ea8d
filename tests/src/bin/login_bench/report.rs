//! What a run measured: a readable summary, and one JSON line per measurement.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::flow::STEPS;
use crate::redis_counters::Delta;
use crate::run::Outcome;
use crate::{Options, Result};

/// The measured logins.
pub(crate) struct Logins {
    outcome: Outcome,
    pub(crate) errors: usize,
    /// CPU time of web-gateway, mobile-api, Redis and the bench over the measured logins.
    cpu: [Duration; 4],
    redis: Delta,
}

/// The pending sessions.
pub(crate) struct Pending {
    pub(crate) sessions: usize,
    pub(crate) keys: u64,
    pub(crate) used_memory: u64,
    /// Per weighed session: its keys and their MEMORY USAGE in bytes.
    pub(crate) samples: Vec<(usize, u64)>,
    pub(crate) fields: Vec<String>,
}

const PROCESSES: [&str; 4] = ["web_gateway", "mobile_api", "redis", "driver"];

impl Logins {
    pub(crate) fn new(outcome: Outcome, cpu: [Duration; 4], redis: Delta) -> Self {
        Self { errors: outcome.errors, outcome, cpu, redis }
    }

    fn ok(&self) -> usize {
        self.outcome.times.last().map_or(0, Vec::len)
    }

    fn per_s(&self) -> f64 {
        self.ok() as f64 / self.outcome.wall.as_secs_f64().max(1e-9)
    }

    /// Per successful login (0 without one).
    fn per_login(&self, total: f64) -> f64 {
        if self.ok() == 0 { 0.0 } else { total / self.ok() as f64 }
    }

    fn cpu_ms(&self, i: usize) -> f64 {
        self.per_login(self.cpu[i].as_secs_f64() * 1e3)
    }

    fn servers_cpu_ms(&self) -> f64 {
        self.cpu_ms(0) + self.cpu_ms(1)
    }
}

impl Pending {
    fn median_sample(&self) -> Option<(usize, u64)> {
        let mut bytes: Vec<_> = self.samples.clone();
        bytes.sort_unstable_by_key(|s| s.1);
        bytes.get(bytes.len() / 2).copied()
    }

    fn used_memory_per_session(&self) -> f64 {
        self.used_memory as f64 / self.sessions.max(1) as f64
    }
}

/// Nearest-rank percentile of sorted values, in ms.
fn pct_ms(sorted: &[Duration], p: f64) -> Option<f64> {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).map(|d| d.as_secs_f64() * 1e3)
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

pub(crate) fn logins_json(options: &Options, l: &Logins) -> Value {
    let latency: serde_json::Map<String, Value> = STEPS
        .iter()
        .zip(&l.outcome.times)
        .map(|(step, t)| {
            let p = |q| pct_ms(t, q).map(|v| round(v, 2));
            (step.to_string(), json!({ "p50_ms": p(50.0), "p99_ms": p(99.0) }))
        })
        .collect();
    let cpu: serde_json::Map<String, Value> =
        PROCESSES.iter().enumerate().map(|(i, name)| (name.to_string(), json!(round(l.cpu_ms(i), 3)))).collect();
    let by_cmd: serde_json::Map<String, Value> =
        l.redis.calls.iter().map(|(k, v)| (k.clone(), json!(round(l.per_login(*v as f64), 2)))).collect();
    let server_cores = options.pin.then(|| cpu_count(&options.server_cpus));
    json!({
        "mode": "logins",
        "label": options.label,
        "concurrency": options.concurrency,
        "logins_ok": l.ok(),
        "errors": l.errors,
        "first_error": l.outcome.first_error,
        "wall_s": round(l.outcome.wall.as_secs_f64(), 3),
        "logins_per_s": round(l.per_s(), 1),
        "pinned_server_cpus": options.pin.then_some(&options.server_cpus),
        "logins_per_s_per_server_core": server_cores.map(|n| round(l.per_s() / n.max(1) as f64, 1)),
        "latency": latency,
        "cpu_ms_per_login": cpu,
        "server_cpu_ms_per_login": round(l.servers_cpu_ms(), 3),
        "redis_commands_per_login": round(l.per_login(l.redis.commands as f64), 2),
        "redis_script_calls_per_login": round(l.per_login(l.redis.scripts() as f64), 2),
        "redis_round_trips_per_login": round(l.per_login(l.redis.round_trips_by_command() as f64), 2),
        "redis_socket_reads_per_login": round(l.per_login(l.redis.reads as f64), 2),
        "redis_calls_per_login_by_command": by_cmd,
        "date_utc": now_utc(),
    })
}

pub(crate) fn pending_json(options: &Options, p: &Pending) -> Value {
    let (keys, bytes) = p.median_sample().unwrap_or_default();
    json!({
        "mode": "pending",
        "label": options.label,
        "sessions": p.sessions,
        "user_agent_bytes": crate::flow::BROWSER_USER_AGENT.len(),
        "keys_per_session": round(p.keys as f64 / p.sessions.max(1) as f64, 3),
        "memory_usage_bytes_per_session": bytes,
        "memory_usage_keys_per_session": keys,
        "used_memory_bytes_per_session": round(p.used_memory_per_session(), 1),
        "session_fields": p.fields,
        "date_utc": now_utc(),
    })
}

/// Number of CPUs in a taskset list such as `0`, `0,2` or `0-3`.
fn cpu_count(list: &str) -> usize {
    list.split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => b.trim().parse::<usize>().unwrap_or(0).saturating_sub(a.trim().parse().unwrap_or(0)) + 1,
            None => 1,
        })
        .sum()
}

pub(crate) fn now_utc() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The readable summary.
pub(crate) fn summary(options: &Options, l: &Logins, pending: Option<&Pending>) -> String {
    let mut out = String::new();
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
    let _ = writeln!(
        out,
        "logins: {} ok, {} failed in {:.2} s = {:.1} logins/s",
        l.ok(),
        l.errors,
        l.outcome.wall.as_secs_f64(),
        l.per_s()
    );
    if let Some(e) = &l.outcome.first_error {
        let _ = writeln!(out, "  first error: {e}");
    }
    if options.pin {
        let n = cpu_count(&options.server_cpus).max(1);
        let _ = writeln!(
            out,
            "  per server core ({n} CPU(s) {}): {:.1} logins/s",
            options.server_cpus,
            l.per_s() / n as f64
        );
    }
    let _ = writeln!(out, "{:<14}{:>10}{:>10}", "step (ms)", "p50", "p99");
    for (step, t) in STEPS.iter().zip(&l.outcome.times) {
        let _ = writeln!(out, "{step:<14}{:>10}{:>10}", ms(pct_ms(t, 50.0)), ms(pct_ms(t, 99.0)));
    }
    let _ = writeln!(out, "CPU ms per login (utime+stime from /proc/<pid>/stat, 10 ms ticks):");
    for (i, name) in PROCESSES.iter().enumerate() {
        let _ = writeln!(out, "  {name:<12}{:>8.3}", l.cpu_ms(i));
    }
    let _ = writeln!(out, "  {:<12}{:>8.3}", "both services", l.servers_cpu_ms());
    let r = &l.redis;
    let _ = writeln!(
        out,
        "Redis per login: {:.2} round trips ({:.2} script calls + commands sent outside scripts; {:.2} socket \
         reads), {:.2} commands in all (incl. those scripts run)",
        l.per_login(r.round_trips_by_command() as f64),
        l.per_login(r.scripts() as f64),
        l.per_login(r.reads as f64),
        l.per_login(r.commands as f64),
    );
    let by_cmd: Vec<String> = r.calls.iter().map(|(k, v)| format!("{k} {:.2}", l.per_login(*v as f64))).collect();
    let _ = writeln!(out, "  by command: {}", by_cmd.join(", "));
    if let Some(p) = pending {
        let (keys, bytes) = p.median_sample().unwrap_or_default();
        let _ = writeln!(
            out,
            "pending session ({}-byte User-Agent): {bytes} B by MEMORY USAGE of its {keys} key(s) (median of {}); \
             {:.0} B of used_memory each over {} sessions ({:.2} keys each, rate-limit keys included)",
            crate::flow::BROWSER_USER_AGENT.len(),
            p.samples.len(),
            p.used_memory_per_session(),
            p.sessions,
            p.keys as f64 / p.sessions.max(1) as f64,
        );
    }
    out
}

/// Prints the JSON lines and appends them to `file`.
pub(crate) fn emit(lines: &[Value], file: Option<&Path>) -> Result<()> {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    print!("{text}");
    if let Some(path) = file {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        f.write_all(text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_count_as_taskset_reads_them() {
        assert_eq!(cpu_count("0"), 1);
        assert_eq!(cpu_count("0,2"), 2);
        assert_eq!(cpu_count("0-3,6"), 5);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let ms = |v: u64| Duration::from_millis(v);
        let sorted: Vec<_> = (1..=100).map(ms).collect();

        assert_eq!(pct_ms(&sorted, 50.0), Some(50.0));
        assert_eq!(pct_ms(&sorted, 99.0), Some(99.0));
        assert_eq!(pct_ms(&[], 50.0), None);
    }
}
