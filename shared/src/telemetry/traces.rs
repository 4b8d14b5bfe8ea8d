//! Trace export: OpenTelemetry spans over OTLP/HTTP (protobuf), configured only by the standard OTEL_*
//! variables. With none of them set there is no exporter, no layer and no stored trace context: tracing costs
//! nothing. The exporter itself reads the endpoint, headers, timeout and compression variables, the SDK the
//! sampler (`OTEL_TRACES_SAMPLER`, `_ARG`) and batch (`OTEL_BSP_*`) ones; this module decides whether to export
//! at all and names the service.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::{EnvResourceDetector, TelemetryResourceDetector};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;

/// Whether this process exports traces. Set once, when the pipeline is installed.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported: only then do requests carry OpenTelemetry fields and sessions a trace context.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

pub(super) fn mark_enabled() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// How long the last spans may take to leave at shutdown.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Our own code's spans (the request, the handlers, the Redis steps), never a dependency's.
const OWN_TARGETS: [&str; 3] = ["qrlogin_shared", "web_gateway", "mobile_api"];

#[derive(Debug, thiserror::Error)]
pub enum TracesError {
    #[error("OTEL_TRACES_EXPORTER={0:?} is not supported: use otlp or none")]
    Exporter(String),
    #[error("{var}={value:?} is not supported: this build exports OTLP over HTTP with protobuf (http/protobuf) only")]
    Protocol { var: &'static str, value: String },
    #[error("cannot set up the OTLP trace exporter")]
    Build(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// The decision to export, taken from the variables before anything is built.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Plan {
    /// `OTEL_SERVICE_NAME`, when set: it wins over the binary's name.
    service_name: Option<String>,
}

impl Plan {
    /// `None`: export nothing. Export happens when an OTLP endpoint is named or `OTEL_TRACES_EXPORTER=otlp` asks
    /// for the default one, unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
    pub(super) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, TracesError> {
        let var = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let asked = match var("OTEL_TRACES_EXPORTER").map(|v| v.to_ascii_lowercase()) {
            None => var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT")).is_some(),
            Some(v) if v == "none" => false,
            Some(v) if v == "otlp" => true,
            Some(other) => return Err(TracesError::Exporter(other)),
        };
        if !asked {
            return Ok(None);
        }
        for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            if let Some(value) = var(name).filter(|v| v != "http/protobuf") {
                return Err(TracesError::Protocol { var: name, value });
            }
        }
        Ok(Some(Self { service_name: var("OTEL_SERVICE_NAME") }))
    }
}

/// The running export: a batch processor on a thread of its own, sending over the blocking HTTP client.
pub(super) struct Pipeline {
    provider: SdkTracerProvider,
}

impl Pipeline {
    pub(super) fn start(plan: &Plan, service: &'static str) -> Result<Self, TracesError> {
        let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().build()?;
        let provider =
            SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource(plan, service)).build();
        Ok(Self { provider })
    }

    /// The layer turning our spans into OpenTelemetry spans. Log events stay out (they go to the logs), except
    /// warnings and errors, which mark their span.
    pub(super) fn layer<S>(&self) -> impl Layer<S> + Send + Sync + use<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("qrlogin"))
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(filter_fn(exported))
    }

    /// Sends what is queued and stops; errors are reported, not fatal (the process is ending).
    pub(super) fn shutdown(self) {
        if let Err(e) = self.provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT) {
            tracing::warn!(error = %e, "trace export did not finish cleanly at shutdown");
        }
    }
}

fn exported(meta: &Metadata<'_>) -> bool {
    let ours = OWN_TARGETS.iter().any(|t| meta.target().starts_with(t));
    ours && (if meta.is_span() { *meta.level() <= Level::INFO } else { *meta.level() <= Level::WARN })
}

/// `service.name` is the binary's unless `OTEL_SERVICE_NAME` (or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`)
/// names another; `OTEL_RESOURCE_ATTRIBUTES` adds the rest.
fn resource(plan: &Plan, service: &'static str) -> Resource {
    let detected = Resource::builder_empty()
        .with_service_name(service)
        .with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .with_detectors(&[Box::new(TelemetryResourceDetector), Box::new(EnvResourceDetector::new())]);
    match &plan.service_name {
        Some(name) => detected.with_service_name(name.clone()),
        None => detected,
    }
    .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(vars: &[(&str, &str)]) -> Result<Option<Plan>, TracesError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Plan::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn nothing_set_exports_nothing() {
        assert_eq!(plan(&[]).unwrap(), None);
        assert_eq!(plan(&[("OTEL_SERVICE_NAME", "x"), ("OTEL_TRACES_SAMPLER", "always_on")]).unwrap(), None);
    }

    #[test]
    fn an_endpoint_or_the_otlp_exporter_turns_export_on() {
        let on = Some(Plan { service_name: None });
        assert_eq!(plan(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")]).unwrap(), on);
        assert_eq!(plan(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces")]).unwrap(), on);
        assert_eq!(plan(&[("OTEL_TRACES_EXPORTER", "otlp")]).unwrap(), on);
        let named = plan(&[("OTEL_TRACES_EXPORTER", "OTLP"), ("OTEL_SERVICE_NAME", "gw-eu")]).unwrap();
        assert_eq!(named, Some(Plan { service_name: Some("gw-eu".into()) }));
    }

    #[test]
    fn disabled_or_none_wins_over_an_endpoint() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        assert_eq!(plan(&[endpoint, ("OTEL_SDK_DISABLED", "true")]).unwrap(), None);
        assert_eq!(plan(&[endpoint, ("OTEL_SDK_DISABLED", "TRUE")]).unwrap(), None);
        assert_eq!(plan(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")]).unwrap(), None);
        assert!(plan(&[endpoint, ("OTEL_SDK_DISABLED", "false")]).unwrap().is_some());
    }

    #[test]
    fn what_this_build_cannot_do_is_refused() {
        assert!(matches!(plan(&[("OTEL_TRACES_EXPORTER", "zipkin")]), Err(TracesError::Exporter(_))));
        let grpc = plan(&[("OTEL_TRACES_EXPORTER", "otlp"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
        assert!(matches!(grpc, Err(TracesError::Protocol { .. })));
        let proto = plan(&[("OTEL_TRACES_EXPORTER", "otlp"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]);
        assert!(proto.unwrap().is_some());
        // Nothing is exported, so a protocol nobody uses refuses nothing.
        assert_eq!(plan(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]).unwrap(), None);
    }
}
