//! Verifying a web token the way the web team's backend would: the key from the published JWKS whose `kid` the
//! token names, ES256 only, issuer and audience checked, no clock leeway. The one verifier of every test suite.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, TokenData, Validation};
use serde::de::DeserializeOwned;

/// Claims every web token must carry; a token without one of them is refused.
const REQUIRED_CLAIMS: [&str; 5] = ["exp", "iat", "iss", "aud", "sub"];

/// Verifies `token` against `jwks`. `Err` says why it does not verify (a test that expects a valid token panics
/// with it; a rotation test only asks whether it verifies).
pub fn verify_web_token<C: DeserializeOwned>(
    token: &str,
    jwks: &JwkSet,
    issuer: &str,
    audience: &str,
) -> Result<TokenData<C>, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("web token has no JWS header: {e}"))?;
    if header.alg != Algorithm::ES256 {
        return Err(format!("web tokens are ES256, this one is {:?}", header.alg));
    }
    let kid = header.kid.as_deref().ok_or("web token names no key (kid)")?;
    let jwk = jwks.find(kid).ok_or_else(|| format!("kid {kid} is not in the published JWKS"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("published JWK is not a usable public key: {e}"))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&REQUIRED_CLAIMS);
    validation.leeway = 0;
    jsonwebtoken::decode::<C>(token, &key, &validation).map_err(|e| format!("web token does not verify: {e}"))
}
