//! The QR text as the app reads it: `<site>/q/<uuid>.<verification>`.

use std::fmt;

use qrlogin_shared::qr_link::{QrBaseUrl, QrLinkError};

use crate::PhoneError;

/// A login link taken apart, its shape checked (the verification string itself only mobile-api can check).
#[derive(Clone, PartialEq, Eq)]
pub struct QrLink {
    /// The base the link points to (`https://login.example.com`): the site the user is logging in to.
    pub site: String,
    pub uuid: String,
    pub verification: String,
}

impl fmt::Debug for QrLink {
    // The verification string is what a bystander would need: keep it out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QrLink").field("site", &self.site).field("uuid", &self.uuid).finish_non_exhaustive()
    }
}

impl fmt::Display for QrLink {
    /// The link with its verification string left out, for showing what was read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/q/{}.…", self.site, self.uuid)
    }
}

/// Takes a scanned QR text apart. With `expected` (the app's own site, `QRL_QR_BASE_URL`) a link under any other
/// base is refused as [`PhoneError::ForeignSite`]; without it any `<site>/q/<uuid>.<verification>` is accepted
/// and its site is reported in [`QrLink::site`] for the user to judge.
pub fn split_link(text: &str, expected: Option<&QrBaseUrl>) -> Result<QrLink, PhoneError> {
    let text = text.trim();
    let found = text.rsplit_once("/q/").and_then(|(site, _)| QrBaseUrl::parse(site).ok());
    let found = found.ok_or(PhoneError::NotALoginLink)?;
    let base = expected.unwrap_or(&found);
    match base.parse_link(text) {
        Ok((id, code)) => {
            Ok(QrLink { site: base.as_str().to_owned(), uuid: id.to_string(), verification: code.encode() })
        }
        Err(QrLinkError::Foreign) => Err(PhoneError::ForeignSite {
            found: found.as_str().chars().take(100).collect(),
            expected: base.as_str().to_owned(),
        }),
        Err(_) => Err(PhoneError::NotALoginLink),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

    use super::*;

    const UUID: &str = "0b8e4a0c-6f0f-4e45-9d2a-6f7f0c1b2a3d";
    const CODE: &str = "AAAAAbbbbbCCCCCdddddEEEEEfffffGGGGGhhhhhIIIIIjjj";

    fn base() -> QrBaseUrl {
        QrBaseUrl::parse("https://login.example.com").unwrap()
    }

    #[test]
    fn a_link_under_the_expected_site_splits_into_uuid_and_verification() {
        let link = split_link(&format!(" https://login.example.com/q/{UUID}.{CODE}\n"), Some(&base())).unwrap();

        assert_eq!(
            (link.site.as_str(), link.uuid.as_str(), link.verification.as_str()),
            ("https://login.example.com", UUID, CODE)
        );
        assert!(!format!("{link:?}{link}").contains(CODE), "the verification string must not be printed");
    }

    #[test]
    fn without_an_expected_site_any_site_is_accepted_and_reported() {
        let link = split_link(&format!("http://127.0.0.1:8080/q/{UUID}.{CODE}"), None).unwrap();

        assert_eq!(link.site, "http://127.0.0.1:8080");
        assert_eq!(link.uuid, UUID);
    }

    #[test]
    fn a_link_for_another_site_is_a_phishing_hint() {
        let err = split_link(&format!("https://login.example.com.evil.test/q/{UUID}.{CODE}"), Some(&base()));

        match err {
            Err(PhoneError::ForeignSite { found, expected }) => {
                assert_eq!(found, "https://login.example.com.evil.test");
                assert_eq!(expected, "https://login.example.com");
            }
            other => panic!("expected ForeignSite, got {other:?}"),
        }
    }

    #[test]
    fn anything_else_is_not_a_login_link() {
        for text in
            ["hello", &format!("https://login.example.com/q/{UUID}"), "https://login.example.com/q/nope.short", ""]
        {
            assert!(matches!(split_link(text, None), Err(PhoneError::NotALoginLink)), "{text}");
            assert!(matches!(split_link(text, Some(&base())), Err(PhoneError::NotALoginLink)), "{text}");
        }
    }
}
