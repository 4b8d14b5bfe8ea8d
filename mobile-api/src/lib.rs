//! qrlogin mobile API: the app user's backend-facing endpoints to scan a login QR and confirm or deny it.
//! Coordinates with the web gateway only through Redis.
//!
//! ```text
//! startup        Application::build: state + routes on the shared bootstrap (qrlogin_shared::server)
//!   middleware/  authenticate (token checked before any body is read), bad_tokens (401s counted per IP, checked first)
//!   routes/      scan, decide (confirm and deny)
//!     admission  the per-user rate limit, then the verification-string check with its lockout
//!   risk/        the scan's verdict: assess (the policy), RiskJudge (facts: geo, user agent, device history)
//!   context      PhoneContext: what handlers share          error   MobileError -> problem+json
//!   user_token/  validates the app user's JWT (static key or the provider's JWKS)
//! config         Settings, MobileLimits, UserJwtSettings from the environment, every problem at once; imports
//!                nothing of the above; config/vars: the variables --help lists
//! cli            the command line (serve, check-config) and the check-config summary   (main.rs is thin on it)
//! ```
//! Arrows point down the list; nothing imports startup, routes or middleware. The reference phone client is
//! its own crate (`mobile-api/phone`).

pub mod admission;
pub mod cli;
pub mod config;
pub mod context;
pub mod error;
pub mod middleware;
pub mod openapi;
pub mod risk;
pub mod routes;
pub mod startup;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod user_token;

pub use config::Settings;
pub use startup::Application;
