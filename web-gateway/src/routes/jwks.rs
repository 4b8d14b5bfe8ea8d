use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::context::GatewayContext;

/// `GET /.well-known/jwks.json`: the public keys that verify web tokens. Cacheable for a few minutes, so a
/// verifier refetching on an unknown `kid` sees a new key soon after it is rolled out.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "tokens", operation_id = "jwks",
    summary = "The public keys that verify web tokens (ES256)",
    responses((status = 200, description = "A JWK set (RFC 7517); cacheable for 300 s", body = JwkSet,
        headers(("Cache-Control" = String, description = "`public, max-age=300`")))))]
pub async fn jwks(ctx: web::Data<GatewayContext>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(ctx.signer.jwks())
}

/// A JWK set: the key that signs now first, then any other published key (rotation).
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documents jsonwebtoken's JwkSet as the gateway serializes it")]
pub(crate) struct JwkSet {
    keys: Vec<Jwk>,
}

/// A P-256 public key (RFC 7517, RFC 7518 §6.2).
#[derive(utoipa::ToSchema)]
#[schema(examples(json!({"kty": "EC", "use": "sig", "alg": "ES256",
    "kid": "Vq3Xr2bS0wXm1sVZ2c9gYdQ5hT7eK4oN8pL6aF1jB3M", "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})))]
#[allow(dead_code, reason = "documents jsonwebtoken's Jwk as the gateway serializes it")]
struct Jwk {
    /// `EC`.
    kty: String,
    /// `sig`.
    #[schema(rename = "use")]
    use_: String,
    /// `ES256`.
    alg: String,
    /// The RFC 7638 thumbprint of the key: the token header's `kid`.
    kid: String,
    /// `P-256`.
    crv: String,
    x: String,
    y: String,
}
