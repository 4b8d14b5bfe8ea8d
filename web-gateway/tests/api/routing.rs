//! Requests outside the API get problem+json answers too.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn unknown_route_is_a_404_problem() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let res = app.get("/v1/nope").await;

    // Assert
    assert_problem(
        res,
        StatusCode::NOT_FOUND,
        json!({ "type": "urn:qrlogin:problem:not-found", "title": "No such endpoint", "status": 404 }),
    )
    .await;
}
