//! One file per endpoint.

pub(crate) mod cancel;
pub(crate) mod create;
pub(crate) mod events;
pub(crate) mod introspect;
pub(crate) mod jwks;
pub(crate) mod me;
pub(crate) mod pages;
pub(crate) mod poll;

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

/// The parameters of every endpoint about one login, as [`browser_session`] reads them: its id and this
/// browser's binding cookie.
pub(crate) struct SessionParams;

impl utoipa::IntoParams for SessionParams {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::Required;
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let text = ObjectBuilder::new().schema_type(Type::String);
        vec![
            qrlogin_shared::openapi::session_id_param("the login's id, from the create answer"),
            ParameterBuilder::new()
                .name(binding::COOKIE)
                .parameter_in(ParameterIn::Cookie)
                .required(Required::True)
                .description(Some(
                    "the binding cookie the create set (`__Secure-qrl_bind` behind https): without \
                    the right one, 403",
                ))
                .schema(Some(text))
                .build(),
        ]
    }
}

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
