//! The user's web sessions, from the phone: where their logins are still open, and ending them. The web backend
//! learns of an ended session through the gateway's introspection (`POST /v1/introspect`).

use actix_web::{HttpRequest, HttpResponse, web};
use qrlogin_shared::audit::{self, AuditEvent, Event, Outcome};
use qrlogin_shared::http::ClientIp;
use qrlogin_shared::requester::Location;
use qrlogin_shared::rfc3339;
use qrlogin_shared::store::WebSession;
use serde::Serialize;

use crate::context::PhoneContext;
use crate::error::MobileError;
use crate::middleware::AuthenticatedUser;

/// The caller's live web sessions, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Sessions {
    sessions: Vec<SessionView>,
}

/// One web session: a browser a login of this user opened.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(examples(json!({"sid": "0c9f2f7e-3f0a-4d8e-b8a7-5d3c2b1a0f9e", "browser": "Chrome 131", "os": "Linux",
    "location": {"country": "DE", "city": "Berlin"}, "created_at": "2026-12-01T18:33:10Z",
    "last_seen": "2026-12-01T18:40:12Z", "current_login": true})))]
struct SessionView {
    /// The web token's `sid`.
    sid: String,
    browser: String,
    os: String,
    location: Option<Location>,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339: the login, or the web backend's last introspection of its token.
    last_seen: String,
    /// The session of the user's latest login (most likely the one this phone just approved).
    current_login: bool,
}

impl SessionView {
    fn of(session: WebSession, current_login: bool) -> Self {
        Self {
            sid: session.sid,
            browser: session.shown.browser,
            os: session.shown.os,
            location: session.shown.location,
            created_at: rfc3339(session.created_at),
            last_seen: rfc3339(session.last_seen),
            current_login,
        }
    }
}

/// `GET /v1/sessions`: the caller's live web sessions, newest first.
#[utoipa::path(get, path = "/v1/sessions", tag = "sessions", operation_id = "listWebSessions",
    summary = "Where this user is logged in: the live web sessions of their logins",
    security(("userToken" = [])), responses((status = 200, description = "Newest first", body = Sessions)))]
pub async fn list(
    AuthenticatedUser(user): AuthenticatedUser,
    ctx: web::Data<PhoneContext>,
) -> Result<HttpResponse, MobileError> {
    let sessions = ctx.store.web_sessions(&user).await?;
    let sessions = sessions.into_iter().enumerate().map(|(i, s)| SessionView::of(s, i == 0)).collect();
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Sessions { sessions }))
}

/// `DELETE /v1/sessions/{sid}`: ends one of the caller's web sessions. Someone else's is as unknown as none.
#[utoipa::path(delete, path = "/v1/sessions/{sid}", tag = "sessions", operation_id = "endWebSession",
    summary = "Log out one browser", security(("userToken" = [])),
    params(("sid" = String, Path, description = "the session's `sid`, as listed")),
    responses((status = 204, description = "Ended: its token introspects inactive from now on")))]
pub async fn end(
    AuthenticatedUser(user): AuthenticatedUser,
    req: HttpRequest,
    sid: web::Path<String>,
    ctx: web::Data<PhoneContext>,
) -> Result<HttpResponse, MobileError> {
    let ended = ctx.store.end_web_sessions(&user, Some(sid.as_str())).await?;
    if ended == 0 {
        return Err(MobileError::SessionNotFound);
    }
    audit_ended(&req, &ctx, &user);
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /v1/sessions`: ends every web session of the caller.
#[utoipa::path(delete, path = "/v1/sessions", tag = "sessions", operation_id = "endAllWebSessions",
    summary = "Log out every browser", security(("userToken" = [])),
    responses((status = 204, description = "All ended (also when there were none)")))]
pub async fn end_all(
    AuthenticatedUser(user): AuthenticatedUser,
    req: HttpRequest,
    ctx: web::Data<PhoneContext>,
) -> Result<HttpResponse, MobileError> {
    if ctx.store.end_web_sessions(&user, None).await? > 0 {
        audit_ended(&req, &ctx, &user);
    }
    Ok(HttpResponse::NoContent().finish())
}

fn audit_ended(req: &HttpRequest, ctx: &PhoneContext, user: &qrlogin_shared::UserId) {
    let ip = ClientIp::text_of(req, &ctx.trusted_proxies);
    audit::record(&AuditEvent::new(Event::WebSessionEnded, Outcome::Ok, &ip).user(user));
}
