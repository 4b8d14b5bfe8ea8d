//! Every script's reply decoded in one place: one `FromRedisValue` per reply shape, next to the script it comes
//! from (the shapes are documented at the top of each `.lua` file). A reply that fits no shape is a protocol
//! error, never a guess; `tests/scripts.rs` runs every script against a real Redis and decodes every reply.

use std::time::Duration;

use redis::{FromRedisValue, ParsingError, Value};

use super::{
    CancelOutcome, ClaimOutcome, DecideOutcome, Decided, MissOutcome, PollOutcome, Polled, RotateOutcome, ScanOutcome,
    Shown,
};
use crate::session::{LoginStatus, Requester, RiskLevel, SessionState};
use crate::telemetry::Traceparent;
use crate::{DeviceHash, UserId};

/// The fields of an array reply, read by position.
struct Fields(Vec<Value>);

impl Fields {
    fn of(v: Value, script: &str) -> Result<Self, ParsingError> {
        match v {
            Value::Array(items) => Ok(Self(items)),
            other => Err(bad(script, &other)),
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn get<T: FromRedisValue>(&self, i: usize, script: &str) -> Result<T, ParsingError> {
        let value = self.0.get(i).ok_or_else(|| ParsingError::from(format!("{script}: no field {i}")))?;
        T::from_redis_value_ref(value).map_err(|e| ParsingError::from(format!("{script}: field {i}: {e}")))
    }

    fn text(&self, i: usize, script: &str) -> Result<String, ParsingError> {
        self.get(i, script)
    }

    /// A stored trace context: `''` (none stored) or anything that is not a valid one reads as none.
    fn trace(&self, i: usize, script: &str) -> Result<Option<Traceparent>, ParsingError> {
        self.text(i, script).map(|t| Traceparent::parse(&t))
    }

    fn state(&self, i: usize, script: &str) -> Result<SessionState, ParsingError> {
        let name = self.text(i, script)?;
        name.parse().map_err(|_| ParsingError::from(format!("{script}: unknown state {name:?}")))
    }
}

fn bad(script: &str, v: &Value) -> ParsingError {
    ParsingError::from(format!("{script}: unexpected reply {v:?}"))
}

fn tag(v: &Value, script: &str) -> Result<String, ParsingError> {
    String::from_redis_value_ref(v).map_err(|_| bad(script, v))
}

/// poll.lua (and claim.lua's fall-through): `{'expired'}`, `{'forbidden'}`, `{'slow_down', ms}` or
/// `{state, version, code expiry, ms to live[, user id[, DPoP key thumbprint] | stored answer | check code]}`.
impl FromRedisValue for Polled {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        polled(Fields::of(v, "poll")?, "poll")
    }
}

fn polled(f: Fields, script: &str) -> Result<Polled, ParsingError> {
    let bare = |outcome| Polled { outcome, version: 0, code_expires_at: 0, expires_in: Duration::ZERO };
    match (f.text(0, script)?.as_str(), f.len()) {
        ("expired", 1) => return Ok(bare(PollOutcome::Expired)),
        ("forbidden", 1) => return Ok(bare(PollOutcome::Forbidden)),
        ("slow_down", 2) => {
            return Ok(bare(PollOutcome::SlowDown(Duration::from_millis(f.get(1, script)?))));
        }
        _ => {}
    }
    let state = f.state(0, script)?;
    let version = f.get(1, script)?;
    // claim.lua's fall-through carries only state and version.
    let code_expires_at = if f.len() > 2 { f.get(2, script)? } else { 0 };
    let ttl_ms: i64 = if f.len() > 3 { f.get(3, script)? } else { 0 };
    let expires_in = Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0));
    let outcome = match (state, f.len()) {
        (SessionState::Pending, ..5) => PollOutcome::Pending,
        (SessionState::Scanned, ..5) => PollOutcome::Scanned,
        (SessionState::Scanned, 5) => PollOutcome::ScannedWithCheckCode(f.text(4, script)?),
        (SessionState::Denied, ..5) => PollOutcome::Denied,
        (SessionState::Cancelled, ..5) => PollOutcome::Cancelled,
        (SessionState::Confirmed, 5 | 6) => {
            let user = f.text(4, script)?;
            let user = UserId::parse(&user).map_err(|e| ParsingError::from(format!("{script}: {e}")))?;
            let jkt = if f.len() == 6 { Some(f.text(5, script)?) } else { None };
            PollOutcome::Confirmed { user, jkt }
        }
        (SessionState::Claimed, 5) => PollOutcome::Claimed(f.text(4, script)?),
        (state, n) => return Err(ParsingError::from(format!("{script}: {n} fields for {}", state.as_str()))),
    };
    Ok(Polled { outcome, version, code_expires_at, expires_in })
}

