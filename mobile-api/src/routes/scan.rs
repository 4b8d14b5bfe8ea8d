use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::audit::{self, AuditEvent, Event, Outcome};
use qrlogin_shared::requester::RequesterDetails;
use qrlogin_shared::session::{CheckCode, Risk};
use qrlogin_shared::store::{History, ScanOutcome, Shown};
use serde::{Deserialize, Serialize};

use crate::admission::{Presented, Step, admit, refused};
use crate::context::PhoneContext;
use crate::error::MobileError;
use crate::middleware::AuthenticatedUser;

/// What the app read off the QR.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(examples(json!({"qr_content": "https://login.example.com/q/3b0f6c1e-8d2a-4c5e-9f7a-1b2c3d4e5f60.AAAAZ0x1Lw9WmE3tY3yqS8y8Jq3Zq0kAJ2b7xQ1mN4pR6tV8"})))]
pub struct ScanRequest {
    #[schema(schema_with = qrlogin_shared::openapi::qr_link)]
    qr_content: String,
}

/// Where the login comes from: show it, and let the user approve or refuse.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(examples(json!({"uuid": "3b0f6c1e-8d2a-4c5e-9f7a-1b2c3d4e5f60",
    "requester": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36",
        "created_at": "2026-12-01T18:33:10Z", "browser": "Chrome 131", "os": "Linux",
        "location": {"country": "DE", "city": "Berlin"}, "known_device": true},
    "risk": {"level": "low", "signals": []}, "expires_in": 287, "check_code_required": false})))]
pub(crate) struct Scanned {
    #[schema(schema_with = qrlogin_shared::openapi::session_id)]
    uuid: String,
    requester: RequesterDetails,
    risk: Risk,
    /// Seconds left to decide.
    expires_in: u64,
    /// The app must ask the user for the number the browser shows, and send it with the confirm.
    check_code_required: bool,
}

/// `POST /v1/scan`: the app read a QR. Records who scanned it and tells the app where the login comes from,
/// so the user can judge it before approving.
#[utoipa::path(post, path = "/v1/scan", tag = "phone", operation_id = "scanLogin",
    summary = "The app read a login's QR: record who scanned it, learn where the login comes from",
    request_body = ScanRequest, security(("userToken" = [])),
    responses((status = 200, description = "Scanned by this user (again: the same answer); show `requester` and \
        `risk`, ask for the check code when `check_code_required`", body = Scanned)))]
#[tracing::instrument(skip_all, fields(session, user))]
pub async fn scan(
    AuthenticatedUser(user): AuthenticatedUser,
    req: HttpRequest,
    body: web::Json<ScanRequest>,
    ctx: web::Data<PhoneContext>,
) -> Result<HttpResponse, MobileError> {
    let (id, code) = ctx.base.parse_link(body.qr_content.trim())?;
    let (ip, client) = super::who(&req, &ctx, &id, &user);
    let presented = Presented { step: Step::Scan, id: &id, code: &code, user: &user, ip: &ip, client: &client };
    admit(&ctx, &presented).await?;
    let audited = AuditEvent::new(Event::Scanned, Outcome::Ok, &ip).session(&id).user(&user);
    // The verdict comes before the scan, from what the session holds (never changed after create); the read
    // is the request's first Redis step, so it carries the sender's limits.
    let history = History { user: &user, memory: ctx.risk.device_memory() };
    let read = ctx.store.login_context(&id, &presented.limits(&ctx), Some(history)).await;
    let Some(context) = read.map_err(|e| refused(e, &presented))? else {
        audit::record(&AuditEvent { event: Event::Expired, outcome: Outcome::NotFound, ..audited });
        return Err(MobileError::NotFound);
    };
    let judged = ctx.risk.judge(&ctx.store, &user, &ip, &context).await?;
    // Number matching from the verdict: a risky login asks for the digits only its own browser shows.
    let check_code = ctx.check_code.required(judged.risk.level).then(CheckCode::random);
    let r = &judged.requester;
    let shown = Shown { browser: r.browser.clone(), os: r.os.clone(), location: r.location.clone() };
    let verdict = Some((judged.risk.level, &shown));
    let outcome = ctx.store.scan(&id, &user, code.expires_at(), check_code.as_ref(), verdict).await?;
    audit::record(&match &outcome {
        ScanOutcome::Scanned { trace, .. } => audited.trace(trace.as_ref()),
        ScanOutcome::NotFound => AuditEvent { event: Event::Expired, outcome: Outcome::NotFound, ..audited },
        ScanOutcome::Conflict => AuditEvent { outcome: Outcome::Conflict, ..audited },
        ScanOutcome::Ended { first_scanner, trace } => {
            AuditEvent { event: Event::Cancelled, outcome: Outcome::SecondScanner, ..audited }
                .first_scanner(first_scanner)
                .trace(trace.as_ref())
        }
    });
    match outcome {
        ScanOutcome::Scanned { ttl, check_code_required, .. } => {
            let expires_in = ttl.as_secs();
            Ok(HttpResponse::Ok().json(Scanned {
                uuid: id.to_string(),
                requester: judged.requester,
                risk: judged.risk,
                expires_in,
                check_code_required,
            }))
        }
        ScanOutcome::NotFound => Err(MobileError::NotFound),
        ScanOutcome::Conflict | ScanOutcome::Ended { .. } => Err(MobileError::WrongState),
    }
}
