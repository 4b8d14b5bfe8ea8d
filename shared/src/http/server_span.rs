//! The span of one request. While traces are exported it is an OpenTelemetry server span after the HTTP
//! semantic conventions: named `<method> <route pattern>`, with the method, route, scheme, protocol version and
//! status as attributes. Never the raw path or query (QR links carry verification strings in the path), never a
//! header value. A `traceparent` is believed only from a trusted proxy (`QRL_TRUSTED_PROXIES`), as
//! `X-Forwarded-For` is: anyone else's request starts a trace of its own.

use std::collections::HashMap;

use actix_web::dev::ServiceRequest;
use actix_web::http::{StatusCode, Version};
use actix_web::web;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::Status;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_semantic_conventions::trace as semconv;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::TrustedProxies;
use crate::telemetry;

/// The request's span, a root of the logs' span tree either way; `route` is `None` for an unmatched path.
pub(super) fn start(req: &ServiceRequest, request_id: &str, route: Option<&str>) -> Span {
    let method = req.method().as_str();
    let route_field = route.unwrap_or("unmatched");
    if !telemetry::enabled() {
        return tracing::info_span!(parent: None, "request", request_id, method, route = route_field);
    }
    let name = route.map_or_else(|| method.to_owned(), |route| format!("{method} {route}"));
    let span = tracing::info_span!(
        parent: None,
        "request",
        request_id,
        method,
        route = route_field,
        otel.name = name,
        otel.kind = "server",
    );
    if let Some(parent) = trusted_parent(req) {
        // Cannot fail: the span is new and not started yet.
        let _ = span.set_parent(parent);
    }
    span.set_attribute(semconv::HTTP_REQUEST_METHOD, method.to_owned());
    if let Some(route) = route {
        span.set_attribute(semconv::HTTP_ROUTE, route.to_owned());
    }
    // What this server saw, not a forwarded header anyone can send.
    span.set_attribute(semconv::URL_SCHEME, if req.app_config().secure() { "https" } else { "http" });
    if let Some(version) = protocol_version(req.version()) {
        span.set_attribute(semconv::NETWORK_PROTOCOL_VERSION, version);
    }
    span
}

/// The answer's status; a 5xx marks the span failed (a 4xx is the client's error, not the server's).
pub(super) fn end(span: &Span, status: StatusCode) {
    if !telemetry::enabled() {
        return;
    }
    span.set_attribute(semconv::HTTP_RESPONSE_STATUS_CODE, i64::from(status.as_u16()));
    if status.is_server_error() {
        span.set_attribute(semconv::ERROR_TYPE, status.as_str().to_owned());
        span.set_status(Status::error(""));
    }
}

/// The caller's trace context, if the TCP peer is a trusted proxy and sent a valid one.
fn trusted_parent(req: &ServiceRequest) -> Option<opentelemetry::Context> {
    let trusted = req.app_data::<web::Data<TrustedProxies>>()?;
    let peer = req.peer_addr()?.ip();
    if !trusted.contains(&peer) {
        return None;
    }
    // Only the two W3C headers; nothing else of the request reaches the propagator.
    let carrier: HashMap<String, String> = ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), req.headers().get(name)?.to_str().ok()?.to_owned())))
        .collect();
    carrier.contains_key("traceparent").then(|| TraceContextPropagator::new().extract(&carrier))
}

fn protocol_version(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}
