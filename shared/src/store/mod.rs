//! The login session state machine, kept in Redis. Every transition is one Lua script: one round trip that
//! checks and changes state atomically, whatever number of service instances run. Each visible transition also
//! bumps the session's version and publishes its id on the session's events channel, in the same step, so waiting
//! browsers on any gateway instance learn of it at once.
//!
//! ```text
//! pending --scan--> scanned --confirm--> confirmed --browser poll--> claimed (token issued once, kept for
//!  |  ^                \--deny-----> denied                                  a grace window, then gone)
//!  |  '-- rotate (new QR code, while pending)  \--scan by a second user--> cancelled
//!  \--------cancel (browser)-----> cancelled         any state --TTL--> gone (answered as expired)
//! ```

mod browser;
mod devices;
mod dpop;
mod outbox;
mod phone;
mod reply;
mod web_sessions;

pub use phone::{CHECK_CODE_ATTEMPTS, DecisionCodes, OUTCOME_KEPT};

use std::sync::Arc;
use std::time::Duration;

use redis::Script;

use crate::rate_limit::{self, ADMIT_LUA, Limit, Limited, RateLimiter};

pub use crate::redis_conn::{CreatePoolError, Redis, StoreError};
pub use crate::session::{Decision, Requester, RiskLevel, SessionState};
pub use devices::DEVICES_PER_USER;
pub use outbox::{OutboxEvent, OutboxKind, Retry};
pub use reply::LoginContext;
pub use web_sessions::{NewWebSession, Shown, WEB_SESSIONS_PER_USER, WebSession};

use crate::config::RedisSettings;
use crate::telemetry::Traceparent;
use crate::{BindingHash, DeviceHash, KeySchema, SessionId, UserId};

/// A user's device history, and how long a login in it counts.
#[derive(Clone, Copy, Debug)]
pub struct History<'a> {
    pub user: &'a UserId,
    pub memory: Duration,
}

/// Who claims a confirmed login and what it becomes: their device history remembers the browser, and their web
/// session `web` begins.
#[derive(Clone, Copy, Debug)]
pub struct Claimant<'a> {
    pub history: History<'a>,
    pub web: NewWebSession<'a>,
}

/// What the gateway records when it issues a session.
pub struct NewSession<'a> {
    pub binding: &'a BindingHash,
    pub requester: &'a Requester,
    /// The browser's device cookie, hashed: whether it logged in as the scanning user before is part of the risk.
    pub device: Option<&'a DeviceHash>,
    pub ttl: Duration,
    /// Expiry of the first QR code (unix seconds); later codes replace it by [`SessionStore::rotate`].
    pub code_expires_at: u32,
    /// The create's trace context, only while traces are exported: the later steps join the login's trace.
    pub trace: Option<&'a Traceparent>,
    /// The RFC 7638 thumbprint of the browser's DPoP key (RFC 9449), when the create carried a proof: the
    /// token this login issues is bound to that key.
    pub dpop_jkt: Option<&'a str>,
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
    /// Scanned, and the phone must type this code, which the browser shows.
    ScannedWithCheckCode(String),
    /// The user confirmed: issue a token for them (bound to the DPoP key `jkt` names, when the create was
    /// sent with a proof) and [`SessionStore::claim`] it.
    Confirmed {
        user: UserId,
        jkt: Option<String>,
    },
    /// The token was already handed out; this is the stored answer carrying it (same browser, grace window).
    Claimed(String),
    /// Polling faster than advised: come back after this long. Nothing else was looked at.
    SlowDown(Duration),
}

