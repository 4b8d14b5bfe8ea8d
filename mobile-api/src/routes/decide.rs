use actix_web::{HttpResponse, web};
use qrlogin_shared::store::{DecideOutcome, Decision};
use qrlogin_shared::verification::VerificationCode;
use qrlogin_shared::{SessionId, SessionStore, Verifier};
use serde::Deserialize;
use serde_json::json;

use crate::error::MobileError;
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
    body: web::Json<DecideRequest>,
    verifier: web::Data<Verifier>,
    store: web::Data<SessionStore>,
    decision: web::Data<Decision>,
) -> Result<HttpResponse, MobileError> {
    let id = SessionId::parse(&body.uuid).map_err(|_| MobileError::BadSessionRef)?;
    let code = VerificationCode::parse(&body.verification).map_err(|_| MobileError::BadSessionRef)?;
    let span = tracing::Span::current();
    span.record("session", tracing::field::display(&id));
    span.record("user", tracing::field::display(&user));
    super::verify(&verifier, &id, &code)?;
    let decision = **decision;
    let status = match decision {
        Decision::Confirm => "confirmed",
        Decision::Deny => "denied",
    };
    match store.decide(&id, &user, decision).await? {
        DecideOutcome::Done => {
            tracing::info!(target: "audit", event = status, session = %id, user = %user, "login decided");
            Ok(HttpResponse::Ok().json(json!({ "status": status })))
        }
        DecideOutcome::NotFound => Err(MobileError::NotFound),
        DecideOutcome::WrongState => Err(MobileError::WrongState),
        DecideOutcome::WrongUser => Err(MobileError::WrongUser),
    }
}
