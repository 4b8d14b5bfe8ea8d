//! The login session state machine, kept in Redis. Every transition is one Lua script: one round trip that
//! checks and changes state atomically, whatever number of service instances run.
//!
//! ```text
//! pending --scan--> scanned --confirm--> confirmed --browser poll--> claimed (token issued once, kept for
//!    |                 \--deny-----> denied                                  a grace window, then gone)
//!    \--------cancel (browser)-----> cancelled         any state --TTL--> gone (answered as expired)
//! ```

use std::time::Duration;

use redis::Script;

pub use crate::redis_conn::{CreatePoolError, Redis, StoreError};

use crate::config::RedisSettings;
use crate::{BindingHash, KeySchema, SessionId, UserId};

/// What the gateway records when it issues a session.
pub struct NewSession<'a> {
    pub binding: &'a BindingHash,
    pub requester: &'a Requester,
    pub ttl: Duration,
}

/// Where a login request came from, shown to the user on the phone before they approve.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Requester {
    pub ip: String,
    pub user_agent: String,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PollOutcome {
    Pending,
    Scanned,
    Denied,
    Cancelled,
    /// Unknown, expired, or claimed and past its grace window: one answer, so nothing can be probed.
    Expired,
    /// The caller's binding does not match: nothing changed.
    Forbidden,
    /// The user confirmed: issue a token for them and [`SessionStore::claim`] it.
    Confirmed(UserId),
    /// The token was already handed out; this is the stored answer carrying it (same browser, grace window).
    Claimed(String),
    /// Polling faster than advised: come back after this long. Nothing else was looked at.
    SlowDown(Duration),
}

#[derive(Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This caller's answer is the one handed out.
    Won,
    /// Another poll of the same browser won a moment earlier: hand out its answer instead.
    AlreadyClaimed(String),
    /// The session left `confirmed` otherwise (cancelled, expired) or the binding does not match.
    Other(PollOutcome),
}

#[derive(Debug, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled,
    Forbidden,
    Gone,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ScanOutcome {
    Scanned { requester: Requester, ttl: Duration },
    NotFound,
    Conflict,
}

#[derive(Debug, PartialEq, Eq)]
pub enum MissOutcome {
    /// No such session: nothing to count.
    Unknown,
    /// Counted; this many more misses are allowed.
    Counted(u32),
    /// This miss reached the limit: the session is destroyed.
    Destroyed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Confirm,
    Deny,
}

#[derive(Debug, PartialEq, Eq)]
pub enum DecideOutcome {
    Done,
    NotFound,
    WrongState,
    WrongUser,
}

struct Scripts {
    create: Script,
    poll: Script,
    claim: Script,
    cancel: Script,
    scan: Script,
    decide: Script,
    bad_code: Script,
}

impl Scripts {
    fn load() -> Self {
        Self {
            create: Script::new(include_str!("create.lua")),
            poll: Script::new(include_str!("poll.lua")),
            claim: Script::new(include_str!("claim.lua")),
            cancel: Script::new(include_str!("cancel.lua")),
            scan: Script::new(include_str!("scan.lua")),
            decide: Script::new(include_str!("decide.lua")),
            bad_code: Script::new(include_str!("bad_code.lua")),
        }
    }
}

/// Handle to the session state in Redis; cheap to clone, shared by all workers.
#[derive(Clone)]
pub struct SessionStore {
    redis: Redis,
    keys: KeySchema,
    scripts: std::sync::Arc<Scripts>,
}

impl SessionStore {
    pub fn new(redis: Redis, keys: KeySchema) -> Self {
        Self { redis, keys, scripts: std::sync::Arc::new(Scripts::load()) }
    }

