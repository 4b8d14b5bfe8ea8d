//! One HTTP answer, read in full, with the assertions every test repeats.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// Status, headers and body of one response; `body` is the parsed JSON, or `Null` for an empty or non-JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
    /// From sending the request to the last byte of the body.
    pub elapsed: Duration,
}

impl Reply {
    pub(crate) async fn read(res: reqwest::Response, started: std::time::Instant) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("response body is readable");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self { status, headers, text, body, elapsed: started.elapsed() }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("header is ASCII"))
    }

    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        &self.body
    }

    /// Asserts the status and that the body is exactly `expected`.
    #[track_caller]
    pub fn expect_json(&self, status: u16, expected: &Value) {
        assert_eq!(self.expect_status(status), expected, "unexpected body (status {status})");
        let content_type = self.header("content-type").unwrap_or_default();
        assert_eq!(content_type, "application/json", "a success body is plain JSON");
    }

    /// Asserts an RFC 9457 problem: status, content type, `type` = `urn:qrlogin:problem:<slug>`, a title, the
    /// status repeated in the body, and that no cache may keep it.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, slug: &str) -> &Value {
        let body = self.expect_status(status);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "body: {}", self.text);
        assert_eq!(body["type"], format!("urn:qrlogin:problem:{slug}"), "body: {}", self.text);
        assert_eq!(body["status"], status, "body: {}", self.text);
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "problem without title: {}", self.text);
        assert_eq!(self.header("cache-control"), Some("no-store"));
        body
    }
}
