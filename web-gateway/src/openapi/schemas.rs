//! The schemas utoipa cannot derive from the answers' types, written against those types so they stay in step.

use qrlogin_shared::session::Status;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

use crate::context::QrCode;
use crate::session_view::{Answer, Token};

/// The answer's schema: `status` and `check_code`, then the QR's and the token's fields, each present only where
/// the status has them. (Derived, the flattened `Option`s would become a `oneOf` with `null`, which no answer
/// matches.)
impl utoipa::PartialSchema for Answer {
    fn schema() -> RefOr<Schema> {
        let check_code = ObjectBuilder::new().schema_type(Type::String).description(Some(
            "the number the phone user must type to confirm: only in `scanned`, only to the binding cookie's browser",
        ));
        let mut answer = ObjectBuilder::new()
            .description(Some(
                "The status; a pending login's QR (`qr_content`, `qr_image`) when it was re-issued or the answer opens \
                 a stream; a confirmed login's token (`token`, `token_type`, `expires_in`, `user`)",
            ))
            .property("status", Ref::from_schema_name("Status"))
            .required("status")
            .property("check_code", check_code)
            .examples([
                serde_json::json!({"status": "pending"}),
                serde_json::json!({"status": "scanned", "check_code": "47"}),
                serde_json::json!({"status": "confirmed", "token": "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.e30.c2ln",
                    "token_type": "Bearer", "expires_in": 3600, "user": {"id": "alice", "name": "Alice Liddell", "email": "alice@example.com"}}),
            ])
            .build();
        for part in [<QrCode as utoipa::PartialSchema>::schema(), <Token as utoipa::PartialSchema>::schema()] {
            if let RefOr::T(Schema::Object(part)) = part {
                answer.properties.extend(part.properties);
            }
        }
        RefOr::T(Schema::Object(answer))
    }
}

impl utoipa::ToSchema for Answer {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("Status".into(), <Status as utoipa::PartialSchema>::schema()));
        <Token as utoipa::ToSchema>::schemas(schemas);
    }
}

/// The user's profile from the user directory (free-form beyond `id`).
pub(crate) struct UserProfile;

impl utoipa::PartialSchema for UserProfile {
    fn schema() -> RefOr<Schema> {
        let id = ObjectBuilder::new().schema_type(Type::String).description(Some("the user's id, the token's `sub`"));
        ObjectBuilder::new()
            .description(Some(
                "The user's profile from the user directory, with `id`; other fields as the directory has them",
            ))
            .property("id", id)
            .required("id")
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl utoipa::ToSchema for UserProfile {}

/// RFC 9449 §6: what a DPoP-bound token is confirmed by.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documents the cnf claim in the OpenAPI document")]
pub(crate) struct Confirmation {
    /// The RFC 7638 SHA-256 thumbprint (base64url) of the DPoP key the token is bound to.
    jkt: String,
}
