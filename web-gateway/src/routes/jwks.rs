use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::web_token::WebTokenSigner;

/// `GET /.well-known/jwks.json`: the public keys that verify web tokens. Cacheable for a few minutes, so a
/// verifier refetching on an unknown `kid` sees a new key soon after it is rolled out.
pub async fn jwks(signer: web::Data<WebTokenSigner>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(signer.jwks())
}
