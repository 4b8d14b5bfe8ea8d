//! The transitions mobile-api makes for the phone.

use super::{Decided, Decision, MissOutcome, ScanOutcome, SessionStore, StoreError};
use crate::session::{CheckCode, RiskLevel};
use crate::{SessionId, UserId};

/// Wrong check codes a confirm may bring before the login is denied.
pub const CHECK_CODE_ATTEMPTS: u32 = 3;

impl SessionStore {
    /// Records the scan by `user` of the code expiring at `code_expires_at` (which must be the current one). With
    /// `check_code`, the first scan stores it for the browser to show and the confirm to match; `risk`, the scan's
    /// verdict, is kept for the confirm (`QRL_RISK_BLOCK`).
    #[tracing::instrument(skip_all, fields(session = %id, user = %user))]
    pub async fn scan(
        &self,
        id: &SessionId,
        user: &UserId,
        code_expires_at: u32,
        check_code: Option<&CheckCode>,
        risk: Option<RiskLevel>,
    ) -> Result<ScanOutcome, StoreError> {
        let mut inv = self.invocation(&self.scripts.scan, id);
        inv.arg(user.as_str()).arg(code_expires_at);
        self.notify_args(&mut inv, id);
        inv.arg(check_code.map_or("", CheckCode::as_str)).arg(risk.map_or("", RiskLevel::as_str));
        self.run(&inv).await
    }

    /// The scanner's decision, made with the code that was scanned (and, to confirm a session that shows one,
    /// the check code the user typed).
    #[tracing::instrument(skip_all, fields(session = %id, user = %user, decision = ?decision))]
    pub async fn decide(
        &self,
        id: &SessionId,
        user: &UserId,
        decision: Decision,
        code_expires_at: u32,
        check_code: Option<&str>,
    ) -> Result<Decided, StoreError> {
        let mut inv = self.invocation(&self.scripts.decide, id);
        inv.arg(user.as_str()).arg(decision.state().as_str()).arg(code_expires_at);
        self.notify_args(&mut inv, id);
        inv.arg(check_code.unwrap_or("")).arg(CHECK_CODE_ATTEMPTS);
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
