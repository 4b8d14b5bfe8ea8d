//! What both services' OpenAPI 3.1 documents share: the problem+json schema, error responses built from the very
//! [`Problem`]s the handlers answer with (so a documented `type` cannot drift from the one sent), the health and
//! metrics endpoints every service serves, and the `GET /openapi.json` handler.
//!
//! Each service derives its own document from its handlers (`<service>/src/openapi.rs`), lists per operation
//! the errors it can answer, and passes the result through [`complete`].

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, PathItem, Ref, RefOr, Required, Response, ResponseBuilder,
};

use crate::http::{PROBLEM_CONTENT_TYPE as CONTENT_TYPE, Problem};

/// A session id as [`crate::SessionId::parse`] takes it: a lower-case hyphenated v4 uuid.
const SESSION_ID: &str = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}";
/// A verification string as [`crate::verification::VerificationCode::parse`] takes it: 36 bytes, base64url.
const VERIFICATION: &str = "[A-Za-z0-9_-]{48}";

fn pattern(description: &str, pattern: String) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description)).pattern(Some(pattern))
}

/// The schema of a session id (`#[schema(schema_with = session_id)]`).
pub fn session_id() -> ObjectBuilder {
    let id = pattern("a login's id: a lower-case hyphenated v4 uuid", format!("^{SESSION_ID}$"));
    id.format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
}

/// A path parameter `uuid` naming a login.
pub fn session_id_param(description: &str) -> Parameter {
    let param = ParameterBuilder::new().name("uuid").parameter_in(ParameterIn::Path).required(Required::True);
    param.description(Some(description)).schema(Some(session_id())).build()
}

/// The schema of a verification string (`#[schema(schema_with = verification)]`).
pub fn verification() -> ObjectBuilder {
    pattern("the part of the QR link after `<uuid>.`", format!("^{VERIFICATION}$"))
}

/// The schema of a QR link (`#[schema(schema_with = qr_link)]`).
pub fn qr_link() -> ObjectBuilder {
    let link = format!(r"^https?://\S+/q/{SESSION_ID}\.{VERIFICATION}$");
    pattern("the QR's text, exactly as decoded: `<QRL_QR_BASE_URL>/q/<uuid>.<verification>`", link)
}

/// The health and metrics endpoints of the shared bootstrap, and their tags.
#[derive(OpenApi)]
#[openapi(
    paths(crate::http::healthz, crate::http::readyz, crate::http::metrics, openapi_json),
    components(schemas(Problem)),
    tags((name = "health", description = "Probes and metrics"), (name = "meta", description = "This document"))
)]
struct Common;

/// A bearer JWT security scheme, described as `description`.
pub fn bearer_jwt(description: &str) -> SecurityScheme {
    let bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT");
    SecurityScheme::Http(bearer.description(Some(description)).build())
}

/// `doc` with the shared endpoints and schemas merged in, and every operation's error answers: those of
/// `problems` (operation id -> the errors it may answer), and for every operation the body that could not be read
/// (the shared bootstrap reads any request's body, whatever the route does with it).
pub fn complete(mut doc: Document, problems: &[(&str, Vec<Problem>)]) -> Result<Document, Unknown> {
    doc.merge(Common::openapi());
    for (operation_id, _) in problems {
        operation_mut(&mut doc, operation_id)?;
    }
    let operations = doc.paths.paths.values_mut().flat_map(operations);
    for operation in operations {
        let id = operation.operation_id.as_deref().unwrap_or_default();
        let own = problems.iter().filter(|(op, _)| *op == id).flat_map(|(_, p)| p.iter().cloned());
        let mut all: Vec<Problem> = Vec::new();
        // An error listed twice (an operation's own and the shared unreadable-body ones) is documented once.
        for problem in own.chain(crate::http::unreadable_body_problems()) {
            if !all.iter().any(|p| p.type_uri == problem.type_uri && p.detail == problem.detail) {
                all.push(problem);
            }
        }
        for (status, response) in problem_responses(&all) {
            operation.responses.responses.insert(status, RefOr::T(response));
        }
    }
    Ok(doc)
}

/// A table names an operation or response the document does not have: a programming error, which the services'
/// own tests (and start-up) catch.
#[derive(Debug, thiserror::Error)]
#[error("the OpenAPI document has no {0}")]
pub struct Unknown(String);

impl Unknown {
    pub fn new(what: impl Into<String>) -> Self {
        Self(what.into())
    }
}

