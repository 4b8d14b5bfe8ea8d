use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::audit::{self, AuditEvent, Event, Limit, Outcome};
use qrlogin_shared::http::{ClientIp, IgnoredBody};
use qrlogin_shared::rate_limit;
use qrlogin_shared::requester::sanitize_user_agent;
use qrlogin_shared::store::{NewSession, Requester, StepError};
use qrlogin_shared::telemetry::Traceparent;
use qrlogin_shared::{SessionId, unix_now};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{DpopMode, SessionPolicy};
use crate::context::{GatewayContext, QrCode};
use crate::dpop::{self, InvalidProof};
use crate::error::GatewayError;
use crate::session_view::ROTATION_OVERLAP_SECS;
use crate::{binding, device};

/// A new login: show `qr_image`, then poll (or stream) `uuid` with the binding cookie this answer set.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(examples(json!({"uuid": "3b0f6c1e-8d2a-4c5e-9f7a-1b2c3d4e5f60",
    "qr_content": "https://login.example.com/q/3b0f6c1e-8d2a-4c5e-9f7a-1b2c3d4e5f60.AAAAZ0x1Lw9WmE3tY3yqS8y8Jq3Zq0kAJ2b7xQ1mN4pR6tV8",
    "qr_image": "data:image/png;base64,iVBORw0KGgo...", "expires_in": 300, "poll_interval_ms": 1000})))]
pub(crate) struct Created {
    #[schema(schema_with = qrlogin_shared::openapi::session_id)]
    uuid: String,
    #[schema(schema_with = qrlogin_shared::openapi::qr_link)]
    qr_content: String,
    /// The QR as a PNG data URL.
    qr_image: String,
    /// Seconds the login may take.
    expires_in: u64,
    /// How often to poll, in milliseconds; polling faster is answered 429 `slow-down`.
    poll_interval_ms: u64,
}

/// `POST /v1/qr`: a new pending login session, its QR, and the binding cookie for this browser. A body is not
/// needed, but one that is sent must be readable.
#[utoipa::path(post, path = "/v1/qr", tag = "browser", operation_id = "createLogin",
    summary = "Start a login: a QR for the phone and the binding cookie for this browser",
    params(("Origin" = Option<String>, Header, description = "checked against the gateway's origin and QRL_CORS_ORIGINS"),
        ("DPoP" = Option<String>, Header, description = "a DPoP proof (RFC 9449: `typ: dpop+jwt`, ES256, the public \
            key as `jwk`; `htm` POST, `htu` this URL, `iat`, `jti`): the login's token is then bound to that key \
            (`cnf.jkt`, `token_type: DPoP`). Required when the gateway runs with QRL_DPOP=required; ignored with \
            QRL_DPOP=off; one that does not verify is 400 `invalid-dpop-proof`")),
    responses((status = 201, description = "A pending login", body = Created,
        headers(("Set-Cookie" = String, description = "The binding cookie, `qrl_bind=<value>; HttpOnly; SameSite=Strict; \
            Path=/v1/qr/<uuid>` (`__Secure-qrl_bind`, `Secure`, when QRL_COOKIE_SECURE): only this browser may \
            poll, stream, cancel and collect this login. Also `qrl_device` (the device cookie) when the browser \
            has none")))))]
