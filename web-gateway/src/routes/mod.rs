//! One file per endpoint.

mod cancel;
mod create;
mod events;
mod jwks;
mod me;
mod pages;
mod poll;

pub use cancel::cancel;
pub use create::create;
pub use events::events;
pub use jwks::jwks;
pub use me::me;
pub use pages::{asset, index, landing};
pub use poll::poll;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponseBuilder};
use qrlogin_shared::SessionId;
use qrlogin_shared::http::ClientIp;

use crate::binding::{self, Binding};
use crate::config::SessionPolicy;
use crate::error::GatewayError;

fn session_id(raw: &str) -> Result<SessionId, GatewayError> {
    SessionId::parse(raw).map_err(|_| GatewayError::BadSessionId)
}

/// The session a browser names in the path, and its binding cookie for it (403 without one): what every
/// session endpoint starts with. Names the session on the handler's span.
fn browser_session(req: &HttpRequest, raw: &str, policy: &SessionPolicy) -> Result<(SessionId, Binding), GatewayError> {
    let id = session_id(raw)?;
    tracing::Span::current().record("session", tracing::field::display(&id));
    let binding = binding::of_request(req, policy.cookie_secure).ok_or(GatewayError::BindingMismatch)?;
    Ok((id, binding))
}

/// Session answers carry one-time material (cookies, tokens): no cache may keep them.
fn no_store(mut res: HttpResponseBuilder) -> HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    res
}

/// The browser's IP for audit events.
fn client_ip(req: &HttpRequest, policy: &SessionPolicy) -> String {
    ClientIp::text_of(req, &policy.trusted_proxies)
}

/// Who the browser counts as for per-client caps: its IP, or an IPv6 client's /64.
fn client_subject(req: &HttpRequest, policy: &SessionPolicy) -> String {
    ClientIp::subject_of(req, &policy.trusted_proxies)
}
