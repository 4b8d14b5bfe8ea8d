//! Rate limits shared by every instance: their state lives in Redis and each check is one atomic script call.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use redis::Script;

use crate::{KeySchema, Redis, StoreError};

/// `burst` requests at once, refilling evenly over `period` (so `burst / period` sustained). Written
/// `<count>/<seconds>` in settings, e.g. `30/60`; `0` disables the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub period: Duration,
}

impl Rate {
    pub const fn new(burst: u32, period_secs: u64) -> Self {
        Self { burst, period: Duration::from_secs(period_secs) }
    }

    pub fn is_disabled(&self) -> bool {
        self.burst == 0 || self.period.is_zero()
    }

    /// Milliseconds between two admitted requests at the sustained rate.
    fn interval_ms(&self) -> u128 {
        (self.period.as_millis() / u128::from(self.burst.max(1))).max(1)
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim() == "0" {
            return Ok(Self::new(0, 0));
        }
        let parse = |(n, p): (&str, &str)| Some(Self::new(n.trim().parse().ok()?, p.trim().parse().ok()?));
        s.split_once('/').and_then(parse).ok_or_else(|| "expected <count>/<seconds>, e.g. 30/60, or 0".to_owned())
    }
}

/// One rate applied to one subject (an IP, a user id, or a global bucket).
pub struct Check<'a> {
    pub name: &'static str,
    pub subject: &'a str,
    pub rate: Rate,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Limited { retry_after: Duration },
}

#[derive(Clone)]
pub struct RateLimiter {
    redis: Redis,
    keys: KeySchema,
    script: Arc<Script>,
}

impl RateLimiter {
    pub fn new(redis: Redis, keys: KeySchema) -> Self {
        Self { redis, keys, script: Arc::new(Script::new(include_str!("gcra.lua"))) }
    }

    /// Admits the request only if every (enabled) check does; one round trip for all of them. All checks of
    /// one call share `group`, the hash tag that keeps their keys in one Redis Cluster slot.
    pub async fn check(&self, group: &str, checks: &[Check<'_>]) -> Result<Verdict, StoreError> {
        self.run(group, checks, false).await
    }

    /// Whether [`RateLimiter::check`] would admit the request now, counting nothing: for limits that count only
    /// some outcomes (refused tokens) but must stop a client that is already over them before any work.
    pub async fn peek(&self, group: &str, checks: &[Check<'_>]) -> Result<Verdict, StoreError> {
        self.run(group, checks, true).await
    }

    async fn run(&self, group: &str, checks: &[Check<'_>], peek: bool) -> Result<Verdict, StoreError> {
        let mut inv = self.script.prepare_invoke();
        let mut any = false;
        for check in checks.iter().filter(|c| !c.rate.is_disabled()) {
            inv.key(self.keys.rate_limit(group, check.name, check.subject));
            inv.arg(check.rate.interval_ms().to_string()).arg(check.rate.burst);
            any = true;
        }
        if !any {
            return Ok(Verdict::Allowed);
        }
        if peek {
            inv.arg("peek");
        }
        let wait_ms: u64 = self.redis.run(&inv).await?;
        Ok(match wait_ms {
            0 => Verdict::Allowed,
            ms => Verdict::Limited { retry_after: Duration::from_millis(ms) },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!("30/60".parse(), Ok(Rate::new(30, 60)));
        assert!("0".parse::<Rate>().unwrap().is_disabled());
        assert!("30".parse::<Rate>().is_err());
        assert!("x/60".parse::<Rate>().is_err());
        assert_eq!(Rate::new(30, 60).interval_ms(), 2000);
    }
}
