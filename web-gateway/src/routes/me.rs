use actix_web::{HttpRequest, HttpResponse, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use qrlogin_shared::UserId;
use qrlogin_shared::http::bearer_token;
use serde_json::{Value, json};

use crate::context::GatewayContext;
use crate::directory::Profile;
use crate::error::GatewayError;

/// `GET /v1/me` with `Authorization: Bearer <web token>`: verifies the token exactly as the web team's backend
/// should (key from the JWKS by `kid`, ES256 only, `iss`, `aud`, `exp`) and answers the user's profile and the
/// token's claims. The demo page uses it; it doubles as a reference implementation.
#[utoipa::path(get, path = "/v1/me", tag = "tokens", operation_id = "me",
    summary = "The demo's check of a web token: the user's profile and the token's claims",
    security(("webToken" = [])),
    responses((status = 200, description = "The token is valid", body = Me)))]
pub async fn me(req: HttpRequest, ctx: web::Data<GatewayContext>) -> Result<HttpResponse, GatewayError> {
    let token = bearer_token(&req).ok_or(GatewayError::Unauthorized)?;
    let claims = verify(&ctx, token).ok_or(GatewayError::Unauthorized)?;
    let user = claims.get("sub").and_then(Value::as_str).and_then(|s| UserId::parse(s).ok());
    let user = user.ok_or(GatewayError::Unauthorized)?;
    let mut profile = ctx.directory.profile(&user).await?.unwrap_or_else(Profile::new);
    profile.insert("id".into(), user.as_str().into());
    Ok(HttpResponse::Ok().json(json!({ "user": profile, "claims": claims })))
}

fn verify(ctx: &GatewayContext, token: &str) -> Option<Value> {
    let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
    let jwk = ctx.signer.jwks().find(&kid)?;
    let key = DecodingKey::from_jwk(jwk).ok()?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[ctx.signer.issuer()]);
    validation.set_audience(&[ctx.signer.audience()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).ok().map(|data| data.claims)
}

/// What `/v1/me` answers for a valid web token.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documents the JSON `me` builds")]
pub(crate) struct Me {
    user: crate::session_view::UserProfile,
    /// The token's claims: `iss`, `aud`, `sub`, `iat`, `exp`, `jti`, `sid`, `amr`.
    #[schema(value_type = Object)]
    claims: serde_json::Value,
}
