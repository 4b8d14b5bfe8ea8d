//! A login session as the browser sees it, shared by the plain poll, the long-poll and the event stream. Reading
//! it also moves it on where the browser is owed that: [`advance`] claims the token of a confirmed login
//! (exactly once) and re-issues a QR whose code is due.

use std::time::Duration;

use qrlogin_shared::audit::{self, AuditEvent, Event, Limit, Outcome};
use qrlogin_shared::session::Status;
use qrlogin_shared::store::{ClaimOutcome, Claimant, History, NewWebSession, PollOutcome, RotateOutcome};
use qrlogin_shared::{SessionId, UserId, unix_now};

use crate::binding::Binding;
use serde::Serialize;

use crate::context::{GatewayContext, QrCode};
use crate::directory::Profile;
use crate::error::GatewayError;
use crate::web_token::Minted;

/// A code's expiry lies this far beyond its scheduled replacement, so a code is never stale merely because the
/// read that rotates it came a little late (a browser polling once a second). Once replaced it no longer scans.
pub const ROTATION_OVERLAP_SECS: u64 = 5;

/// A web session outlives its token by this much, so a backend introspecting a token just before it expires is
/// not told the session ended.
const WEB_SESSION_MARGIN: Duration = Duration::from_secs(60);

/// The JSON answer: the status, with the QR of a pending session or the token of a confirmed one.
#[derive(Serialize)]
pub(crate) struct Answer {
    status: Status,
    /// The number the phone user must type to confirm: only in `scanned`, only to the binding cookie's browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    check_code: Option<String>,
    /// A pending login's QR, when it was re-issued (rotation) or the answer opens a stream.
    #[serde(flatten)]
    qr: Option<QrCode>,
    /// A confirmed login's token.
    #[serde(flatten)]
    token: Option<Token>,
}

/// The web token, for the browser whose phone confirmed.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Token {
    /// An ES256 JWT (`typ: at+jwt`); verify it against `/.well-known/jwks.json`.
    token: String,
    // Described by TokenType: a doc comment here would make utoipa wrap the enum in an `allOf`.
    #[schema(inline)]
    token_type: TokenType,
    /// Seconds the token is valid.
    expires_in: u64,
    #[schema(value_type = crate::openapi::schemas::UserProfile)]
    user: Profile,
}

/// How the web token is presented (RFC 9449 §5): `DPoP` for a token bound to the key of the create's DPoP proof
/// (`cnf.jkt`), sent as `Authorization: DPoP <token>` with a fresh proof for each request; `Bearer` otherwise.
#[derive(Clone, Copy, Serialize, utoipa::ToSchema)]
pub(crate) enum TokenType {
    Bearer,
    DPoP,
}

impl TokenType {
    /// The type of a token bound to the DPoP key `jkt`, if any.
    pub(crate) fn of(jkt: Option<&str>) -> Self {
        if jkt.is_some() { Self::DPoP } else { Self::Bearer }
    }
}

/// What the browser is told, with what the waiters need to decide whether to tell it now.
pub struct Snapshot {
    /// The session's version: the event id of a stream. 0 when there is no session.
    pub version: u64,
    /// As in the body.
    pub status: Status,
    /// The JSON answer.
    pub body: String,
    /// The QR was re-issued by this read: the body carries the new one.
    pub rotated: bool,
    /// When a waiter must re-read even if nothing is published: the next QR rotation or the session's expiry.
    pub wake_in: Option<Duration>,
}

impl Snapshot {
    /// A state with nothing scheduled: no rotation, no wake-up.
    fn settled(version: u64, status: Status, body: String) -> Self {
        Self { version, status, body, rotated: false, wake_in: None }
    }

    /// A state with nothing to carry but its name.
    fn bare(version: u64, status: Status) -> Result<Self, GatewayError> {
        Ok(Self::settled(version, status, json(&Answer { status, check_code: None, qr: None, token: None })?))
    }

    /// Nothing will change any more for this browser.
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }
}

