//! Guessing tokens from one address is throttled across all instances: every 401 counts against the client's
//! IP, and a client this instance saw go past the limit is answered 429 before its token is looked at
//! ([`super::blocked`]). Valid tokens are never counted, but while an address is past the limit every request
//! from it waits: its step's first Redis call asks the limit (`admission::Presented::limits`). CORS preflights
//! carry no credentials by design: they are neither counted nor validated (see [`super::authenticate`]).

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError, web};
use qrlogin_shared::audit::{self, AuditEvent, Limit as AuditLimit};
use qrlogin_shared::http::ClientIp;
use qrlogin_shared::rate_limit::Limit;

use crate::context::PhoneContext;
use crate::error::MobileError;

/// Use with `actix_web::middleware::from_fn(throttle_bad_tokens)`, outside [`super::authenticate`].
pub async fn throttle_bad_tokens(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let ctx = req.app_data::<web::Data<PhoneContext>>().cloned();
    let Some(ctx) = ctx.filter(|_| req.method() != Method::OPTIONS) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let ip = ClientIp::text_of(req.request(), &ctx.trusted_proxies);
    // The client is the hash tag (one slot per client in a Redis Cluster); an IPv6 client counts by its /64.
    let client = ClientIp::subject_of(req.request(), &ctx.trusted_proxies);
    if let Some(retry_after) = ctx.blocked.remaining(&client) {
        return Ok(req.into_response(refuse(&ip, retry_after)).map_into_right_body());
    }
    let res = next.call(req).await?;
    if res.status() != StatusCode::UNAUTHORIZED {
        return Ok(res.map_into_left_body());
    }
    let limit = [Limit::counted(&client, AuditLimit::BadToken.into(), "ip", ctx.limits.bad_token_per_ip)];
    match ctx.limiter.check(&limit).await {
        Ok(None) => {
            // The allowance may be spent now: then the next refused token is refused before it is looked at.
            let peek = [Limit { peek: true, ..limit[0] }];
            if let Ok(Some(limited)) = ctx.limiter.check(&peek).await {
                ctx.blocked.block(&client, limited.retry_after);
            }
            Ok(res.map_into_left_body())
        }
        // This refused token was one too many: it and the next ones are refused.
        Ok(Some(limited)) => {
            ctx.blocked.block(&client, limited.retry_after);
            let (req, _) = res.into_parts();
            let refused = refuse(&ip, limited.retry_after);
            Ok(ServiceResponse::new(req, refused).map_into_right_body())
        }
        // The request already failed; a Redis fault while counting it must not hide that it was a 401.
        Err(e) => {
            qrlogin_shared::metrics::redis_error_in(&e);
            Ok(res.map_into_left_body())
        }
    }
}

fn refuse(ip: &str, retry_after: Duration) -> HttpResponse {
    audit::record(&AuditEvent::rate_limited(AuditLimit::BadToken, ip));
    MobileError::RateLimited(retry_after).error_response()
}