/// A poll's answer with the session's version (0 when there is no session), current code's expiry, and how
/// long the session still lives.
#[derive(Debug, PartialEq, Eq)]
pub struct Polled {
    pub outcome: PollOutcome,
    pub version: u64,
    pub code_expires_at: u32,
    pub expires_in: Duration,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This caller's answer is the one handed out; the session is now at this version. `device` and `shown`:
    /// the browser's device hash to remember in the user's history and what the web session shows, when that is
    /// still to be done (steps of their own on a cluster).
    /// `risk`: the scan's verdict, for the login webhook a cluster queues in a step of its own.
    Won {
        version: u64,
        device: Option<DeviceHash>,
        shown: Option<Shown>,
        risk: Option<RiskLevel>,
        trace: Option<Traceparent>,
    },
    /// Another poll of the same browser won a moment earlier: hand out its answer instead.
    AlreadyClaimed { version: u64, answer: String },
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
pub enum RotateOutcome {
    /// The new code is current; the session is now at this version.
    Rotated(u64),
    /// Another instance rotated first; this is the code expiry now current.
    Stale(u32),
    /// Scanned, decided or gone: there is nothing to rotate any more.
    NotPending,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ScanOutcome {
    Scanned {
        requester: Requester,
        ttl: Duration,
        /// The browser shows a check code the phone must type to confirm.
        check_code_required: bool,
        /// The login's trace context, when the create stored one.
        trace: Option<Traceparent>,
    },
    NotFound,
    Conflict,
    /// Another user had scanned it first: this scan ended the login (cancelled, code voided).
    Ended {
        first_scanner: UserId,
        trace: Option<Traceparent>,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum DecideOutcome {
    Done,
    NotFound,
    WrongState,
    WrongUser,
    /// A confirm of a scan judged at a level that blocks it (or with no verdict kept): nothing changed.
    RiskBlocked,
    /// A confirm without the check code the browser shows, or with another one: nothing changed but the count.
    WrongCheckCode,
    /// That was the last wrong check code allowed: the login is denied.
    CheckCodeDenied,
}

/// A decision's outcome, with the login's trace context when the create stored one.
#[derive(Debug, PartialEq, Eq)]
pub struct Decided {
    pub outcome: DecideOutcome,
    pub trace: Option<Traceparent>,
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

struct Scripts {
    create: Script,
    poll: Script,
    claim: Script,
    cancel: Script,
    rotate: Script,
    scan: Script,
    decide: Script,
    bad_code: Script,
    context: Script,
    remember_device: Script,
    known_device: Script,
    outcome: Script,
    web_session_add: Script,
    web_sessions_list: Script,
    web_session_end: Script,
    web_session_touch: Script,
    outbox_add: Script,
    outbox_take: Script,
    outbox_settle: Script,
    outbox_forget: Script,
    dpop_proof: Script,
}

impl Scripts {
    fn load() -> Self {
        // Every step starts with the rate limits it is given (none, for most); those that may read or write a
        // user's device history have its functions too.
        let step = |body: &str| Script::new(&format!("{ADMIT_LUA}\n{body}"));
        let with_devices = |body: &str| step(&format!("{}\n{body}", include_str!("devices.lua")));
        let with_outbox = |body: &str| step(&format!("{}\n{body}", include_str!("outbox.lua")));
        // Web sessions that end queue their back-channel logouts; new ones, their login webhook.
        let with_web_sessions = |body: &str| with_outbox(&format!("{}\n{body}", include_str!("web_sessions.lua")));
        Self {
            create: step(include_str!("create.lua")),
            poll: step(include_str!("poll.lua")),
            claim: with_web_sessions(&format!("{}\n{}", include_str!("devices.lua"), include_str!("claim.lua"))),
            cancel: step(include_str!("cancel.lua")),
            rotate: step(include_str!("rotate.lua")),
            scan: step(include_str!("scan.lua")),
            decide: step(include_str!("decide.lua")),
            bad_code: step(include_str!("bad_code.lua")),
            context: with_devices(include_str!("context.lua")),
            remember_device: with_devices(include_str!("remember_device.lua")),
            known_device: with_devices(include_str!("known_device.lua")),
            outcome: step(include_str!("outcome.lua")),
            web_session_add: with_web_sessions(include_str!("web_session_add.lua")),
            web_sessions_list: step(include_str!("web_sessions_list.lua")),
            web_session_end: with_web_sessions(include_str!("web_session_end.lua")),
            web_session_touch: step(include_str!("web_session_touch.lua")),
            outbox_add: with_outbox(include_str!("outbox_add.lua")),
            outbox_take: step(include_str!("outbox_take.lua")),
            outbox_settle: step(include_str!("outbox_settle.lua")),
            outbox_forget: step(include_str!("outbox_forget.lua")),
            dpop_proof: step(include_str!("dpop_proof.lua")),
        }
    }
}

/// Why a step guarded by rate limits did not run: a limit refused it (nothing changed), or Redis could not
/// answer.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("rate limited by {}", .0.name)]
    Limited(Limited),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Handle to the session state in Redis; cheap to clone, shared by all workers.
#[derive(Clone)]
pub struct SessionStore {
    redis: Redis,
    keys: KeySchema,
    scripts: Arc<Scripts>,
    limiter: RateLimiter,
}

impl SessionStore {
    pub fn new(redis: Redis, keys: KeySchema) -> Self {
        let limiter = RateLimiter::new(redis.clone(), keys.clone());
        Self { redis, keys, scripts: Arc::new(Scripts::load()), limiter }
    }

    /// A store on its own pool, for the given settings.
    pub fn connect(settings: &RedisSettings) -> Result<Self, CreatePoolError> {
        Ok(Self::new(Redis::connect(settings)?, KeySchema::new(settings.key_prefix.clone())))
    }

    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    /// A script invocation on one session's key, with the session's events channel and id appended last by
    /// [`notify_args`] where the script publishes.
    fn invocation<'a>(&self, script: &'a Script, id: &SessionId) -> redis::ScriptInvocation<'a> {
        script.key(self.keys.session(id))
    }

    /// Adds the login's outcome key (K[2]) to a step that records how a confirmed login ends.
    fn outcome_key(&self, inv: &mut redis::ScriptInvocation<'_>, id: &SessionId) {
        inv.key(self.keys.session_outcome(id));
    }

    fn notify_args(&self, inv: &mut redis::ScriptInvocation<'_>, id: &SessionId) {
        inv.arg(self.keys.session_events(id)).arg(id.to_string());
    }

    /// Runs a step with no limits and decodes its reply (`reply.rs`); a reply of the wrong shape is a protocol
    /// error (500), not a Redis fault (503).
    async fn run<T: redis::FromRedisValue>(&self, inv: &mut redis::ScriptInvocation<'_>) -> Result<T, StoreError> {
        rate_limit::append(inv, &self.keys, &[]);
        decode(self.redis.run(inv).await?)
    }

    /// Runs a step only if `limits` admit it, counting it against them: in the step's own script (one round
    /// trip in all) on a single Redis; on a cluster, where their keys are in other slots, in calls of their own
    /// first.
    async fn run_limited<T: redis::FromRedisValue>(
        &self,
        inv: &mut redis::ScriptInvocation<'_>,
        limits: &[Limit<'_>],
    ) -> Result<T, StepError> {
        let folded = if self.redis.is_cluster() {
            // Boxed: the cluster path's nested futures would otherwise make every step's future type deeper.
            if let Some(limited) = Box::pin(self.limiter.check(limits)).await? {
                return Err(StepError::Limited(limited));
            }
            &[]
        } else {
            limits
        };
        rate_limit::append(inv, &self.keys, folded);
        let reply: redis::Value = self.redis.run(inv).await?;
        match rate_limit::limited_in(&reply, folded) {
            Some(limited) => Err(StepError::Limited(limited)),
            None => Ok(decode(reply)?),
        }
    }
}

fn decode<T: redis::FromRedisValue>(reply: redis::Value) -> Result<T, StoreError> {
    T::from_redis_value(reply).map_err(|e| StoreError::Protocol(e.to_string()))
}
