//! The committed OpenAPI document must be the one the code generates, so other teams' generated clients match
//! the running service.

use utoipa::openapi::OpenApi;

/// Set to `1` to (re)write the committed documents instead of comparing them.
pub const WRITE_VAR: &str = "QRL_WRITE_OPENAPI";

/// Fails (saying how to fix it) when `path` is not `doc`; writes it instead when [`WRITE_VAR`] is `1`.
pub fn assert_committed(doc: &OpenApi, path: &str) {
    let generated = doc.to_pretty_json().expect("the document serializes") + "\n";
    if std::env::var(WRITE_VAR).as_deref() == Ok("1") {
        std::fs::write(path, &generated).expect("write the OpenAPI document");
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "{path} is not what the code generates: run `{WRITE_VAR}=1 cargo test --workspace --lib openapi` and \
         commit the result"
    );
}

/// Asserts that `res` (a service's answer to `GET /openapi.json`) serves the document committed at `path`, for
/// the crate version `version`.
pub async fn assert_served_is_committed(res: reqwest::Response, path: &str, version: &str) {
    assert_eq!(res.status().as_u16(), 200);
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let served: serde_json::Value = res.json().await.expect("the document is JSON");
    let committed = std::fs::read_to_string(path).expect("the committed document");
    let committed: serde_json::Value = serde_json::from_str(&committed).expect("the committed document is JSON");
    assert_eq!(served, committed);
    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(served["info"]["version"], version);
}
