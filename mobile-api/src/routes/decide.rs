use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::audit::{self, AuditEvent, Event, Outcome};
use qrlogin_shared::store::{DecideOutcome, Decision};
use qrlogin_shared::verification::VerificationCode;
use qrlogin_shared::{SessionId, session::SessionState};
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
    let (outcome, result) = match ctx.store.decide(&id, &user, **decision, code.expires_at()).await? {
        DecideOutcome::Done => (Outcome::Ok, Ok(HttpResponse::Ok().json(json!({ "status": state })))),
        DecideOutcome::NotFound => (Outcome::NotFound, Err(MobileError::NotFound)),
        DecideOutcome::WrongState => (Outcome::WrongState, Err(MobileError::WrongState)),
        DecideOutcome::WrongUser => (Outcome::WrongUser, Err(MobileError::WrongUser)),
    };
    let event = if state == SessionState::Confirmed { Event::Confirmed } else { Event::Denied };
    audit::record(&AuditEvent::new(event, outcome, &ip).session(&id).user(&user));
    result
}
