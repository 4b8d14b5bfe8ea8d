//! Guessing tokens from one address is throttled across all instances: every 401 counts against the client's
//! IP, and past the limit the answer becomes 429. Valid tokens are never counted.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use qrlogin_shared::audit::{self, AuditEvent, Limit};
use qrlogin_shared::http::ClientIp;
use qrlogin_shared::rate_limit::{Check, Verdict};

use crate::context::PhoneContext;
use crate::error::MobileError;

/// Use with `actix_web::middleware::from_fn(throttle_bad_tokens)`, outside [`super::authenticate`].
pub async fn throttle_bad_tokens(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let ctx = req.app_data::<web::Data<PhoneContext>>().cloned();
    let res = next.call(req).await?;
    let Some(ctx) = ctx.filter(|_| res.status() == StatusCode::UNAUTHORIZED) else {
        return Ok(res.map_into_left_body());
    };
    let ip = ClientIp::text_of(res.request(), &ctx.trusted_proxies);
    let rate = ctx.limits.bad_token_per_ip;
    let verdict = ctx.limiter.check(&ip, &[Check { name: "bad_token", subject: "ip", rate }]).await;
    let error = match verdict {
        Ok(Verdict::Allowed) => return Ok(res.map_into_left_body()),
        Ok(Verdict::Limited { retry_after }) => {
            audit::record(&AuditEvent::rate_limited(Limit::BadToken, &ip));
            MobileError::RateLimited(retry_after)
        }
        // The request already failed; a Redis fault while counting it must not hide that it was a 401.
        Err(e) => {
            qrlogin_shared::metrics::redis_error_in(&e);
            return Ok(res.map_into_left_body());
        }
    };
    let (req, _) = res.into_parts();
    Ok(ServiceResponse::new(req, error.error_response()).map_into_right_body())
}
