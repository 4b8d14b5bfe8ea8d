//! qrlogin web gateway: issues QR login sessions to browsers, answers their polls, and mints the web session
//! token once the phone has confirmed. Coordinates with mobile-api only through Redis.
//!
//! ```text
//! startup        Application::build: state + routes on the shared bootstrap (qrlogin_shared::server)
//!   routes/      one file per endpoint: create, poll, events (SSE), cancel, jwks, me, pages
//!     session_view   advance(): read a session for the browser, rotating its QR and claiming its token
//!     push/          notifier (waiters per session), listener (pub/sub), wait::next_change (the wait loop)
//!   outbox/      delivers the queued back-channel logouts and login webhooks (a loop per configured kind)
//!   context      GatewayContext: what handlers share      error   GatewayError -> problem+json
//!   binding, device (on cookie_secret), origin, qr_image, web_token, directory/, cors   leaves: they import only config and shared
//!   dpop           DPoP proofs (RFC 9449): checked on the create and on /v1/me; dpop_client makes them for tests
//! config         Settings from the environment, every problem at once; config/vars: the variables --help lists
//! cli            the command line (serve, check-config) and the check-config summary   (main.rs is thin on it)
//! ```
//! Arrows point down the list: routes use session_view and push, push uses session_view, nothing imports
//! startup or routes.

pub mod binding;
pub mod cli;
pub mod config;
pub mod context;
pub mod cookie_secret;
pub mod cors;
pub mod device;
pub mod directory;
pub mod dpop;
#[cfg(any(test, feature = "test-support"))]
pub mod dpop_client;
pub mod error;
pub mod introspection;
pub mod openapi;
pub mod origin;
pub mod outbox;
pub mod push;
pub mod qr_image;
pub mod routes;
pub mod session_view;
pub mod startup;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod web_token;

pub use config::Settings;
pub use startup::Application;