/// claim.lua: `{'won', version, device, traceparent, remembered, shown, risk}`, `{'claimed', version, answer}`, else the
/// poll shape. What the step already did itself (the device remembered, the web session added) is not handed back.
impl FromRedisValue for ClaimOutcome {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        let f = Fields::of(v, "claim")?;
        match (f.text(0, "claim")?.as_str(), f.len()) {
            ("won", 7) => {
                let remembered = f.text(4, "claim")? == "1";
                let device = DeviceHash::from_stored(&f.text(2, "claim")?).filter(|_| !remembered);
                // Only a cluster's claim hands it back, for the web session's step of its own.
                let shown = (!remembered).then(|| f.text(5, "claim")).transpose()?;
                let shown = shown.map(|s| serde_json::from_str::<Shown>(&s)).transpose();
                let shown = shown.map_err(|e| ParsingError::from(format!("claim: shown: {e}")))?;
                let risk = f.text(6, "claim")?.parse().ok();
                Ok(Self::Won { version: f.get(1, "claim")?, device, shown, risk, trace: f.trace(3, "claim")? })
            }
            ("claimed", 3) => Ok(Self::AlreadyClaimed { version: f.get(1, "claim")?, answer: f.text(2, "claim")? }),
            _ => polled(f, "claim").map(|p| Self::Other(p.outcome)),
        }
    }
}

/// rotate.lua: `{'rotated', version}`, `{'stale', current expiry}` or `{'not_pending'}`.
impl FromRedisValue for RotateOutcome {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        let f = Fields::of(v, "rotate")?;
        match (f.text(0, "rotate")?.as_str(), f.len()) {
            ("rotated", 2) => Ok(Self::Rotated(f.get(1, "rotate")?)),
            ("stale", 2) => Ok(Self::Stale(f.get(1, "rotate")?)),
            ("not_pending", 1) => Ok(Self::NotPending),
            (other, n) => Err(ParsingError::from(format!("rotate: {other:?} with {n} fields"))),
        }
    }
}

/// cancel.lua: `'ok'`, `'forbidden'` or `'gone'`.
impl FromRedisValue for CancelOutcome {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        match tag(&v, "cancel")?.as_str() {
            "ok" => Ok(Self::Cancelled),
            "forbidden" => Ok(Self::Forbidden),
            "gone" => Ok(Self::Gone),
            _ => Err(bad("cancel", &v)),
        }
    }
}

/// scan.lua: `{'ok', ip, user_agent, created_at, ttl, check code required, traceparent}`, `{'not_found'}`,
/// `{'ended', first scanner, traceparent}` or `{'conflict', state}`.
impl FromRedisValue for ScanOutcome {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        let f = Fields::of(v, "scan")?;
        match (f.text(0, "scan")?.as_str(), f.len()) {
            ("ok", 7) => {
                let requester = Requester {
                    ip: f.text(1, "scan")?,
                    user_agent: f.text(2, "scan")?,
                    created_at: f.text(3, "scan")?,
                };
                let ttl: i64 = f.get(4, "scan")?;
                Ok(Self::Scanned {
                    requester,
                    ttl: Duration::from_secs(u64::try_from(ttl).unwrap_or(0)),
                    check_code_required: f.text(5, "scan")? == "1",
                    trace: f.trace(6, "scan")?,
                })
            }
            ("not_found", 1) => Ok(Self::NotFound),
            ("conflict", 2) => f.state(1, "scan").map(|_| Self::Conflict),
            ("ended", 3) => {
                let first = f.text(1, "scan")?;
                let first_scanner = UserId::parse(&first).map_err(|e| ParsingError::from(format!("scan: {e}")))?;
                Ok(Self::Ended { first_scanner, trace: f.trace(2, "scan")? })
            }
            (other, n) => Err(ParsingError::from(format!("scan: {other:?} with {n} fields"))),
        }
    }
}

