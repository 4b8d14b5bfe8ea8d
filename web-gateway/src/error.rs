//! Everything a gateway handler can fail with, each mapped to one status and a problem+json body.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use qrlogin_shared::StoreError;
use qrlogin_shared::http::Problem;

use crate::directory::DirectoryError;
use crate::dpop::InvalidProof;
use crate::push::Full;
use crate::qr_image::QrImageError;
use crate::web_token::SigningError;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("malformed session id")]
    BadSessionId,
    #[error("binding cookie missing or not the one issued with this session")]
    BindingMismatch,
    #[error("request sent by a page of another site")]
    CrossOrigin,
    #[error("too many login sessions requested")]
    RateLimited(Duration),
    #[error("polling faster than advised")]
    SlowDown(Duration),
    #[error("missing or invalid web token")]
    Unauthorized,
    #[error("the token's web session was ended")]
    SessionEnded,
    /// A create whose DPoP proof does not verify (or, with QRL_DPOP=required, that has none).
    #[error("invalid DPoP proof on the create: {0}")]
    CreateProof(InvalidProof),
    /// A DPoP-bound token presented without a valid proof.
    #[error("invalid DPoP proof: {0}")]
    TokenProof(InvalidProof),
    /// A DPoP-bound token presented as a Bearer token, or a Bearer token under the DPoP scheme.
    #[error("web token presented under the wrong scheme")]
    WrongTokenScheme,
    #[error("missing or wrong introspection client credentials")]
    UnknownClient,
    #[error("invalid query: {0}")]
    BadQuery(&'static str),
    #[error("too many browsers waiting")]
    WaitersFull(Full),
    #[error("session store unavailable")]
    Store(#[from] StoreError),
    #[error("user directory unavailable")]
    Directory(#[from] DirectoryError),
    #[error("cannot sign web token")]
    Signing(#[from] SigningError),
    #[error("cannot render QR image")]
    QrImage(#[from] QrImageError),
    #[error(transparent)]
    Sealing(#[from] crate::binding::SealError),
    #[error("session id collision")]
    Collision,
    #[error("cannot serialise the answer")]
    Json(#[from] serde_json::Error),
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl GatewayError {
    pub(crate) fn problem(&self) -> Problem {
        match self {
            Self::BadSessionId => Problem::bad_request("the session id must be a lower-case hyphenated v4 uuid"),
            Self::BindingMismatch => {
                Problem::new(StatusCode::FORBIDDEN, "binding-mismatch", "Not the browser that started this login")
                    .with_detail("poll with the qrl_bind cookie set when the QR was issued")
            }
            Self::CrossOrigin => {
                Problem::new(StatusCode::FORBIDDEN, "cross-origin", "Request from another site refused")
                    .with_detail("start and cancel logins from the site's own pages (or an origin in QRL_CORS_ORIGINS)")
            }
            Self::BadQuery(detail) => Problem::bad_request(*detail),
            Self::SessionEnded => {
                let mut p = Problem::new(StatusCode::UNAUTHORIZED, "session-ended", "Logged out from the phone")
                    .with_detail("the user ended this web session; log in again");
                p.www_authenticate = Some("Bearer error=\"invalid_token\"");
                p
            }
            Self::CreateProof(InvalidProof(why)) => {
                Problem::new(StatusCode::BAD_REQUEST, "invalid-dpop-proof", "Invalid DPoP proof").with_detail(*why)
            }
            Self::TokenProof(InvalidProof(why)) => {
                let mut p = Problem::new(StatusCode::UNAUTHORIZED, "invalid-dpop-proof", "Invalid DPoP proof")
                    .with_detail(*why);
                p.www_authenticate = Some(DPOP_PROOF_CHALLENGE);
                p
            }
            Self::WrongTokenScheme => {
                let mut p = Problem::new(StatusCode::UNAUTHORIZED, "invalid-token", "Missing or invalid web token")
                    .with_detail("a token with cnf.jkt is sent as Authorization: DPoP with a proof; others as Bearer");
                p.www_authenticate = Some(DPOP_TOKEN_CHALLENGE);
                p
            }
            Self::UnknownClient => {
                let mut p = Problem::new(StatusCode::UNAUTHORIZED, "invalid-client", "Unknown introspection client")
                    .with_detail("authenticate with HTTP Basic as a client of QRL_INTROSPECTION_CLIENTS");
                p.www_authenticate = Some("Basic realm=\"qrlogin introspection\"");
                p
            }
            Self::Unauthorized => {
                let mut p = Problem::new(StatusCode::UNAUTHORIZED, "invalid-token", "Missing or invalid web token");
                p.www_authenticate = Some("Bearer error=\"invalid_token\"");
                p
            }
            Self::WaitersFull(Full::Instance) => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "Too many browsers waiting on this instance")
                    .retry_after(Duration::from_secs(1))
            }
            Self::WaitersFull(Full::Session) => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "too-many-waiters", "Too many waits on this session")
                    .with_detail("wait on a session from one tab at a time")
                    .retry_after(Duration::from_secs(1))
            }
            Self::WaitersFull(Full::Client) => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "too-many-waiters", "Too many waits from this client")
                    .with_detail("wait with one stream or long-poll per login")
                    .retry_after(Duration::from_secs(1))
            }
            Self::RateLimited(wait) => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests").retry_after(*wait)
            }
            Self::SlowDown(wait) => Problem::new(StatusCode::TOO_MANY_REQUESTS, "slow-down", "Polling too fast")
                .with_detail("poll no more often than poll_interval_ms")
                .retry_after(*wait),
            Self::Store(StoreError::Protocol(_))
            | Self::Signing(_)
            | Self::QrImage(_)
            | Self::Sealing(_)
            | Self::Collision
            | Self::Json(_)
            | Self::Internal(_) => Problem::internal(),
            Self::Store(_) | Self::Directory(_) => Problem::unavailable(),
        }
    }
}

/// RFC 9449 §7.1: the challenge names the DPoP scheme and the algorithms its proofs may use.
const DPOP_PROOF_CHALLENGE: &str = "DPoP error=\"invalid_dpop_proof\", algs=\"ES256\"";
const DPOP_TOKEN_CHALLENGE: &str = "DPoP error=\"invalid_token\", algs=\"ES256\"";

impl ResponseError for GatewayError {
    fn status_code(&self) -> StatusCode {
        self.problem().status_code()
    }

    /// Called once per failed request: the place where a 5xx cause is logged.
    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        problem.report(self);
        problem.error_response()
    }
}

impl From<Full> for GatewayError {
    fn from(full: Full) -> Self {
        Self::WaitersFull(full)
    }
}
