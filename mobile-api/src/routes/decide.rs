use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::audit::{self, AuditEvent, Event, Outcome};
use qrlogin_shared::session::{RiskLevel, SessionState};
use qrlogin_shared::store::{DecideOutcome, Decided, Decision};
use qrlogin_shared::verification::VerificationCode;
use qrlogin_shared::{SessionId, UserId};
use serde::Deserialize;
use serde_json::json;

use crate::admission::{Presented, Step, admit};
use crate::context::PhoneContext;
use crate::error::MobileError;
use crate::middleware::AuthenticatedUser;

#[derive(Deserialize)]
pub struct DecideRequest {
    uuid: String,
    verification: String,
    /// The number the browser shows, typed by the user: needed to confirm when the scan said so.
    check_code: Option<String>,
}

/// `POST /v1/confirm` and `POST /v1/deny` (the route supplies the [`Decision`]): the user who scanned approves
/// or refuses; the browser's next poll learns the outcome.
#[tracing::instrument(skip_all, fields(session, user, decision = ?**decision))]
pub async fn decide(
    AuthenticatedUser(user): AuthenticatedUser,
    req: HttpRequest,
    body: web::Json<DecideRequest>,
    ctx: web::Data<PhoneContext>,
    decision: web::Data<Decision>,
) -> Result<HttpResponse, MobileError> {
    let id = SessionId::parse(&body.uuid).map_err(|_| MobileError::BadSessionRef)?;
    let code = VerificationCode::parse(&body.verification).map_err(|_| MobileError::BadSessionRef)?;
    let ip = super::who(&req, &ctx, &id, &user);
    admit(&ctx, Presented { step: Step::Decide, id: &id, code: &code, user: &user, ip: &ip }).await?;
    let state = decision.state();
    if let (Decision::Confirm, Some(block)) = (**decision, ctx.risk_block)
        && risk_blocked(&ctx, &id, &user, block).await?
    {
        audit::record(&AuditEvent::new(Event::Confirmed, Outcome::RiskBlocked, &ip).session(&id).user(&user));
        return Err(MobileError::RiskBlocked);
    }
    let check_code = body.check_code.as_deref().map(str::trim);
    let asked = if state == SessionState::Confirmed { Event::Confirmed } else { Event::Denied };
    let Decided { outcome, trace } = ctx.store.decide(&id, &user, **decision, code.expires_at(), check_code).await?;
    let (event, outcome, result) = match outcome {
        DecideOutcome::Done => (asked, Outcome::Ok, Ok(HttpResponse::Ok().json(json!({ "status": state })))),
        DecideOutcome::NotFound => (asked, Outcome::NotFound, Err(MobileError::NotFound)),
        DecideOutcome::WrongState => (asked, Outcome::WrongState, Err(MobileError::WrongState)),
        DecideOutcome::WrongUser => (asked, Outcome::WrongUser, Err(MobileError::WrongUser)),
        DecideOutcome::WrongCheckCode => {
            (asked, Outcome::WrongCheckCode, Err(MobileError::WrongCheckCode { denied: false }))
        }
        // The last wrong code allowed: the login is denied, and the phone is told so.
        DecideOutcome::CheckCodeDenied => {
            (Event::Denied, Outcome::WrongCheckCode, Err(MobileError::WrongCheckCode { denied: true }))
        }
    };
    audit::record(&AuditEvent::new(event, outcome, &ip).session(&id).user(&user).trace(trace.as_ref()));
    result
}

/// `user`'s scan of the session was judged `block` or worse (or no verdict was kept for it: refused, not
/// guessed). Anything else (another state, another scanner) is left to the decide script to answer.
async fn risk_blocked(
    ctx: &PhoneContext,
    id: &SessionId,
    user: &UserId,
    block: RiskLevel,
) -> Result<bool, MobileError> {
    let Some(context) = ctx.store.login_context(id).await? else {
        return Ok(false);
    };
    let this_users_scan = context.state == SessionState::Scanned && context.scanner.as_ref() == Some(user);
    Ok(this_users_scan && context.risk.is_none_or(|level| level >= block))
}