#[tracing::instrument(skip_all, fields(session))]
pub async fn create(
    req: HttpRequest,
    ctx: web::Data<GatewayContext>,
    _body: IgnoredBody,
) -> Result<HttpResponse, GatewayError> {
    ctx.origins.admit(&req)?;
    // Checked before anything is stored or counted: a refused proof changes nothing.
    let dpop_jkt = bound_key(&req, &ctx)?;
    let policy = &ctx.policy;
    let requester = requester(&req, policy);
    let subject = super::client_subject(&req, policy);
    let id = SessionId::random();
    tracing::Span::current().record("session", tracing::field::display(&id));
    // Computed once: the QR and Redis must name the same code, even if a second ticks over in between.
    let code_expires_at = first_code_expiry(policy);
    let (cookie, binding) = binding::issue(policy.cookie_secure, &id);
    let (device, device_cookie) = device::of_request_or_issue(&req, policy.cookie_secure, policy.device_memory);
    // This request's trace becomes the login's: the phone's and the browser's later steps join it.
    let trace = Traceparent::of_request();
    let new = NewSession {
        binding: &binding,
        requester: &requester,
        device: Some(&device),
        ttl: policy.ttl,
        code_expires_at,
        trace: trace.as_ref(),
        dpop_jkt: dpop_jkt.as_deref(),
    };
    // Stored (if the issuance limits admit it) before the QR is drawn: a refused request costs no rendering.
    store(&ctx, &id, &new, &subject).await?;
    let QrCode { qr_content, qr_image } = ctx.qr(&id, code_expires_at)?;
    audit::record(&AuditEvent::new(Event::Issued, Outcome::Ok, &requester.ip).session(&id));
    let mut answer = super::no_store(HttpResponse::Created());
    answer.cookie(cookie);
    if let Some(device_cookie) = device_cookie {
        answer.cookie(device_cookie);
    }
    Ok(answer.json(Created {
        uuid: id.to_string(),
        qr_content,
        qr_image,
        expires_in: policy.ttl.as_secs(),
        poll_interval_ms: u64::try_from(policy.poll_interval.as_millis()).unwrap_or(u64::MAX),
    }))
}

/// The thumbprint of the key the create's DPoP proof (`htm` POST, `htu` this URL) was made with, which the
/// login's token will be bound to; none without a proof (unless QRL_DPOP=required) or with QRL_DPOP=off. A
/// proof is not checked for replay here: a replayed one starts another login for the same key, whose token is
/// of no use without that key either.
fn bound_key(req: &HttpRequest, ctx: &GatewayContext) -> Result<Option<String>, GatewayError> {
    let mode = ctx.policy.dpop;
    if mode == DpopMode::Off {
        return Ok(None);
    }
    let Some(proof) = dpop::header_of(req).map_err(GatewayError::CreateProof)? else {
        return match mode {
            DpopMode::Required => Err(GatewayError::CreateProof(InvalidProof("a DPoP proof is required"))),
            _ => Ok(None),
        };
    };
    let urls = dpop::urls_of(req, ctx.base.as_str(), &ctx.policy.trusted_proxies);
    let expected = dpop::Expected { method: "POST", urls: &urls, access_token: None, now: unix_now() };
    let proof = dpop::verify(proof, &expected).map_err(GatewayError::CreateProof)?;
    Ok(Some(proof.jkt))
}

/// The first code lives one rotation (plus the overlap), or the whole login window when rotation is off.
fn first_code_expiry(policy: &SessionPolicy) -> u32 {
    let life = if policy.qr_rotate.is_zero() {
        policy.ttl.as_secs()
    } else {
        (policy.qr_rotate.as_secs() + ROTATION_OVERLAP_SECS).min(policy.ttl.as_secs())
    };
    u32::try_from(unix_now() + life).unwrap_or(u32::MAX)
}

/// Stores the session if the per-client (`subject`: the IP, or an IPv6 client's /64) and global issuance limits
/// admit it, all in one step.
async fn store(ctx: &GatewayContext, id: &SessionId, new: &NewSession<'_>, subject: &str) -> Result<(), GatewayError> {
    let limits = &ctx.policy.limits;
    let limits = [
        rate_limit::Limit::counted("issue", "ip", subject, limits.per_ip),
        rate_limit::Limit::counted("issue", "global", "all", limits.global),
    ];
    match ctx.store.create(id, new, &limits).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(GatewayError::Collision),
        Err(StepError::Limited(limited)) => {
            audit::record(&AuditEvent::rate_limited(Limit::Issue, &new.requester.ip));
            Err(GatewayError::RateLimited(limited.retry_after))
        }
        Err(StepError::Store(e)) => Err(e.into()),
    }
}

fn requester(req: &HttpRequest, policy: &SessionPolicy) -> Requester {
    let ip = ClientIp::text_of(req, &policy.trusted_proxies);
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        // Shown on the phone: hidden characters could make it read as something else; bounded for Redis.
        .map(|v| sanitize_user_agent(&String::from_utf8_lossy(v.as_bytes())))
        .unwrap_or_default();
    let created_at = OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
    Requester { ip, user_agent, created_at }
}
