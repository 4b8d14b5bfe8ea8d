use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::http::bearer_token;

use crate::context::GatewayContext;
use crate::directory::Profile;
use crate::error::GatewayError;

/// `GET /v1/me` with `Authorization: Bearer <web token>`: verifies the token exactly as the web team's backend
/// should (key from the JWKS by `kid`, ES256 only, `iss`, `aud`, `exp`; its web session not ended from the phone)
/// and answers the user's profile and the token's claims. The demo page uses it; it doubles as a reference.
#[utoipa::path(get, path = "/v1/me", tag = "tokens", operation_id = "me",
    summary = "The demo's check of a web token: the user's profile and the token's claims",
    security(("webToken" = [])),
    responses((status = 200, description = "The token is valid", body = Me)))]
pub async fn me(req: HttpRequest, ctx: web::Data<GatewayContext>) -> Result<HttpResponse, GatewayError> {
    let token = bearer_token(&req).ok_or(GatewayError::Unauthorized)?;
    let verified = ctx.signer.verify(token).ok_or(GatewayError::Unauthorized)?;
    // Ended from the phone (or past its lifetime): as a backend that introspects would, refuse it.
    if !ctx.store.touch_web_session(&verified.user, &verified.sid).await? {
        return Err(GatewayError::SessionEnded);
    }
    let mut profile = ctx.directory.profile(&verified.user).await?.unwrap_or_else(Profile::new);
    profile.insert("id".into(), verified.user.as_str().into());
    Ok(HttpResponse::Ok().json(Me { user: profile, claims: verified.claims }))
}

/// What `/v1/me` answers for a valid web token.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Me {
    #[schema(value_type = crate::openapi::schemas::UserProfile)]
    user: Profile,
    /// The token's claims: `iss`, `aud`, `sub`, `iat`, `exp`, `jti`, `sid`, `amr`.
    #[schema(value_type = Object)]
    claims: serde_json::Value,
}
