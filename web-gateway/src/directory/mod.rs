//! The user directory: where the web side reads the profile of the user who confirmed a login. mobile-api
//! stores only the user id; what the web page may show about that user is the web team's business.

mod file;
mod http;

use std::sync::Arc;

use async_trait::async_trait;
use qrlogin_shared::UserId;
use serde_json::{Map, Value};

pub use file::FileDirectory;
pub use http::HttpDirectory;

use crate::config::DirectorySettings;

/// Profile fields as the directory gives them (`name`, `email`, ...); `id` is always the user id.
pub type Profile = Map<String, Value>;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("cannot read the user directory file {path} (QRL_USER_DIRECTORY_FILE)")]
    Read { path: String, source: std::io::Error },
    #[error("the user directory file {path} (QRL_USER_DIRECTORY_FILE) is not a JSON object of profiles")]
    Parse { path: String, source: serde_json::Error },
    /// Never carries the URL: it may hold credentials.
    #[error("QRL_USER_DIRECTORY_URL is not an absolute http(s) URL")]
    BadUrl,
    #[error("user directory request failed")]
    Http(#[from] reqwest::Error),
    #[error("user directory answered status {0}")]
    Status(u16),
}

#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// `Ok(None)` for a user the directory does not know.
    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, DirectoryError>;
}

pub fn from_settings(settings: &DirectorySettings) -> Result<Arc<dyn UserDirectory>, DirectoryError> {
    Ok(match settings {
        DirectorySettings::File(path) => Arc::new(FileDirectory::load(path)?),
        DirectorySettings::Http { base_url, timeout } => Arc::new(HttpDirectory::new(base_url, *timeout)?),
    })
}
