//! Whether a phone request may proceed, before it changes anything: the limits of its sender (refused tokens from
//! its address, peeked; the user's rate for the action, counted), then the verification string it presents (a
//! wrong one counts against the session, which is destroyed after [`ALLOWED_MISSES`]). The limits travel with
//! the request's first Redis step ([`Presented::limits`]): the miss a wrong string records, or the step itself.
//! So a forged string never reaches a session before its sender's limit has counted it, and a user over the
//! limit can neither keep guessing nor destroy sessions with guesses.

use std::str::FromStr;

use qrlogin_shared::audit::{self, AuditEvent, Event, Limit, Outcome};
use qrlogin_shared::rate_limit::{self, Limited, Rate};
use qrlogin_shared::store::{MissOutcome, StepError};
use qrlogin_shared::verification::{VerificationCode, VerificationError};
use qrlogin_shared::{SessionId, UserId, unix_now};

use crate::context::PhoneContext;
use crate::error::MobileError;

/// Wrong verification strings one session tolerates before it is destroyed.
pub const ALLOWED_MISSES: u32 = 5;

/// A step's refusal by one of the sender's limits, audited and answered 429; or the Redis fault behind it.
pub fn refused(error: StepError, p: &Presented<'_>) -> MobileError {
    refused_from(error, p.ip, p.user)
}

/// [`refused`], for a request that presents no code: `ip` as audits name it.
pub fn refused_from(error: StepError, ip: &str, user: &UserId) -> MobileError {
    match error {
        StepError::Limited(Limited { name, retry_after }) => {
            if let Ok(limit) = Limit::from_str(name) {
                audit::record(&AuditEvent::rate_limited(limit, ip).user(user));
            }
            MobileError::RateLimited(retry_after)
        }
        StepError::Store(e) => e.into(),
    }
}

/// The sender's limits for a request's first Redis step: its address must not be over the refused-token limit
/// (asked, not counted: only refused tokens count, in `middleware::bad_tokens`), and the user's rate for
/// `action` counts this request. Each under its own hash tag (a slot per client, per user).
pub fn sender_limits<'l>(
    ctx: &PhoneContext,
    client: &'l str,
    user: &'l UserId,
    action: Limit,
    rate: Rate,
) -> [rate_limit::Limit<'l>; 2] {
    let bad_tokens = Limit::BadToken.into();
    [
        rate_limit::Limit {
            peek: true,
            ..rate_limit::Limit::counted(client, bad_tokens, "ip", ctx.limits.bad_token_per_ip)
        },
        rate_limit::Limit::counted(user.as_str(), action.into(), "user", rate),
    ]
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
    /// The caller's address, as audits name it.
    pub ip: &'a str,
    /// The caller's address as its limits count it (an IPv6 client by its /64).
    pub client: &'a str,
}

impl Presented<'_> {
    /// The sender's limits ([`sender_limits`]) for the action, for the request's first Redis step.
    pub fn limits<'l>(&'l self, ctx: &PhoneContext) -> [rate_limit::Limit<'l>; 2] {
        let (action, rate) = match self.step {
            Step::Scan => (Limit::Scan, ctx.limits.scan_per_user),
            Step::Decide => (Limit::Decide, ctx.limits.decide_per_user),
        };
        sender_limits(ctx, self.client, self.user, action, rate)
    }
}

/// Admits the presented code, checked without Redis, so a stale code costs nothing; only a wrong one (a guess)
/// is counted against its session, within the sender's limits (429 past them). Every other failure answers the
/// same 404 as an unknown session: no oracle for guessers.
pub async fn admit(ctx: &PhoneContext, p: &Presented<'_>) -> Result<(), MobileError> {
    let checked = match p.step {
        Step::Scan => ctx.verifier.verify(p.id, p.code, unix_now()),
        Step::Decide => ctx.verifier.verify_tag(p.id, p.code),
    };
    let event = |event, outcome| AuditEvent::new(event, outcome, p.ip).session(p.id).user(p.user);
    match checked {
        Ok(()) => Ok(()),
        Err(VerificationError::Invalid) => {
            match ctx.store.record_miss(p.id, ALLOWED_MISSES, &p.limits(ctx)).await {
                Ok(MissOutcome::Destroyed) => audit::record(&event(Event::Lockout, Outcome::Destroyed)),
                Ok(MissOutcome::Counted(left)) => {
                    audit::record(&event(Event::WrongVerification, Outcome::Counted).left(left));
                }
                Ok(MissOutcome::Unknown) => {}
                Err(limited @ StepError::Limited(_)) => return Err(refused(limited, p)),
                // The answer is a refusal either way; a Redis fault must not turn it into a 503 oracle.
                // An outage is logged once by the Redis handle, not here for every request.
                Err(StepError::Store(e)) => {
                    if !e.is_outage() {
                        tracing::warn!(session = %p.id, error = %e, "could not count a wrong verification string");
                    }
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
