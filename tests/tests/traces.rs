//! Traces, read back from a stand-in OpenTelemetry collector: both service binaries export to it when the OTEL_*
//! variables say so, one login is one trace across both, a `traceparent` is believed only from a trusted proxy,
//! no span carries a secret, and with tracing off nothing is exported and the session stores no trace context.
//!
//! The services run as processes (README "Traces"): the export is set up by `main` from the environment, and the
//! spans still queued leave at SIGTERM.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation should fail the test loudly"
)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use qrlogin_e2e::{Collector, Login, ReceivedSpan, Services, Stack};
use qrlogin_shared::{KeySchema, SessionId, test_support};

/// Where the "proxy" connects from: the services trust it (`QRL_TRUSTED_PROXIES`); the plain clients leave from
/// 127.0.0.1, which they do not.
const PROXY_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const TRUSTED_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRUSTED_PARENT: &str = "00f067aa0ba902b7";
const FORGED_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
/// OpenTelemetry's `SPAN_KIND_SERVER`.
const SERVER: i32 = 2;

/// The session hash as the services stored it.
async fn session_hash(services: &Services, uuid: &str) -> HashMap<String, String> {
    let key = KeySchema::new(services.key_prefix.clone()).session(&SessionId::parse(uuid).unwrap());
    let client = redis::Client::open(test_support::redis_url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("HGETALL").arg(&key).query_async(&mut con).await.unwrap()
}

/// A complete login: create, scan, confirm, claim. Returns the login and the web token the browser got.
async fn log_in(stack: &Stack, user_token: &str) -> (Login, String) {
    let login = stack.login().await;
    stack.scan(user_token, &login.qr_text).await.expect_status(200);
    stack.confirm(user_token, &login.uuid, &login.verification).await.expect_status(200);
    let claimed = stack.poll(&login.uuid, Some(&login.binding)).await;
    let token = claimed.expect_status(200)["token"].as_str().expect("the claim hands out the token").to_owned();
    (login, token)
}

/// The one span named `name` whose `session` (or `qrlogin.session`) attribute is `uuid`.
#[track_caller]
fn span_of<'a>(spans: &'a [ReceivedSpan], name: &str, uuid: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.name() == name)
        .filter(|s| [s.attribute("session"), s.attribute("qrlogin.session")].contains(&Some(uuid.to_owned())))
        .collect();
    assert_eq!(found.len(), 1, "expected one span {name:?} of session {uuid}, got {found:#?}");
    found[0]
}

/// The span with this id.
#[track_caller]
fn by_id<'a>(spans: &'a [ReceivedSpan], span_id: &str) -> &'a ReceivedSpan {
    spans.iter().find(|s| s.span_id() == span_id).unwrap_or_else(|| panic!("no span {span_id}"))
}

/// The server span of the one request whose handler span (named `handler`, a child of the request's span) names
/// session `uuid`.
#[track_caller]
fn request_of<'a>(spans: &'a [ReceivedSpan], handler: &str, uuid: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.name() == handler && s.attribute("session").as_deref() == Some(uuid))
        .filter_map(|s| spans.iter().find(|p| p.span_id() == s.parent_span_id() && p.span.kind == SERVER))
        .collect();
    assert_eq!(found.len(), 1, "expected one request with handler {handler:?} of session {uuid}, got {found:#?}");
    found[0]
}

