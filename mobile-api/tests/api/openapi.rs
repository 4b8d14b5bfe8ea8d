//! `GET /openapi.json` serves the committed document (which the library's own test keeps equal to what the code
//! generates), so a client generated from the file in the repository matches the running service.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_served_document_is_the_committed_one() {
    let app = spawn_app().await;

    let res = app.get("/openapi.json").await;

    assert_eq!(res.status().as_u16(), 200);
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let served: Value = res.json().await.unwrap();
    let committed: Value =
        serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"))).unwrap();
    assert_eq!(served, committed);
    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(served["info"]["version"], env!("CARGO_PKG_VERSION"));
}
