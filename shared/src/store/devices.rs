//! What the risk verdict reads: a session's context (read-only), and each user's device history (the scan keeps
//! its verdict, the won claim names the device to remember). The history lives under the user's hash tag, another Redis Cluster slot than any
//! session, so every method here touches one key: a session's, or a user's, never both in one script.

use std::time::Duration;

use super::reply::{Context, Flag, LoginContext};
use super::{SessionStore, StepError, StoreError};
use crate::rate_limit::Limit;
use crate::{DeviceHash, SessionId, UserId, unix_now};

/// Devices remembered per user; the oldest logins are forgotten first.
pub const DEVICES_PER_USER: u32 = 50;

impl SessionStore {
    /// What a session tells about its requester, or `None` when there is no such session; read only if
    /// `limits` admit the request (the scan's first step).
    #[tracing::instrument(skip_all, fields(session = %id))]
    pub async fn login_context(&self, id: &SessionId, limits: &[Limit<'_>]) -> Result<Option<LoginContext>, StepError> {
        let mut inv = self.invocation(&self.scripts.context, id);
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
