use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::audit::{self, AuditEvent, Event, Outcome};
use qrlogin_shared::store::CancelOutcome;

use crate::context::GatewayContext;
use crate::error::GatewayError;

/// `DELETE /v1/qr/{uuid}`: the browser abandons its login. 204 also for a session already gone, so cancelling
/// is idempotent and reveals nothing.
#[utoipa::path(delete, path = "/v1/qr/{uuid}", tag = "browser", operation_id = "cancelLogin",
    summary = "Abandon the login (idempotent)", params(super::SessionParams),
    responses((status = 204, description = "Cancelled, or already gone")))]
#[tracing::instrument(skip_all, fields(session = %uuid))]
pub async fn cancel(
    req: HttpRequest,
    uuid: web::Path<String>,
    ctx: web::Data<GatewayContext>,
) -> Result<HttpResponse, GatewayError> {
    ctx.origins.admit(&req)?;
    let (id, binding) = super::browser_session(&req, &uuid, &ctx.policy)?;
    match ctx.store.cancel(&id, binding.hash()).await? {
        CancelOutcome::Forbidden => Err(GatewayError::BindingMismatch),
        CancelOutcome::Cancelled => {
            let ip = super::client_ip(&req, &ctx.policy);
            audit::record(&AuditEvent::new(Event::Cancelled, Outcome::Ok, &ip).session(&id));
            Ok(HttpResponse::NoContent().finish())
        }
        CancelOutcome::Gone => Ok(HttpResponse::NoContent().finish()),
    }
}