    /// A store on its own pool, for the given settings.
    pub fn connect(settings: &RedisSettings) -> Result<Self, CreatePoolError> {
        Ok(Self::new(Redis::connect(settings)?, KeySchema::new(settings.key_prefix.clone())))
    }

    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    /// Stores a new pending session with its TTL in one step. Returns false on an id collision.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn create(&self, id: &SessionId, new: &NewSession<'_>) -> Result<bool, StoreError> {
        let r = new.requester;
        let mut inv = self.scripts.create.key(self.keys.session(id));
        inv.arg(new.ttl.as_secs().max(1))
            .arg(&[("st", "pending"), ("bind", new.binding.as_str()), ("ip", &r.ip)])
            .arg(&[("ua", r.user_agent.as_str()), ("ct", r.created_at.as_str())]);
        let created: i64 = self.run(&inv).await?;
        Ok(created == 1)
    }

    /// Reads the state for the browser (never changing it), enforcing `interval` between polls.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn poll(
        &self,
        id: &SessionId,
        binding: &BindingHash,
        interval: Duration,
    ) -> Result<PollOutcome, StoreError> {
        let mut inv = self.scripts.poll.key(self.keys.session(id));
        inv.arg(binding.as_str()).arg(interval.as_millis().to_string());
        let reply: Vec<String> = self.run(&inv).await?;
        poll_outcome(reply)
    }

    /// Hands out `answer` (the token response) if the session is still confirmed; keeps it `grace` long for
    /// repeated polls of the same browser.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn claim(
        &self,
        id: &SessionId,
        binding: &BindingHash,
        answer: &str,
        grace: Duration,
    ) -> Result<ClaimOutcome, StoreError> {
        let mut inv = self.scripts.claim.key(self.keys.session(id));
        inv.arg(binding.as_str()).arg(answer).arg(grace.as_secs().max(1));
        let mut reply: Vec<String> = self.run(&inv).await?;
        match reply.first().map(String::as_str) {
            Some("won") => Ok(ClaimOutcome::Won),
            Some("claimed") if reply.len() == 2 => Ok(ClaimOutcome::AlreadyClaimed(reply.swap_remove(1))),
            _ => poll_outcome(reply).map(ClaimOutcome::Other),
        }
    }

    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn cancel(&self, id: &SessionId, binding: &BindingHash) -> Result<CancelOutcome, StoreError> {
        let mut inv = self.scripts.cancel.key(self.keys.session(id));
        inv.arg(binding.as_str());
        let reply: String = self.run(&inv).await?;
        match reply.as_str() {
            "ok" => Ok(CancelOutcome::Cancelled),
            "forbidden" => Ok(CancelOutcome::Forbidden),
            "gone" => Ok(CancelOutcome::Gone),
            other => Err(StoreError::Protocol(format!("cancel: {other}"))),
        }
    }

    #[tracing::instrument(skip_all, fields(session = %id, user = %user))]
    pub async fn scan(&self, id: &SessionId, user: &UserId) -> Result<ScanOutcome, StoreError> {
        let mut inv = self.scripts.scan.key(self.keys.session(id));
        inv.arg(user.as_str());
        let reply: Vec<redis::Value> = self.run(&inv).await?;
        let text = |i: usize| reply.get(i).and_then(|v| redis::from_redis_value_ref::<String>(v).ok());
        match text(0).as_deref() {
            Some("ok") => {
                let (Some(ip), Some(user_agent), Some(created_at)) = (text(1), text(2), text(3)) else {
                    return Err(StoreError::Protocol("scan: missing requester".into()));
                };
                let ttl = reply.get(4).and_then(|v| redis::from_redis_value_ref::<i64>(v).ok()).unwrap_or(0);
                let ttl = Duration::from_secs(u64::try_from(ttl).unwrap_or(0));
                Ok(ScanOutcome::Scanned { requester: Requester { ip, user_agent, created_at }, ttl })
            }
            Some("not_found") => Ok(ScanOutcome::NotFound),
            Some("conflict") => Ok(ScanOutcome::Conflict),
            other => Err(StoreError::Protocol(format!("scan: {other:?}"))),
        }
    }

    #[tracing::instrument(skip_all, fields(session = %id, user = %user, decision = ?decision))]
    pub async fn decide(&self, id: &SessionId, user: &UserId, decision: Decision) -> Result<DecideOutcome, StoreError> {
        let state = match decision {
            Decision::Confirm => "confirmed",
            Decision::Deny => "denied",
        };
        let mut inv = self.scripts.decide.key(self.keys.session(id));
        inv.arg(user.as_str()).arg(state);
        let reply: String = self.run(&inv).await?;
        match reply.as_str() {
            "ok" => Ok(DecideOutcome::Done),
            "not_found" => Ok(DecideOutcome::NotFound),
            "wrong_state" => Ok(DecideOutcome::WrongState),
            "wrong_user" => Ok(DecideOutcome::WrongUser),
            other => Err(StoreError::Protocol(format!("decide: {other}"))),
        }
    }

    /// Counts a wrong verification string against the session; `allowed` misses destroy it.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn record_miss(&self, id: &SessionId, allowed: u32) -> Result<MissOutcome, StoreError> {
        let mut inv = self.scripts.bad_code.key(self.keys.session(id));
        inv.arg(allowed);
        let left: i64 = self.run(&inv).await?;
        Ok(match left {
            ..0 => MissOutcome::Unknown,
            0 => MissOutcome::Destroyed,
            n => MissOutcome::Counted(u32::try_from(n).unwrap_or(u32::MAX)),
        })
    }

    async fn run<T: redis::FromRedisValue>(&self, inv: &redis::ScriptInvocation<'_>) -> Result<T, StoreError> {
        self.redis.run(inv).await
    }
}

fn poll_outcome(mut reply: Vec<String>) -> Result<PollOutcome, StoreError> {
    let state = reply.first().map(String::as_str);
    Ok(match (state, reply.len()) {
        (Some("pending"), 1) => PollOutcome::Pending,
        (Some("scanned"), 1) => PollOutcome::Scanned,
        (Some("denied"), 1) => PollOutcome::Denied,
        (Some("cancelled"), 1) => PollOutcome::Cancelled,
        (Some("expired"), 1) => PollOutcome::Expired,
        (Some("forbidden"), 1) => PollOutcome::Forbidden,
        (Some("confirmed"), 2) => PollOutcome::Confirmed(UserId::parse(&reply[1]).map_err(protocol)?),
        (Some("claimed"), 2) => PollOutcome::Claimed(reply.swap_remove(1)),
        (Some("slow_down"), 2) => PollOutcome::SlowDown(Duration::from_millis(reply[1].parse().map_err(protocol)?)),
        _ => return Err(StoreError::Protocol(format!("poll: {reply:?}"))),
    })
}

fn protocol(e: impl std::fmt::Display) -> StoreError {
    StoreError::Protocol(e.to_string())
}
