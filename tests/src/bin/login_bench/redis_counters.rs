//! What the bench reads from Redis's INFO: its counters, per command and in total, and their change over a
//! measured window less the bench's own probes. Each probe costs Redis one command and two socket reads (the
//! command and the close); the bench takes its snapshots outside the measured window's traffic, so they are
//! noise at most.

use std::collections::BTreeMap;

use qrlogin_e2e::bench::redis_probe::{RedisProbe, command_calls};

use crate::Result;

/// What Redis has done so far: its counters, per command and in total.
#[derive(Debug, Clone, Default)]
pub(crate) struct RedisCounters {
    /// `INFO commandstats` calls per command (lower case, e.g. `evalsha`, `ping`).
    pub(crate) calls: BTreeMap<String, u64>,
    /// `total_commands_processed`.
    pub(crate) commands: u64,
    /// `total_reads_processed`: socket reads of client requests. A client that waits for each reply before
    /// sending the next request (as a pooled connection does) costs one read per request or pipeline, so
    /// this counts round trips as Redis sees them.
    pub(crate) reads: u64,
    pub(crate) used_memory: u64,
}

impl RedisCounters {
    /// One `INFO stats commandstats memory`: a single probe, so the snapshot is consistent.
    pub(crate) async fn read(redis: RedisProbe) -> Result<Self> {
        let info = redis.command(&["INFO", "stats", "commandstats", "memory"]).await?;
        let mut out = Self { calls: command_calls(&info)?, ..Self::default() };
        for line in info.lines() {
            let Some((key, value)) = line.trim().split_once(':') else { continue };
            let number = || value.parse::<u64>().map_err(|e| format!("INFO {key}: {e}"));
            match key {
                "total_commands_processed" => out.commands = number()?,
                "total_reads_processed" => out.reads = number()?,
                "used_memory" => out.used_memory = number()?,
                _ => {}
            }
        }
        Ok(out)
    }

    /// What happened between `earlier` and `self`, less the probes' own commands (`info`, `flushall`, ...).
    pub(crate) fn since(&self, earlier: &Self) -> Delta {
        let calls: BTreeMap<String, u64> = self
            .calls
            .iter()
            .map(|(k, v)| (k.clone(), v - earlier.calls.get(k).copied().unwrap_or(0)))
            .filter(|(k, v)| *v > 0 && !PROBE_COMMANDS.contains(&k.as_str()))
            .collect();
        let probes: u64 = PROBE_COMMANDS.iter().filter_map(|c| self.calls.get(*c)).sum::<u64>()
            - PROBE_COMMANDS.iter().filter_map(|c| earlier.calls.get(*c)).sum::<u64>();
        Delta {
            commands: (self.commands - earlier.commands).saturating_sub(probes),
            reads: self.reads - earlier.reads,
            calls,
        }
    }
}

/// The bench's own commands, never the services'.
const PROBE_COMMANDS: &[&str] = &["info", "flushall", "memory|usage", "keys", "dbsize", "hkeys"];

/// Redis's work over a measured window.
#[derive(Debug, Clone)]
pub(crate) struct Delta {
    pub(crate) calls: BTreeMap<String, u64>,
    pub(crate) commands: u64,
    pub(crate) reads: u64,
}

impl Delta {
    /// Script calls: each one request on the wire.
    pub(crate) fn scripts(&self) -> u64 {
        ["evalsha", "eval", "evalsha_ro", "eval_ro", "fcall", "fcall_ro"]
            .iter()
            .filter_map(|c| self.calls.get(*c))
            .sum()
    }

    /// Round trips counted from the commands: the script calls and the commands the services send outside
    /// scripts. deadpool-redis's connection check sends `UNWATCH` and `PING` in one pipeline: the PING counts
    /// it. (Commands run inside a script count in `commands`, not here.)
    pub(crate) fn round_trips_by_command(&self) -> u64 {
        self.scripts() + TOP_LEVEL_ONLY.iter().filter_map(|c| self.calls.get(*c)).sum::<u64>()
    }
}

/// Commands the services send on their own (never inside a script), each one request on the wire.
const TOP_LEVEL_ONLY: &[&str] =
    &["ping", "script|load", "client|setinfo", "hello", "select", "subscribe", "ssubscribe", "cluster|slots"];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn a_delta_leaves_out_the_probes_and_counts_a_checked_pipeline_once() {
        let at = |evalsha, unwatch, ping, info, commands| RedisCounters {
            calls: [("evalsha", evalsha), ("unwatch", unwatch), ("ping", ping), ("info", info)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            commands,
            reads: commands,
            used_memory: 0,
        };

        let d = at(16, 5, 5, 2, 28).since(&at(10, 2, 2, 1, 15));

        assert_eq!((d.commands, d.scripts(), d.round_trips_by_command()), (12, 6, 9));
        assert_eq!(d.calls["unwatch"], 3);
        assert!(!d.calls.contains_key("info"));
    }
}
