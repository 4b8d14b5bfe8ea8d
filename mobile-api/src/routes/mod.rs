//! One file per endpoint.

mod decide;
mod scan;

pub use decide::decide;
pub use scan::scan;

use actix_web::HttpRequest;
use qrlogin_shared::http::{ClientIp, TrustedProxies};
use qrlogin_shared::metrics;
use qrlogin_shared::store::MissOutcome;
use qrlogin_shared::verification::{VerificationCode, VerificationError};
use qrlogin_shared::{SessionId, UserId, unix_now};

use crate::context::PhoneContext;
use crate::error::MobileError;
use crate::limits::ALLOWED_MISSES;

/// Checks the code without Redis, so a stale code costs nothing; only a wrong one (a guess) is counted against
/// its session, which is destroyed after [`ALLOWED_MISSES`]. Every failure answers the same 404 as an unknown
/// session: no oracle for guessers.
async fn verify(ctx: &PhoneContext, step: Step<'_>, user: &UserId, ip: &str) -> Result<(), MobileError> {
    let (id, code) = (step.id, step.code);
    let checked = match step.kind {
        StepKind::Scan => ctx.verifier.verify(id, code, unix_now()),
        StepKind::Decide => ctx.verifier.verify_tag(id, code),
    };
    match checked {
        Ok(()) => Ok(()),
        Err(VerificationError::Invalid) => {
            match ctx.store.record_miss(id, ALLOWED_MISSES).await {
                Ok(MissOutcome::Destroyed) => {
                    tracing::warn!(target: "audit", event = "lockout", session = %id, user = %user, ip, outcome = "destroyed", "session destroyed after repeated wrong verification strings");
                    metrics::session_event("lockout");
                }
                Ok(MissOutcome::Counted(left)) => {
                    tracing::info!(target: "audit", event = "wrong_verification", session = %id, user = %user, ip, outcome = "counted", left, "wrong verification string");
                    metrics::session_event("wrong_verification");
                }
                Ok(MissOutcome::Unknown) => {}
                // The answer is a refusal either way; a Redis fault must not turn it into a 503 oracle.
                Err(e) => {
                    tracing::warn!(session = %id, error = %e, "could not count a wrong verification string");
                    metrics::redis_error_in(&e);
                }
            }
            Err(MobileError::NotFound)
        }
        Err(_) => {
            tracing::info!(target: "audit", event = "expired", session = %id, user = %user, ip, "verification string past its expiry");
            metrics::session_event("expired");
            Err(MobileError::NotFound)
        }
    }
}

/// What the phone presents a code for. A code must be unexpired to be scanned; the decision that follows may
/// come after it aged out (the QR stops rotating once scanned), bounded by the session's TTL instead.
#[derive(Clone, Copy)]
struct Step<'a> {
    kind: StepKind,
    id: &'a SessionId,
    code: &'a VerificationCode,
}

#[derive(Clone, Copy)]
enum StepKind {
    Scan,
    Decide,
}

/// The caller's IP for audit events, behind trusted proxies as configured.
fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    ClientIp::text_of(req, trusted)
}
