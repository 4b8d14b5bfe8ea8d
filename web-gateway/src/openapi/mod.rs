//! The gateway's OpenAPI 3.1 document, generated from its handlers and types: served at `GET /openapi.json` and
//! committed as `web-gateway/openapi.json` (a test fails when the two differ). Each operation's error answers
//! are built from the [`GatewayError`]s it can return, through the same mapping that answers them.

pub(crate) mod schemas;

use std::time::Duration;

use qrlogin_shared::StoreError;
use qrlogin_shared::http::{Problem, form_body_problems};
use qrlogin_shared::openapi::{Link, Unknown, bearer_jwt, complete, require_security};
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::directory::DirectoryError;
use crate::dpop::InvalidProof;
use crate::error::GatewayError;
use crate::push::Full;
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "qrlogin web-gateway", description = "The browser's side of a QR login: start a login, show its QR, \
        wait for the phone (poll, long-poll or Server-Sent Events) and collect the web token; the keys that verify \
        the token. Errors are RFC 9457 problem details (`application/problem+json`): match on `type`."),
    paths(routes::create::create, routes::poll::poll, routes::events::events, routes::cancel::cancel,
        routes::jwks::jwks, routes::me::me, routes::introspect::introspect, routes::pages::index, routes::pages::landing, routes::pages::asset),
    modifiers(&SecuritySchemes),
    tags((name = "browser", description = "A login, from the browser that started it"),
        (name = "tokens", description = "Verifying the web token"),
        (name = "pages", description = "The demo page, the QR link's landing page and the browser client"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = bearer_jwt("the web token a confirmed poll handed out (ES256, `typ: at+jwt`)");
        components.add_security_scheme("webToken", bearer);
        let dpop = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").description(Some(
            "a DPoP-bound web token (`cnf.jkt`, `token_type: DPoP`), sent as `Authorization: DPoP <token>` \
             (RFC 9449 §7.1; OpenAPI has no DPoP scheme, so it is described as bearer) with a `DPoP` proof",
        ));
        components.add_security_scheme("dpopToken", SecurityScheme::Http(dpop.build()));
        let proof = ApiKeyValue::with_description(
            "DPoP",
            "a DPoP proof (RFC 9449) by the token's key: `typ: dpop+jwt`, ES256, the public key as `jwk`; `htm`, \
             `htu` (this request's method and URL), `iat`, `jti` (fresh), `ath` (base64url SHA-256 of the token)",
        );
        components.add_security_scheme("dpopProof", SecurityScheme::ApiKey(ApiKey::Header(proof)));
        let cookie = ApiKeyValue::with_description(
            "qrl_bind",
            "the binding cookie the create set for this login (`__Secure-qrl_bind` behind https)",
        );
        components.add_security_scheme("bindingCookie", SecurityScheme::ApiKey(ApiKey::Cookie(cookie)));
        let basic = HttpBuilder::new().scheme(HttpAuthScheme::Basic);
        let basic = basic.description(Some("a web backend of QRL_INTROSPECTION_CLIENTS: its id and secret"));
        components.add_security_scheme("introspectionClient", SecurityScheme::Http(basic.build()));
    }
}

/// The whole document, as served.
pub fn document() -> Result<Document, Unknown> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut doc = complete(doc, &problems())?;
    for op in ["pollLogin", "cancelLogin", "loginEvents"] {
        require_security(&mut doc, op, "bindingCookie")?;
    }
    let session = [("uuid", "$response.body#/uuid")];
    for (name, to) in [("poll", "pollLogin"), ("events", "loginEvents"), ("cancel", "cancelLogin")] {
        Link { from: "createLogin", status: "201", name, to, parameters: &session }.add(&mut doc)?;
    }
    Ok(doc)
}

/// What each operation can fail with.
fn problems() -> Vec<(&'static str, Vec<Problem>)> {
    use GatewayError as E;
    let unavailable = || E::Store(StoreError::Timeout(Duration::from_secs(1)));
    let wait = Duration::from_secs(1);
    let session = || vec![E::BadSessionId, E::BindingMismatch, unavailable()];
    let waiting = || [E::WaitersFull(Full::Instance), E::WaitersFull(Full::Session), E::WaitersFull(Full::Client)];
    let with = |errors: Vec<GatewayError>, more: Vec<Problem>| {
        errors.iter().map(GatewayError::problem).chain(more).collect::<Vec<_>>()
    };
    vec![
        // Its body is read but never parsed: only the unreadable-body answers every operation has.
        (
            "createLogin",
            with(vec![E::CrossOrigin, E::CreateProof(InvalidProof("…")), E::RateLimited(wait), unavailable()], vec![]),
        ),
        (
            "pollLogin",
            with(
                session()
                    .into_iter()
                    .chain([E::BadQuery("known must be a status"), E::SlowDown(wait)])
                    .chain(waiting())
                    .collect(),
                vec![],
            ),
        ),
        ("loginEvents", with(session().into_iter().chain(waiting()).collect(), vec![])),
        ("cancelLogin", with([E::CrossOrigin].into_iter().chain(session()).collect(), vec![])),
        (
            "me",
            with(
                vec![
                    E::Unauthorized,
                    E::WrongTokenScheme,
                    E::TokenProof(InvalidProof("…")),
                    E::SessionEnded,
                    unavailable(),
                    E::Directory(DirectoryError::Status(503)),
                ],
                vec![],
            ),
        ),
        ("introspect", with(vec![E::UnknownClient, unavailable()], form_body_problems())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_document_is_the_generated_one() {
        qrlogin_shared::test_support::openapi::assert_committed(
            &document().unwrap(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"),
        );
    }
}
