//! The transitions mobile-api makes for the phone.

use std::time::Duration;

use super::reply::PhoneStatus;
use super::{Decided, Decision, MissOutcome, ScanOutcome, SessionStore, Shown, StepError, StoreError};
use crate::rate_limit::Limit;
use crate::session::{CheckCode, LoginStatus, RiskLevel};
use crate::{SessionId, UserId};

/// Wrong check codes a confirm may bring before the login is denied.
pub const CHECK_CODE_ATTEMPTS: u32 = 3;

/// How long after a confirmed login ends (claimed, cancelled, or its session expired) the phone that confirmed
/// can still learn how it ended ([`SessionStore::login_status`]).
pub const OUTCOME_KEPT: Duration = Duration::from_secs(300);

impl SessionStore {
    /// Records the scan by `user` of the code expiring at `code_expires_at` (which must be the current one). With
    /// `check_code`, the first scan stores it for the browser to show and the confirm to match; `verdict`, the
    /// scan's risk level and what the phone was shown, is kept for the confirm (`QRL_RISK_BLOCK`) and the web
    /// session the claim begins.
    #[tracing::instrument(skip_all, fields(session = %id, user = %user))]
    pub async fn scan(
        &self,
        id: &SessionId,
        user: &UserId,
        code_expires_at: u32,
        check_code: Option<&CheckCode>,
        verdict: Option<(RiskLevel, &Shown)>,
    ) -> Result<ScanOutcome, StoreError> {
        let mut inv = self.invocation(&self.scripts.scan, id);
        inv.arg(user.as_str()).arg(code_expires_at);
        self.notify_args(&mut inv, id);
        let shown = verdict.map(|(_, shown)| serde_json::to_string(shown)).transpose();
        let shown = shown.map_err(|e| StoreError::Protocol(e.to_string()))?.unwrap_or_default();
        inv.arg(check_code.map_or("", CheckCode::as_str)).arg(verdict.map_or("", |(level, _)| level.as_str()));
        inv.arg(shown);
        self.run(&mut inv).await
    }

    /// The scanner's decision, made with the code that was scanned (and, to confirm a session that shows one,
    /// the check code the user typed), if `limits` admit it. With `risk_block`, a confirm of a scan judged at
    /// that level or above (or with no verdict kept) is refused.
    #[tracing::instrument(skip_all, fields(session = %id, user = %user, decision = ?decision))]
    pub async fn decide(
        &self,
        id: &SessionId,
        user: &UserId,
        decision: Decision,
        code: DecisionCodes<'_>,
        limits: &[Limit<'_>],
    ) -> Result<Decided, StepError> {
        let mut inv = self.invocation(&self.scripts.decide, id);
        self.outcome_key(&mut inv, id);
        inv.arg(user.as_str()).arg(decision.state().as_str()).arg(code.expires_at);
        self.notify_args(&mut inv, id);
        inv.arg(code.check_code.unwrap_or("")).arg(CHECK_CODE_ATTEMPTS).arg(allowed_levels(code.risk_block));
        inv.arg(OUTCOME_KEPT.as_secs());
        self.run_limited(&mut inv, limits).await
    }

    /// How a login `user` scanned stands, if `limits` admit the question: `None` for an unknown session, one
    /// another user scanned, or one gone for longer than [`OUTCOME_KEPT`] (one answer). Changes nothing.
    #[tracing::instrument(skip_all, fields(session = %id, user = %user))]
    pub async fn login_status(
        &self,
        id: &SessionId,
        user: &UserId,
        limits: &[Limit<'_>],
    ) -> Result<Option<LoginStatus>, StepError> {
        let mut inv = self.invocation(&self.scripts.outcome, id);
        self.outcome_key(&mut inv, id);
        inv.arg(user.as_str());
        let PhoneStatus(status) = self.run_limited(&mut inv, limits).await?;
        Ok(status)
    }

    /// Counts a wrong verification string against the session, if `limits` admit the request (a sender over
    /// them cannot keep guessing, nor destroy sessions); `allowed` misses destroy it.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn record_miss(
        &self,
        id: &SessionId,
        allowed: u32,
        limits: &[Limit<'_>],
    ) -> Result<MissOutcome, StepError> {
        let mut inv = self.invocation(&self.scripts.bad_code, id);
        inv.arg(allowed);
        self.notify_args(&mut inv, id);
        self.run_limited(&mut inv, limits).await
    }
}

/// What a decision is checked against besides the session's state and scanner.
#[derive(Clone, Copy, Debug, Default)]
pub struct DecisionCodes<'a> {
    /// Expiry of the code that was scanned: the decision must name that one.
    pub expires_at: u32,
    /// The check code the user typed, for a session that shows one.
    pub check_code: Option<&'a str>,
    /// The risk level from which a confirm is refused.
    pub risk_block: Option<RiskLevel>,
}

impl<'a> DecisionCodes<'a> {
    /// A decision no risk level blocks.
    pub const fn new(expires_at: u32, check_code: Option<&'a str>) -> Self {
        Self { expires_at, check_code, risk_block: None }
    }
}

/// The levels below `block`, as decide.lua reads them (',low,medium,'), or '' when nothing blocks.
fn allowed_levels(block: Option<RiskLevel>) -> String {
    let Some(block) = block else { return String::new() };
    let below = RiskLevel::ALL.iter().filter(|l| **l < block);
    below.fold(",".to_owned(), |list, level| format!("{list}{},", level.as_str()))
}
