//! mobile-api's OpenAPI 3.1 document, generated from its handlers and types: served at `GET /openapi.json` and
//! committed as `mobile-api/openapi.json` (a test fails when the two differ). Each operation's error answers
//! are built from the [`MobileError`]s it can return, through the same mapping that answers them.

use std::time::Duration;

use qrlogin_shared::StoreError;
use qrlogin_shared::http::{Problem, json_body_problems};
use qrlogin_shared::openapi::{Link, Unknown, bearer_jwt, complete};
use qrlogin_shared::qr_link::QrLinkError;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;

use crate::error::MobileError;
use crate::routes;
use crate::user_token::TokenError;

#[derive(OpenApi)]
#[openapi(
    info(title = "qrlogin mobile-api", description = "The phone's side of a QR login, for the app (or its backend) \
        with the user's token: scan the QR, show where the login comes from and its risk, then confirm (with the \
        check code the browser shows, when asked) or deny, and learn how the login ended. Errors are RFC 9457 \
        problem details (`application/problem+json`): match on `type`."),
    paths(routes::scan::scan, routes::decide::decide, routes::status::status, routes::sessions::list,
        routes::sessions::end, routes::sessions::end_all),
    modifiers(&SecuritySchemes),
    tags((name = "phone", description = "A login, from the app of the user who scans it"),
        (name = "sessions", description = "Where the user is logged in, and logging browsers out"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let bearer = bearer_jwt("the app user's token from your identity provider (QRL_USER_JWT_*)");
        doc.components.get_or_insert_with(Default::default).add_security_scheme("userToken", bearer);
    }
}

/// The whole document, as served. `POST /v1/deny` is the confirm's handler too: its operation is the confirm's
/// under another id.
pub fn document() -> Result<Document, Unknown> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut deny = doc.paths.paths.get("/v1/confirm").cloned().ok_or_else(|| Unknown::new("path /v1/confirm"))?;
    if let Some(op) = deny.post.as_mut() {
        op.operation_id = Some("denyLogin".into());
        op.summary = Some("The user who scanned refuses: the browser is told `denied`".into());
        op.description = None;
    }
    doc.paths.paths.insert("/v1/deny".into(), deny);
    let mut doc = complete(doc, &problems())?;
    // The confirm needs the verification string too, which only the QR has: the contract run's hooks supply it.
    let scanned = [("uuid", "$response.body#/uuid")];
    Link { from: "scanLogin", status: "200", name: "status", to: "loginStatus", parameters: &scanned }.add(&mut doc)?;
    Ok(doc)
}

/// What each operation can fail with.
fn problems() -> Vec<(&'static str, Vec<Problem>)> {
    use MobileError as E;
    let common = || {
        let errors = [
            E::Token(TokenError::Missing),
            E::Token(TokenError::BadSubject),
            E::Token(TokenError::KeysUnavailable),
            E::RateLimited(Duration::from_secs(1)),
            E::NotFound,
            E::Store(StoreError::Timeout(Duration::from_secs(1))),
        ];
        errors.iter().map(MobileError::problem).collect::<Vec<_>>()
    };
    let posted = |errors: &[&[MobileError]]| {
        let mut all = common();
        all.extend(errors.iter().flat_map(|e| e.iter()).map(MobileError::problem));
        all.extend(json_body_problems());
        all
    };
    let sessions = |errors: &[MobileError]| {
        let token =
            [E::Token(TokenError::Missing), E::Token(TokenError::BadSubject), E::Token(TokenError::KeysUnavailable)];
        let store = E::Store(StoreError::Timeout(Duration::from_secs(1)));
        token.iter().chain(errors).chain([&store]).map(MobileError::problem).collect::<Vec<_>>()
    };
    let decide = [E::BadSessionRef, E::WrongState, E::WrongUser];
    let confirm = [E::WrongCheckCode { denied: false }, E::WrongCheckCode { denied: true }, E::RiskBlocked];
    vec![
        ("scanLogin", posted(&[&[E::QrLink(QrLinkError::Foreign), E::QrLink(QrLinkError::Malformed), E::WrongState]])),
        ("confirmLogin", posted(&[&decide, &confirm])),
        ("denyLogin", posted(&[&decide])),
        ("loginStatus", common().into_iter().chain([E::BadSessionRef.problem()]).collect()),
        ("listWebSessions", sessions(&[])),
        ("endWebSession", sessions(&[E::SessionNotFound])),
        ("endAllWebSessions", sessions(&[])),
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
