//! Whether a phone request may proceed, before it changes anything: the per-user rate of its action first, then
//! the verification string it presents (a wrong one counts against the session, which is destroyed after
//! [`ALLOWED_MISSES`]). [`admit`] owns that order: a forged string never reaches Redis before its sender's limit
//! has counted it, so a user over the limit cannot keep guessing, nor destroy sessions with guesses.

use qrlogin_shared::audit::{self, AuditEvent, Event, Limit, Outcome};
use qrlogin_shared::rate_limit::{Check, Rate, RateLimiter, Verdict};
use qrlogin_shared::store::MissOutcome;
use qrlogin_shared::verification::{VerificationCode, VerificationError};
use qrlogin_shared::{SessionId, UserId, unix_now};

use crate::context::PhoneContext;
use crate::error::MobileError;

/// Wrong verification strings one session tolerates before it is destroyed.
pub const ALLOWED_MISSES: u32 = 5;

/// Admits the presented step: the user's rate for it (429 past it), then the code (404 when it does not hold).
pub async fn admit(ctx: &PhoneContext, p: Presented<'_>) -> Result<(), MobileError> {
    let (limit, rate) = match p.step {
        Step::Scan => (Limit::Scan, ctx.limits.scan_per_user),
        Step::Decide => (Limit::Decide, ctx.limits.decide_per_user),
    };
    admit_user(&ctx.limiter, limit, rate, p.user, p.ip).await?;
    verify(ctx, p).await
}

/// Admits one more action (`Limit::Scan` or `Limit::Decide`) by `user` from `ip`, or answers 429.
async fn admit_user(
    limiter: &RateLimiter,
    action: Limit,
    rate: Rate,
    user: &UserId,
    ip: &str,
) -> Result<(), MobileError> {
    let name: &'static str = action.into();
    // The user is the hash tag: in a Redis Cluster, users' limits spread over all slots.
    match limiter.check(user.as_str(), &[Check { name, subject: "user", rate }]).await? {
        Verdict::Allowed => Ok(()),
        Verdict::Limited { retry_after } => {
            audit::record(&AuditEvent::rate_limited(action, ip).user(user));
            Err(MobileError::RateLimited(retry_after))
        }
    }
}

/// What the phone presents a code for. A code must be unexpired to be scanned; the decision that follows may
/// come after it aged out (the QR stops rotating once scanned), bounded by the session's TTL instead.
#[derive(Clone, Copy)]
pub enum Step {
    Scan,
    Decide,
}

/// Who presents which code for which session, from where.
pub struct Presented<'a> {
    pub step: Step,
    pub id: &'a SessionId,
    pub code: &'a VerificationCode,
    pub user: &'a UserId,
    pub ip: &'a str,
}

/// Checks the code without Redis, so a stale code costs nothing; only a wrong one (a guess) is counted against
/// its session. Every failure answers the same 404 as an unknown session: no oracle for guessers.
async fn verify(ctx: &PhoneContext, p: Presented<'_>) -> Result<(), MobileError> {
    let checked = match p.step {
        Step::Scan => ctx.verifier.verify(p.id, p.code, unix_now()),
        Step::Decide => ctx.verifier.verify_tag(p.id, p.code),
    };
    let event = |event, outcome| AuditEvent::new(event, outcome, p.ip).session(p.id).user(p.user);
    match checked {
        Ok(()) => Ok(()),
        Err(VerificationError::Invalid) => {
            match ctx.store.record_miss(p.id, ALLOWED_MISSES).await {
                Ok(MissOutcome::Destroyed) => audit::record(&event(Event::Lockout, Outcome::Destroyed)),
                Ok(MissOutcome::Counted(left)) => {
                    audit::record(&event(Event::WrongVerification, Outcome::Counted).left(left));
                }
                Ok(MissOutcome::Unknown) => {}
                // The answer is a refusal either way; a Redis fault must not turn it into a 503 oracle.
                Err(e) => {
                    tracing::warn!(session = %p.id, error = %e, "could not count a wrong verification string");
                    qrlogin_shared::metrics::redis_error_in(&e);
                }
            }
            Err(MobileError::NotFound)
        }
        Err(_) => {
            audit::record(&event(Event::Expired, Outcome::NotFound));
            Err(MobileError::NotFound)
        }
    }
}
