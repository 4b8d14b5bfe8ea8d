//! Rate limits shared by every instance: their state lives in Redis, and each is checked in the script of the
//! step it guards (`admit.lua`, prepended to it), so a limit costs no round trip of its own.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use redis::{FromRedisValue, Script};

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
#[derive(Clone, Copy, Debug)]
pub struct Limit<'a> {
    /// The hash tag of the limit's key: limits of one group share a Redis Cluster slot.
    pub group: &'a str,
    pub name: &'static str,
    pub subject: &'a str,
    pub rate: Rate,
    /// Only asked, never counted: for limits that count some outcomes (refused tokens) but must stop a client
    /// that is already over them.
    pub peek: bool,
}

impl<'a> Limit<'a> {
    /// A limit every admitted request counts against.
    pub const fn counted(group: &'a str, name: &'static str, subject: &'a str, rate: Rate) -> Self {
        Self { group, name, subject, rate, peek: false }
    }
}

/// A limit refused the request: which one (its name), and when it would be admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    pub name: &'static str,
    pub retry_after: Duration,
}

/// The script prepended to every step that a limit guards (`admit.lua`): the step's own code follows it.
pub const ADMIT_LUA: &str = include_str!("admit.lua");

/// Appends `limits` (the enabled ones) to a script invocation, as `admit.lua` reads them: always at least the
/// count, so a step without limits says so.
pub fn append(inv: &mut redis::ScriptInvocation<'_>, keys: &KeySchema, limits: &[Limit<'_>]) {
    let enabled = || limits.iter().filter(|l| !l.rate.is_disabled());
    for limit in enabled() {
        inv.key(keys.rate_limit(limit.group, limit.name, limit.subject));
    }
    for limit in enabled() {
        inv.arg(limit.rate.interval_ms().to_string()).arg(limit.rate.burst);
        inv.arg(if limit.peek { "peek" } else { "count" });
    }
    inv.arg(enabled().count());
}

/// `{'limited', ms, index}` from `admit.lua`, naming the limit among the enabled `limits`; `None` for any other
/// reply (the step's own).
pub fn limited_in(reply: &redis::Value, limits: &[Limit<'_>]) -> Option<Limited> {
    let redis::Value::Array(items) = reply else { return None };
    let [tag, wait, index] = items.as_slice() else { return None };
    if String::from_redis_value_ref(tag).ok()? != "limited" {
        return None;
    }
    let ms: u64 = redis::FromRedisValue::from_redis_value_ref(wait).ok()?;
    let index: usize = redis::FromRedisValue::from_redis_value_ref(index).ok()?;
    let limit = limits.iter().filter(|l| !l.rate.is_disabled()).nth(index.checked_sub(1)?)?;
    Some(Limited { name: limit.name, retry_after: Duration::from_millis(ms) })
}

/// Limits checked on their own, outside any step: for outcomes counted after the fact (a refused token), and on
/// a Redis Cluster, where a limit's key lives in another slot than the session a step changes.
#[derive(Clone)]
pub struct RateLimiter {
    redis: Redis,
    keys: KeySchema,
    script: Arc<Script>,
}

impl RateLimiter {
    pub fn new(redis: Redis, keys: KeySchema) -> Self {
        let script = Script::new(&format!("{ADMIT_LUA}\nreturn {{'admitted'}}"));
        Self { redis, keys, script: Arc::new(script) }
    }

    /// Admits the request only if every (enabled) limit does: one round trip per group of `limits` (one in all
    /// on a single Redis).
    pub async fn check(&self, limits: &[Limit<'_>]) -> Result<Option<Limited>, StoreError> {
        if self.redis.is_cluster() {
            let mut groups: Vec<&str> = Vec::new();
            for limit in limits {
                if !groups.contains(&limit.group) {
                    groups.push(limit.group);
                }
            }
            for group in groups {
                let of_group: Vec<Limit<'_>> = limits.iter().filter(|l| l.group == group).copied().collect();
                if let Some(limited) = self.check_one_slot(&of_group).await? {
                    return Ok(Some(limited));
                }
            }
            return Ok(None);
        }
        self.check_one_slot(limits).await
    }

    async fn check_one_slot(&self, limits: &[Limit<'_>]) -> Result<Option<Limited>, StoreError> {
        if limits.iter().all(|l| l.rate.is_disabled()) {
            return Ok(None);
        }
        let mut inv = self.script.prepare_invoke();
        append(&mut inv, &self.keys, limits);
        let reply: redis::Value = self.redis.run(&inv).await?;
        Ok(limited_in(&reply, limits))
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
