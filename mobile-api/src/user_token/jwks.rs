//! The identity provider's public keys, fetched from its JWKS URL and cached by `kid`.
//!
//! Two things may start a fetch, each at most once per `min_refetch`: the cache being due (never loaded, or older
//! than `refresh`), and a token naming a `kid` we do not hold (the provider rotated its keys). A burst of tokens
//! with random `kid`s therefore costs the provider one request per interval, and requests that need keys while a
//! fetch runs wait for that one fetch (single flight) instead of starting their own. When the provider fails, the
//! keys we have keep serving.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use qrlogin_shared::http::ErrorChain;
use reqwest::header::ACCEPT;
use serde::Deserialize;

use super::jwk_alg::algorithm_of;
use crate::config::JwksSettings;

/// A JWKS is a few keys; anything much larger is not one, and is not held in memory.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// One usable key: what it verifies with and the algorithm it is pinned to.
pub(crate) struct VerifyKey {
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// Why no key could be found for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("user token header names no key (`kid`)")]
    NoKid,
    #[error("no usable key in the identity provider's JWKS has the token's kid")]
    UnknownKey,
    /// Nothing was ever fetched: the provider has not answered since start-up.
    #[error("the identity provider's JWKS is unavailable and no keys are cached")]
    Unavailable,
}

