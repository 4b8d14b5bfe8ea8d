//! One read of a login session as the browser sees it, shared by the plain poll, the long-poll and the event
//! stream: claims the token of a confirmed login (exactly once) and re-issues a QR whose code is due.

use std::time::Duration;

use qrlogin_shared::metrics;
use qrlogin_shared::store::{ClaimOutcome, PollOutcome, RotateOutcome};
use qrlogin_shared::{BindingHash, SessionId, UserId, unix_now};
use serde::Serialize;

use crate::context::{GatewayContext, QrCode};
use crate::directory::Profile;
use crate::error::GatewayError;

/// A code's expiry lies this far beyond its scheduled replacement, so a code is never stale merely because the
/// read that rotates it came a little late (a browser polling once a second). Once replaced it no longer scans.
pub const ROTATION_OVERLAP_SECS: u64 = 5;

#[derive(Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Status {
    Pending {
        #[serde(flatten)]
        qr: Option<QrCode>,
    },
    Scanned,
    Denied,
    Cancelled,
    Expired,
    Confirmed {
        token: String,
        token_type: &'static str,
        expires_in: u64,
        user: Profile,
    },
}

/// What the browser is told, with what the waiters need to decide whether to tell it now.
pub struct Snapshot {
    /// The session's version: the event id of a stream. 0 when there is no session.
    pub version: u64,
    /// `pending`, `scanned`, `confirmed`, ... as in the body.
    pub status: &'static str,
    /// The JSON answer.
    pub body: String,
    /// The QR was re-issued by this read: the body carries the new one.
    pub rotated: bool,
    /// When a waiter must re-read even if nothing is published: the next QR rotation or the session's expiry.
    pub wake_in: Option<Duration>,
}

impl Snapshot {
    /// A state with nothing scheduled: no rotation, no wake-up.
    fn settled(version: u64, status: &'static str, body: String) -> Self {
        Self { version, status, body, rotated: false, wake_in: None }
    }

    /// Nothing will change any more for this browser.
    pub fn is_final(&self) -> bool {
        !matches!(self.status, "pending" | "scanned")
    }
}

pub struct Read<'a> {
    pub id: &'a SessionId,
    pub binding: &'a BindingHash,
    /// Enforced poll interval (zero for waiters, who are paced by notifications instead).
    pub interval: Duration,
    /// Include the current QR in a pending answer even if it did not change (a stream's first event).
    pub with_qr: bool,
    pub ip: &'a str,
}

pub async fn observe(ctx: &GatewayContext, read: Read<'_>) -> Result<Snapshot, GatewayError> {
    let polled = ctx.store.poll(read.id, read.binding, read.interval).await?;
    let version = polled.version;
    // Expiry publishes nothing: a waiter wakes when the session ends to tell the browser so.
    let expiry = (!polled.expires_in.is_zero()).then_some(polled.expires_in + Duration::from_millis(50));
    let (status, body) = match polled.outcome {
        PollOutcome::Pending => {
            let mut snapshot = pending(ctx, &read, version, polled.code_expires_at).await?;
            snapshot.wake_in = earliest(snapshot.wake_in, expiry);
            return Ok(snapshot);
        }
        PollOutcome::Confirmed(user) => return claim(ctx, &read, &user).await,
        PollOutcome::Claimed(answer) => ("confirmed", answer),
        PollOutcome::Scanned => ("scanned", json(&Status::Scanned)?),
        PollOutcome::Denied => ("denied", json(&Status::Denied)?),
        PollOutcome::Cancelled => ("cancelled", json(&Status::Cancelled)?),
        PollOutcome::Expired => {
            tracing::info!(target: "audit", event = "expired", session = %read.id, ip = read.ip, "poll of an expired, unknown or finished session");
            metrics::session_event("expired");
            ("expired", json(&Status::Expired)?)
        }
        PollOutcome::Forbidden => return Err(GatewayError::BindingMismatch),
        PollOutcome::SlowDown(wait) => {
            tracing::info!(target: "audit", event = "rate_limited", limit = "poll", session = %read.id, ip = read.ip, outcome = "slow_down", "polling too fast");
            metrics::rate_limited("poll");
            return Err(GatewayError::SlowDown(wait));
        }
    };
    Ok(Snapshot { wake_in: expiry, ..Snapshot::settled(version, status, body) })
}

