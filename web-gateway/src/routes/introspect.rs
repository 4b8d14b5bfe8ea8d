use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::context::GatewayContext;
use crate::error::GatewayError;
use crate::session_view::TokenType;

/// The form of an introspection request (RFC 7662 §2.1).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct IntrospectRequest {
    /// The web token to ask about.
    token: String,
    /// Ignored: only web tokens are issued here.
    #[allow(dead_code, reason = "RFC 7662 allows it; there is one token type")]
    token_type_hint: Option<String>,
}

/// The introspection answer (RFC 7662 §2.2): `{"active": false}` alone for an ended, expired or foreign token.
#[derive(Default, serde::Serialize, utoipa::ToSchema)]
#[schema(examples(json!({"active": true, "sub": "alice", "sid": "0c9f2f7e-3f0a-4d8e-b8a7-5d3c2b1a0f9e",
    "exp": 1796150000, "iat": 1796146400, "jti": "6c1b7d0e-2f3a-4b5c-8d9e-0f1a2b3c4d5e",
    "iss": "https://login.example.com", "aud": "qrlogin-web", "token_type": "Bearer", "client_id": "web-backend"}),
    json!({"active": false})))]
pub(crate) struct Introspection<'a> {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    /// `DPoP` for a token bound to a key (then `cnf` names it), else `Bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    token_type: Option<TokenType>,
    /// RFC 9449 §6.2: the DPoP key a bound token is confirmed by; the backend checks the request's proof
    /// against it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline, value_type = Option<crate::openapi::schemas::Confirmation>)]
    cnf: Option<&'a serde_json::Value>,
    /// The client that asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
}

/// `POST /v1/introspect`: RFC 7662 token introspection for the web team's backend. Active while the token is
/// valid and its web session has not been ended from the phone; asking counts as the session being seen.
#[utoipa::path(post, path = "/v1/introspect", tag = "tokens", operation_id = "introspect",
    summary = "Is this web token still good? (RFC 7662)", security(("introspectionClient" = [])),
    request_body(content = IntrospectRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Whether the token is active, and if so its claims", body = Introspection)))]
pub async fn introspect(
    req: HttpRequest,
    form: web::Form<IntrospectRequest>,
    ctx: web::Data<GatewayContext>,
) -> Result<HttpResponse, GatewayError> {
    let client = ctx.introspection.authenticate(&req).ok_or(GatewayError::UnknownClient)?;
    let verified = ctx.signer.verify(&form.token);
    let live = match &verified {
        Some(v) => ctx.store.touch_web_session(&v.user, &v.sid).await?,
        None => false,
    };
    let answer = match &verified {
        Some(v) if live => {
            let text = |name: &str| v.claims.get(name).and_then(serde_json::Value::as_str);
            let number = |name: &str| v.claims.get(name).and_then(serde_json::Value::as_u64);
            Introspection {
                active: true,
                sub: Some(v.user.as_str()),
                sid: Some(&v.sid),
                exp: number("exp"),
                iat: number("iat"),
                jti: text("jti"),
                iss: text("iss"),
                aud: text("aud"),
                token_type: Some(TokenType::of(v.jkt.as_deref())),
                cnf: v.claims.get("cnf"),
                client_id: Some(client),
            }
        }
        _ => Introspection::default(),
    };
    Ok(super::no_store(HttpResponse::Ok()).json(answer))
}
