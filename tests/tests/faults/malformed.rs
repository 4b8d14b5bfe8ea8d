//! A generated corpus of malformed requests (framing, request line, headers, encodings, methods, bodies) against
//! every route of both services, one raw TCP connection per request. Each connection must get a complete HTTP
//! status line before it is closed (a silent disconnect is the defect), within a bound, never a 5xx; a 4xx with a
//! JSON body is `application/problem+json`.
//!
//! What is "right" for bytes that are not an HTTP/1 request the services could route (an HTTP/2 preface, a TLS
//! hello, request-line garbage, a broken head): actix answers those itself, before any of our code runs, with a
//! plain `400` (or `431` for oversized heads, `408` for ones that never end) and no body, then closes. That is a
//! fine answer: the client learns its request was refused. A problem body is required only where a body is sent.

mod corpus;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use qrlogin_e2e::Stack;
use qrlogin_shared::test_support::raw_http::CLOSE_BOUND;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use corpus::{Case, Route};

/// Connections at once.
const PARALLEL: usize = 128;
const AT_LEAST: usize = 500;

/// What came back on one connection: the bytes until a whole response head (and its `Content-Length` body) or
/// the close, and when.
struct Answer {
    bytes: Vec<u8>,
    elapsed: Duration,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The final status (1xx interim answers skipped), from a complete status line.
    fn status(&self) -> Option<u16> {
        let text = self.text();
        let mut heads = text.split("\r\n\r\n");
        heads.find_map(|head| {
            let line = head.lines().next()?;
            let rest = line.strip_prefix("HTTP/1.1 ").or_else(|| line.strip_prefix("HTTP/1.0 "))?;
            let code: u16 = rest.get(..3)?.parse().ok()?;
            (code >= 200 && head.len() < text.len()).then_some(code)
        })
    }

    fn header(&self, name: &str) -> Option<String> {
        let text = self.text();
        let head = text.split("\r\n\r\n").find(|h| !h.starts_with("HTTP/1.1 1"))?.to_owned();
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    }

    fn body(&self) -> String {
        let text = self.text();
        text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
    }

    /// A whole response head, and as much body as it announces (none for `HEAD`).
    fn complete(&self, head_only: bool) -> bool {
        if self.status().is_none() {
            return false;
        }
        let length: usize = self.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        head_only || self.body().len() >= length
    }
}

