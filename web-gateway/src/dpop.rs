//! DPoP (RFC 9449): the browser proves, with a key pair that never leaves it, that it holds the key a web token
//! is bound to. A proof is a short JWT the client signs per request: `typ: dpop+jwt`, ES256 (what WebCrypto's
//! P-256 makes), its public key in the header, and claims naming the request (`htm`, `htu`), when it was made
//! (`iat`), a unique id (`jti`, refused the second time by [`qrlogin_shared::SessionStore::first_use_of_proof`])
//! and, with a token, the token's hash (`ath`). The token carries the key's RFC 7638 thumbprint (`cnf.jkt`).
//!
//! This module only reads proofs; neither a proof nor a token is ever logged or quoted in an error.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use qrlogin_shared::http::TrustedProxies;
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The request header a proof travels in.
pub const HEADER: &str = "dpop";
/// How old a proof may be: it is made just before its request.
const MAX_AGE: Duration = Duration::from_secs(60);
/// How far ahead of this clock a proof's `iat` may be (the client's clock runs a little fast).
const MAX_AHEAD: Duration = Duration::from_secs(5);
/// How long a proof's `jti` must be remembered: as long as its `iat` would still be accepted.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(MAX_AGE.as_secs() + MAX_AHEAD.as_secs());
/// Far more than any honest proof (about 600 bytes); bounds the work a garbage header costs.
const MAX_PROOF_LEN: usize = 4096;

/// Why a proof was refused; the text goes into the problem's `detail` and never quotes the proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidProof(pub &'static str);

/// A proof that passed every check: the key it was signed with, and its `jti` (as a digest) for the replay cache.
#[derive(Debug)]
pub struct Proof {
    /// RFC 7638 SHA-256 thumbprint of the proof's public key, base64url.
    pub jkt: String,
    /// SHA-256 (hex) of the proof's `jti`: a fixed-size name for the replay cache, whatever the client sent.
    pub jti_digest: String,
}

/// What a proof must name: the request it came with.
pub struct Expected<'a> {
    pub method: &'a str,
    /// The URLs the client may have addressed this request to (see [`urls_of`]).
    pub urls: &'a [Url],
    /// The access token presented with it (`ath`), none on the create.
    pub access_token: Option<&'a str>,
    /// Unix seconds.
    pub now: u64,
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: u64,
    ath: Option<String>,
}

/// The one proof of a request: `None` without a `DPoP` header; two headers, or one that is not text, are invalid.
pub fn header_of(req: &HttpRequest) -> Result<Option<&str>, InvalidProof> {
    let mut values = req.headers().get_all(HEADER);
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(InvalidProof("send one DPoP header"));
    }
    first.to_str().map(Some).map_err(|_| InvalidProof("the DPoP header is not a JWT"))
}

/// Checks `proof` against what the request was (RFC 9449 §4.3).
pub fn verify(proof: &str, expected: &Expected<'_>) -> Result<Proof, InvalidProof> {
    let jwk = header_key(proof)?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| InvalidProof("the proof's jwk is not a usable P-256 key"))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(proof, &key, &validation)
        .map_err(|_| InvalidProof("the proof's signature or claims do not verify"))?
        .claims;
    if claims.jti.is_empty() || claims.jti.len() > 256 {
        return Err(InvalidProof("the proof needs a jti"));
    }
    if claims.htm != expected.method {
        return Err(InvalidProof("the proof's htm is not this request's method"));
    }
    if !same_url(&claims.htu, expected.urls) {
        return Err(InvalidProof("the proof's htu is not this request's URL"));
    }
    // Saturating: `iat` is the client's number, u64::MAX included.
    if claims.iat.saturating_add(MAX_AGE.as_secs()) < expected.now
        || claims.iat > expected.now.saturating_add(MAX_AHEAD.as_secs())
    {
        return Err(InvalidProof("the proof's iat is not within a minute of now"));
    }
    if let Some(token) = expected.access_token
        && claims.ath.as_deref() != Some(access_token_hash(token).as_str())
    {
        return Err(InvalidProof("the proof's ath is not the hash of this access token"));
    }
    let jkt = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|_| InvalidProof("the proof's jwk has no thumbprint"))?;
    Ok(Proof { jkt, jti_digest: hex::encode(Sha256::digest(claims.jti.as_bytes())) })
}

