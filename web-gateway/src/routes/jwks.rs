use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::context::GatewayContext;

/// `GET /.well-known/jwks.json`: the public keys that verify web tokens. Cacheable for a few minutes, so a
/// verifier refetching on an unknown `kid` sees a new key soon after it is rolled out.
pub async fn jwks(ctx: web::Data<GatewayContext>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(ctx.signer.jwks())
}