/// decide.lua: `{outcome, traceparent}`, outcome `'ok'`, `'not_found'`, `'wrong_state'`, `'wrong_user'`,
/// `'risk_blocked'`, `'wrong_check_code'` or `'check_code_denied'`.
impl FromRedisValue for Decided {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        let f = Fields::of(v, "decide")?;
        if f.len() != 2 {
            return Err(ParsingError::from(format!("decide: {} fields", f.len())));
        }
        let outcome = match f.text(0, "decide")?.as_str() {
            "ok" => DecideOutcome::Done,
            "not_found" => DecideOutcome::NotFound,
            "wrong_state" => DecideOutcome::WrongState,
            "wrong_user" => DecideOutcome::WrongUser,
            "risk_blocked" => DecideOutcome::RiskBlocked,
            "wrong_check_code" => DecideOutcome::WrongCheckCode,
            "check_code_denied" => DecideOutcome::CheckCodeDenied,
            other => return Err(ParsingError::from(format!("decide: unknown outcome {other:?}"))),
        };
        Ok(Self { outcome, trace: f.trace(1, "decide")? })
    }
}

/// outcome.lua: a [`LoginStatus`] by name, or `'not_found'`.
pub(super) struct PhoneStatus(pub Option<LoginStatus>);

impl FromRedisValue for PhoneStatus {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        match tag(&v, "outcome")?.as_str() {
            "not_found" => Ok(Self(None)),
            name => name.parse().map(|s| Self(Some(s))).map_err(|_| bad("outcome", &v)),
        }
    }
}

/// bad_code.lua: -1 for no such session, 0 when this miss destroyed it, else the misses still allowed.
impl FromRedisValue for MissOutcome {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        Ok(match i64::from_redis_value_ref(&v).map_err(|_| bad("bad_code", &v))? {
            ..0 => Self::Unknown,
            0 => Self::Destroyed,
            n => Self::Counted(u32::try_from(n).unwrap_or(u32::MAX)),
        })
    }
}

/// create.lua: 1 when created, 0 on an id collision.
pub(super) struct Created(pub bool);

impl FromRedisValue for Created {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        match i64::from_redis_value_ref(&v).map_err(|_| bad("create", &v))? {
            0 => Ok(Self(false)),
            1 => Ok(Self(true)),
            _ => Err(bad("create", &v)),
        }
    }
}

/// What context.lua tells about a session: its state and scanner, the stored requester, the browser's device
/// hash and the recorded risk level of the scan (each `None` until set).
#[derive(Debug, PartialEq, Eq)]
pub struct LoginContext {
    pub state: SessionState,
    pub scanner: Option<UserId>,
    pub requester: Requester,
    pub device: Option<DeviceHash>,
    pub risk: Option<RiskLevel>,
    /// Whether the device logged in as the scanning user before, when the read could look (a single Redis).
    pub known_device: Option<bool>,
}

/// context.lua: `{}` for no session, else `{state, scanner, ip, user_agent, created_at, device, risk, known}` with
/// `''` for fields not set.
pub(super) struct Context(pub Option<LoginContext>);

impl FromRedisValue for Context {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        let f = Fields::of(v, "context")?;
        match f.len() {
            0 => return Ok(Self(None)),
            8 => {}
            n => return Err(ParsingError::from(format!("context: {n} fields"))),
        }
        let set = |i| f.text(i, "context").map(|t| Some(t).filter(|t| !t.is_empty()));
        let scanner = set(1)?.map(|u| UserId::parse(&u)).transpose();
        let risk = set(6)?.map(|r| r.parse::<RiskLevel>()).transpose();
        Ok(Self(Some(LoginContext {
            state: f.state(0, "context")?,
            scanner: scanner.map_err(|e| ParsingError::from(format!("context: {e}")))?,
            requester: Requester {
                ip: f.text(2, "context")?,
                user_agent: f.text(3, "context")?,
                created_at: f.text(4, "context")?,
            },
            device: set(5)?.and_then(|d| DeviceHash::from_stored(&d)),
            risk: risk.map_err(|_| ParsingError::from("context: unknown risk level"))?,
            known_device: set(7)?.map(|known| known == "1"),
        })))
    }
}

/// known_device.lua: 1 or 0.
pub(super) struct Flag(pub bool);

impl FromRedisValue for Flag {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        match i64::from_redis_value_ref(&v).map_err(|_| bad("flag", &v))? {
            0 => Ok(Self(false)),
            1 => Ok(Self(true)),
            _ => Err(bad("flag", &v)),
        }
    }
}
