use std::collections::HashMap;
use std::path::Path;

use async_trait::async_trait;
use qrlogin_shared::UserId;

use super::{DirectoryError, Profile, UserDirectory};

/// Profiles from a JSON file, read once at start-up: the demo and small-deployment directory.
pub struct FileDirectory {
    users: HashMap<String, Profile>,
}

impl FileDirectory {
    pub fn load(path: &Path) -> Result<Self, DirectoryError> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| DirectoryError::Read { path: shown.clone(), source })?;
        let users = serde_json::from_str(&text).map_err(|source| DirectoryError::Parse { path: shown, source })?;
        Ok(Self { users })
    }
}

#[async_trait]
impl UserDirectory for FileDirectory {
    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, DirectoryError> {
        Ok(self.users.get(user.as_str()).cloned())
    }
}
