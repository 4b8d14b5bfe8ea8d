//! A Redis outage logged as one event, not as one ERROR line per failed call (an outage of 3 s under 8 clients
//! was 456 lines): a line when the first call fails, a summary with the counts by kind every `summary` period
//! while calls keep failing, and a line with the duration and total when the first call succeeds again.
//!
//! No task of its own: the summary is written by the first failure after the period has passed, the end by the
//! first success after failures. A success costs one atomic load while Redis is healthy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::StoreError;
use crate::ErrorChain;

/// The outage state of one Redis handle (shared by its clones).
#[derive(Debug)]
pub(crate) struct OutageLog {
    /// Set while an outage lasts: the only thing a success looks at.
    failing: AtomicBool,
    outage: Mutex<Option<Outage>>,
    summary: Duration,
}

#[derive(Debug)]
struct Outage {
    started: Instant,
    summarised: Instant,
    total: u64,
    /// Failures since the last summary (or the start).
    recent: Kinds,
}

#[derive(Debug, Default)]
struct Kinds {
    pool: u64,
    timeout: u64,
    command: u64,
}

impl Kinds {
    fn count(&mut self, e: &StoreError) {
        match e {
            StoreError::Pool(_) => self.pool += 1,
            StoreError::Timeout(_) => self.timeout += 1,
            StoreError::Redis(_) | StoreError::Protocol(_) => self.command += 1,
        }
    }

    fn sum(&self) -> u64 {
        self.pool + self.timeout + self.command
    }
}

impl OutageLog {
    pub(crate) fn new(summary: Duration) -> Self {
        Self { failing: AtomicBool::new(false), outage: Mutex::new(None), summary }
    }

    /// One failed call: starts the outage (logged with its cause), or counts it and, once a period has passed
    /// since the last line, logs the summary.
    pub(crate) fn failed(&self, e: &StoreError) {
        let now = Instant::now();
        let mut outage = self.outage.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(o) = outage.as_mut() else {
            let mut recent = Kinds::default();
            recent.count(e);
            *outage = Some(Outage { started: now, summarised: now, total: 1, recent });
            self.failing.store(true, Ordering::Release);
            tracing::error!(
                outage = "started",
                error = %ErrorChain(e),
                summary_every_secs = self.summary.as_secs_f64(),
                "Redis unavailable: requests fail fast with 503; a summary follows while it lasts"
            );
            return;
        };
        o.total += 1;
        o.recent.count(e);
        if now.duration_since(o.summarised) >= self.summary {
            let Kinds { pool, timeout, command } = std::mem::take(&mut o.recent);
            o.summarised = now;
            tracing::error!(
                outage = "ongoing",
                error = %ErrorChain(e),
                failed = pool + timeout + command,
                pool,
                timeout,
                command,
                failed_total = o.total,
                lasting_secs = now.duration_since(o.started).as_secs_f64(),
                "Redis still unavailable"
            );
        }
    }

    /// One call that Redis answered: ends an outage, if one lasts.
    pub(crate) fn succeeded(&self) {
        if !self.failing.load(Ordering::Acquire) {
            return;
        }
        let Some(o) = self.outage.lock().unwrap_or_else(PoisonError::into_inner).take() else { return };
        self.failing.store(false, Ordering::Release);
        tracing::warn!(
            outage = "ended",
            lasted_secs = o.started.elapsed().as_secs_f64(),
            failed_total = o.total,
            failed_since_summary = o.recent.sum(),
            "Redis reachable again"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_counted_until_the_first_success_and_then_forgotten() {
        let log = OutageLog::new(Duration::from_secs(3600));
        log.succeeded();
        for _ in 0..3 {
            log.failed(&StoreError::Timeout(Duration::from_secs(1)));
        }
        log.failed(&StoreError::Protocol("x".into()));
        {
            let outage = log.outage.lock().unwrap();
            let o = outage.as_ref().unwrap();
            assert_eq!((o.total, o.recent.timeout, o.recent.command), (4, 3, 1));
        }
        log.succeeded();
        assert!(log.outage.lock().unwrap().is_none());
        assert!(!log.failing.load(Ordering::Acquire));
    }
}
