use std::time::Duration;

use async_trait::async_trait;
use qrlogin_shared::UserId;
use reqwest::StatusCode;

use super::{DirectoryError, Profile, UserDirectory};

/// Profiles from the web team's user service: `GET <base>/<url-encoded user id>`, JSON object or 404.
pub struct HttpDirectory {
    client: reqwest::Client,
    base_url: reqwest::Url,
}

impl HttpDirectory {
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, DirectoryError> {
        let client = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build()?;
        let base_url =
            reqwest::Url::parse(base_url).ok().filter(|u| !u.cannot_be_a_base()).ok_or(DirectoryError::BadUrl)?;
        Ok(Self { client, base_url })
    }
}

#[async_trait]
impl UserDirectory for HttpDirectory {
    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, DirectoryError> {
        let mut url = self.base_url.clone();
        // Checked at construction: an http(s) URL always has path segments.
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(user.as_str());
        }
        let res = self.client.get(url).header("accept", "application/json").send().await?;
        match res.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(res.json().await?)),
            s => Err(DirectoryError::Status(s.as_u16())),
        }
    }
}
