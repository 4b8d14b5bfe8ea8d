//! The transitions mobile-api makes for the phone.

use std::time::Duration;

use super::{DecideOutcome, Decision, MissOutcome, Requester, ScanOutcome, SessionStore, StoreError};
use crate::{SessionId, UserId};

impl SessionStore {
    /// Records the scan by `user` of the code expiring at `code_expires_at` (which must be the current one).
    #[tracing::instrument(skip_all, fields(session = %id, user = %user))]
    pub async fn scan(&self, id: &SessionId, user: &UserId, code_expires_at: u32) -> Result<ScanOutcome, StoreError> {
        let mut inv = self.invocation(&self.scripts.scan, id);
        inv.arg(user.as_str()).arg(code_expires_at);
        self.notify_args(&mut inv, id);
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

    /// The scanner's decision, made with the code that was scanned.
    #[tracing::instrument(skip_all, fields(session = %id, user = %user, decision = ?decision))]
    pub async fn decide(
        &self,
        id: &SessionId,
        user: &UserId,
        decision: Decision,
        code_expires_at: u32,
    ) -> Result<DecideOutcome, StoreError> {
        let state = match decision {
            Decision::Confirm => "confirmed",
            Decision::Deny => "denied",
        };
        let mut inv = self.invocation(&self.scripts.decide, id);
        inv.arg(user.as_str()).arg(state).arg(code_expires_at);
        self.notify_args(&mut inv, id);
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
        let mut inv = self.invocation(&self.scripts.bad_code, id);
        inv.arg(allowed);
        self.notify_args(&mut inv, id);
        let left: i64 = self.run(&inv).await?;
        Ok(match left {
            ..0 => MissOutcome::Unknown,
            0 => MissOutcome::Destroyed,
            n => MissOutcome::Counted(u32::try_from(n).unwrap_or(u32::MAX)),
        })
    }
}
