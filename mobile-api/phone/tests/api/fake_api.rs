//! The phone client against a stand-in mobile-api (wiremock): the answers the real one never gives, from a proxy
//! in front of it, a broken deployment or a host that is gone.

use std::time::Duration;

use qrlogin_phone::{PhoneClient, PhoneError};
use qrlogin_shared::SessionId;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The base URL of a mobile-api that is gone: a wiremock server, started and stopped. It closes its listener on
/// a thread of its own, so this waits until connections are refused.
pub async fn gone_api() -> String {
    let server = MockServer::builder().start().await;
    let (uri, address) = (server.uri(), *server.address());
    drop(server);
    for _ in 0..250 {
        if tokio::net::TcpStream::connect(address).await.is_err() {
            return uri;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the stopped mock server at {address} still accepts connections");
}

/// A well-formed login link for the stand-in, with a fresh session id.
fn link() -> (String, String) {
    let id = SessionId::random().to_string();
    (format!("https://login.example.com/q/{id}.{}", "A".repeat(48)), id)
}

#[tokio::test]
async fn a_refusal_that_is_not_problem_json_keeps_its_status_and_retry_after() {
    // Arrange: a proxy in front of mobile-api answers with its own HTML page.
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/scan"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("Retry-After", "7")
                .set_body_raw("<html>upstream unavailable</html>\n", "text/html"),
        )
        .expect(1)
        .mount(&api)
        .await;
    let (qr, _) = link();

    // Act
    let result = PhoneClient::new(&api.uri(), "t").unwrap().scan(&qr).await;

    // Assert
    let Err(PhoneError::Api(problem)) = result else { panic!("expected a problem, got {result:?}") };
    assert_eq!((problem.status, problem.type_uri.as_str(), problem.name()), (503, "about:blank", None));
    assert_eq!(problem.title, "Service Unavailable");
    assert_eq!(problem.retry_after, Some(7));
    assert_eq!(problem.detail.as_deref(), Some("<html>upstream unavailable</html>"));
}

#[tokio::test]
async fn scan_sends_the_qr_with_the_bearer_token_and_checks_the_answer_is_for_it() {
    let api = MockServer::start().await;
    let (qr, _) = link();
    let requester = json!({ "ip": "192.0.2.1", "user_agent": "curl/8.5.0", "created_at": "2025-06-01T12:00:00Z",
        "browser": "unknown", "os": "unknown", "location": null, "known_device": false });
    Mock::given(method("POST"))
        .and(path("/v1/scan"))
        .and(header("authorization", "Bearer the-token"))
        .and(body_json(json!({ "qr_content": qr })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uuid": SessionId::random().to_string(),
            "requester": requester,
            "risk": { "level": "medium", "signals": ["no_location", "new_device"] },
            "expires_in": 100,
        })))
        .expect(1)
        .mount(&api)
        .await;

    let result = PhoneClient::new(&api.uri(), "the-token").unwrap().scan(&format!(" {qr}\n")).await;

    assert!(
        matches!(&result, Err(PhoneError::UnexpectedAnswer(m)) if m.contains("but the QR is for")),
        "an answer about another session must not be shown as this one: {result:?}"
    );
}

#[tokio::test]
async fn a_decision_answered_with_another_state_is_unexpected() {
    let api = MockServer::start().await;
    let (_, id) = link();
    Mock::given(method("POST"))
        .and(path("/v1/confirm"))
        .and(body_json(json!({ "uuid": id, "verification": "v" })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "status": "denied" })))
        .expect(1)
        .mount(&api)
        .await;
    let phone = PhoneClient::new(&format!("{}/", api.uri()), "t").unwrap();

    let result = phone.confirm(&id, "v").await;

    assert!(
        matches!(&result, Err(PhoneError::UnexpectedAnswer(m)) if m.contains("\"denied\" instead of \"confirmed\"")),
        "{result:?}"
    );
}
