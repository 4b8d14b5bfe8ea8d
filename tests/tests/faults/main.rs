//! The fault suite (issue 13): what the services do when something breaks, each fault bounded to tens of seconds
//! so the whole suite runs in CI. One test binary (one link step), one module per fault.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation should fail the test loudly"
)]

mod claim_race;
mod gateway_kill;
mod malformed;
mod pool;

/// `host:port` of a service URL, for raw TCP.
fn addr(url: &str) -> &str {
    url.trim_start_matches("http://")
}

/// The claims of a JWT, decoded without verifying it (the tests that need verification do it against the JWKS).
fn jwt_claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
