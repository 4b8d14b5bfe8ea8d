//! Everything a mobile-api handler can fail with, each mapped to one status and a problem+json body.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use qrlogin_shared::StoreError;
use qrlogin_shared::http::Problem;
use qrlogin_shared::qr_link::QrLinkError;

use crate::user_token::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum MobileError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    QrLink(#[from] QrLinkError),
    #[error("malformed uuid or verification")]
    BadSessionRef,
    /// Unknown, expired, finished, or a verification string that does not match: one answer for all, so a
    /// caller cannot tell a forged code from a session that never existed.
    #[error("login session not found")]
    NotFound,
    /// Unknown, ended, expired, or another user's: one answer for all.
    #[error("web session not found")]
    SessionNotFound,
    #[error("login session is not waiting for this step")]
    WrongState,
    #[error("login session was scanned by another user")]
    WrongUser,
    #[error("missing or wrong check code")]
    WrongCheckCode { denied: bool },
    /// `QRL_RISK_BLOCK`: the scan judged this login too risky to confirm; nothing changed.
    #[error("login judged too risky to confirm")]
    RiskBlocked,
    #[error("too many requests")]
    RateLimited(Duration),
    #[error("session store unavailable")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl MobileError {
    pub(crate) fn problem(&self) -> Problem {
        match self {
            Self::Token(TokenError::KeysUnavailable) => Problem::unavailable(),
            Self::Token(e) => unauthorized(e),
            Self::QrLink(e) => Problem::new(StatusCode::BAD_REQUEST, "invalid-qr", "Not a QR code of this service")
                .with_detail(e.to_string()),
            Self::BadSessionRef => {
                Problem::bad_request("uuid must be a v4 uuid and verification the string from the QR")
            }
            Self::NotFound => {
                Problem::new(StatusCode::NOT_FOUND, "session-not-found", "Login session not found or expired")
            }
            Self::SessionNotFound => {
                Problem::new(StatusCode::NOT_FOUND, "web-session-not-found", "No such web session of this user")
            }
            Self::WrongState => {
                Problem::new(StatusCode::CONFLICT, "wrong-state", "Login session is not waiting for this step")
            }
            Self::WrongUser => {
                Problem::new(StatusCode::CONFLICT, "wrong-user", "Only the user who scanned this login may decide it")
            }
            Self::WrongCheckCode { denied } => {
                let problem = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "wrong-check-code", "Wrong check code");
                problem.with_detail(if *denied {
                    "the number typed was wrong too often: the login was denied"
                } else {
                    "send check_code: the number the browser shows"
                })
            }
            Self::RiskBlocked => Problem::new(StatusCode::CONFLICT, "risk-blocked", "Login too risky to confirm")
                .with_detail("the scan judged this login too risky to confirm here; deny it"),
            Self::RateLimited(wait) => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests").retry_after(*wait)
            }
            Self::Store(StoreError::Protocol(_)) | Self::Internal(_) => Problem::internal(),
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl ResponseError for MobileError {
    fn status_code(&self) -> StatusCode {
        self.problem().status_code()
    }

    /// Called once per failed request: the place where a 5xx cause (or a refused token) is logged.
    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        if let Self::Token(e @ (TokenError::Missing | TokenError::Invalid(_) | TokenError::BadSubject)) = self {
            tracing::info!(reason = %e, "user token refused");
        }
        problem.report(self);
        problem.error_response()
    }
}

fn unauthorized(e: &TokenError) -> Problem {
    let mut p = Problem::new(StatusCode::UNAUTHORIZED, "invalid-token", "Missing or invalid user token");
    p.www_authenticate = Some(match e {
        TokenError::Missing => "Bearer",
        TokenError::Invalid(_) | TokenError::BadSubject | TokenError::KeysUnavailable => {
            "Bearer error=\"invalid_token\""
        }
    });
    p
}