/// `ath`: base64url of the SHA-256 of the access token (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The public key of the proof's JOSE header, after the header's own rules: `typ: dpop+jwt`, ES256 only (so
/// never `none` nor a MAC), and a public EC P-256 JWK without private members.
fn header_key(proof: &str) -> Result<Jwk, InvalidProof> {
    let malformed = InvalidProof("the DPoP header is not a JWT");
    if proof.len() > MAX_PROOF_LEN || proof.split('.').count() != 3 {
        return Err(malformed);
    }
    let header = proof.split('.').next().and_then(|h| URL_SAFE_NO_PAD.decode(h).ok()).ok_or(malformed)?;
    let header: serde_json::Value = serde_json::from_slice(&header).map_err(|_| malformed)?;
    if header.get("typ").and_then(serde_json::Value::as_str) != Some("dpop+jwt") {
        return Err(InvalidProof("the proof's typ must be dpop+jwt"));
    }
    if header.get("alg").and_then(serde_json::Value::as_str) != Some("ES256") {
        return Err(InvalidProof("the proof's alg must be ES256"));
    }
    let jwk = header.get("jwk").and_then(serde_json::Value::as_object).ok_or(InvalidProof("the proof has no jwk"))?;
    let text = |name: &str| jwk.get(name).and_then(serde_json::Value::as_str);
    if text("kty") != Some("EC") || text("crv") != Some("P-256") {
        return Err(InvalidProof("the proof's jwk must be an EC P-256 key"));
    }
    if jwk.contains_key("d") {
        return Err(InvalidProof("the proof's jwk must not carry the private key"));
    }
    serde_json::from_value(serde_json::Value::Object(jwk.clone()))
        .map_err(|_| InvalidProof("the proof's jwk is not a usable P-256 key"))
}

/// A proof's `htu` names the request's URL without query and fragment (RFC 9449 §4.3, 9.): scheme, host, port
/// (a default one written or not) and path.
fn same_url(htu: &str, urls: &[Url]) -> bool {
    let Ok(mut htu) = Url::parse(htu) else { return false };
    htu.set_query(None);
    htu.set_fragment(None);
    urls.iter().any(|url| url.as_str() == htu.as_str())
}

/// Where `req` may have been sent, as a proof's `htu` names it: the gateway's public base URL (`QRL_QR_BASE_URL`,
/// the same for every instance behind one name) with the request's path, and the URL it was addressed to
/// (`Host`, as the login-CSRF check takes it; the scheme a trusted proxy forwards, else the connection's), so the
/// gateway's own pages work under whatever name it is reached.
pub fn urls_of(req: &HttpRequest, base: &str, trusted: &TrustedProxies) -> Vec<Url> {
    let path = req.path();
    let public = Url::parse(&format!("{}{path}", base.trim_end_matches('/'))).ok();
    let addressed = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).and_then(|host| {
        let scheme = scheme_of(req, trusted);
        Url::parse(&format!("{scheme}://{host}{path}")).ok()
    });
    public.into_iter().chain(addressed).collect()
}

fn scheme_of(req: &HttpRequest, trusted: &TrustedProxies) -> &'static str {
    let from_proxy = req.peer_addr().is_some_and(|peer| trusted.contains(&peer.ip()));
    let forwarded = req.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok());
    match forwarded.filter(|_| from_proxy) {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        Some(_) => "http",
        None if req.app_config().secure() => "https",
        None => "http",
    }
}

#[cfg(test)]
#[path = "dpop_tests.rs"]
mod tests;
