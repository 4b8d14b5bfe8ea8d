//! The transitions the web gateway makes for the browser.

use std::time::Duration;

use super::{
    CancelOutcome, ClaimOutcome, NewSession, PollOutcome, Polled, RotateOutcome, SessionStore, StoreError, protocol,
};
use crate::{BindingHash, SessionId, UserId};

impl SessionStore {
    /// Stores a new pending session with its TTL in one step. Returns false on an id collision.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn create(&self, id: &SessionId, new: &NewSession<'_>) -> Result<bool, StoreError> {
        let r = new.requester;
        let mut inv = self.invocation(&self.scripts.create, id);
        inv.arg(new.ttl.as_secs().max(1))
            .arg(&[("st", "pending"), ("bind", new.binding.as_str()), ("ip", &r.ip)])
            .arg(&[("ua", r.user_agent.as_str()), ("ct", r.created_at.as_str())])
            .arg(("cexp", new.code_expires_at));
        let created: i64 = self.run(&inv).await?;
        Ok(created == 1)
    }

    /// Reads the state for the browser (never changing it), enforcing `interval` between polls (zero: none).
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn poll(&self, id: &SessionId, binding: &BindingHash, interval: Duration) -> Result<Polled, StoreError> {
        let mut inv = self.invocation(&self.scripts.poll, id);
        inv.arg(binding.as_str()).arg(interval.as_millis().to_string());
        let reply: Vec<String> = self.run(&inv).await?;
        polled(reply)
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
        let mut inv = self.invocation(&self.scripts.claim, id);
        inv.arg(binding.as_str()).arg(answer).arg(grace.as_secs().max(1));
        self.notify_args(&mut inv, id);
        let mut reply: Vec<String> = self.run(&inv).await?;
        match (reply.first().map(String::as_str), reply.len()) {
            (Some("won"), 2) => Ok(ClaimOutcome::Won(reply[1].parse().map_err(protocol)?)),
            (Some("claimed"), 3) => {
                let answer = reply.swap_remove(2);
                Ok(ClaimOutcome::AlreadyClaimed { version: reply[1].parse().map_err(protocol)?, answer })
            }
            _ => polled(reply).map(|p| ClaimOutcome::Other(p.outcome)),
        }
    }

    /// Replaces the QR code of a pending session whose current code expires at `current`.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn rotate(&self, id: &SessionId, current: u32, next: u32) -> Result<RotateOutcome, StoreError> {
        let mut inv = self.invocation(&self.scripts.rotate, id);
        inv.arg(current).arg(next);
        self.notify_args(&mut inv, id);
        let reply: Vec<String> = self.run(&inv).await?;
        match (reply.first().map(String::as_str), reply.get(1)) {
            (Some("rotated"), Some(v)) => Ok(RotateOutcome::Rotated(v.parse().map_err(protocol)?)),
            (Some("stale"), Some(exp)) => Ok(RotateOutcome::Stale(exp.parse().map_err(protocol)?)),
            (Some("not_pending"), None) => Ok(RotateOutcome::NotPending),
            _ => Err(StoreError::Protocol(format!("rotate: {reply:?}"))),
        }
    }

    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn cancel(&self, id: &SessionId, binding: &BindingHash) -> Result<CancelOutcome, StoreError> {
        let mut inv = self.invocation(&self.scripts.cancel, id);
        inv.arg(binding.as_str());
        self.notify_args(&mut inv, id);
        let reply: String = self.run(&inv).await?;
        match reply.as_str() {
            "ok" => Ok(CancelOutcome::Cancelled),
            "forbidden" => Ok(CancelOutcome::Forbidden),
            "gone" => Ok(CancelOutcome::Gone),
            other => Err(StoreError::Protocol(format!("cancel: {other}"))),
        }
    }
}

/// Parses the shared reply shape of poll.lua (and claim.lua's fall-through).
fn polled(mut reply: Vec<String>) -> Result<Polled, StoreError> {
    let bare = |outcome| Polled { outcome, version: 0, code_expires_at: 0, expires_in: Duration::ZERO };
    match (reply.first().map(String::as_str), reply.len()) {
        (Some("expired"), 1) => return Ok(bare(PollOutcome::Expired)),
        (Some("forbidden"), 1) => return Ok(bare(PollOutcome::Forbidden)),
        (Some("slow_down"), 2) => {
            return Ok(bare(PollOutcome::SlowDown(Duration::from_millis(reply[1].parse().map_err(protocol)?))));
        }
        _ => {}
    }
    let bad = || StoreError::Protocol(format!("poll: {reply:?}"));
    let version = reply.get(1).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let code_expires_at = reply.get(2).and_then(|v| v.parse().ok()).unwrap_or(0);
    let ttl_ms: i64 = reply.get(3).and_then(|v| v.parse().ok()).unwrap_or(0);
    let expires_in = Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0));
    let extra = if reply.len() == 5 { reply.pop() } else { None };
    let outcome = match (reply[0].as_str(), extra) {
        ("pending", None) => PollOutcome::Pending,
        ("scanned", None) => PollOutcome::Scanned,
        ("denied", None) => PollOutcome::Denied,
        ("cancelled", None) => PollOutcome::Cancelled,
        ("confirmed", Some(uid)) => PollOutcome::Confirmed(UserId::parse(&uid).map_err(protocol)?),
        ("claimed", Some(answer)) => PollOutcome::Claimed(answer),
        _ => return Err(StoreError::Protocol(format!("poll: {reply:?}"))),
    };
    Ok(Polled { outcome, version, code_expires_at, expires_in })
}
