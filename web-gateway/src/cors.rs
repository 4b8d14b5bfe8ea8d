//! CORS open only to the site's own configured origins. (The security headers every answer carries are the
//! shared bootstrap's, `qrlogin_shared::server`.)

use actix_cors::Cors;
use actix_web::http::{Method, header};

/// CORS for the browser endpoints: only `origins` (`QRL_CORS_ORIGINS`), with credentials so the binding
/// cookie travels, and the `DPoP` header qrlogin.js sends on the create. Same-origin pages need no entry. A preflight from any other origin is refused.
pub fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([Method::GET, Method::POST, Method::DELETE])
        .allowed_header(header::CONTENT_TYPE)
        // qrlogin.js sends a DPoP proof with the create (RFC 9449).
        .allowed_header(crate::dpop::HEADER)
        .expose_headers(["x-request-id", "retry-after"])
        .supports_credentials()
        .max_age(600)
}
