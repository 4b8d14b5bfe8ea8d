//! qrlogin mobile API: the app user's backend-facing endpoints to scan a login QR and confirm or deny it.
//! Coordinates with the web gateway only through Redis.

pub mod config;
pub mod context;
pub mod error;
pub mod limits;
pub mod routes;
pub mod startup;
pub mod user_token;

pub use config::Settings;
pub use startup::Application;
