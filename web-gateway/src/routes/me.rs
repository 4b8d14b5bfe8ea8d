use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::unix_now;

use crate::context::GatewayContext;
use crate::directory::Profile;
use crate::dpop::{self, InvalidProof};
use crate::error::GatewayError;
use crate::web_token::Verified;

/// `GET /v1/me` with `Authorization: Bearer <web token>` (or, for a DPoP-bound token, `Authorization: DPoP
/// <token>` and a `DPoP` proof): verifies the token exactly as the web team's backend should (key from the JWKS
/// by `kid`, ES256 only, `iss`, `aud`, `exp`; a bound token's proof: method, URL, `iat`, `ath`, its key's
/// thumbprint, a `jti` never seen before; its web session not ended from the phone) and answers the user's
/// profile and the token's claims. The demo page uses it; it doubles as a reference.
#[utoipa::path(get, path = "/v1/me", tag = "tokens", operation_id = "me",
    summary = "The demo's check of a web token: the user's profile and the token's claims",
    security(("webToken" = []), ("dpopToken" = [], "dpopProof" = [])),
    params(("DPoP" = Option<String>, Header, description = "with a DPoP-bound token (`cnf.jkt`, sent as \
        `Authorization: DPoP <token>`): a fresh proof by the token's key for `GET` and this URL, with `ath`; \
        without a valid one, 401 `invalid-dpop-proof`")),
    responses((status = 200, description = "The token is valid", body = Me)))]
pub async fn me(req: HttpRequest, ctx: web::Data<GatewayContext>) -> Result<HttpResponse, GatewayError> {
    let (scheme, token) = presented(&req).ok_or(GatewayError::Unauthorized)?;
    let verified = ctx.signer.verify(token).ok_or(GatewayError::Unauthorized)?;
    match (&verified.jkt, scheme) {
        (None, Scheme::Bearer) => {}
        (Some(jkt), Scheme::Dpop) => check_proof(&req, &ctx, token, jkt).await?,
        // A bound token copied out of the browser is of no use as a Bearer token; nor is a Bearer token a DPoP one.
        _ => return Err(GatewayError::WrongTokenScheme),
    }
    answer(&ctx, verified).await
}

#[derive(Clone, Copy)]
enum Scheme {
    Bearer,
    Dpop,
}

/// The `Authorization` header's scheme and token (RFC 9449 §7.1: `DPoP <token>` for a bound token).
fn presented(req: &HttpRequest) -> Option<(Scheme, &str)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = Some(token.trim()).filter(|t| !t.is_empty())?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Some((Scheme::Bearer, token))
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Some((Scheme::Dpop, token))
    } else {
        None
    }
}

/// The request's proof must be a fresh one by the token's key, for this request and this token, and its `jti`
/// new to every instance (one `SET NX` in Redis, remembered as long as the proof's `iat` is accepted).
async fn check_proof(req: &HttpRequest, ctx: &GatewayContext, token: &str, jkt: &str) -> Result<(), GatewayError> {
    let refused = GatewayError::TokenProof;
    let proof = dpop::header_of(req).map_err(refused)?.ok_or(refused(InvalidProof("a DPoP proof is required")))?;
    let urls = dpop::urls_of(req, ctx.base.as_str(), &ctx.policy.trusted_proxies);
    let expected =
        dpop::Expected { method: req.method().as_str(), urls: &urls, access_token: Some(token), now: unix_now() };
    let proof = dpop::verify(proof, &expected).map_err(refused)?;
    if proof.jkt != jkt {
        return Err(refused(InvalidProof("the proof is not made with the key the token is bound to")));
    }
    if !ctx.store.first_use_of_proof(jkt, &proof.jti_digest, dpop::REPLAY_WINDOW).await? {
        return Err(refused(InvalidProof("the proof was used before: make a fresh one for every request")));
    }
    Ok(())
}

async fn answer(ctx: &GatewayContext, verified: Verified) -> Result<HttpResponse, GatewayError> {
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
    /// The token's claims: `iss`, `aud`, `sub`, `iat`, `exp`, `jti`, `sid`, `amr`, and `cnf` (`{"jkt": …}`) for a
    /// DPoP-bound token.
    #[schema(value_type = Object)]
    claims: serde_json::Value,
}
