//! The reference phone client: what the qrlogin app does, as a library that the `qrlogin-phone` binary and the
//! browser tests drive. Read the QR ([`decode_qr_image`], or take its text), take the link apart
//! ([`split_link`]), scan it with the user's token ([`PhoneClient::scan`]), show the user where the login comes
//! from ([`describe_requester`]) and only then confirm or deny.
//!
//! The sequence an app (or its backend) implements, by the operation ids of `mobile-api/openapi.json`:
//! `scanLogin` ([`PhoneClient::scan`]) -> show the requester and risk ([`describe_requester`]) -> ask for the
//! check code when `check_code_required` -> `confirmLogin` or `denyLogin` ([`PhoneClient::confirm`],
//! [`PhoneClient::confirm_with_check_code`], [`PhoneClient::deny`]) -> `loginStatus` ([`PhoneClient::status`]) for how the login ended
//! ([`describe_outcome`]).
//!
//! ```text
//!   decode      picture (PNG, JPEG) -> QR text                       image, rqrr
//!   link        QR text -> QrLink (site, uuid, verification)         -> shared::qr_link
//!   client      PhoneClient: scan, confirm, deny, status over HTTP   -> link, shared::session
//!   describe    ScanResult -> what the user reads, with warnings     -> client
//!   outcome     LoginStatus -> what the app shows after deciding     -> shared::session
//!   dev_token   development HS256 user tokens (QRL_USER_JWT_*)
//!   main.rs     the `qrlogin-phone` command line (clap); cli.rs holds its arguments
//! ```
//! Arrows point down and out: nothing here knows the binary, and the crate depends only on `shared`'s domain
//! half (no actix, no Redis, not mobile-api). mobile-api's own types are reached over HTTP, as the app does.

mod client;
mod decode;
mod describe;
pub mod dev_token;
mod link;
mod outcome;

pub use client::{ApiProblem, PhoneClient, ScanResult, WebSessionInfo};
pub use decode::decode_qr_image;
pub use describe::{Warning, browser_summary, describe_requester, describe_requester_at};
pub use link::{QrLink, split_link};
pub use outcome::describe_outcome;
/// Where a login comes from and the verdict on it: mobile-api's own types, as it sends them.
pub use qrlogin_shared::requester::{Location, RequesterDetails};
pub use qrlogin_shared::session::{LoginStatus, Requester, Risk, RiskLevel, Signal};

/// Everything the phone side can fail with; each message is fit to show the user.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    // Causes are `source`s, not repeated in the message: print the chain to show them (the binary does).
    #[error("not a readable PNG or JPEG image")]
    Image(#[from] image::ImageError),
    #[error("no readable QR code in the image")]
    NoQrCode,
    #[error("the QR code is not a login link (<site>/q/<uuid>.<verification>)")]
    NotALoginLink,
    /// The link is for another site than the app's own: a copied or look-alike login page. Never approve it.
    #[error("this QR code is for {found}, not {expected}: it may come from a phishing page; do not approve it")]
    ForeignSite { found: String, expected: String },
    #[error("invalid mobile-api URL {0:?}")]
    BadApiUrl(String),
    #[error("cannot talk to mobile-api")]
    Http(#[from] reqwest::Error),
    /// mobile-api refused the call; the problem+json body says why.
    #[error(transparent)]
    Api(#[from] ApiProblem),
    #[error("unexpected answer from mobile-api: {0}")]
    UnexpectedAnswer(String),
}
