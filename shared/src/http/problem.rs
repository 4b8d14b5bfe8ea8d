//! RFC 9457 problem details. 4xx bodies say what the client got wrong; 5xx bodies are opaque and the cause goes
//! to the log once, here, at the edge.

use std::fmt;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;

use crate::{ErrorChain, StoreError};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem details object: match on `type`, show `title`; `detail`, when present, says what to fix.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(examples(json!({"type": "urn:qrlogin:problem:unavailable", "title": "Service temporarily unavailable",
    "status": 503})))]
pub struct Problem {
    /// `urn:qrlogin:problem:<slug>`: stable, for clients to match on.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Sent as `WWW-Authenticate` on 401s; not part of the body.
    #[serde(skip)]
    pub www_authenticate: Option<&'static str>,
    /// Sent as `Retry-After` (seconds) on 503s.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// `slug` names the problem type: `urn:qrlogin:problem:<slug>`, stable for clients to match on.
    pub fn new(status: StatusCode, slug: &str, title: &'static str) -> Self {
        Self {
            type_uri: format!("urn:qrlogin:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: None,
            www_authenticate: None,
            retry_after: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// `Retry-After` in whole seconds, rounded up so a client that obeys it is never early.
    pub fn retry_after(mut self, wait: std::time::Duration) -> Self {
        self.retry_after = Some(wait.as_millis().div_ceil(1000).max(1).try_into().unwrap_or(u64::MAX));
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-request", "Invalid request").with_detail(detail)
    }

    /// Redis (or another dependency) is down or slow. The body is opaque; pair it with [`Problem::report`].
    pub fn unavailable() -> Self {
        let mut p = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service temporarily unavailable");
        p.retry_after = Some(1);
        p
    }

    /// A bug or corrupt state on our side, answered opaquely; pair it with [`Problem::report`].
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal server error")
    }

    /// Logs the cause of a 5xx answer, once, at the edge (and counts Redis faults); client errors log nothing.
    /// A Redis outage is logged by the Redis handle, once for the whole outage (`redis_conn/outage.rs`), not here
    /// once per request.
    pub fn report(&self, cause: &(dyn std::error::Error + 'static)) {
        let outage = StoreError::in_chain(cause).is_some_and(StoreError::is_outage);
        match self.status {
            503 if outage => tracing::debug!(error = %ErrorChain(cause), "Redis unavailable"),
            503 => tracing::error!(error = %ErrorChain(cause), "dependency unavailable"),
            500.. => tracing::error!(error = %ErrorChain(cause), "internal error"),
            _ => return,
        }
        crate::metrics::redis_error_in(cause);
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.title)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.content_type(CONTENT_TYPE).insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(challenge) = self.www_authenticate {
            res.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.json(self)
    }
}

/// JSON bodies: at most `limit` bytes, `application/json` only, and every failure a problem+json answer.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|err, _req| {
        let problem = match &err {
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                super::body::too_large()
            }
            JsonPayloadError::ContentType => unsupported_media_type(),
            JsonPayloadError::Deserialize(e) => Problem::bad_request(format!("malformed JSON body: {e}")),
            JsonPayloadError::Payload(e) => super::body::payload_problem(e),
            _ => Problem::bad_request("could not read the request body"),
        };
        problem.into()
    })
}

pub(crate) fn unsupported_media_type() -> Problem {
    Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type")
        .with_detail("send the body as application/json")
}

pub(crate) fn not_a_form() -> Problem {
    Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type")
        .with_detail("send the body as application/x-www-form-urlencoded")
}

/// Form bodies (token introspection): at most `limit` bytes, and every failure a problem+json answer.
pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default().limit(limit).error_handler(|err, _req| {
        let problem = match &err {
            UrlencodedError::Overflow { .. } => super::body::too_large(),
            UrlencodedError::ContentType => not_a_form(),
            UrlencodedError::Payload(e) => super::body::payload_problem(e),
            _ => Problem::bad_request("malformed form body"),
        };
        problem.into()
    })
}

pub fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    Problem::bad_request("malformed path parameter").into()
}

pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    Problem::bad_request(format!("malformed query: {err}")).into()
}

/// Default service of a resource: a known path with a method it does not serve.
pub async fn method_not_allowed() -> Result<HttpResponse, Problem> {
    Err(Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed"))
}

/// Default service: unknown routes are problem+json too.
pub async fn not_found() -> Result<HttpResponse, Problem> {
    Err(Problem::new(StatusCode::NOT_FOUND, "not-found", "No such endpoint"))
}