/// Sends `case` on a connection of its own and reads the answer, for at most [`CLOSE_BOUND`]. The request is
/// written whole even if the server answers early (a refused head); a write the server cuts off is fine, what it
/// answered is still read.
async fn exchange(case: &Case) -> Answer {
    let started = Instant::now();
    let mut conn = TcpStream::connect(&case.addr).await.expect("connect");
    let _ = conn.write_all(&case.bytes).await;
    let mut answer = Answer { bytes: Vec::new(), elapsed: Duration::ZERO };
    let mut buf = [0u8; 8192];
    let head_only = case.bytes.starts_with(b"HEAD ");
    while !answer.complete(head_only) {
        let Some(left) = CLOSE_BOUND.checked_sub(started.elapsed()) else { break };
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.bytes.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    answer.elapsed = started.elapsed();
    answer
}

/// The routes under test, each as a well-formed request on a live login.
async fn routes(stack: &Stack, user_token: &str) -> (Vec<Route>, String) {
    let (waited, cancelled, scanned) = (stack.login().await, stack.login().await, stack.login().await);
    let gateway = super::addr(&stack.gateway_url).to_owned();
    let mobile = super::addr(&stack.mobile_url).to_owned();
    let cookie = |binding: &str| Some(format!("Cookie: qrl_bind={binding}"));
    let bearer = Some(format!("Authorization: Bearer {user_token}"));
    let decide = json!({ "uuid": scanned.uuid, "verification": scanned.verification }).to_string();
    let route = |addr: &str, method, path: String, credential: Option<String>, body: Option<String>| Route {
        addr: addr.to_owned(),
        method,
        path,
        credential,
        body,
    };
    let routes = vec![
        route(&gateway, "POST", "/v1/qr".into(), None, None),
        route(&gateway, "GET", format!("/v1/qr/{}", waited.uuid), cookie(&waited.binding), None),
        route(&gateway, "GET", format!("/v1/qr/{}/events", waited.uuid), cookie(&waited.binding), None),
        route(&gateway, "DELETE", format!("/v1/qr/{}", cancelled.uuid), cookie(&cancelled.binding), None),
        route(
            &mobile,
            "POST",
            "/v1/scan".into(),
            bearer.clone(),
            Some(json!({ "qr_content": scanned.qr_text }).to_string()),
        ),
        route(&mobile, "POST", "/v1/confirm".into(), bearer.clone(), Some(decide.clone())),
        route(&mobile, "POST", "/v1/deny".into(), bearer.clone(), Some(decide)),
        route(&mobile, "GET", format!("/v1/logins/{}", scanned.uuid), bearer, None),
    ];
    (routes, waited.binding)
}

/// What is wrong with `answer` to `case`, if anything.
fn defect(answer: &Answer) -> Option<String> {
    let Some(status) = answer.status() else {
        return Some(format!("no complete status line before the close (after {:?})", answer.elapsed));
    };
    if status >= 500 {
        return Some(format!("a {status}"));
    }
    if answer.elapsed > CLOSE_BOUND {
        return Some(format!("answered after {:?}", answer.elapsed));
    }
    let body = answer.body();
    let content_type = answer.header("content-type").unwrap_or_default();
    if (400..500).contains(&status) && body.trim_start().starts_with('{') && content_type != "application/problem+json"
    {
        return Some(format!("a {status} JSON body as {content_type:?}"));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_malformed_requests_are_each_answered_in_time_without_a_5xx() {
    // Arrange
    let stack = Stack::start().await;
    let user_token = stack.user_token("alice");
    let (routes, binding) = routes(&stack, &user_token).await;
    let mut cases: Vec<Case> = routes.iter().flat_map(|r| corpus::cases(r, &user_token, &binding)).collect();
    cases.extend(corpus::not_http(super::addr(&stack.gateway_url)));
    cases.extend(corpus::not_http(super::addr(&stack.mobile_url)));
    assert!(cases.len() >= AT_LEAST, "only {} cases", cases.len());
    let started = Instant::now();

    // Act
    // Unordered: a request the server waits out (a stalled body) must not hold back the window behind it.
    let exchanges = cases.iter().enumerate().map(|(i, case)| async move { (i, exchange(case).await) });
    let mut answers: Vec<(usize, Answer)> =
        futures_util::stream::iter(exchanges).buffer_unordered(PARALLEL).collect().await;
    answers.sort_by_key(|(i, _)| *i);
    let answers: Vec<Answer> = answers.into_iter().map(|(_, answer)| answer).collect();

    // Assert
    let mut statuses = BTreeMap::new();
    let mut defects = Vec::new();
    for (case, answer) in cases.iter().zip(&answers) {
        *statuses.entry(answer.status().unwrap_or(0)).or_insert(0) += 1;
        if let Some(defect) = defect(answer) {
            defects.push(format!("{}: {defect}: {:?}", case.name, answer.text().chars().take(300).collect::<String>()));
        }
    }
    let slowest = answers.iter().map(|a| a.elapsed).max().unwrap();
    let slow = answers.iter().filter(|a| a.elapsed > Duration::from_secs(1)).count();
    println!(
        "{} malformed requests in {:?}, {slow} answered after over 1 s, slowest {slowest:?}; statuses {statuses:?}",
        cases.len(),
        started.elapsed()
    );
    assert!(defects.is_empty(), "{} defects:\n{}", defects.len(), defects.join("\n"));
}
