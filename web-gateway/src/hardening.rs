//! What a browser-facing auth endpoint owes the browser: headers that stop framing, sniffing, referrer leaks
//! and caching of one-time material, and CORS open only to the site's own configured origins.

use actix_cors::Cors;
use actix_web::http::{Method, header};
use actix_web::middleware::DefaultHeaders;

/// Added to every gateway response that does not set its own (JWKS sets its own `Cache-Control`).
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        // API answers are data, never documents: nothing may run, load or frame them.
        .add((header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"))
}

/// CORS for the browser endpoints: only `origins` (`QRL_CORS_ORIGINS`), with credentials so the binding
/// cookie travels. Same-origin pages need no entry. A preflight from any other origin is refused.
pub fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([Method::GET, Method::POST, Method::DELETE])
        .allowed_header(header::CONTENT_TYPE)
        .expose_headers(["x-request-id", "retry-after"])
        .supports_credentials()
        .max_age(600)
}
