//! A stand-in OpenTelemetry collector: `POST /v1/traces` over OTLP/HTTP with protobuf bodies, on a loopback port,
//! keeping every span it is sent with the `service.name` of the process that sent it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// One span as received.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub service: String,
    pub span: Span,
}

impl ReceivedSpan {
    pub fn name(&self) -> &str {
        &self.span.name
    }

    pub fn trace_id(&self) -> String {
        hex(&self.span.trace_id)
    }

    pub fn span_id(&self) -> String {
        hex(&self.span.span_id)
    }

    /// Empty for a root span.
    pub fn parent_span_id(&self) -> String {
        hex(&self.span.parent_span_id)
    }

    /// The attribute's value as text, if the span has it.
    pub fn attribute(&self, key: &str) -> Option<String> {
        self.span.attributes.iter().find(|kv| kv.key == key).map(|kv| text(kv.value.as_ref()))
    }

    /// `(trace id, span id)` of every span this one links to.
    pub fn links(&self) -> Vec<(String, String)> {
        self.span.links.iter().map(|l| (hex(&l.trace_id), hex(&l.span_id))).collect()
    }

    /// Everything textual the span carries: its name, every attribute key and value (its own, its events', its
    /// links'), event names and the status message. What a secret must never be part of.
    pub fn all_text(&self) -> String {
        let s = &self.span;
        let mut parts = vec![s.name.clone(), s.trace_state.clone()];
        let pairs = |kvs: &[KeyValue]| kvs.iter().map(|kv| format!("{}={}", kv.key, text(kv.value.as_ref()))).collect();
        parts.extend::<Vec<String>>(pairs(&s.attributes));
        for event in &s.events {
            parts.push(event.name.clone());
            parts.extend::<Vec<String>>(pairs(&event.attributes));
        }
        for link in &s.links {
            parts.extend::<Vec<String>>(pairs(&link.attributes));
        }
        parts.extend(s.status.as_ref().map(|st| st.message.clone()));
        parts.join("\n")
    }
}

pub struct Collector {
    /// What `OTEL_EXPORTER_OTLP_ENDPOINT` should be set to.
    pub endpoint: String,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    server: ServerHandle,
}

impl Collector {
    pub fn start() -> Self {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let data = web::Data::from(spans.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(16 << 20))
                .route("/v1/traces", web::post().to(receive))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind a loopback port");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { endpoint: format!("http://127.0.0.1:{port}"), spans, server: handle }
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.lock().expect("no test thread panicked holding it").clone()
    }

    /// Waits until `done` holds for the spans received, or fails after `within`.
    pub async fn wait_for(&self, within: Duration, done: impl Fn(&[ReceivedSpan]) -> bool) -> Vec<ReceivedSpan> {
        let until = Instant::now() + within;
        loop {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            assert!(Instant::now() < until, "the collector did not get the expected spans in {within:?}: {spans:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

async fn receive(body: web::Bytes, spans: web::Data<Mutex<Vec<ReceivedSpan>>>) -> HttpResponse {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return HttpResponse::BadRequest().finish();
    };
    let mut kept = spans.lock().expect("no test thread panicked holding it");
    for resource_spans in request.resource_spans {
        let attributes = resource_spans.resource.map(|r| r.attributes).unwrap_or_default();
        let service = attributes.iter().find(|kv| kv.key == "service.name").map(|kv| text(kv.value.as_ref()));
        let service = service.unwrap_or_default();
        for scope in resource_spans.scope_spans {
            kept.extend(scope.spans.into_iter().map(|span| ReceivedSpan { service: service.clone(), span }));
        }
    }
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .body(ExportTraceServiceResponse::default().encode_to_vec())
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
