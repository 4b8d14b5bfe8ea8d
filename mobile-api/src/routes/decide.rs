use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::SessionId;
use qrlogin_shared::audit::{self, AuditEvent, Event, Outcome};
use qrlogin_shared::session::SessionState;
use qrlogin_shared::store::{DecideOutcome, Decided, Decision, DecisionCodes};
use qrlogin_shared::verification::VerificationCode;
use serde::{Deserialize, Serialize};

use crate::admission::{Presented, Step, admit, refused};
use crate::context::PhoneContext;
use crate::error::MobileError;
use crate::middleware::AuthenticatedUser;

/// The login and the code scanned for it.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(examples(json!({"uuid": "3b0f6c1e-8d2a-4c5e-9f7a-1b2c3d4e5f60",
    "verification": "AAAAZ0x1Lw9WmE3tY3yqS8y8Jq3Zq0kAJ2b7xQ1mN4pR6tV8", "check_code": "47"})))]
pub struct DecideRequest {
    /// The scan answer's `uuid`.
    #[schema(schema_with = qrlogin_shared::openapi::session_id)]
    uuid: String,
    #[schema(schema_with = qrlogin_shared::openapi::verification)]
    verification: String,
    /// The number the browser shows, typed by the user: needed to confirm when the scan said so.
    check_code: Option<String>,
}

/// `POST /v1/confirm` and `POST /v1/deny` (the route supplies the [`Decision`]): the user who scanned approves
/// or refuses; the browser's next poll learns the outcome.
#[utoipa::path(post, path = "/v1/confirm", tag = "phone", operation_id = "confirmLogin",
    summary = "The user who scanned approves: the browser's next poll collects the token",
    request_body = DecideRequest, security(("userToken" = [])),
    responses((status = 200, description = "Recorded; `GET /v1/logins/{uuid}` tells how the login then ends",
        body = DecisionAnswer, example = json!({"status": "confirmed"}))))]
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
    let (ip, client) = super::who(&req, &ctx, &id, &user);
    let presented = Presented { step: Step::Decide, id: &id, code: &code, user: &user, ip: &ip, client: &client };
    admit(&ctx, &presented).await?;
    let state = decision.state();
    let codes = DecisionCodes {
        expires_at: code.expires_at(),
        check_code: body.check_code.as_deref().map(str::trim),
        risk_block: ctx.risk_block.filter(|_| **decision == Decision::Confirm),
    };
    let asked = if state == SessionState::Confirmed { Event::Confirmed } else { Event::Denied };
    let decided = ctx.store.decide(&id, &user, **decision, codes, &presented.limits(&ctx)).await;
    let Decided { outcome, trace } = decided.map_err(|e| refused(e, &presented))?;
    let (event, outcome, result) = match outcome {
        DecideOutcome::Done => (asked, Outcome::Ok, Ok(HttpResponse::Ok().json(DecisionAnswer { status: state }))),
        DecideOutcome::NotFound => (asked, Outcome::NotFound, Err(MobileError::NotFound)),
        DecideOutcome::WrongState => (asked, Outcome::WrongState, Err(MobileError::WrongState)),
        DecideOutcome::WrongUser => (asked, Outcome::WrongUser, Err(MobileError::WrongUser)),
        DecideOutcome::RiskBlocked => (asked, Outcome::RiskBlocked, Err(MobileError::RiskBlocked)),
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

/// The decision recorded.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DecisionAnswer {
    /// `confirmed` or `denied`.
    #[schema(value_type = String)]
    status: SessionState,
}
