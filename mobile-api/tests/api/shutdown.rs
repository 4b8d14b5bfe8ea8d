//! Stopping the app (SIGTERM in production): a request whose body is still arriving is answered, and no new
//! connection is taken.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app, token_for};

#[tokio::test]
async fn stopping_lets_an_in_flight_request_finish_and_refuses_new_ones() {
    // Arrange: a scan whose body has only half arrived when the stop comes.
    let app = spawn_app().await;
    let session = app.new_session().await;
    let body = json!({ "qr_content": session.qr_content }).to_string();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut conn = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/scan HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        token_for("alice"),
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(first).await.unwrap();
    // Connections are accepted in order: once a later one is answered, the scan's is with a worker.
    let probe = reqwest::Client::new().get(format!("{}/healthz", app.address)).header("connection", "close");
    assert_eq!(probe.send().await.unwrap().status(), 200);

    // Act: stop, and send the rest of the body while the server is stopping.
    let stopping = app.stop_gracefully();
    let finishing = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        conn.write_all(rest).await.unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).await.unwrap();
        answer
    };
    let ((), answer) = tokio::join!(stopping, finishing);

    // Assert: the scan went through; then the app was gone.
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(&session.id.to_string()), "{answer}");
    assert!(TcpStream::connect(&address).await.is_err(), "a stopped app takes no new connection");
}
