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

#[tokio::test]
async fn wrong_method_on_a_known_route_is_a_405_problem() {
    // Arrange
    let app = spawn_app().await;
    let some_session = uuid::Uuid::new_v4();
    let wrong = [
        (reqwest::Method::GET, "/v1/qr".to_owned()),
        (reqwest::Method::POST, format!("/v1/qr/{some_session}")),
        (reqwest::Method::POST, "/healthz".to_owned()),
    ];

    for (method, path) in wrong {
        // Act
        let res = app.client.request(method, format!("{}{path}", app.address)).send().await.unwrap();

        // Assert
        assert_problem(
            res,
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "type": "urn:qrlogin:problem:method-not-allowed", "title": "Method not allowed", "status": 405 }),
        )
        .await;
    }
}
