//! qrlogin web gateway: issues QR login sessions to browsers, answers their polls, and mints the web session
//! token once the phone has confirmed. Coordinates with mobile-api only through Redis.

pub mod binding;
pub mod config;
pub mod context;
pub mod directory;
pub mod error;
pub mod hardening;
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
