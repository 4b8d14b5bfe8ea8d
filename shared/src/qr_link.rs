//! The text inside the QR: `<base>/q/<uuid>.<verification>`, an https link so a plain camera app opens a page
//! that explains what to do, while the qrlogin app recognises its own links by the base.

use crate::verification::{VerificationCode, VerificationError};
use crate::{SessionId, ids::InvalidSessionId};

/// The public base of QR links (`QRL_QR_BASE_URL`), kept without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrBaseUrl(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QrLinkError {
    #[error("QR base URL must be an absolute http(s) URL without query or fragment")]
    BadBase,
    #[error("not a QR code of this service")]
    Foreign,
    #[error("QR code is malformed")]
    Malformed,
}

impl QrBaseUrl {
    pub fn parse(s: &str) -> Result<Self, QrLinkError> {
        let trimmed = s.trim_end_matches('/');
        let scheme_ok = trimmed.starts_with("https://") || trimmed.starts_with("http://");
        let host_len = trimmed.split_once("://").map_or(0, |(_, rest)| rest.len());
        if !scheme_ok || host_len == 0 || trimmed.contains(['?', '#', ' ']) {
            return Err(QrLinkError::BadBase);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Stands in for a missing or invalid `QRL_QR_BASE_URL` while the rest of the settings are read: the problem
    /// is noted, so `Env::finish` never hands it out.
    pub(crate) fn placeholder() -> Self {
        Self(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn link(&self, id: &SessionId, code: &VerificationCode) -> String {
        format!("{}/q/{id}.{}", self.0, code.encode())
    }

    /// Splits a scanned QR text back into its session id and (not yet verified) code.
    pub fn parse_link(&self, text: &str) -> Result<(SessionId, VerificationCode), QrLinkError> {
        let rest =
            text.strip_prefix(self.0.as_str()).and_then(|r| r.strip_prefix("/q/")).ok_or(QrLinkError::Foreign)?;
        let (id, code) = rest.split_once('.').ok_or(QrLinkError::Malformed)?;
        let id = SessionId::parse(id).map_err(|InvalidSessionId| QrLinkError::Malformed)?;
        let code = VerificationCode::parse(code).map_err(|_: VerificationError| QrLinkError::Malformed)?;
        Ok((id, code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verifier;
    use proptest::prelude::*;

    fn base() -> QrBaseUrl {
        QrBaseUrl::parse("https://login.example.com/").unwrap()
    }

    #[test]
    fn link_round_trips() {
        let id = SessionId::random();
        let code = Verifier::new(vec![3u8; 32].into(), vec![]).unwrap().issue(&id, 42);
        let link = base().link(&id, &code);
        assert!(link.starts_with("https://login.example.com/q/"));
        assert_eq!(base().parse_link(&link), Ok((id, code)));
    }

    #[test]
    fn foreign_and_malformed_links_are_told_apart() {
        let id = SessionId::random();
        assert_eq!(base().parse_link("https://evil.example/q/x.y"), Err(QrLinkError::Foreign));
        assert_eq!(base().parse_link(&format!("https://login.example.com/q/{id}")), Err(QrLinkError::Malformed));
        assert_eq!(base().parse_link(&format!("https://login.example.com/q/{id}.short")), Err(QrLinkError::Malformed));
    }

    #[test]
    fn base_must_be_http_url() {
        assert!(QrBaseUrl::parse("login.example.com").is_err());
        assert!(QrBaseUrl::parse("https://").is_err());
        assert!(QrBaseUrl::parse("https://a.example/?x=1").is_err());
    }

    proptest! {
        #[test]
        fn parse_link_never_panics(s in ".{0,200}") {
            let _ = base().parse_link(&s);
        }
    }
}
