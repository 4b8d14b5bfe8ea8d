//! The DPoP proof replay cache (RFC 9449 §11.1): a proof's `jti` is accepted once per key, by whichever instance
//! sees it first, for as long as its `iat` would be accepted.

use std::time::Duration;

use super::reply::Flag;
use super::{SessionStore, StoreError};

impl SessionStore {
    /// Records that the proof of key `jkt` with this `jti` digest was presented; false when it was before (a
    /// replay). `window` is how long a proof is accepted after its `iat`.
    #[tracing::instrument(skip_all)]
    pub async fn first_use_of_proof(&self, jkt: &str, jti_digest: &str, window: Duration) -> Result<bool, StoreError> {
        let mut inv = self.scripts.dpop_proof.key(self.keys.dpop_proof(jkt, jti_digest));
        inv.arg(window.as_secs().max(1));
        let Flag(first) = self.run(&mut inv).await?;
        Ok(first)
    }
}