pub struct Read<'a> {
    pub id: &'a SessionId,
    pub binding: &'a Binding,
    /// Enforced poll interval (zero for waiters, who are paced by notifications instead).
    pub interval: Duration,
    /// Include the current QR in a pending answer even if it did not change (a stream's first event).
    pub with_qr: bool,
    pub ip: &'a str,
}

/// Reads the session for the browser and moves it on: rotates a QR that is due, claims the token of a confirmed
/// login. Expired sessions and polls that come too fast are audited here.
pub async fn advance(ctx: &GatewayContext, read: Read<'_>) -> Result<Snapshot, GatewayError> {
    let polled = ctx.store.poll(read.id, read.binding.hash(), read.interval).await?;
    let version = polled.version;
    // Expiry publishes nothing: a waiter wakes when the session ends to tell the browser so.
    let expiry = (!polled.expires_in.is_zero()).then_some(polled.expires_in + Duration::from_millis(50));
    let status = match polled.outcome {
        PollOutcome::Pending => {
            let mut snapshot = pending(ctx, &read, version, polled.code_expires_at).await?;
            snapshot.wake_in = earliest(snapshot.wake_in, expiry);
            return Ok(snapshot);
        }
        PollOutcome::Confirmed { user, jkt } => return claim(ctx, &read, &user, jkt.as_deref()).await,
        PollOutcome::Claimed(sealed) => {
            let answer = read.binding.open(&sealed)?;
            return Ok(Snapshot { wake_in: expiry, ..Snapshot::settled(version, Status::Confirmed, answer) });
        }
        PollOutcome::Scanned => Status::Scanned,
        PollOutcome::ScannedWithCheckCode(code) => {
            let body = json(&Answer { status: Status::Scanned, check_code: Some(code), qr: None, token: None })?;
            return Ok(Snapshot { wake_in: expiry, ..Snapshot::settled(version, Status::Scanned, body) });
        }
        PollOutcome::Denied => Status::Denied,
        PollOutcome::Cancelled => Status::Cancelled,
        PollOutcome::Expired => {
            audit::record(&AuditEvent::new(Event::Expired, Outcome::NotFound, read.ip).session(read.id));
            Status::Expired
        }
        PollOutcome::Forbidden => return Err(GatewayError::BindingMismatch),
        PollOutcome::SlowDown(wait) => {
            audit::record(&AuditEvent::rate_limited(Limit::Poll, read.ip).session(read.id));
            return Err(GatewayError::SlowDown(wait));
        }
    };
    Ok(Snapshot { wake_in: expiry, ..Snapshot::bare(version, status)? })
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
    let body = json(&Answer { status: Status::Pending, check_code: None, qr, token: None })?;
    Ok(Snapshot { rotated, wake_in: due_in, ..Snapshot::settled(version, Status::Pending, body) })
}

