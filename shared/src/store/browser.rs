//! The transitions the web gateway makes for the browser.

use std::time::Duration;

use super::OUTCOME_KEPT;
use super::reply::Created;
use super::{
    CancelOutcome, ClaimOutcome, Claimant, DEVICES_PER_USER, NewSession, OutboxKind, Polled, RotateOutcome,
    SessionState, SessionStore, StepError, StoreError, WEB_SESSIONS_PER_USER,
};
use crate::rate_limit::Limit;
use crate::requester::MAX_USER_AGENT;
use crate::{BindingHash, SessionId, unix_now};

/// The longest value Redis keeps a hash compact for (listpack encoding; `hash-max-listpack-value`, 64 by
/// default). One longer value turns the whole session into a hash table, about 70% more memory per session.
const LISTPACK_VALUE_MAX: usize = 64;

/// The fields a User-Agent is stored in, piece by piece: enough for `MAX_USER_AGENT` bytes cut at character
/// boundaries (every piece but the last is at least 61 bytes). context.lua and scan.lua join them.
const USER_AGENT_FIELDS: [&str; 5] = ["ua", "ua2", "ua3", "ua4", "ua5"];
const _: () = assert!(USER_AGENT_FIELDS.len() * (LISTPACK_VALUE_MAX - 3) >= MAX_USER_AGENT);

/// `text` in consecutive pieces of at most `max` bytes, each cut at a character boundary (none for "").
fn pieces(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

impl SessionStore {
    /// Stores a new pending session with its TTL in one step, if `limits` (the issuance limits) admit it.
    /// Returns false on an id collision.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn create(&self, id: &SessionId, new: &NewSession<'_>, limits: &[Limit<'_>]) -> Result<bool, StepError> {
        let r = new.requester;
        let mut inv = self.invocation(&self.scripts.create, id);
        inv.arg(new.ttl.as_secs().max(1))
            .arg(&[("st", SessionState::Pending.as_str()), ("bind", new.binding.as_str()), ("ip", &r.ip)])
            .arg(("ct", r.created_at.as_str()))
            .arg(("cexp", new.code_expires_at));
        for piece in USER_AGENT_FIELDS.iter().zip(pieces(&r.user_agent, LISTPACK_VALUE_MAX)) {
            inv.arg(piece);
        }
        if let Some(device) = new.device {
            inv.arg(("dev", device.as_str()));
        }
        if let Some(trace) = new.trace {
            inv.arg(("tp", trace.as_str()));
        }
        if let Some(jkt) = new.dpop_jkt {
            inv.arg(("jkt", jkt));
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
    /// repeated polls of the same browser. With `claimant` (the confirmed user's), on a single Redis, the won
    /// claim also remembers the session's device in their history and adds their web session.
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn claim(
        &self,
        id: &SessionId,
        binding: &BindingHash,
        answer: &str,
        grace: Duration,
        claimant: Option<Claimant<'_>>,
    ) -> Result<ClaimOutcome, StoreError> {
        let mut inv = self.invocation(&self.scripts.claim, id);
        self.outcome_key(&mut inv, id);
        inv.arg(binding.as_str()).arg(answer).arg(grace.as_secs().max(1));
        self.notify_args(&mut inv, id);
        inv.arg(OUTCOME_KEPT.as_secs());
        if let Some(Claimant { history, web }) = claimant.filter(|_| !self.redis.is_cluster()) {
            inv.key(self.keys.user_devices(history.user)).key(self.keys.user_web_sessions(history.user));
            inv.arg(unix_now()).arg(history.memory.as_secs().max(1)).arg(DEVICES_PER_USER);
            inv.arg(web.sid).arg(web.lifetime.as_secs().max(1)).arg(WEB_SESSIONS_PER_USER);
            self.outbox_keys(&mut inv, &[OutboxKind::Login, OutboxKind::Logout]);
        }
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
        self.outcome_key(&mut inv, id);
        inv.arg(binding.as_str());
        self.notify_args(&mut inv, id);
        self.run(&mut inv).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_keep_every_byte_in_order_and_never_split_a_character() {
        let ua = format!("{}é{}", "a".repeat(63), "b".repeat(100));
        let cut: Vec<&str> = pieces(&ua, 64).collect();
        assert_eq!(cut.concat(), ua);
        assert!(cut.iter().all(|p| p.len() <= 64), "{cut:?}");
        assert_eq!(cut[0].len(), 63, "'é' (2 bytes) does not fit in the first piece");
        assert_eq!(pieces("", 64).count(), 0);
    }

    #[test]
    fn the_longest_user_agent_fits_its_fields() {
        let worst = "€".repeat(MAX_USER_AGENT / 3);
        assert!(pieces(&worst, LISTPACK_VALUE_MAX).count() <= USER_AGENT_FIELDS.len());
    }
}
