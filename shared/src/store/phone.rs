//! The transitions mobile-api makes for the phone.

use super::{DecideOutcome, Decision, MissOutcome, ScanOutcome, SessionStore, StoreError};
use crate::{SessionId, UserId};

impl SessionStore {
    /// Records the scan by `user` of the code expiring at `code_expires_at` (which must be the current one).
    #[tracing::instrument(skip_all, fields(session = %id, user = %user))]
    pub async fn scan(&self, id: &SessionId, user: &UserId, code_expires_at: u32) -> Result<ScanOutcome, StoreError> {
        let mut inv = self.invocation(&self.scripts.scan, id);
        inv.arg(user.as_str()).arg(code_expires_at);
        self.notify_args(&mut inv, id);
        self.run(&inv).await
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
        let mut inv = self.invocation(&self.scripts.decide, id);
        inv.arg(user.as_str()).arg(decision.state().as_str()).arg(code_expires_at);
        self.notify_args(&mut inv, id);
        self.run(&inv).await
    }

    /// Counts a wrong verification string against the session; `allowed` misses destroy it.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn record_miss(&self, id: &SessionId, allowed: u32) -> Result<MissOutcome, StoreError> {
        let mut inv = self.invocation(&self.scripts.bad_code, id);
        inv.arg(allowed);
        self.notify_args(&mut inv, id);
        self.run(&inv).await
    }
}
