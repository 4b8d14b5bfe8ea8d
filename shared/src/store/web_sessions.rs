//! Web sessions: what a claimed login became. One per claim, named by the web token's `sid`, kept per user under
//! the user's hash tag (`qrl:{user:<id>}:web`, see web_sessions.lua) until the token expires: the phone lists and
//! ends them, the web backend asks whether one is still live (introspection). On a single Redis the won claim
//! adds it in its own step; on a cluster, where the user's key is in another slot, a step of its own follows.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{OutboxKind, RiskLevel, SessionStore, StoreError};
use crate::requester::Location;
use crate::{UserId, unix_now};

/// Web sessions kept per user: past it, the oldest is ended.
pub const WEB_SESSIONS_PER_USER: u32 = 20;
/// A web session's last seen moves at most this often, so a backend introspecting every request writes little.
const LAST_SEEN_STEP: Duration = Duration::from_secs(30);

/// Where a login came from, as the phone was shown it at the scan; the claim copies it into the web session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    #[serde(rename = "b")]
    pub browser: String,
    #[serde(rename = "o")]
    pub os: String,
    #[serde(rename = "l")]
    pub location: Option<Location>,
}

/// A live web session as stored: what the login showed, and when (unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct WebSession {
    #[serde(skip)]
    pub sid: String,
    #[serde(flatten)]
    pub shown: Shown,
    #[serde(rename = "c")]
    pub created_at: u64,
    #[serde(rename = "s")]
    pub last_seen: u64,
    #[serde(rename = "e")]
    pub expires_at: u64,
}

/// The web session a claim creates: its id (the token's `sid`) and lifetime (the token's, plus a margin).
#[derive(Clone, Copy, Debug)]
pub struct NewWebSession<'a> {
    pub sid: &'a str,
    pub lifetime: Duration,
}

impl SessionStore {
    /// Adds `user`'s web session `new`, showing `shown`, and queues its login webhook (with the scan's `risk`)
    /// and the logouts of the sessions the cap ends: on a cluster, after the won claim that names it.
    #[tracing::instrument(skip_all, fields(user = %user))]
    pub async fn add_web_session(
        &self,
        user: &UserId,
        new: NewWebSession<'_>,
        shown: &Shown,
        risk: Option<RiskLevel>,
    ) -> Result<(), StoreError> {
        let record = serde_json::to_string(shown).map_err(|e| StoreError::Protocol(e.to_string()))?;
        let mut inv = self.scripts.web_session_add.key(self.keys.user_web_sessions(user));
        let now = unix_now();
        inv.arg(new.sid).arg(&record).arg(now).arg(new.lifetime.as_secs().max(1)).arg(WEB_SESSIONS_PER_USER);
        inv.arg(user.as_str());
        let evicted: Vec<String> = self.run(&mut inv).await?;
        self.queue_logouts(user, &evicted).await;
        let (now, risk) = (now.to_string(), risk.map_or("", RiskLevel::as_str));
        let login = [("user", user.as_str()), ("sid", new.sid), ("shown", &record), ("risk", risk), ("at", &now)];
        self.enqueue_alone(OutboxKind::Login, &login).await;
        Ok(())
    }

    /// `user`'s live web sessions, newest first.
    #[tracing::instrument(skip_all, fields(user = %user))]
    pub async fn web_sessions(&self, user: &UserId) -> Result<Vec<WebSession>, StoreError> {
        let mut inv = self.scripts.web_sessions_list.key(self.keys.user_web_sessions(user));
        inv.arg(unix_now());
        let pairs: Vec<(String, String)> = self.run(&mut inv).await?;
        let mut sessions = pairs
            .into_iter()
            .map(|(sid, record)| {
                let session: WebSession =
                    serde_json::from_str(&record).map_err(|e| StoreError::Protocol(e.to_string()))?;
                Ok(WebSession { sid, ..session })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.sid.cmp(&b.sid)));
        Ok(sessions)
    }

    /// Ends `user`'s web session `sid`, or every one with `None`, queuing their back-channel logouts. Returns
    /// how many live sessions ended.
    #[tracing::instrument(skip_all, fields(user = %user))]
    pub async fn end_web_sessions(&self, user: &UserId, sid: Option<&str>) -> Result<u64, StoreError> {
        let mut inv = self.scripts.web_session_end.key(self.keys.user_web_sessions(user));
        self.outbox_keys(&mut inv, &[OutboxKind::Logout]);
        inv.arg(sid.unwrap_or("")).arg(unix_now()).arg(user.as_str());
        let ended: Vec<String> = self.run(&mut inv).await?;
        if self.redis.is_cluster() {
            self.queue_logouts(user, &ended).await;
        }
        Ok(u64::try_from(ended.len()).unwrap_or(u64::MAX))
    }

    /// The back-channel logouts of `user`'s web sessions `ended`, in steps of their own (after a step that could not
    /// queue them itself).
    async fn queue_logouts(&self, user: &UserId, ended: &[String]) {
        for sid in ended {
            self.enqueue_alone(OutboxKind::Logout, &[("user", user.as_str()), ("sid", sid)]).await;
        }
    }

    /// Whether `user`'s web session `sid` is live; if so, it was seen now.
    #[tracing::instrument(skip_all, fields(user = %user))]
    pub async fn touch_web_session(&self, user: &UserId, sid: &str) -> Result<bool, StoreError> {
        let mut inv = self.scripts.web_session_touch.key(self.keys.user_web_sessions(user));
        inv.arg(sid).arg(unix_now()).arg(LAST_SEEN_STEP.as_secs());
        let live: i64 = self.run(&mut inv).await?;
        Ok(live == 1)
    }
}
