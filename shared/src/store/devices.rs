//! What the risk verdict reads: a session's context (read-only), and each user's device history (the scan keeps
//! its verdict, the won claim names the device to remember). The history lives under the user's hash tag, another
//! Redis Cluster slot than any session: on a cluster a step touches one of them, on a single Redis the session's
//! step reads or writes the history too (devices.lua), saving a round trip.

use std::time::Duration;

use super::reply::{Context, Flag, LoginContext};
use super::{History, SessionStore, StepError, StoreError};
use crate::rate_limit::Limit;
use crate::{DeviceHash, SessionId, UserId, unix_now};

/// Devices remembered per user; the oldest logins are forgotten first.
pub const DEVICES_PER_USER: u32 = 50;

impl SessionStore {
    /// What a session tells about its requester, or `None` when there is no such session; read only if
    /// `limits` admit the request (the scan's first step). With `history`, on a single Redis, also whether the
    /// session's device is in it (on a cluster, another slot: [`SessionStore::knows_device`]).
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn login_context(
        &self,
        id: &SessionId,
        limits: &[Limit<'_>],
        history: Option<History<'_>>,
    ) -> Result<Option<LoginContext>, StepError> {
        let mut inv = self.invocation(&self.scripts.context, id);
        if let Some(history) = history.filter(|_| !self.redis.is_cluster()) {
            inv.key(self.keys.user_devices(history.user)).arg(unix_now().saturating_sub(history.memory.as_secs()));
        }
        let Context(context) = self.run_limited(&mut inv, limits).await?;
        Ok(context)
    }

    /// Records that `device` logged in as `user` (after a won claim, which names the device), kept `memory`
    /// long. One step on the user's history (its own slot).
    #[tracing::instrument(skip_all, fields(user = %user))]
    pub async fn remember_device(
        &self,
        user: &UserId,
        device: &DeviceHash,
        memory: Duration,
    ) -> Result<(), StoreError> {
        let mut inv = self.scripts.remember_device.key(self.keys.user_devices(user));
        inv.arg(device.as_str()).arg(unix_now()).arg(memory.as_secs().max(1)).arg(DEVICES_PER_USER);
        let _remembered: i64 = self.run(&mut inv).await?;
        Ok(())
    }

    /// Whether `device` logged in as `user` within `memory`.
    #[tracing::instrument(skip_all, fields(user = %user))]
    pub async fn knows_device(&self, user: &UserId, device: &DeviceHash, memory: Duration) -> Result<bool, StoreError> {
        let mut inv = self.scripts.known_device.key(self.keys.user_devices(user));
        inv.arg(device.as_str()).arg(unix_now().saturating_sub(memory.as_secs()));
        let Flag(known) = self.run(&mut inv).await?;
        Ok(known)
    }
}
