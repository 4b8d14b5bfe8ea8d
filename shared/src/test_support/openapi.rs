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
