use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::store::{Requester, ScanOutcome};
use serde::{Deserialize, Serialize};

use crate::context::PhoneContext;
use crate::error::MobileError;
use crate::limits::admit_user;
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
    req: HttpRequest,
    body: web::Json<ScanRequest>,
    ctx: web::Data<PhoneContext>,
) -> Result<HttpResponse, MobileError> {
    let (id, code) = ctx.base.parse_link(body.qr_content.trim())?;
    let span = tracing::Span::current();
    span.record("session", tracing::field::display(&id));
    span.record("user", tracing::field::display(&user));
    let ip = super::client_ip(&req, &ctx.trusted_proxies);
    super::verify(&ctx, super::Step { kind: super::StepKind::Scan, id: &id, code: &code }, &user, &ip).await?;
    admit_user(&ctx.limiter, "scan", ctx.limits.scan_per_user, &user).await?;
    match ctx.store.scan(&id, &user, code.expires_at()).await? {
        ScanOutcome::Scanned { requester, ttl } => {
            tracing::info!(target: "audit", event = "scanned", session = %id, user = %user, ip, outcome = "ok", "login session scanned");
            qrlogin_shared::metrics::session_event("scanned");
            Ok(HttpResponse::Ok().json(Scanned { uuid: id.to_string(), requester, expires_in: ttl.as_secs() }))
        }
        ScanOutcome::NotFound => {
            tracing::info!(target: "audit", event = "expired", session = %id, user = %user, ip, "scan of an expired or finished session");
            qrlogin_shared::metrics::session_event("expired");
            Err(MobileError::NotFound)
        }
        ScanOutcome::Conflict => {
            tracing::info!(target: "audit", event = "scanned", session = %id, user = %user, ip, outcome = "conflict", "scan refused: wrong state");
            Err(MobileError::WrongState)
        }
    }
}