fn operation_mut<'a>(doc: &'a mut Document, id: &str) -> Result<&'a mut Operation, Unknown> {
    let found = doc.paths.paths.values_mut().flat_map(operations).find(|op| op.operation_id.as_deref() == Some(id));
    found.ok_or_else(|| Unknown(format!("operation {id}")))
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.head, &mut item.patch]
        .into_iter()
        .filter_map(Option::as_mut)
}

/// An OpenAPI link: a response of operation `from` feeds `parameters` (name -> runtime expression) of `to`, so
/// tools that follow links (Schemathesis's stateful tests) reach the states a real client would.
pub struct Link<'a> {
    pub from: &'a str,
    pub status: &'a str,
    pub name: &'a str,
    pub to: &'a str,
    pub parameters: &'a [(&'a str, &'a str)],
}

impl Link<'_> {
    pub fn add(&self, doc: &mut Document) -> Result<(), Unknown> {
        let mut link = LinkBuilder::new().operation_id(self.to);
        for (name, expression) in self.parameters {
            link = link.parameter(*name, *expression);
        }
        operation_mut(doc, self.to)?;
        let Some(RefOr::T(response)) = operation_mut(doc, self.from)?.responses.responses.get_mut(self.status) else {
            return Err(Unknown(format!("response {} of {}", self.status, self.from)));
        };
        response.links.insert(self.name.to_owned(), RefOr::T(link.build()));
        Ok(())
    }
}

/// Marks operation `id` as needing the security scheme `scheme`.
pub fn require_security(doc: &mut Document, id: &str, scheme: &str) -> Result<(), Unknown> {
    let requirement = SecurityRequirement::new::<_, _, &str>(scheme, []);
    operation_mut(doc, id)?.security.get_or_insert_with(Vec::new).push(requirement);
    Ok(())
}

/// One response per status among `problems`: `application/problem+json` with one example per problem type,
/// and the headers those problems set.
fn problem_responses(problems: &[Problem]) -> Vec<(String, Response)> {
    let mut statuses: Vec<u16> = problems.iter().map(|p| p.status).collect();
    statuses.sort_unstable();
    statuses.dedup();
    statuses
        .into_iter()
        .map(|status| {
            let same: Vec<&Problem> = problems.iter().filter(|p| p.status == status).collect();
            (status.to_string(), problem_response(&same))
        })
        .collect()
}

fn problem_response(problems: &[&Problem]) -> Response {
    let mut types: Vec<String> = Vec::new();
    for p in problems {
        let named = format!("`{}`", p.type_uri);
        if !types.contains(&named) {
            types.push(named);
        }
    }
    // One example per problem: `<slug>`, then `<slug>-2`... for the same type with another detail.
    let examples = problems.iter().enumerate().map(|(i, p)| {
        let slug = p.type_uri.trim_start_matches("urn:qrlogin:problem:");
        let earlier = problems[..i].iter().filter(|q| q.type_uri == p.type_uri).count();
        let name = if earlier == 0 { slug.to_owned() } else { format!("{slug}-{}", earlier + 1) };
        (name, ExampleBuilder::new().summary(p.title).value(serde_json::to_value(p).ok()).build())
    });
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).examples_from_iter(examples);
    let mut response = ResponseBuilder::new()
        .description(format!("Problem: {}", types.join(", ")))
        .content(CONTENT_TYPE, content.build());
    if problems.iter().any(|p| p.retry_after.is_some()) {
        let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1));
        let header =
            HeaderBuilder::new().schema(Some(seconds)).description(Some("seconds to wait before trying again"));
        response = response.header("Retry-After", header.build());
    }
    if let Some(challenge) = problems.iter().find_map(|p| p.www_authenticate) {
        let text = ObjectBuilder::new().schema_type(Type::String).examples([challenge]);
        let header = HeaderBuilder::new().schema(Some(text)).description(Some("the bearer challenge (RFC 6750)"));
        response = response.header("WWW-Authenticate", header.build());
    }
    response.build()
}

/// The document, serialized once at start-up.
pub struct Published(String);

impl Published {
    pub fn new(doc: &Document) -> Result<Self, serde_json::Error> {
        doc.to_pretty_json().map(Self)
    }
}

/// `GET /openapi.json`: this service's OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", operation_id = "openapi",
    responses((status = 200, description = "This service's OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json(doc: web::Data<Published>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=300"))
        .body(doc.0.clone())
}