/// Issues the token (before claiming, so a directory or signing fault leaves the login confirmed for the next
/// read instead of losing it), then claims: one token per login, repeated to the same browser in the grace
/// window.
async fn claim(
    ctx: &GatewayContext,
    read: &Read<'_>,
    user: &UserId,
    jkt: Option<&str>,
) -> Result<Snapshot, GatewayError> {
    let (token, minted) = token(ctx, user, jkt).await?;
    let answer = json(&Answer { status: Status::Confirmed, check_code: None, qr: None, token: Some(token) })?;
    let sealed = read.binding.seal(&answer)?;
    let web = NewWebSession { sid: &minted.sid, lifetime: ctx.signer.ttl() + WEB_SESSION_MARGIN };
    let claimant = Claimant { history: History { user, memory: ctx.policy.device_memory }, web };
    match ctx.store.claim(read.id, read.binding.hash(), &sealed, ctx.policy.claim_grace, Some(claimant)).await? {
        ClaimOutcome::Won { version, device, shown, risk, trace } => {
            let jti = minted.jti;
            let claimed = AuditEvent::new(Event::Claimed, Outcome::Ok, read.ip).session(read.id).user(user).jti(&jti);
            let claimed = claimed.trace(trace.as_ref());
            audit::record(&claimed);
            // The token is out: a failure to remember the browser costs only a `new_device` at its next login.
            // (On a single Redis the claim remembered it already and names no device.)
            if let Some(device) = device
                && let Err(e) = ctx.store.remember_device(user, &device, ctx.policy.device_memory).await
            {
                tracing::warn!(error = %qrlogin_shared::ErrorChain(&e), "could not remember the login's device");
            }
            // Likewise on a cluster: without it the phone does not list this login and introspection calls its
            // token ended.
            if let Some(shown) = shown
                && let Err(e) = ctx.store.add_web_session(user, web, &shown, risk).await
            {
                tracing::warn!(error = %qrlogin_shared::ErrorChain(&e), "could not record the login's web session");
            }
            Ok(Snapshot::settled(version, Status::Confirmed, answer))
        }
        ClaimOutcome::AlreadyClaimed { version, answer: sealed } => {
            Ok(Snapshot::settled(version, Status::Confirmed, read.binding.open(&sealed)?))
        }
        ClaimOutcome::Other(PollOutcome::Forbidden) => Err(GatewayError::BindingMismatch),
        ClaimOutcome::Other(PollOutcome::Cancelled) => Snapshot::bare(0, Status::Cancelled),
        ClaimOutcome::Other(_) => Snapshot::bare(0, Status::Expired),
    }
}

/// The token answer for `user` (bound to the DPoP key `jkt`, if any), and the token's `jti` (for the audit trail)
/// and `sid`.
async fn token(ctx: &GatewayContext, user: &UserId, jkt: Option<&str>) -> Result<(Token, Minted), GatewayError> {
    let mut profile = ctx.directory.profile(user).await?.unwrap_or_else(|| {
        tracing::warn!(user = %user, "confirmed user is not in the user directory; issuing a token without profile");
        Profile::new()
    });
    profile.insert("id".into(), user.as_str().into());
    let mut minted = ctx.signer.mint(user, unix_now(), jkt)?;
    let expires_in = ctx.signer.ttl().as_secs();
    let token = std::mem::take(&mut minted.token);
    Ok((Token { token, token_type: TokenType::of(jkt), expires_in, user: profile }, minted))
}

fn json(answer: &Answer) -> Result<String, GatewayError> {
    Ok(serde_json::to_string(answer)?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The quoted or key names of the block of qrlogin.js that starts with `start` and ends at `end`.
    fn js_names(start: &str, end: &str) -> BTreeSet<String> {
        let js = include_str!("../static/qrlogin.js");
        let block = js.split_once(start).and_then(|(_, rest)| rest.split_once(end)).map_or("", |(b, _)| b);
        let words = block.split(|c: char| !c.is_ascii_lowercase() && c != '_').filter(|w| !w.is_empty());
        words.map(str::to_owned).collect()
    }

    #[test]
    fn the_browser_client_knows_every_status_and_which_are_final() {
        let keys: BTreeSet<String> = include_str!("../static/qrlogin.js")
            .split_once("const MESSAGES = {")
            .and_then(|(_, rest)| rest.split_once("};"))
            .map_or("", |(b, _)| b)
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, _)| k.trim().to_owned())
            .collect();
        for status in Status::ALL {
            assert!(keys.contains(status.as_str()), "qrlogin.js has no message for {status:?}");
        }
        let finals: BTreeSet<String> =
            Status::ALL.iter().filter(|s| s.is_final()).map(|s| s.as_str().to_owned()).collect();
        assert_eq!(js_names("const FINAL = new Set([", "]"), finals, "qrlogin.js FINAL");
    }

    #[test]
    fn answers_name_their_status_first_as_the_enum_spells_it() {
        let body = json(&Answer { status: Status::Cancelled, check_code: None, qr: None, token: None }).unwrap();
        assert_eq!(body, r#"{"status":"cancelled"}"#);
    }
}
