use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::SessionId;
use qrlogin_shared::store::{DecideOutcome, Decision};
use qrlogin_shared::verification::VerificationCode;
use serde::Deserialize;
use serde_json::json;

use crate::context::PhoneContext;
use crate::error::MobileError;
use crate::limits::admit_user;
use crate::user_token::AuthenticatedUser;

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
    let span = tracing::Span::current();
    span.record("session", tracing::field::display(&id));
    span.record("user", tracing::field::display(&user));
    let ip = super::client_ip(&req, &ctx.trusted_proxies);
    super::verify(&ctx, super::Step { kind: super::StepKind::Decide, id: &id, code: &code }, &user, &ip).await?;
    admit_user(&ctx.limiter, "decide", ctx.limits.decide_per_user, &user).await?;
    let event = match **decision {
        Decision::Confirm => "confirmed",
        Decision::Deny => "denied",
    };
    let (outcome, result) = match ctx.store.decide(&id, &user, **decision, code.expires_at()).await? {
        DecideOutcome::Done => ("ok", Ok(HttpResponse::Ok().json(json!({ "status": event })))),
        DecideOutcome::NotFound => ("not_found", Err(MobileError::NotFound)),
        DecideOutcome::WrongState => ("wrong_state", Err(MobileError::WrongState)),
        DecideOutcome::WrongUser => ("wrong_user", Err(MobileError::WrongUser)),
    };
    tracing::info!(target: "audit", event, session = %id, user = %user, ip, outcome, "login decision");
    if result.is_ok() {
        qrlogin_shared::metrics::session_event(event);
    }
    result
}
