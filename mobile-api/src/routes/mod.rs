//! One file per endpoint.

pub(crate) mod decide;
pub(crate) mod scan;
pub(crate) mod sessions;
pub(crate) mod status;

pub use decide::decide;
pub use scan::scan;
pub use status::status;

use actix_web::HttpRequest;
use qrlogin_shared::http::ClientIp;
use qrlogin_shared::{SessionId, UserId};

use crate::context::PhoneContext;

/// Names the session and user on the handler's span and returns the caller's IP (for the audit events) and
/// the address its limits count.
fn who(req: &HttpRequest, ctx: &PhoneContext, id: &SessionId, user: &UserId) -> (String, String) {
    let span = tracing::Span::current();
    span.record("session", tracing::field::display(id));
    span.record("user", tracing::field::display(user));
    (ClientIp::text_of(req, &ctx.trusted_proxies), ClientIp::subject_of(req, &ctx.trusted_proxies))
}
