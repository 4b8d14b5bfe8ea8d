//! `GET /openapi.json` serves the committed document (which the library's own test keeps equal to what the code
//! generates), so a client generated from the file in the repository matches the running service.

use qrlogin_shared::test_support::openapi::assert_served_is_committed;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_served_document_is_the_committed_one() {
    let app = spawn_app().await;

    let res = app.get("/openapi.json").await;

    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    assert_served_is_committed(res, committed, env!("CARGO_PKG_VERSION")).await;
}
