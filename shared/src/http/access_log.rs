//! One access-log line per request, under a span carrying a request id that is echoed in `X-Request-Id` (the
//! OpenTelemetry server span when traces are exported, `server_span.rs`). It records the route pattern, never the
//! raw path or query: QR links carry verification strings in the path.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Use with `actix_web::middleware::from_fn(access_log)`.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let pattern = req.match_pattern();
    let method = req.method().clone();
    let span = super::server_span::start(&req, &request_id, pattern.as_deref());
    let route = pattern.unwrap_or_else(|| "unmatched".to_owned());
    let started = Instant::now();
    let mut res = crate::telemetry::serving(&span, next.call(req).instrument(span.clone())).await?;
    super::server_span::end(&span, res.status());
    let status = res.status().as_u16();
    crate::metrics::http_request(&route, method.as_str(), status, started.elapsed());
    span.in_scope(|| {
        tracing::info!(target: "access", status, elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "request done");
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// Longest a request may take end to end, body upload included: a client trickling its body byte by byte
/// (slowloris) is cut off with 408 rather than holding a worker. Redis calls are bounded far below this.
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Use with `actix_web::middleware::from_fn(request_deadline)`. On timeout the request is dropped and the
/// error becomes the response (a request cannot be cloned past this point: actix needs it unshared).
pub async fn request_deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    match tokio::time::timeout(REQUEST_DEADLINE, next.call(req)).await {
        Ok(res) => res,
        Err(_) => Err(super::body::request_timeout().into()),
    }
}
