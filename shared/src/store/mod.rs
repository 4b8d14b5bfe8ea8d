//! The login session state machine, kept in Redis. Every transition is one Lua script: one round trip that
//! checks and changes state atomically, whatever number of service instances run.
//!
//! ```text
//! pending --scan--> scanned --confirm--> confirmed --browser poll--> claimed (token issued once)
//!    |                 \--deny-----> denied
//!    \--------cancel (browser)-----> cancelled         any state --TTL--> gone (answered as expired)
//! ```

mod pool;

use std::time::Duration;

use deadpool_redis::Pool;
use redis::Script;

pub use deadpool_redis::CreatePoolError;
pub use pool::connect;

use crate::config::RedisSettings;
use crate::{BindingHash, KeySchema, SessionId, UserId};

/// Why Redis could not answer. Every variant is the server's fault, never the client's: answered 503.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no Redis connection available")]
    Pool(#[from] deadpool_redis::PoolError),
    #[error("Redis command failed")]
    Redis(#[from] redis::RedisError),
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("unexpected reply from a session script: {0}")]
    Protocol(String),
}

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
    /// Unknown, expired, or already claimed: one answer, so nothing can be probed.
    Expired,
    /// The caller's binding does not match: nothing changed.
    Forbidden,
    /// This caller won the claim: issue the token for this user.
    Claimed(UserId),
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
    unclaim: Script,
    cancel: Script,
    scan: Script,
    decide: Script,
}

impl Scripts {
    fn load() -> Self {
        Self {
            create: Script::new(include_str!("create.lua")),
            poll: Script::new(include_str!("poll.lua")),
            unclaim: Script::new(include_str!("unclaim.lua")),
            cancel: Script::new(include_str!("cancel.lua")),
            scan: Script::new(include_str!("scan.lua")),
            decide: Script::new(include_str!("decide.lua")),
        }
    }
}

/// Handle to the session state in Redis; cheap to clone, shared by all workers.
#[derive(Clone)]
pub struct SessionStore {
    pool: Pool,
    keys: KeySchema,
    command_timeout: Duration,
    scripts: std::sync::Arc<Scripts>,
}

impl SessionStore {
    pub fn new(settings: &RedisSettings) -> Result<Self, deadpool_redis::CreatePoolError> {
        Ok(Self {
            pool: connect(settings)?,
            keys: KeySchema::new(settings.key_prefix.clone()),
            command_timeout: settings.command_timeout,
            scripts: std::sync::Arc::new(Scripts::load()),
        })
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

    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn poll(&self, id: &SessionId, binding: &BindingHash) -> Result<PollOutcome, StoreError> {
        let mut inv = self.scripts.poll.key(self.keys.session(id));
        inv.arg(binding.as_str());
        let reply: Vec<String> = self.run(&inv).await?;
        Ok(match reply.as_slice() {
            [s] if s == "pending" => PollOutcome::Pending,
            [s] if s == "scanned" => PollOutcome::Scanned,
            [s] if s == "denied" => PollOutcome::Denied,
            [s] if s == "cancelled" => PollOutcome::Cancelled,
            [s] if s == "expired" => PollOutcome::Expired,
            [s] if s == "forbidden" => PollOutcome::Forbidden,
            [s, uid] if s == "claimed" => PollOutcome::Claimed(UserId::parse(uid).map_err(protocol)?),
            other => return Err(StoreError::Protocol(format!("poll: {other:?}"))),
        })
    }

    /// Undoes a claim whose token could not be issued, so the browser's next poll tries again.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn unclaim(&self, id: &SessionId) -> Result<(), StoreError> {
        let _: i64 = self.run(&self.scripts.unclaim.key(self.keys.session(id))).await?;
        Ok(())
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

    /// Readiness: a PING through the pool, within the same deadline as any command.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(async {
            let mut conn = self.pool.get().await?;
            let _: String = redis::cmd("PING").query_async(&mut conn).await?;
            Ok(())
        })
        .await
    }

    async fn run<T: redis::FromRedisValue>(&self, inv: &redis::ScriptInvocation<'_>) -> Result<T, StoreError> {
        self.bounded(async {
            let mut conn = self.pool.get().await?;
            Ok(inv.invoke_async(&mut conn).await?)
        })
        .await
    }

    /// A slow or stuck Redis must cost the caller a bounded wait, never a hang.
    async fn bounded<T>(&self, f: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        tokio::time::timeout(self.command_timeout, f)
            .await
            .unwrap_or(Err(StoreError::Timeout(self.command_timeout)))
    }
}

fn protocol(e: impl std::fmt::Display) -> StoreError {
    StoreError::Protocol(e.to_string())
}