pub(crate) enum Lookup {
    Hit(Arc<VerifyKey>),
    /// A fetch may bring the key: wait for [`JwksKeys::fetch_for`].
    Wait,
    Miss(KeyError),
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("request failed")]
    Http(#[source] reqwest::Error),
    /// Redirects included: they are not followed, and their body is not a key set.
    #[error("answered {0}, not 200")]
    Status(reqwest::StatusCode),
    #[error("answer larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("answer is not a JWKS")]
    Json(#[source] serde_json::Error),
}

impl From<reqwest::Error> for FetchError {
    fn from(e: reqwest::Error) -> Self {
        // The URL is configuration, not news, and could carry credentials: keep it out of the logs.
        Self::Http(e.without_url())
    }
}

pub(crate) struct JwksKeys {
    settings: JwksSettings,
    client: reqwest::Client,
    state: Mutex<State>,
    /// Held for the whole of a fetch: whoever needs keys meanwhile waits here, then looks again.
    in_flight: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Arc<VerifyKey>>,
    /// Last successful fetch.
    loaded_at: Option<Instant>,
    /// Start of the last fetch because the cache was due.
    last_refresh: Option<Instant>,
    /// Start of the last fetch because of a `kid` we did not hold.
    last_kid_refetch: Option<Instant>,
}

#[derive(Clone, Copy)]
enum Slot {
    Refresh,
    UnknownKid,
}

impl JwksKeys {
    pub(crate) fn new(settings: JwksSettings) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // Fetches are minutes apart and may start on any worker's runtime; a pooled connection would be
            // bound to the runtime that opened it, so none is kept.
            .pool_max_idle_per_host(0)
            // The key set comes from the configured URL or not at all: a redirect (a compromised or misconfigured
            // provider, an open redirect on its host) could hand us keys from anywhere, over plain http too.
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!settings.allows_http())
            .build()?;
        Ok(Self { settings, client, state: Mutex::default(), in_flight: tokio::sync::Mutex::new(()) })
    }

    /// The key for `kid` if cached, without waiting. A hit on a due cache starts a refresh in the background.
    pub(crate) fn lookup(self: &Arc<Self>, kid: &str) -> Lookup {
        let now = Instant::now();
        let mut state = self.state();
        if let Some(key) = state.keys.get(kid).cloned() {
            // Serve the key we have now; the refresh brings rotations and revocations for later requests.
            if state.due(now, &self.settings)
                && let Ok(runtime) = tokio::runtime::Handle::try_current()
                && state.take(Slot::Refresh, now, &self.settings)
            {
                let this = Arc::clone(self);
                runtime.spawn(async move {
                    let _flight = this.in_flight.lock().await;
                    this.load().await;
                });
            }
            return Lookup::Hit(key);
        }
        let may_fetch = state.slot_for_miss(now, &self.settings).is_some();
        if may_fetch || self.in_flight.try_lock().is_err() { Lookup::Wait } else { Lookup::Miss(state.miss()) }
    }

    /// The key for `kid`, fetching the set first when that is allowed and has not just been done by another
    /// request.
    pub(crate) async fn fetch_for(&self, kid: &str) -> Result<Arc<VerifyKey>, KeyError> {
        let _flight = self.in_flight.lock().await;
        {
            let now = Instant::now();
            let mut state = self.state();
            if let Some(key) = state.keys.get(kid) {
                return Ok(Arc::clone(key));
            }
            let slot = state.slot_for_miss(now, &self.settings);
            if !slot.is_some_and(|slot| state.take(slot, now, &self.settings)) {
                return Err(state.miss());
            }
        }
        self.load().await;
        let state = self.state();
        state.keys.get(kid).cloned().ok_or_else(|| state.miss())
    }

    /// Fetches the set and replaces the cached keys; on failure keeps them and says so.
    async fn load(&self) {
        match self.fetch().await {
            Ok(keys) => {
                if keys.is_empty() {
                    // Taken as is (the provider may have withdrawn every key), but no token can pass now.
                    tracing::warn!("the identity provider's JWKS has no usable signature key (see QRL_USER_JWT_ALG)");
                } else {
                    tracing::info!(keys = keys.len(), "user token keys loaded from the identity provider's JWKS");
                }
                let mut state = self.state();
                state.keys = keys;
                state.loaded_at = Some(Instant::now());
            }
            Err(e) => {
                let cached = self.state().keys.len();
                tracing::warn!(error = %ErrorChain(&e), cached, "cannot fetch the identity provider's JWKS; keeping the cached keys");
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<VerifyKey>>, FetchError> {
        let url = self.settings.url.clone();
        let mut res = self.client.get(url).header(ACCEPT, "application/json").send().await?;
        if !res.status().is_success() {
            return Err(FetchError::Status(res.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let set: RawSet = serde_json::from_slice(&body).map_err(FetchError::Json)?;
        Ok(usable_keys(set, &self.settings.algorithms))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a plain cache, consistent after every statement: a panic elsewhere cannot corrupt it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn due(&self, now: Instant, s: &JwksSettings) -> bool {
        self.loaded_at.is_none_or(|at| now.duration_since(at) >= s.refresh)
    }

    /// The fetch a request with an unknown `kid` may start now: a due refresh, else a refetch for the kid.
    fn slot_for_miss(&self, now: Instant, s: &JwksSettings) -> Option<Slot> {
        let slot = if self.due(now, s) { Slot::Refresh } else { Slot::UnknownKid };
        self.free(slot, now, s).then_some(slot)
    }

    fn free(&self, slot: Slot, now: Instant, s: &JwksSettings) -> bool {
        let last = match slot {
            Slot::Refresh => self.last_refresh,
            Slot::UnknownKid => self.last_kid_refetch,
        };
        last.is_none_or(|at| now.duration_since(at) >= s.min_refetch)
    }

    /// Claims `slot` for a fetch starting now; false if it was used less than `min_refetch` ago.
    fn take(&mut self, slot: Slot, now: Instant, s: &JwksSettings) -> bool {
        if !self.free(slot, now, s) {
            return false;
        }
        match slot {
            Slot::Refresh => self.last_refresh = Some(now),
            Slot::UnknownKid => self.last_kid_refetch = Some(now),
        }
        true
    }

    fn miss(&self) -> KeyError {
        if self.loaded_at.is_some() { KeyError::UnknownKey } else { KeyError::Unavailable }
    }
}

/// The set as sent. Each key is parsed on its own so that one odd key does not cost us the others.
#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

/// The keys of `set` that can verify user tokens, by `kid`: signature keys of a supported asymmetric type,
/// whose algorithm is in `allowed` (when that is not empty). The first key wins a duplicated `kid`.
fn usable_keys(set: RawSet, allowed: &[Algorithm]) -> HashMap<String, Arc<VerifyKey>> {
    let mut keys = HashMap::new();
    for raw in set.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
            tracing::debug!("JWKS entry is not a JWK; ignored");
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            tracing::debug!("JWKS key without kid ignored: tokens pick their key by kid");
            continue;
        };
        let alg = match algorithm_of(&jwk) {
            Ok(alg) if allowed.is_empty() || allowed.contains(&alg) => alg,
            Ok(alg) => {
                tracing::debug!(kid, ?alg, "JWKS key ignored: algorithm not in QRL_USER_JWT_ALG");
                continue;
            }
            Err(why) => {
                tracing::debug!(kid, %why, "JWKS key ignored");
                continue;
            }
        };
        match DecodingKey::from_jwk(&jwk) {
            Ok(key) => {
                keys.entry(kid).or_insert_with(|| Arc::new(VerifyKey { alg, key }));
            }
            Err(e) => tracing::debug!(kid, error = %e, "JWKS key ignored: malformed"),
        }
    }
    keys
}
