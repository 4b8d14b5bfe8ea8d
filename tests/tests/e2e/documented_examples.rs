//! The OpenAPI documents' examples have the shape of real answers: a real login's every answer has exactly the
//! fields, nested and typed, of the example that documents it (values differ: ids, times, keys). Their
//! validity under the schemas is checked by tests/contract/examples.py; this keeps them true to the service.

use qrlogin_e2e::Stack;
use serde_json::Value;

const GATEWAY_DOC: &str = include_str!("../../../web-gateway/openapi.json");
const MOBILE_DOC: &str = include_str!("../../../mobile-api/openapi.json");

/// Where `example` and `real` differ in shape (`None`: nowhere): objects must have the same keys, arrays and
/// scalars the same types; a `null` or an empty array on either side stands for a value this run did not have
/// (no city database here, no signals there).
fn shape_difference(example: &Value, real: &Value, at: &str) -> Option<String> {
    match (example, real) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Object(a), Value::Object(b)) => {
            let (mut ka, mut kb): (Vec<_>, Vec<_>) = (a.keys().collect(), b.keys().collect());
            ka.sort_unstable();
            kb.sort_unstable();
            if ka != kb {
                return Some(format!("{at}: keys {ka:?} documented, {kb:?} answered"));
            }
            a.iter().find_map(|(k, v)| shape_difference(v, &b[k], &format!("{at}.{k}")))
        }
        (Value::Array(a), Value::Array(b)) => match (a.first(), b.first()) {
            (Some(x), Some(y)) => shape_difference(x, y, &format!("{at}[0]")),
            _ => None,
        },
        (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => None,
        (a, b) => Some(format!("{at}: {a} documented, {b} answered")),
    }
}

fn schema_examples(doc: &str, schema: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(doc).unwrap();
    doc["components"]["schemas"][schema]["examples"].as_array().cloned().unwrap_or_default()
}

fn response_example(doc: &str, path: &str, method: &str, status: &str) -> Value {
    let doc: Value = serde_json::from_str(doc).unwrap();
    doc["paths"][path][method]["responses"][status]["content"]["application/json"]["example"].clone()
}

/// The example among `examples` with `real`'s `status` (or the only one) has `real`'s shape.
fn assert_documented(examples: &[Value], real: &Value, what: &str) {
    let example = examples.iter().find(|e| e.get("status") == real.get("status")).or(examples.first());
    let example = example.unwrap_or_else(|| panic!("{what}: no example documented"));
    if let Some(difference) = shape_difference(example, real, "$") {
        panic!("{what}: the example is not shaped like the real answer: {difference}");
    }
}

#[tokio::test]
async fn every_documented_example_is_shaped_like_the_real_answer() {
    let stack = Stack::start().await;
    let login = stack.login().await;
    let alice = stack.user_token("alice");
    let answers = |status| schema_examples(GATEWAY_DOC, status);

    assert_documented(&answers("Created"), &login.created, "createLogin 201");
    let pending = stack.poll(&login.uuid, Some(&login.binding)).await.expect_status(200).clone();
    assert_documented(&answers("Answer"), &pending, "pollLogin 200 pending");
    let scanned = stack.scan(&alice, &login.qr_text).await.expect_status(200).clone();
    assert_documented(&schema_examples(MOBILE_DOC, "Scanned"), &scanned, "scanLogin 200");
    let confirmed = stack.confirm(&alice, &login.uuid, &login.verification).await.expect_status(200).clone();
    let example = response_example(MOBILE_DOC, "/v1/confirm", "post", "200");
    assert_documented(&[example], &confirmed, "confirmLogin 200");
    let token = stack.poll(&login.uuid, Some(&login.binding)).await.expect_status(200).clone();
    assert_documented(&answers("Answer"), &token, "pollLogin 200 confirmed");
    let status = stack.login_status(&alice, &login.uuid).await.expect_status(200).clone();
    let example = response_example(MOBILE_DOC, "/v1/logins/{uuid}", "get", "200");
    assert_documented(&[example], &status, "loginStatus 200");
    let jwks = stack.gateway_request(reqwest::Method::GET, "/.well-known/jwks.json", None).await;
    let key = jwks.expect_status(200)["keys"][0].clone();
    assert_documented(&answers("Jwk"), &key, "jwks 200 key");
}
