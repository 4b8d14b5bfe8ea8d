use actix_web::{HttpResponse, web};
use qrlogin_shared::qr_link::QrBaseUrl;
use qrlogin_shared::store::{Requester, ScanOutcome};
use qrlogin_shared::{SessionStore, Verifier};
use serde::{Deserialize, Serialize};

use crate::error::MobileError;
use crate::user_token::AuthenticatedUser;

#[derive(Deserialize)]
pub struct ScanRequest {
    qr_content: String,
}

#[derive(Serialize)]
struct Scanned {
    uuid: String,
    requester: Requester,
    expires_in: u64,
}

/// `POST /v1/scan`: the app read a QR. Records who scanned it and tells the app where the login comes from,
/// so the user can judge it before approving.
#[tracing::instrument(skip_all, fields(session, user))]
pub async fn scan(
    AuthenticatedUser(user): AuthenticatedUser,
    body: web::Json<ScanRequest>,
    base: web::Data<QrBaseUrl>,
    verifier: web::Data<Verifier>,
    store: web::Data<SessionStore>,
) -> Result<HttpResponse, MobileError> {
    let (id, code) = base.parse_link(body.qr_content.trim())?;
    let span = tracing::Span::current();
    span.record("session", tracing::field::display(&id));
    span.record("user", tracing::field::display(&user));
    super::verify(&verifier, &id, &code)?;
    match store.scan(&id, &user).await? {
        ScanOutcome::Scanned { requester, ttl } => {
            tracing::info!(target: "audit", event = "scanned", session = %id, user = %user, "login session scanned");
            Ok(HttpResponse::Ok().json(Scanned { uuid: id.to_string(), requester, expires_in: ttl.as_secs() }))
        }
        ScanOutcome::NotFound => Err(MobileError::NotFound),
        ScanOutcome::Conflict => Err(MobileError::WrongState),
    }
}
