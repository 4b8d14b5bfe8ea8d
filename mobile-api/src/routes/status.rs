use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::SessionId;
use qrlogin_shared::audit::Limit;
use serde_json::json;

use crate::admission::{refused_from, sender_limits};
use crate::context::PhoneContext;
use crate::error::MobileError;
use crate::middleware::AuthenticatedUser;

/// `GET /v1/logins/{uuid}`: how a login the user scanned stands, and once confirmed how it ended (`claimed`,
/// `cancelled` in the browser, or `expired` uncollected), for a while after the session is gone. A confirm's
/// `200` only says the confirm was recorded: the browser may still cancel before it collects the token.
/// Unknown, gone, or scanned by someone else: the same 404. Read-only; within the user's status limit.
#[tracing::instrument(skip_all, fields(session, user))]
pub async fn status(
    AuthenticatedUser(user): AuthenticatedUser,
    req: HttpRequest,
    uuid: web::Path<String>,
    ctx: web::Data<PhoneContext>,
) -> Result<HttpResponse, MobileError> {
    let id = SessionId::parse(&uuid).map_err(|_| MobileError::BadSessionRef)?;
    let (ip, client) = super::who(&req, &ctx, &id, &user);
    let limits = sender_limits(&ctx, &client, &user, Limit::Status, ctx.limits.status_per_user);
    let status = ctx.store.login_status(&id, &user, &limits).await.map_err(|e| refused_from(e, &ip, &user))?;
    let status = status.ok_or(MobileError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "uuid": id.to_string(), "status": status })))
}