#[tokio::test]
async fn one_login_is_one_trace_across_both_services_and_no_span_holds_a_secret() {
    let collector = Collector::start();
    let services = Services::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint.as_str()),
        // Nothing leaves on the schedule during the test: what arrives was sent by the flush at SIGTERM.
        ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
    ])
    .await;
    let stack = services.stack();
    let alice = stack.user_token("alice");

    let (login, web_token) = log_in(&stack, &alice).await;
    let stored = session_hash(&services, &login.uuid).await;
    assert!(stored.get("tp").is_some_and(|tp| tp.starts_with("00-")), "the create stored its trace: {stored:?}");
    assert!(collector.spans().is_empty(), "nothing is sent before the batch is due or the process stops");
    services.terminate().await;
    let spans = collector.spans();

    let services: std::collections::BTreeSet<&str> = spans.iter().map(|s| s.service.as_str()).collect();
    assert_eq!(services, ["mobile-api", "web-gateway"].into(), "service.name defaults to the binary's name");

    // The login's trace: the create's request, then one span per step, each linking to its own request.
    let create = request_of(&spans, "create", &login.uuid);
    assert_eq!((create.name(), create.service.as_str()), ("POST /v1/qr", "web-gateway"));
    assert_eq!(create.parent_span_id(), "", "a request from no trusted proxy starts a trace: {create:#?}");
    assert_eq!(create.attribute("http.request.method").as_deref(), Some("POST"));
    assert_eq!(create.attribute("http.route").as_deref(), Some("/v1/qr"));
    assert_eq!(create.attribute("http.response.status_code").as_deref(), Some("201"));
    let login_trace = create.trace_id();
    for (step, service, request) in [
        ("login scanned", "mobile-api", "POST /v1/scan"),
        ("login confirmed", "mobile-api", "POST /v1/confirm"),
        ("login claimed", "web-gateway", "GET /v1/qr/{uuid}"),
    ] {
        let marked = span_of(&spans, step, &login.uuid);
        assert_eq!((marked.trace_id(), marked.service.as_str()), (login_trace.clone(), service), "{marked:#?}");
        assert_eq!(marked.parent_span_id(), create.span_id(), "{step} is a child of the create's request");
        assert_eq!(marked.attribute("qrlogin.outcome").as_deref(), Some("ok"));
        let links = marked.links();
        assert_eq!(links.len(), 1, "{step} links to the request that made it: {marked:#?}");
        let linked = by_id(&spans, &links[0].1);
        assert_eq!((linked.name(), linked.span.kind, linked.service.as_str()), (request, SERVER, service));
        assert_ne!(linked.trace_id(), login_trace, "the request keeps a trace of its own");
        assert_eq!(linked.attribute("http.response.status_code").as_deref(), Some("200"));
    }

    // No secret of the login in any span: the QR link and its verification string, the binding cookie, the user's
    // token and the web token.
    let secrets = [&login.qr_text, &login.verification, &login.binding, &alice, &web_token];
    for span in &spans {
        let text = span.all_text();
        for secret in secrets {
            assert!(!text.contains(secret.as_str()), "span {:?} carries a secret:\n{text}", span.name());
        }
    }
}

#[tokio::test]
async fn a_traceparent_is_believed_from_a_trusted_proxy_only() {
    let collector = Collector::start();
    let services = Services::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint.as_str()),
        // Spans leave on the schedule, while the services run.
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("QRL_TRUSTED_PROXIES", "127.0.0.2"),
    ])
    .await;
    let stack = services.stack();
    let via_proxy = stack.via(&services.gateway_url, &services.mobile_url, PROXY_IP);

    // The same header from a client and from the trusted proxy.
    let forged = format!("00-{FORGED_TRACE}-{TRUSTED_PARENT}-01");
    let from_client = stack.create_qr_with(&[("traceparent", forged.as_str())]).await;
    let from_client = from_client.expect_status(201)["uuid"].as_str().unwrap().to_owned();
    let proxied = format!("00-{TRUSTED_TRACE}-{TRUSTED_PARENT}-01");
    let from_proxy = via_proxy.create_qr_with(&[("traceparent", proxied.as_str())]).await;
    let from_proxy = from_proxy.expect_status(201)["uuid"].as_str().unwrap().to_owned();
    let both_created = |spans: &[ReceivedSpan]| {
        let created =
            |uuid: &str| spans.iter().any(|s| s.name() == "create" && s.attribute("session").as_deref() == Some(uuid));
        created(&from_client) && created(&from_proxy)
    };
    let spans = collector.wait_for(Duration::from_secs(10), both_created).await;

    let untrusted = request_of(&spans, "create", &from_client);
    assert_ne!(untrusted.trace_id(), FORGED_TRACE, "a client's traceparent was adopted: {untrusted:#?}");
    assert_eq!(untrusted.parent_span_id(), "", "a client's request starts a trace of its own");
    let trusted = request_of(&spans, "create", &from_proxy);
    assert_eq!((trusted.trace_id(), trusted.parent_span_id()), (TRUSTED_TRACE.into(), TRUSTED_PARENT.into()));
    // The login started behind the proxy is part of the proxy's trace.
    let stored = session_hash(&services, &from_proxy).await;
    assert!(stored["tp"].contains(TRUSTED_TRACE), "{stored:?}");
    services.terminate().await;
}

#[tokio::test]
async fn without_an_exporter_nothing_is_exported_or_stored() {
    let collector = Collector::start();
    // No endpoint (a service name and a sampler alone ask for nothing), and an endpoint with the SDK disabled.
    let off = [("OTEL_SERVICE_NAME", "quiet"), ("OTEL_TRACES_SAMPLER", "always_on")];
    let disabled = [("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint.as_str()), ("OTEL_SDK_DISABLED", "true")];
    for env in [&off[..], &disabled[..]] {
        let services = Services::start(env).await;
        let stack = services.stack();
        let login = stack.login().await;
        stack.scan(&stack.user_token("alice"), &login.qr_text).await.expect_status(200);
        let stored = session_hash(&services, &login.uuid).await;
        assert_eq!(stored.get("st").map(String::as_str), Some("scanned"), "the session is read: {stored:?}");
        assert!(!stored.contains_key("tp"), "tracing off, yet a trace context was stored: {stored:?}");
        services.terminate().await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(collector.spans().is_empty(), "tracing off, yet spans were exported: {:#?}", collector.spans());
}
