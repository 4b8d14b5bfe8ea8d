use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::SessionId;
use qrlogin_shared::audit::Limit;

use crate::admission::{refused_from, sender_limits};
use crate::context::PhoneContext;
use crate::error::MobileError;
use crate::middleware::AuthenticatedUser;

/// `GET /v1/logins/{uuid}`: how a login the user scanned stands, and once confirmed how it ended (`claimed`,
/// `cancelled` in the browser, or `expired` uncollected), for a while after the session is gone. A confirm's
/// `200` only says the confirm was recorded: the browser may still cancel before it collects the token.
/// Unknown, gone, or scanned by someone else: the same 404. Read-only; within the user's status limit.
#[utoipa::path(get, path = "/v1/logins/{uuid}", tag = "phone", operation_id = "loginStatus",
    summary = "How a login this user scanned stands, and once confirmed how it ended",
    params(LoginParam), security(("userToken" = [])),
    responses((status = 200, description = "The login's status", body = LoginStatusAnswer,
        example = json!({"uuid": "3b0f6c1e-8d2a-4c5e-9f7a-1b2c3d4e5f60", "status": "claimed"}))))]
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
        .json(LoginStatusAnswer { uuid: id.to_string(), status }))
}

/// A login's status, as the phone's user may see it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct LoginStatusAnswer {
    #[schema(schema_with = qrlogin_shared::openapi::session_id)]
    uuid: String,
    status: qrlogin_shared::session::LoginStatus,
}

/// The login asked about.
struct LoginParam;

impl utoipa::IntoParams for LoginParam {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![qrlogin_shared::openapi::session_id_param("the scan answer's `uuid`")]
    }
}
