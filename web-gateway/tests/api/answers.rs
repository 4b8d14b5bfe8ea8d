//! What the gateway's tests check of its answers: cookies, headers, problem bodies and the confirmed login.

use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::{PROBLEM_JSON, TOKEN_TTL};

/// The binding Set-Cookie: its name, value and attributes as written (`HttpOnly`, `Path=/v1/qr/<uuid>`, ...).
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub attributes: Vec<String>,
}

pub fn binding_cookie(headers: &HeaderMap) -> SetCookie {
    set_cookie(headers, "qrl_bind")
}

/// The one Set-Cookie of cookie `name` (the create also sets `qrl_device` for a browser without one).
pub fn set_cookie(headers: &HeaderMap, name: &str) -> SetCookie {
    let prefix = format!("{name}=");
    let all: Vec<&str> = headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ASCII cookie"))
        // Any cookie but the device cookie counts against the binding cookie's "exactly one".
        .filter(|c| if name == "qrl_bind" { !c.starts_with("qrl_device=") } else { c.starts_with(&prefix) })
        .collect();
    assert_eq!(all.len(), 1, "exactly one Set-Cookie for {name}: {all:?}");
    let mut parts = all[0].split(';').map(str::trim);
    let (name, value) = parts
        .next()
        .and_then(|pair| pair.split_once('='))
        .filter(|(found, _)| found.ends_with(name))
        .unwrap_or_else(|| panic!("not the binding cookie: {}", all[0]));
    let (name, value) = (name.to_owned(), value.to_owned());
    SetCookie { name, value, attributes: parts.map(str::to_owned).collect() }
}

pub fn header<'a>(res: &'a Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().expect("ASCII header"))
}

/// Asserts a problem+json answer: status, content type, and the exact body.
pub async fn assert_problem(res: Response, status: StatusCode, body: Value) {
    assert_eq!(res.status(), status);
    assert_eq!(header(&res, CONTENT_TYPE.as_str()), Some(PROBLEM_JSON));
    assert_eq!(header(&res, "cache-control"), Some("no-store"));
    let actual: Value = res.json().await.expect("problem JSON");
    assert_eq!(actual, body);
}

pub async fn assert_forbidden(res: Response) {
    assert_problem(
        res,
        StatusCode::FORBIDDEN,
        json!({
            "type": "urn:qrlogin:problem:binding-mismatch",
            "title": "Not the browser that started this login",
            "status": 403,
            "detail": "poll with the qrl_bind cookie set when the QR was issued",
        }),
    )
    .await;
}

/// A 503 with `Retry-After: 1` and an opaque body.
pub async fn assert_unavailable(res: Response) {
    assert_eq!(header(&res, RETRY_AFTER.as_str()), Some("1"));
    assert_problem(
        res,
        StatusCode::SERVICE_UNAVAILABLE,
        json!({
            "type": "urn:qrlogin:problem:unavailable",
            "title": "Service temporarily unavailable",
            "status": 503,
        }),
    )
    .await;
}

/// Asserts a confirmed answer for `user` and returns its token.
pub fn assert_confirmed(body: &Value, user: &Value) -> String {
    assert_eq!(body["status"], "confirmed", "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], TOKEN_TTL.as_secs());
    assert_eq!(&body["user"], user);
    let mut keys: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["expires_in", "status", "token", "token_type", "user"]);
    body["token"].as_str().expect("token").to_owned()
}

pub fn alice() -> Value {
    json!({ "id": "alice", "name": "Alice Liddell", "email": "alice@example.com" })
}
