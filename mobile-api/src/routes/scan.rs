use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::audit::{self, AuditEvent, Event, Outcome};
use qrlogin_shared::store::{Requester, ScanOutcome};
use serde::{Deserialize, Serialize};

use crate::admission::{Presented, Step, admit};
use crate::context::PhoneContext;
use crate::error::MobileError;
use crate::middleware::AuthenticatedUser;

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
    req: HttpRequest,
    body: web::Json<ScanRequest>,
    ctx: web::Data<PhoneContext>,
) -> Result<HttpResponse, MobileError> {
    let (id, code) = ctx.base.parse_link(body.qr_content.trim())?;
    let ip = super::who(&req, &ctx, &id, &user);
    admit(&ctx, Presented { step: Step::Scan, id: &id, code: &code, user: &user, ip: &ip }).await?;
    let outcome = ctx.store.scan(&id, &user, code.expires_at()).await?;
    let (event, audited) = match &outcome {
        ScanOutcome::Scanned { .. } => (Event::Scanned, Outcome::Ok),
        ScanOutcome::NotFound => (Event::Expired, Outcome::NotFound),
        ScanOutcome::Conflict => (Event::Scanned, Outcome::Conflict),
    };
    audit::record(&AuditEvent::new(event, audited, &ip).session(&id).user(&user));
    match outcome {
        ScanOutcome::Scanned { requester, ttl } => {
            Ok(HttpResponse::Ok().json(Scanned { uuid: id.to_string(), requester, expires_in: ttl.as_secs() }))
        }
        ScanOutcome::NotFound => Err(MobileError::NotFound),
        ScanOutcome::Conflict => Err(MobileError::WrongState),
    }
}
