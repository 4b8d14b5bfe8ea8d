//! HTTP pieces both services use the same way: problem+json errors, extractor error handlers, the client IP
//! behind trusted proxies, health endpoints, and the access log with its request id.

mod access_log;
mod body;
mod client_ip;
mod fallback;
mod problem;
mod server_span;

pub use crate::ErrorChain;
pub use access_log::{REQUEST_DEADLINE, access_log, request_deadline};
pub use body::{BODY_TIMEOUT, HeldBody, IgnoredBody, close_error, hold_body};
pub use client_ip::{ClientIp, TrustedProxies};
pub use fallback::problem_fallback;
pub use problem::{
    CONTENT_TYPE as PROBLEM_CONTENT_TYPE, Problem, form_config, json_config, method_not_allowed, not_found, path_error,
    query_error,
};

use actix_web::{HttpResponse, ResponseError, web};

use crate::Redis;

/// The token of an `Authorization: Bearer <token>` header, if the request carries a non-empty one.
pub fn bearer_token(req: &actix_web::HttpRequest) -> Option<&str> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// What a JSON body can fail with beyond [`unreadable_body_problems`]: malformed JSON, not JSON.
pub fn json_body_problems() -> Vec<Problem> {
    vec![
        Problem::bad_request("malformed JSON body: missing field `qr_content` at line 1 column 2"),
        problem::unsupported_media_type(),
    ]
}

/// What a form body can fail with beyond [`unreadable_body_problems`]: malformed, not a form.
pub fn form_body_problems() -> Vec<Problem> {
    vec![Problem::bad_request("malformed form body"), problem::not_a_form()]
}

/// What any request may be answered when its body cannot be read, whatever the route: malformed framing, too
/// slow (the body's deadline, or the whole request's [`REQUEST_DEADLINE`]), too large ([`hold_body`] reads the
/// bodies handlers do not).
pub fn unreadable_body_problems() -> Vec<Problem> {
    vec![body::unreadable(), body::request_timeout(), body::too_large()]
}

/// `GET /healthz`: the process is up; says nothing about its dependencies.
#[utoipa::path(get, path = "/healthz", tag = "health", operation_id = "healthz",
    responses((status = 200, description = "The process is up", body = inline(Health),
        example = json!({"status": "ok"}))))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// A health answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Health {
    /// `ok` (`/healthz`) or `ready` (`/readyz`).
    status: String,
}

/// `GET /metrics`: the Prometheus text format. Answered only on the metrics address when one is configured
/// (`QRL_METRICS_ADDR`), so the public port can never expose it; otherwise on every address, and the proxy must
/// not route it.
#[utoipa::path(get, path = "/metrics", tag = "health", operation_id = "metrics",
    responses((status = 200, description = "Prometheus text format", body = String,
        content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 404, description = "Served on the metrics address only (QRL_METRICS_ADDR set)", body = Problem,
            content_type = "application/problem+json")))]
pub async fn metrics(req: actix_web::HttpRequest, exporter: web::Data<crate::metrics::Exporter>) -> HttpResponse {
    if !exporter.serves(req.app_config().local_addr()) {
        return Problem::new(actix_web::http::StatusCode::NOT_FOUND, "not-found", "No such endpoint").error_response();
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(exporter.render())
}

/// `GET /readyz`: Redis answers. A load balancer stops routing here while it does not.
#[utoipa::path(get, path = "/readyz", tag = "health", operation_id = "readyz",
    responses((status = 200, description = "Redis answers", body = inline(Health), example = json!({"status": "ready"})),
        (status = 503, description = "Redis does not answer", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "seconds to wait before trying again")))))]
pub async fn readyz(redis: web::Data<Redis>) -> Result<HttpResponse, Problem> {
    redis.ping().await.map_err(|e| {
        let problem = Problem::unavailable();
        problem.report(&e);
        problem
    })?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })))
}
