//! Abuse limits of the phone side, shared by every instance through Redis: per-user scan and decision rates,
//! invalid-token attempts per client IP, and the wrong-verification lockout of a session.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use qrlogin_shared::UserId;
use qrlogin_shared::config::{ConfigError, Env};
use qrlogin_shared::http::ClientIp;
use qrlogin_shared::rate_limit::{Check, Rate, RateLimiter, Verdict};

use crate::context::PhoneContext;
use crate::error::MobileError;

/// Wrong verification strings one session tolerates before it is destroyed.
pub const ALLOWED_MISSES: u32 = 5;

#[derive(Debug, Clone, Copy)]
pub struct MobileLimits {
    pub scan_per_user: Rate,
    pub decide_per_user: Rate,
    pub bad_token_per_ip: Rate,
}

impl MobileLimits {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            scan_per_user: env.parse_or("QRL_LIMIT_SCAN_PER_USER", Rate::new(20, 60))?,
            decide_per_user: env.parse_or("QRL_LIMIT_DECIDE_PER_USER", Rate::new(20, 60))?,
            bad_token_per_ip: env.parse_or("QRL_LIMIT_BAD_TOKEN_PER_IP", Rate::new(20, 60))?,
        })
    }

    pub const fn unlimited() -> Self {
        let off = Rate::new(0, 0);
        Self { scan_per_user: off, decide_per_user: off, bad_token_per_ip: off }
    }
}

/// Admits one more action (`"scan"` or `"decide"`) by `user`, or answers 429.
pub async fn admit_user(
    limiter: &RateLimiter,
    action: &'static str,
    rate: Rate,
    user: &UserId,
) -> Result<(), MobileError> {
    // The user is the hash tag: in a Redis Cluster, users' limits spread over all slots.
    match limiter.check(user.as_str(), &[Check { name: action, subject: "user", rate }]).await? {
        Verdict::Allowed => Ok(()),
        Verdict::Limited { retry_after } => {
            tracing::warn!(target: "audit", event = "rate_limited", limit = action, user = %user, outcome = "refused", "user action refused");
            qrlogin_shared::metrics::rate_limited(action);
            Err(MobileError::RateLimited(retry_after))
        }
    }
}

/// Counts every 401 against the client's IP; past the limit the answer becomes 429, so guessing tokens from
/// one address is throttled across all instances. Valid tokens are never counted.
pub async fn throttle_bad_tokens(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let ctx = req.app_data::<web::Data<PhoneContext>>().cloned();
    let res = next.call(req).await?;
    let Some(ctx) = ctx.filter(|_| res.status() == StatusCode::UNAUTHORIZED) else {
        return Ok(res.map_into_left_body());
    };
    let ip =
        ClientIp::of(res.request(), &ctx.trusted_proxies).map_or_else(|| "unknown".to_owned(), |ip| ip.0.to_string());
    let rate = ctx.limits.bad_token_per_ip;
    let verdict = ctx.limiter.check(&ip, &[Check { name: "bad_token", subject: "ip", rate }]).await;
    let error = match verdict {
        Ok(Verdict::Allowed) => return Ok(res.map_into_left_body()),
        Ok(Verdict::Limited { retry_after }) => {
            tracing::warn!(target: "audit", event = "rate_limited", limit = "bad_token", ip, outcome = "refused", "invalid tokens throttled");
            qrlogin_shared::metrics::rate_limited("bad_token");
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
