//! qrlogin mobile API: the app user's backend-facing endpoints to scan a login QR and confirm or deny it.
//! Coordinates with the web gateway only through Redis.

pub mod admission;
pub mod config;
pub mod context;
pub mod dev_token;
pub mod error;
pub mod middleware;
pub mod phone;
pub mod routes;
pub mod startup;
pub mod user_token;

pub use config::Settings;
pub use startup::Application;