fn earliest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    a.into_iter().chain(b).min()
}

/// A pending session: re-issues its QR when the code is due, so the page never has to start over before the
/// login window ends.
async fn pending(ctx: &GatewayContext, read: &Read<'_>, version: u64, code_exp: u32) -> Result<Snapshot, GatewayError> {
    let rotate = ctx.policy.qr_rotate;
    let now = unix_now();
    let due_at = u64::from(code_exp).saturating_sub(ROTATION_OVERLAP_SECS);
    let (mut version, mut code_exp, mut rotated) = (version, code_exp, false);
    if !rotate.is_zero() && now >= due_at {
        let next = u32::try_from(now + rotate.as_secs() + ROTATION_OVERLAP_SECS).unwrap_or(u32::MAX);
        match ctx.store.rotate(read.id, code_exp, next).await? {
            RotateOutcome::Rotated(v) => (version, code_exp, rotated) = (v, next, true),
            // Another instance was first: show its code.
            RotateOutcome::Stale(current) => (code_exp, rotated) = (current, true),
            // Scanned or gone meanwhile: the next read tells.
            RotateOutcome::NotPending => {}
        }
    }
    let qr = if rotated || read.with_qr { Some(ctx.qr(read.id, code_exp)?) } else { None };
    let due_in = (!rotate.is_zero()).then(|| {
        Duration::from_secs(u64::from(code_exp).saturating_sub(ROTATION_OVERLAP_SECS).saturating_sub(unix_now()))
    });
    let body = json(&Status::Pending { qr })?;
    Ok(Snapshot { rotated, wake_in: due_in, ..Snapshot::settled(version, "pending", body) })
}

/// Issues the token (before claiming, so a directory or signing fault leaves the login confirmed for the next
/// read instead of losing it), then claims: one token per login, repeated to the same browser in the grace
/// window.
async fn claim(ctx: &GatewayContext, read: &Read<'_>, user: &UserId) -> Result<Snapshot, GatewayError> {
    let answer = json(&confirmed(ctx, user).await?)?;
    match ctx.store.claim(read.id, read.binding, &answer, ctx.policy.claim_grace).await? {
        ClaimOutcome::Won(version) => {
            tracing::info!(target: "audit", event = "claimed", session = %read.id, user = %user, ip = read.ip, outcome = "ok", "web token issued");
            metrics::session_event("claimed");
            Ok(Snapshot::settled(version, "confirmed", answer))
        }
        ClaimOutcome::AlreadyClaimed { version, answer } => Ok(Snapshot::settled(version, "confirmed", answer)),
        ClaimOutcome::Other(PollOutcome::Forbidden) => Err(GatewayError::BindingMismatch),
        ClaimOutcome::Other(PollOutcome::Cancelled) => Ok(Snapshot::settled(0, "cancelled", json(&Status::Cancelled)?)),
        ClaimOutcome::Other(_) => Ok(Snapshot::settled(0, "expired", json(&Status::Expired)?)),
    }
}

async fn confirmed(ctx: &GatewayContext, user: &UserId) -> Result<Status, GatewayError> {
    let mut profile = ctx.directory.profile(user).await?.unwrap_or_else(|| {
        tracing::warn!(user = %user, "confirmed user is not in the user directory; issuing a token without profile");
        Profile::new()
    });
    profile.insert("id".into(), user.as_str().into());
    let token = ctx.signer.mint(user, unix_now())?;
    Ok(Status::Confirmed { token, token_type: "Bearer", expires_in: ctx.signer.ttl().as_secs(), user: profile })
}

fn json(status: &Status) -> Result<String, GatewayError> {
    Ok(serde_json::to_string(status)?)
}
