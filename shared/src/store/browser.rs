//! The transitions the web gateway makes for the browser.

use std::time::Duration;

use super::reply::Created;
use super::{
    CancelOutcome, ClaimOutcome, NewSession, Polled, RotateOutcome, SessionState, SessionStore, StepError, StoreError,
};
use crate::rate_limit::Limit;
use crate::{BindingHash, SessionId};

impl SessionStore {
    /// Stores a new pending session with its TTL in one step, if `limits` (the issuance limits) admit it.
    /// Returns false on an id collision.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn create(&self, id: &SessionId, new: &NewSession<'_>, limits: &[Limit<'_>]) -> Result<bool, StepError> {
        let r = new.requester;
        let mut inv = self.invocation(&self.scripts.create, id);
        inv.arg(new.ttl.as_secs().max(1))
            .arg(&[("st", SessionState::Pending.as_str()), ("bind", new.binding.as_str()), ("ip", &r.ip)])
            .arg(&[("ua", r.user_agent.as_str()), ("ct", r.created_at.as_str())])
            .arg(("cexp", new.code_expires_at));
        if let Some(device) = new.device {
            inv.arg(("dev", device.as_str()));
        }
        if let Some(trace) = new.trace {
            inv.arg(("tp", trace.as_str()));
        }
        let Created(created) = self.run_limited(&mut inv, limits).await?;
        Ok(created)
    }

    /// Reads the state for the browser (never changing it), enforcing `interval` between polls (zero: none).
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn poll(&self, id: &SessionId, binding: &BindingHash, interval: Duration) -> Result<Polled, StoreError> {
        let mut inv = self.invocation(&self.scripts.poll, id);
        inv.arg(binding.as_str()).arg(interval.as_millis().to_string());
        self.run(&mut inv).await
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
        self.run(&mut inv).await
    }

    /// Replaces the QR code of a pending session whose current code expires at `current`.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn rotate(&self, id: &SessionId, current: u32, next: u32) -> Result<RotateOutcome, StoreError> {
        let mut inv = self.invocation(&self.scripts.rotate, id);
        inv.arg(current).arg(next);
        self.notify_args(&mut inv, id);
        self.run(&mut inv).await
    }

    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn cancel(&self, id: &SessionId, binding: &BindingHash) -> Result<CancelOutcome, StoreError> {
        let mut inv = self.invocation(&self.scripts.cancel, id);
        inv.arg(binding.as_str());
        self.notify_args(&mut inv, id);
        self.run(&mut inv).await
    }
}
